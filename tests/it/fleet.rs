//! Fleet scale: many installs, saved plans, and safety beside a running gateway.
use crate::support::*;
use std::path::Path;
use std::process::Stdio;

/// Reviews a fleet with `migrate --dry-run --plan-out PLAN`.
fn save_plan(sb: &Sandbox, fleet: &Path, plan: &Path) {
    sb.cmd()
        .args(["migrate", "--dry-run", "--plan-out"])
        .arg(plan)
        .arg("--fleet")
        .arg(fleet)
        .assert()
        .success();
}

/// Starts `migrate --yes` in the background with a pause between staging and renaming.
fn spawn_paused_apply(sb: &Sandbox, st: &Path) -> std::process::Child {
    paused_apply(sb, st, "60000")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn fleet_finds_installs_at_depth_in_a_stable_order() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    for p in [
        "b-customer",
        "a-customer",
        "hosts/h1/c1/.openclaw",
        "deep/1/2/3/4/5/too-deep",
        "node_modules/x",
    ] {
        copy_tree(Path::new(DEMO), &fleet.join(p));
    }
    let out = sb
        .cmd()
        .args(["status", "--format", "json", "--fleet"])
        .arg(&fleet)
        .output()
        .unwrap();
    let v = json_of(&out);
    let dirs: Vec<String> = v["installs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["state_dir"]
                .as_str()
                .unwrap()
                .replace(&fleet.display().to_string(), "")
        })
        .collect();
    assert_eq!(
        dirs,
        ["/a-customer", "/b-customer", "/hosts/h1/c1/.openclaw"]
    );
    let out = sb
        .cmd()
        .args([
            "status",
            "--format",
            "json",
            "--fleet-depth",
            "8",
            "--fleet",
        ])
        .arg(&fleet)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(v["summary"]["installs"], 4);
}

#[test]
fn fleet_apply_recaps_every_outcome_and_carries_on_past_failures() {
    let sb = Sandbox::new();
    let fleet = demo_fleet(&sb, 70);
    write(fleet.join("c005/openclaw.json"), "{ broken");
    sb.cmd()
        .args(["migrate", "--yes", "--state-dir"])
        .arg(fleet.join("c006"))
        .assert()
        .success();
    write(fleet.join("c007/state/openclaw.sqlite"), "x");
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--format", "json", "--fleet"])
        .arg(&fleet)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    let s = &v["summary"];
    assert_eq!(
        (
            s["installs"].as_u64(),
            s["changed"].as_u64(),
            s["up_to_date"].as_u64(),
            s["failed"].as_u64(),
            s["unsupported"].as_u64()
        ),
        (Some(70), Some(67), Some(1), Some(1), Some(1))
    );
    assert_eq!(v["installs"][5]["outcome"], "failed");
    let out = sb
        .cmd()
        .args(["migrate", "--check", "--fleet"])
        .arg(&fleet)
        .output()
        .unwrap();
    let text = stdout(&out);
    // The recap ends the output and names the installs that are not fine; a fleet shows the
    // blocks of those installs only, not of the 68 that are up to date.
    let recap = &text[text.find("Recap: ").expect("a recap")..];
    let (c5, c7) = (fleet.join("c005"), fleet.join("c007"));
    assert_eq!(
        recap,
        format!(
            "Recap: 70 installs; 0 files, 0 operations planned\n  up to date        68\n  unsupported       1\n    {}\n  failed            1\n    {}\n",
            c7.display(),
            c5.display()
        )
    );
    assert!(
        !text.contains(&format!("{} [", fleet.join("c000").display())),
        "{text}"
    );
    assert!(
        text.starts_with(&format!("{} [failed]", c5.display())),
        "{text}"
    );
}

#[test]
fn saved_plan_applies_exactly_and_holds_no_secret() {
    let sb = Sandbox::new();
    let fleet = demo_fleet(&sb, 3);
    let plan = sb.path().join("plan.json");
    save_plan(&sb, &fleet, &plan);
    let text = read(&plan);
    assert!(
        !text.contains("sk-cp-demo-china-fedcba9876543210") && !text.contains("sk-api-demo-global"),
        "{text}"
    );
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(saved["installs"].as_array().unwrap().len(), 3);
    assert_eq!(
        saved["installs"][0]["files"][0]["sha256_before"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    // One install moves after review: it is refused by name; the others apply.
    let moved = fleet.join("c001/agents/main/agent/auth-profiles.json");
    write(
        &moved,
        &read(&moved).replace("\"errorCount\": 0", "\"errorCount\": 1"),
    );
    let c1 = tree(&fleet.join("c001"), true);
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--plan"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains(&format!(
            "{} changed since the plan was made",
            moved.display()
        )),
        "{}",
        stdout(&out)
    );
    assert_eq!(tree(&fleet.join("c001"), true), c1);
    for c in ["c000", "c002"] {
        let after: std::collections::BTreeMap<String, String> = saved["installs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["state_dir"].as_str().unwrap().ends_with(c))
            .flat_map(|i| i["files"].as_array().unwrap().clone())
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["sha256_after"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(after.len(), 5);
        for (p, sha) in after {
            let bytes = std::fs::read(&p).unwrap();
            assert_eq!(clawmigrate::hash::sha256_hex(&bytes), sha, "{p}");
        }
    }
}

#[test]
fn a_write_by_the_gateway_during_apply_is_never_lost() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let child = spawn_paused_apply(&sb, &st);
    wait_for(|| staged(&st), "the run to stage its files");
    // OpenClaw's lock on the auth store is held by clawmigrate now.
    assert!(
        st.join("agents/minimax-cn/agent/auth-profiles.json.lock")
            .is_dir()
    );
    // The gateway regenerates models.json (it takes no lock for that file).
    let models = st.join("agents/minimax-cn/agent/models.json");
    let gateway = read(&models).replace("\"maxTokens\": 8192", "\"maxTokens\": 16384");
    write(&models, &gateway);
    resume(&sb);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let s = stdout(&out);
    assert!(
        s.contains(&format!(
            "{} changed since it was planned (another writer), so it was not written",
            models.display()
        )),
        "{s}"
    );
    // What was written before it was put back: the install is as it was, but for the gateway's
    // write.
    assert!(s.contains("were put back from the run's backups"), "{s}");
    let mut was = tree(Path::new(DEMO), false);
    was.insert(
        "agents/minimax-cn/agent/models.json".into(),
        gateway.clone().into_bytes(),
    );
    assert!(tree(&st, false) == was, "the install is not as it was");
    assert_eq!(read(&models), gateway, "the gateway's write was lost");
    assert!(
        !st.join("agents/minimax-cn/agent/auth-profiles.json.lock")
            .exists()
    );
    // Every backup left is exact: the one that was a link to models.json's inode, which the
    // gateway wrote in place, was dropped with the file it could no longer stand for.
    let set = only_backup_set(&st);
    let manifest = json(set.join("manifest.json"));
    let (mut kept, mut refused) = (0, 0);
    // The manifest records locations relative to the install.
    let models_at = models.strip_prefix(&st).unwrap().to_str().unwrap();
    for f in manifest["files"].as_array().unwrap() {
        let copy = set.join(f["backup"].as_str().unwrap());
        if f["path"].as_str().unwrap() == models_at {
            refused += 1;
            assert!(
                !copy.exists(),
                "the refused file's linked backup is still there"
            );
        } else if copy.exists() {
            let sha = clawmigrate::hash::sha256_hex(&std::fs::read(&copy).unwrap());
            assert_eq!(f["sha256_before"].as_str().unwrap(), sha);
            kept += 1;
        }
    }
    assert!(kept > 0);
    assert_eq!(refused, 1, "the refused file is in the manifest");
    // A new run re-plans on the gateway's bytes and finishes the job.
    sb.cli(&["migrate", "--yes"], &st).success();
    let v = json(&models);
    assert!(v["providers"].get("minimax-cn").is_none());
}

/// Runs `migrate --yes` on the demo while "the gateway" holds main's auth lock; under the lock
/// it rewrites the auth store with `gateway`, then lets go. Returns the run and the store's path.
fn apply_behind_the_gateway(
    sb: &Sandbox,
    st: &Path,
    gateway: impl FnOnce(&str) -> String,
) -> (std::process::Output, std::path::PathBuf) {
    let auth = st.join("agents/main/agent/auth-profiles.json");
    let lock = st.join("agents/main/agent/auth-profiles.json.lock");
    std::fs::create_dir(&lock).unwrap();
    let child = sb
        .std_cmd()
        .args(["migrate", "--yes", "--state-dir"])
        .arg(st)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The run has planned once it holds its own lock; it then waits for the gateway's.
    wait_for(|| run_lock_held(st), "the run to plan and take its lock");
    write(&auth, &gateway(&read(&auth)));
    std::fs::remove_dir(&lock).unwrap();
    (child.wait_with_output().unwrap(), auth)
}

#[test]
fn a_gateway_holding_the_auth_lock_is_waited_for_and_its_write_kept() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    // The gateway, under its lock, records usage: the same change is planned again on it.
    let (out, auth) = apply_behind_the_gateway(&sb, &st, |t| {
        t.replace("\"errorCount\": 0", "\"errorCount\": 3")
    });
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{s}");
    assert!(s.contains("re-planned"), "{s}");
    let v = json(&auth);
    assert_eq!(v["usageStats"]["minimax:default"]["errorCount"], 3);
    assert!(v["profiles"].get("minimax-cn:default").is_some());
}

#[test]
fn a_gateway_write_that_changes_the_plan_refuses_the_install() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(&st, false);
    // Under its lock the gateway adds the profile itself: the plan made before no longer holds.
    let (out, auth) = apply_behind_the_gateway(&sb, &st, |t| {
        t.replacen(
            "\"profiles\": {",
            "\"profiles\": {\n    \"minimax-cn:default\": { \"type\": \"api_key\", \"provider\": \"minimax-cn\", \"key\": \"sk-cp-from-the-gateway-0000\" },",
            1,
        )
    });
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{s}");
    assert!(
        s.contains(&format!("{} changed since it was planned and the changes now planned differ; nothing of this install was written", auth.display())),
        "{s}"
    );
    // Nothing but the gateway's own write changed.
    let rel = auth.strip_prefix(&st).unwrap();
    let (mut before, mut after) = (before, tree(&st, false));
    let gateway = after.remove(rel).unwrap();
    assert!(
        String::from_utf8(gateway)
            .unwrap()
            .contains("sk-cp-from-the-gateway-0000")
    );
    before.remove(rel);
    assert_eq!(after, before);
}

#[test]
fn two_runs_on_one_install_never_interleave() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let first = spawn_paused_apply(&sb, &st);
    wait_for(|| staged(&st), "the first run to stage its files");
    let second = sb.run(&["migrate", "--yes"], &st);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stdout(&second).contains("another clawmigrate run is working on"),
        "{}",
        stdout(&second)
    );
    let third = sb.run(&["migrate", "--yes", "--format", "json"], &st);
    assert_eq!(json_of(&third)["installs"][0]["error"]["kind"], "locked");
    resume(&sb);
    assert!(first.wait_with_output().unwrap().status.success());
    sb.cli(&["migrate", "--check"], &st).code(0);
}

#[test]
fn an_install_named_by_two_targets_is_handled_once() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    copy_tree(Path::new(DEMO), &fleet.join("c1"));
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--format", "json", "--fleet"])
        .arg(&fleet)
        .arg("--state-dir")
        .arg(fleet.join("c1/."))
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(v["summary"]["installs"], 1, "{v}");
    assert_eq!(v["summary"]["changed"], 1);
}

/// Runs the binary under `script`, which gives it a terminal, with stdout thrown away; returns
/// what the terminal showed (stderr).
fn on_a_terminal(sb: &Sandbox, args: &str, show_after_ms: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_clawmigrate");
    let out = on_a_pty(
        sb,
        &format!("{bin} {args} > /dev/null"),
        &[
            ("TERM", "xterm"),
            ("CLAWMIGRATE_PROGRESS_AFTER_MS", show_after_ms),
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_long_fleet_run_on_a_terminal_shows_a_progress_bar() {
    let sb = Sandbox::new();
    let fleet = demo_fleet(&sb, 70);
    let plan = sb.path().join("plan.json");
    let dry = format!("migrate --dry-run --fleet {}", fleet.display());
    // A short run draws nothing: the bar waits until a run has taken a while.
    let short = on_a_terminal(&sb, &dry, "60000");
    assert!(!short.contains(" installs"), "{short:?}");
    // A long one shows it, counting installs as the walk finds them.
    let long = on_a_terminal(&sb, &dry, "0");
    assert!(long.contains(" installs"), "{long:?}");
    // With the total known (a saved plan), it is a bar of done / total.
    save_plan(&sb, &fleet, &plan);
    let apply = on_a_terminal(
        &sb,
        &format!("migrate --plan {} --yes", plan.display()),
        "0",
    );
    assert!(apply.contains("/70 installs"), "{apply:?}");
    // Its rate is rounded as a person reads it (never indicatif's four decimals).
    assert!(apply.contains(" installs/s"), "{apply:?}");
    assert!(
        !apply.split(['.', ' ']).any(|w| w.len() >= 4
            && w.chars().take(4).all(|c| c.is_ascii_digit())
            && w.contains("/s")),
        "{apply:?}"
    );
    // Rollback streams through the same pipeline, with the same bar.
    let undo = on_a_terminal(
        &sb,
        &format!("rollback --yes --fleet {}", fleet.display()),
        "0",
    );
    assert!(undo.contains(" installs"), "{undo:?}");
    let short = on_a_terminal(
        &sb,
        &format!("rollback --list --fleet {}", fleet.display()),
        "60000",
    );
    assert!(!short.contains(" installs"), "{short:?}");
    // Not on a terminal, there is no bar at all.
    let out = sb
        .cmd()
        .args(["migrate", "--check", "--fleet"])
        .arg(&fleet)
        .env("CLAWMIGRATE_PROGRESS_AFTER_MS", "0")
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("installs"), "{}", stderr(&out));
}
