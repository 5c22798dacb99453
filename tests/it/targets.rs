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
        assert_eq!(e["error"]["kind"], "not-found", "{verb:?}: {e}");
        let msg = e["error"]["message"].as_str().unwrap();
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
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not on this host"),
        "{e}"
    );
    // The other install of the plan carries on.
    assert_eq!(entry_for(&out, &here)["outcome"], "changed");
}

/// Runs `cmd` as an unprivileged user when the tests run as root (root reads any directory), so
/// a directory of mode 0700 owned by root really cannot be read.
fn unprivileged(sb: &Sandbox, args: &[&str]) -> Output {
    let mut c = sb.std_cmd();
    if is_root() {
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
    let msg = e["error"]["message"].as_str().unwrap();
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
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("symlink loop"),
        "{e}"
    );
    assert_eq!(entry_for(&out, &fleet.join("member"))["outcome"], "pending");
}

// ---- defect 7: the saved-plan flow ----

/// `n` demo installs under `<sandbox>/fleet`.
fn small_fleet(sb: &Sandbox, n: usize) -> PathBuf {
    for i in 0..n {
        sb.demo(&format!("fleet/m{i}"));
    }
    sb.path().join("fleet")
}

fn mkdir(p: PathBuf) -> PathBuf {
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn plan_out_to_a_bare_file_name_then_apply_from_another_directory() {
    let sb = Sandbox::new();
    let fleet = small_fleet(&sb, 2);
    let review = mkdir(sb.path().join("review"));
    // As in the README: a bare file name, here with a relative --fleet too.
    let out = sb
        .cmd()
        .current_dir(&review)
        .args([
            "migrate",
            "--dry-run",
            "--plan-out",
            "plan.json",
            "--fleet",
            "../fleet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Recorded absolute (resolved once against the working directory of the review).
    let plan = json(review.join("plan.json"));
    let dirs: Vec<PathBuf> = plan["installs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| PathBuf::from(i["state_dir"].as_str().unwrap()))
        .collect();
    assert!(dirs.iter().all(|d| d.is_absolute()), "{dirs:?}");
    let dirs: Vec<PathBuf> = dirs.iter().map(|d| real(d)).collect();
    assert_eq!(dirs, [real(&fleet.join("m0")), real(&fleet.join("m1"))]);
    // Applied from another working directory, naming the plan relative to it.
    let apply_dir = mkdir(sb.path().join("ops/apply"));
    let out = sb
        .cmd()
        .current_dir(&apply_dir)
        .args([
            "migrate",
            "--yes",
            "--format",
            "json",
            "--plan",
            "../../review/plan.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let all = installs(&out);
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|i| i["outcome"] == "changed"), "{all:#?}");
    // Nothing landed under either working directory.
    assert_eq!(std::fs::read_dir(&apply_dir).unwrap().count(), 0);
    assert_eq!(tree(&review, true).len(), 1);
    let out = sb.run(&["migrate", "--check"], &fleet.join("m1"));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn plan_out_without_a_preview_is_refused() {
    let sb = Sandbox::new();
    let st = sb.demo("st");
    let before = tree(&st, true);
    let plan = sb.path().join("plan.json");
    let out = sb.run(
        &["migrate", "--yes", "--plan-out", plan.to_str().unwrap()],
        &st,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("needs --dry-run or --check"),
        "{}",
        stderr(&out)
    );
    assert!(!plan.exists());
    assert_eq!(tree(&st, true), before, "nothing may be written");
}

/// Saves the plan of one demo install, returning (install, plan file).
fn saved_plan(sb: &Sandbox) -> (PathBuf, PathBuf) {
    let st = sb.demo("st");
    let plan = sb.path().join("plan.json");
    sb.cli(
        &["migrate", "--dry-run", "--plan-out", plan.to_str().unwrap()],
        &st,
    )
    .success();
    (st, plan)
}

#[test]
fn saved_plan_without_yes_or_a_terminal_is_refused() {
    let sb = Sandbox::new();
    let (st, plan) = saved_plan(&sb);
    let before = tree(&st, true);
    let out = sb
        .cmd()
        .args(["migrate", "--plan"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no terminal") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(tree(&st, true), before, "nothing may be written");
}

#[test]
fn saved_plan_with_another_target_is_refused() {
    let sb = Sandbox::new();
    let (st, plan) = saved_plan(&sb);
    let before = tree(&st, true);
    let st_arg = st.display().to_string();
    for target in [
        &["--state-dir", &st_arg][..],
        &["--fleet", &st_arg],
        &["--profile", "work"],
    ] {
        let out = sb
            .cmd()
            .args(["migrate", "--yes", "--plan"])
            .arg(&plan)
            .args(target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{target:?}");
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{target:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(tree(&st, true), before, "nothing may be written");
}

#[test]
fn saved_plan_with_relative_paths_is_refused() {
    let sb = Sandbox::new();
    let (st, plan) = saved_plan(&sb);
    let mut v = json(&plan);
    v["installs"][0]["state_dir"] = "st".into();
    write(&plan, &serde_json::to_string_pretty(&v).unwrap());
    let out = sb
        .cmd()
        .current_dir(sb.path())
        .args(["migrate", "--yes", "--plan"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("make a new plan"), "{}", stderr(&out));
    assert!(!st.join(".clawmigrate").exists());
}

// ---- issue 16: a target that holds nothing is an error ----

/// A `--fleet` that is empty (a mistyped or unmounted path) or searched too shallowly holds no
/// install: every verb taking targets fails it (kind `not-found`, exit 2), unless the operator
/// says it may be empty with `--allow-empty`.
#[test]
fn a_fleet_holding_no_install_is_an_error_unless_allowed() {
    let sb = Sandbox::new();
    let empty = mkdir(sb.path().join("empty"));
    let fleet = small_fleet(&sb, 2);
    let from = format!("sha256:{}", "ab".repeat(32));
    let verbs: [&[&str]; 6] = [
        &["migrate", "--check"],
        &["migrate", "--yes"],
        &["status"],
        &["rollback", "--list"],
        &["rollback", "--yes"],
        &["repair", "--rebless", "1", "--from", &from, "--dry-run"],
    ];
    for verb in verbs {
        for (dir, depth) in [(&empty, "4"), (&fleet, "0")] {
            let run = |extra: &[&str]| {
                sb.cmd()
                    .args(verb)
                    .args(["--format", "json", "--fleet-depth", depth])
                    .args(extra)
                    .arg("--fleet")
                    .arg(dir)
                    .output()
                    .unwrap()
            };
            let out = run(&[]);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{verb:?} {depth}: {}",
                stdout(&out)
            );
            let e = entry_for(&out, dir);
            assert_eq!(e["error"]["kind"], "not-found", "{verb:?}: {e}");
            let msg = e["error"]["message"].as_str().unwrap();
            assert!(
                msg.contains("no OpenClaw install") && msg.contains("--allow-empty"),
                "{msg}"
            );
            let out = run(&["--allow-empty"]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{verb:?} {depth}: {}",
                stdout(&out)
            );
            assert_eq!(json_of(&out)["summary"]["installs"], 0, "{verb:?}");
        }
    }
    // Nothing was written into either.
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    assert!(!fleet.join("m0/.clawmigrate").exists());
}

/// A target path that is not there says so ("does not exist"); one that is a file says it is not
/// a directory. Both are `not-found`.
#[test]
fn a_missing_target_does_not_exist_and_a_file_is_not_a_directory() {
    let sb = Sandbox::new();
    let missing = sb.path().join("nonexistent");
    let file = sb.path().join("a-file");
    write(&file, "");
    for flag in ["--state-dir", "--fleet"] {
        for (dir, why) in [(&missing, "does not exist"), (&file, "not a directory")] {
            let out = sb
                .cmd()
                .args(["status", "--format", "json", flag])
                .arg(dir)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2));
            let e = entry_for(&out, dir);
            assert_eq!(e["error"]["kind"], "not-found", "{e}");
            let msg = e["error"]["message"].as_str().unwrap();
            assert!(msg.starts_with(why) && msg.contains(flag), "{flag}: {msg}");
        }
    }
}

/// `--plan-out` into a directory that does not exist is refused before planning, naming it; no
/// directory is made up on the way (even as root).
#[test]
fn plan_out_into_a_missing_directory_is_refused() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let missing = sb.path().join("nonexistdir");
    let plan = missing.join("p.json");
    let out = sb.run(
        &[
            "migrate",
            "--dry-run",
            "--format",
            "json",
            "--plan-out",
            plan.to_str().unwrap(),
        ],
        &st,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = &json_of(&out)["errors"][0];
    assert_eq!(e["kind"], "not-found", "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&missing.display().to_string()) && msg.contains("create the directory"),
        "{msg}"
    );
    assert!(!missing.exists(), "a missing directory was created");
}
