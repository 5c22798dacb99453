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
        insta::assert_json_snapshot!("demo_plan_json", v)
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
        insta::assert_json_snapshot!("rollback_dry_run_json", v);
    });
}
