//! Wrong targets are errors that name them, never "up to date"; the saved-plan flow works from
//! any working directory and refuses what it cannot honour.
use crate::support::*;
use serde_json::Value;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Output;

/// The install entries of a `--format json` run.
fn installs(out: &Output) -> Vec<Value> {
    json_of(out)["installs"].as_array().unwrap().clone()
}

/// The one install entry whose state dir is `dir`.
fn entry_for(out: &Output, dir: &Path) -> Value {
    let all = installs(out);
    let mut hits = all
        .iter()
        .filter(|i| i["state_dir"] == dir.display().to_string());
    let hit = hits
        .next()
        .unwrap_or_else(|| panic!("no entry for {}: {all:#?}", dir.display()));
    assert!(hits.next().is_none(), "two entries for {}", dir.display());
    hit.clone()
}

fn real(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap()
}

// ---- defect 3: wrong targets read as healthy ----

#[test]
fn state_dir_without_config_is_an_error_naming_it() {
    let sb = Sandbox::new();
    let empty = sb.path().join("not-an-install");
    std::fs::create_dir_all(empty.join("agents/main/agent")).unwrap();
    for verb in [
        &["status"][..],
        &["migrate", "--dry-run"],
        &["migrate", "--yes"],
    ] {
        let mut args = verb.to_vec();
        args.extend(["--format", "json"]);
        let out = sb.run(&args, &empty);
        assert_eq!(out.status.code(), Some(2), "{verb:?}: {}", stderr(&out));
        let e = entry_for(&out, &empty);
        assert_eq!(e["outcome"], "failed", "{verb:?}: {e}");
        let msg = e["error"].as_str().unwrap();
        assert!(
            msg.contains("no config") && msg.contains("--state-dir"),
            "{msg}"
        );
        assert_eq!(json_of(&out)["summary"]["up_to_date"], 0);
    }
    // Nothing was created in it.
    assert!(!empty.join(".clawmigrate").exists());
    assert!(!empty.join("openclaw.json").exists());
}

#[test]
fn saved_plan_whose_installs_are_gone_is_an_error_naming_them() {
    let sb = Sandbox::new();
    let (gone, here) = (sb.demo("gone"), sb.demo("here"));
    let plan = sb.path().join("plan.json");
    sb.cmd()
        .args(["migrate", "--dry-run", "--plan-out"])
        .arg(&plan)
        .args(["--state-dir"])
        .arg(&gone)
        .args(["--state-dir"])
        .arg(&here)
        .assert()
        .success();
    std::fs::rename(&gone, sb.path().join("moved-away")).unwrap();
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--format", "json", "--plan"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = entry_for(&out, &gone);
    assert_eq!(e["outcome"], "failed");
    assert!(
        e["error"].as_str().unwrap().contains("not on this host"),
        "{e}"
    );
    // The other install of the plan carries on.
    assert_eq!(entry_for(&out, &here)["outcome"], "changed");
}

/// Runs `cmd` as an unprivileged user when the tests run as root (root reads any directory), so
/// a directory of mode 0700 owned by root really cannot be read.
fn unprivileged(sb: &Sandbox, args: &[&str]) -> Output {
    let mut c = sb.std_cmd();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let bin = c.get_program().to_owned();
        c = std::process::Command::new("setpriv");
        c.env_clear()
            .env("HOME", sb.path())
            .env("NO_COLOR", "1")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(bin);
    }
    c.args(args).output().unwrap()
}

#[test]
fn unreadable_fleet_member_is_reported_and_the_rest_carries_on() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    for name in ["a", "b-locked/inner", "c"] {
        copy_tree(Path::new(DEMO), &fleet.join(name));
    }
    // The sandbox is private to root: let the unprivileged user in, except into b-locked.
    for d in [sb.path(), &fleet] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let locked = fleet.join("b-locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let fleet_arg = fleet.display().to_string();
    let out = unprivileged(&sb, &["status", "--format", "json", "--fleet", &fleet_arg]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = entry_for(&out, &locked);
    assert_eq!(e["outcome"], "failed");
    let msg = e["error"].as_str().unwrap();
    assert!(
        msg.contains("Permission denied") && msg.contains("read access"),
        "{msg}"
    );
    assert_eq!(entry_for(&out, &fleet.join("a"))["outcome"], "pending");
    assert_eq!(entry_for(&out, &fleet.join("c"))["outcome"], "pending");
    assert_eq!(json_of(&out)["summary"]["installs"], 3);
}

#[test]
fn symlinked_fleet_members_are_followed_and_handled_once() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    let real_member = sb.demo("fleet/real");
    let outside = sb.demo("elsewhere/install");
    symlink(&outside, fleet.join("a-link")).unwrap();
    // The same install as `real`, reached first through a link: handled once, under the link.
    symlink("real", fleet.join("b-link")).unwrap();
    let fleet_arg = fleet.display().to_string();
    let out = sb
        .cmd()
        .args([
            "migrate", "--yes", "--format", "json", "--fleet", &fleet_arg,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let all = installs(&out);
    let mut seen: Vec<PathBuf> = all
        .iter()
        .map(|i| real(Path::new(i["state_dir"].as_str().unwrap())))
        .collect();
    seen.sort();
    let mut want = vec![real(&outside), real(&real_member)];
    want.sort();
    assert_eq!(seen, want, "{all:#?}");
    assert!(all.iter().all(|i| i["outcome"] == "changed"), "{all:#?}");
    // One run each: the install reached twice was migrated once.
    for st in [&outside, &real_member] {
        assert_eq!(
            json(st.join(".clawmigrate/ledger.json"))["runs"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}

#[test]
fn a_symlink_loop_in_a_fleet_is_a_reported_walk_error() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    sb.demo("fleet/member");
    std::fs::create_dir_all(fleet.join("group")).unwrap();
    symlink(&fleet, fleet.join("group/back-up")).unwrap();
    let out = sb
        .cmd()
        .args(["status", "--format", "json", "--fleet"])
        .arg(&fleet)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = entry_for(&out, &fleet.join("group/back-up"));
    assert_eq!(e["outcome"], "failed");
    assert!(e["error"].as_str().unwrap().contains("symlink loop"), "{e}");
    assert_eq!(entry_for(&out, &fleet.join("member"))["outcome"], "pending");
}
