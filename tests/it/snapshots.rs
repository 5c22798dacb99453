//! insta snapshots of what people and scripts read: help, the human diff, the JSON plan.
use crate::support::*;

fn run(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.cmd().args(args).output().unwrap();
    stdout(&out)
}

#[test]
fn help_texts() {
    let sb = Sandbox::new();
    snap(None, || {
        insta::assert_snapshot!("help", run(&sb, &["--help"]));
        insta::assert_snapshot!("help_migrate", run(&sb, &["migrate", "--help"]));
        insta::assert_snapshot!("help_rollback", run(&sb, &["rollback", "--help"]));
        insta::assert_snapshot!("help_repair", run(&sb, &["repair", "--help"]));
        insta::assert_snapshot!("help_schema", run(&sb, &["schema", "--help"]));
    });
}

#[test]
fn demo_dry_run_human() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let out = run(
        &sb,
        &["migrate", "--dry-run", "--state-dir", st.to_str().unwrap()],
    );
    snap(Some(sb.path()), || {
        insta::assert_snapshot!("demo_dry_run", out)
    });
}

#[test]
fn demo_plan_json() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let out = run(
        &sb,
        &[
            "migrate",
            "--dry-run",
            "--format",
            "json",
            "--state-dir",
            st.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], 3);
    snap(Some(sb.path()), || {
        insta::assert_json_snapshot!("demo_plan_json", repairs_only(v))
    });
}

#[test]
fn list_human() {
    let sb = Sandbox::new();
    snap(None, || {
        insta::assert_snapshot!("list", run(&sb, &["list"]))
    });
}

#[test]
fn status_after_apply_human() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let out = run(&sb, &["status", "--state-dir", st.to_str().unwrap()]);
    snap(Some(sb.path()), || {
        insta::assert_snapshot!("status_after_apply", out)
    });
}

/// `rollback --dry-run`: per install what `--yes` would restore (or refuse), human and JSON.
#[test]
fn rollback_dry_run_human_and_json() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let human = run(
        &sb,
        &["rollback", "--dry-run", "--state-dir", st.to_str().unwrap()],
    );
    let out = run(
        &sb,
        &[
            "rollback",
            "--dry-run",
            "--format",
            "json",
            "--state-dir",
            st.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["mode"], "rollback-dry-run");
    snap(Some(sb.path()), || {
        insta::assert_snapshot!("rollback_dry_run", human);
        insta::assert_json_snapshot!("rollback_dry_run_json", repairs_only(v));
    });
}

/// A command's whole result as uv snapshots it: exit code, stdout, stderr.
/// The envelope's list of every built-in migration, narrowed to the seed's repairs: the list
/// itself is `list`'s snapshot, so a new upgrade migration does not churn every verb's.
fn repairs_only(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(all) = v["migrations"].as_array_mut() {
        all.retain(|m| m["kind"] != "upgrade");
    }
    v
}

fn whole(out: &std::process::Output) -> String {
    format!(
        "exit_code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.status.code().unwrap_or(-1),
        stdout(out),
        stderr(out)
    )
}

/// `rollback` after an apply: the list of runs, the restore, and a run no install holds (an
/// error of the whole run, with its hint on a line of its own and as the JSON `hint`).
#[test]
fn rollback_human_and_json() {
    let sb = Sandbox::new();
    let (a, b) = (sb.demo("a"), sb.demo("b"));
    for st in [&a, &b] {
        sb.cli(&["migrate", "--yes", "--quiet"], st).success();
    }
    let list = whole(&sb.run(&["rollback", "--list"], &a));
    let list_json = json_of(&sb.run(&["rollback", "--list", "--format", "json"], &a));
    let restored = whole(&sb.run(&["rollback", "--yes", "-v"], &a));
    let restored_json = json_of(&sb.run(&["rollback", "--yes", "--format", "json"], &b));
    let unknown = whole(&sb.run(&["rollback", "20990101T000000Z-abcd", "--yes"], &a));
    let unknown_json = sb.run(
        &[
            "rollback",
            "20990101T000000Z-abcd",
            "--yes",
            "--format",
            "json",
        ],
        &a,
    );
    assert_eq!(unknown_json.status.code(), Some(2));
    let unknown_json = json_of(&unknown_json);
    assert_eq!(
        unknown_json["errors"][0]["hint"],
        "`clawmigrate rollback --list` shows the runs"
    );
    snap(Some(sb.path()), || {
        insta::assert_snapshot!("rollback_list", list);
        insta::assert_json_snapshot!("rollback_list_json", repairs_only(list_json));
        insta::assert_snapshot!("rollback_yes", restored);
        insta::assert_json_snapshot!("rollback_yes_json", repairs_only(restored_json));
        insta::assert_snapshot!("rollback_unknown_run", unknown);
        insta::assert_json_snapshot!("rollback_unknown_run_json", repairs_only(unknown_json));
    });
}

/// `repair --rebless` on two installs: one records the `--from` checksum (accepted), the other
/// another one (refused, with its hint), as a dry run and for real, human and JSON.
#[test]
fn repair_human_and_json() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    let (old, other) = (fleet.join("old"), fleet.join("other"));
    for (st, checksum) in [(&old, crate::repair::OLD), (&other, crate::repair::OTHER)] {
        copy_tree(std::path::Path::new(DEMO), st);
        sb.cli(&["migrate", "--yes", "--quiet"], st).success();
        crate::repair::record_v0001_as(st, checksum);
    }
    let repair = |how: &[&str]| {
        let mut args = vec!["repair", "--rebless", "1", "--from", crate::repair::OLD];
        args.extend(how);
        sb.cmd()
            .args(&args)
            .arg("--fleet")
            .arg(&fleet)
            .output()
            .unwrap()
    };
    let dry = whole(&repair(&["--dry-run"]));
    let dry_json = json_of(&repair(&["--dry-run", "--format", "json"]));
    let refused = &dry_json["installs"][1]["error"];
    assert_eq!(refused["kind"], "refused");
    assert!(
        refused["hint"]
            .as_str()
            .unwrap()
            .contains("rollback --list")
    );
    let done_json = json_of(&repair(&["--yes", "--format", "json"]));
    // Accepted already: the install is up to date now, the other still refused.
    let again = whole(&repair(&["--yes"]));
    snap(Some(sb.path()), || {
        insta::assert_snapshot!("repair_dry_run", dry);
        insta::assert_json_snapshot!("repair_dry_run_json", repairs_only(dry_json));
        insta::assert_json_snapshot!("repair_yes_json", repairs_only(done_json));
        insta::assert_snapshot!("repair_yes_again", again);
    });
}
