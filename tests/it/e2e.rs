//! End-to-end behaviour of migrate, status and rollback on temporary installs.
use crate::support::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

#[test]
fn dry_run_writes_creates_and_locks_nothing() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(sb.path(), true);
    let out = sb.run(&["migrate", "--dry-run"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("+++ b/openclaw.json"));
    assert_eq!(tree(sb.path(), true), before, "dry run changed the tree");
    assert!(!st.join(".clawmigrate").exists());
}

#[test]
fn check_exits_1_when_pending_and_0_after_apply() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--check"], &st).code(1);
    sb.cli(&["migrate", "--yes"], &st).code(0);
    sb.cli(&["migrate", "--check"], &st).code(0);
}

#[test]
fn apply_then_dry_run_plans_nothing() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let out = sb.run(&["migrate", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_of(&out)["summary"]["changed"], 1);
    let after = tree(&st, true);
    let out = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    let v = json_of(&out);
    assert_eq!(v["summary"]["operations"], 0);
    assert_eq!(v["installs"][0]["outcome"], "up-to-date");
    assert_eq!(tree(&st, true), after);
}

#[test]
fn apply_fixes_the_seed_bug() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let cfg = read(st.join("openclaw.json"));
    assert!(cfg.contains(r#"baseUrl: "https://api.minimaxi.com/anthropic""#));
    for agent in ["main", "minimax-cn"] {
        let auth = json(st.join(format!("agents/{agent}/agent/auth-profiles.json")));
        assert_eq!(
            auth["profiles"]["minimax-cn:default"]["key"], "sk-cp-demo-china-fedcba9876543210",
            "{agent}"
        );
        assert_eq!(
            auth["profiles"]["minimax:default"]["key"], "sk-api-demo-global-0123456789abcdef",
            "{agent}"
        );
    }
    // The cn agent's block overrode the auth system (hardcoded key, x-api-key): removed. Main's
    // block holds just the config's values, as OpenClaw regenerates it: kept, host fixed.
    let cn = json(st.join("agents/minimax-cn/agent/models.json"));
    assert!(cn["providers"].get("minimax-cn").is_none(), "{cn}");
    let main = json(st.join("agents/main/agent/models.json"));
    let block = &main["providers"]["minimax-cn"];
    assert_eq!(block["baseUrl"], "https://api.minimaxi.com/anthropic");
    assert!(
        block.get("apiKey").is_none() && block.get("headers").is_none(),
        "{main}"
    );
}

#[test]
fn rollback_restores_the_tree_byte_for_byte() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(&st, false);
    sb.cli(&["migrate", "--yes"], &st).success();
    assert_ne!(tree(&st, false), before);
    let out = sb.run(&["rollback", "--yes"], &st);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(tree(&st, false), before);
    // The rolled-back migrations are pending again, and a second rollback finds nothing.
    sb.cli(&["migrate", "--check"], &st).code(1);
    let out = sb.run(&["rollback", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(0));
    let v = json_of(&out);
    assert_eq!(v["summary"]["nothing_to_undo"], 1);
    assert_eq!(v["installs"][0]["outcome"], "nothing-to-undo");
}

#[test]
fn rollback_by_id_and_list() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let out = sb.run(&["rollback", "--list", "--format", "json"], &st);
    let v = json_of(&out);
    let run = &v["installs"][0]["runs"][0];
    assert_eq!(run["kind"], "migrate");
    assert_eq!(run["migrations"].as_array().unwrap().len(), 3);
    let id = run["id"].as_str().unwrap().to_string();
    sb.cli(&["rollback", "--yes", "nope"], &st).code(2);
    sb.cli(&["rollback", "--yes", &id], &st).success();
    let out = sb.run(&["rollback", "--list"], &st);
    assert!(stdout(&out).contains("(undone by "), "{}", stdout(&out));
}

/// Issue 16 item 5: a run id after `--` is never read as an option, and what is not a run id
/// (`--force`, `--fleet=DIR`) is refused as one, with nothing restored.
#[test]
fn rollback_takes_the_run_id_after_double_dash_and_refuses_options_as_ids() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(&st, false);
    sb.cli(&["migrate", "--yes"], &st).success();
    let migrated = tree(&st, true);
    let cfg = st.join("openclaw.json");
    let edited = read(&cfg).replace("port: 18789", "port: 18790");
    write(&cfg, &edited);
    let edited_tree = tree(&st, true);
    for bad in ["--force", "--fleet=/srv/other", "-y", ".hidden", "a/b"] {
        let out = sb
            .cmd()
            .args(["rollback", "--yes", "--format", "json", "--state-dir"])
            .arg(&st)
            .args(["--", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stdout(&out));
        let v = json_of(&out);
        assert_eq!(v["errors"][0]["kind"], "usage", "{bad}: {v}");
        let message = v["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("is not a run id"), "{bad}: {message}");
        assert_eq!(tree(&st, true), edited_tree, "{bad} restored something");
    }
    write(&cfg, &read(&cfg).replace("port: 18790", "port: 18789"));
    assert_eq!(tree(&st, true), migrated);
    let out = sb.run(&["rollback", "--list", "--format", "json"], &st);
    let id = json_of(&out)["installs"][0]["runs"][0]["invocation"]
        .as_str()
        .unwrap()
        .to_string();
    let out = sb
        .cmd()
        .args(["rollback", "--yes", "--state-dir"])
        .arg(&st)
        .args(["--", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(tree(&st, false), before);
}

/// Issue 16 item 6: `rollback --dry-run` says what `--yes` would restore, or refuse, per
/// install, and writes nothing (nor does it take a lock).
#[test]
fn rollback_dry_run_predicts_what_yes_does_and_writes_nothing() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let migrated = tree(&st, true);
    let out = sb.run(&["rollback", "--dry-run", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json_of(&out);
    assert_eq!(v["mode"], "rollback-dry-run");
    assert_eq!(v["invocation_id"], serde_json::Value::Null);
    assert_eq!(v["installs"][0]["outcome"], "pending", "{v}");
    assert_eq!(
        v["installs"][0]["files"].as_array().unwrap().len(),
        5,
        "{v}"
    );
    assert_eq!(tree(&st, true), migrated, "the dry run wrote");

    // A file changed since the run: the dry run refuses as --yes does, and says why.
    let cfg = st.join("openclaw.json");
    write(&cfg, &read(&cfg).replace("port: 18789", "port: 18790"));
    let edited = tree(&st, true);
    let out = sb.run(&["rollback", "--dry-run", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let v = json_of(&out);
    let inst = &v["installs"][0];
    assert_eq!(inst["outcome"], "failed", "{v}");
    assert_eq!(inst["error"]["kind"], "changed", "{v}");
    let message = inst["error"]["message"].as_str().unwrap();
    assert!(message.contains("changed since run"), "{message}");
    let yes = sb.run(&["rollback", "--yes", "--format", "json"], &st);
    assert_eq!(yes.status.code(), Some(2));
    assert_eq!(json_of(&yes)["installs"][0]["error"], inst["error"]);
    assert_eq!(tree(&st, true), edited, "a refused rollback wrote");
    // With --force it would restore, and still writes nothing.
    let out = sb.run(&["rollback", "--dry-run", "--force"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("would restore 5 files of run"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("dry run: nothing was restored"));
    assert_eq!(tree(&st, true), edited, "the dry run wrote");
    // A run no install holds is an error, as with --yes.
    sb.cli(&["rollback", "--dry-run", "nope"], &st).code(2);
}

#[test]
fn rollback_refuses_files_changed_since_unless_forced() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(&st, false);
    sb.cli(&["migrate", "--yes"], &st).success();
    let cfg = st.join("openclaw.json");
    let edited = read(&cfg).replace("port: 18789", "port: 18790");
    write(&cfg, &edited);
    let out = sb.run(&["rollback", "--yes"], &st);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("changed since run"),
        "{}",
        stdout(&out)
    );
    assert_eq!(read(&cfg), edited, "a refused rollback wrote");
    sb.cli(&["rollback", "--yes", "--force"], &st).success();
    assert_eq!(tree(&st, false), before);
}

#[test]
fn comments_formatting_and_unchanged_lines_survive() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let old = read(st.join("openclaw.json"));
    sb.cli(&["migrate", "--yes"], &st).success();
    let new = read(st.join("openclaw.json"));
    for comment in [
        "// OpenClaw config of an install",
        "// China account: its key only works on the China host.",
        "// copied from the global docs",
    ] {
        assert!(new.contains(comment), "lost {comment:?}");
    }
    // Only the lines carrying the change differ: the baseUrl line, plus the added profile lines.
    let removed: Vec<&str> = old
        .lines()
        .filter(|l| !new.lines().any(|n| n == *l))
        .collect();
    assert_eq!(
        removed,
        vec![
            r#"        baseUrl: "https://api.minimax.io/anthropic", // copied from the global docs"#
        ]
    );
    assert_eq!(new.lines().count(), old.lines().count() + 1);
    assert!(
        new.contains(
            "      \"minimax-cn:default\": { provider: \"minimax-cn\", mode: \"api_key\" },\n"
        ),
        "{new}"
    );
}

#[test]
fn an_added_profile_is_written_in_the_files_quotes() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let cfg = st.join("openclaw.json");
    let old = read(&cfg).replace('"', "'");
    write(&cfg, &old);
    let before = tree(&st, false);
    sb.cli(&["migrate", "--yes"], &st).success();
    let new = read(&cfg);
    assert!(
        new.contains("      'minimax-cn:default': { provider: 'minimax-cn', mode: 'api_key' },\n"),
        "{new}"
    );
    assert!(!new.contains('"'), "{new}");
    assert_eq!(new.lines().count(), old.lines().count() + 1);
    sb.cli(&["migrate", "--check"], &st).success();
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(tree(&st, false), before);
}

#[test]
fn unknown_keys_and_env_refs_survive() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let cfg = read(st.join("openclaw.json")).replace(
        "gateway: {",
        "futureThing: { keep: \"${SOME_VAR}\" },\n  gateway: {",
    );
    write(st.join("openclaw.json"), &cfg);
    let mp = st.join("agents/minimax-cn/agent/models.json");
    write(
        &mp,
        &read(&mp).replace(
            "\"providers\": {",
            "\"x-custom\": [1, 2],\n  \"providers\": {",
        ),
    );
    let ap = st.join("agents/main/agent/auth-profiles.json");
    write(
        &ap,
        &read(&ap).replace(
            "\"version\": 1,",
            "\"version\": 1,\n  \"futureField\": {\"a\": true},",
        ),
    );
    sb.cli(&["migrate", "--yes"], &st).success();
    assert!(read(st.join("openclaw.json")).contains("futureThing: { keep: \"${SOME_VAR}\" },"));
    assert_eq!(json(&mp)["x-custom"], serde_json::json!([1, 2]));
    assert_eq!(json(&ap)["futureField"]["a"], true);
    assert_eq!(
        json(&ap)["usageStats"]["minimax:default"]["lastUsed"],
        1770282764120u64
    );
}

#[test]
fn modes_are_kept_and_backups_are_private() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let cfg = st.join("openclaw.json");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o640)).unwrap();
    // git does not keep 0600, so set what OpenClaw writes.
    let auth = st.join("agents/main/agent/auth-profiles.json");
    std::fs::set_permissions(&auth, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (old_cfg, old_ino) = (read(&cfg), std::fs::metadata(&cfg).unwrap().ino());
    sb.cli(&["migrate", "--yes"], &st).success();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cfg), 0o640);
    assert_eq!(
        mode(&st.join("agents/main/agent/auth-profiles.json")),
        0o600
    );
    let backups = st.join(".clawmigrate/backups");
    assert_eq!(mode(&backups), 0o700);
    let set = only_backup_set(&st);
    assert_eq!(mode(&set), 0o700);
    let manifest = json(set.join("manifest.json"));
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    for f in files {
        let copy = set.join(f["backup"].as_str().unwrap());
        assert_eq!(mode(&copy), 0o600);
        assert_eq!(f["sha256_before"].as_str().unwrap().len(), 64);
    }
    let cfg_entry = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("openclaw.json"))
        .unwrap();
    assert_eq!(cfg_entry["mode"], 0o640);
    // The backup is the old file itself (its inode, linked before the rename), not a copy.
    let copy = set.join(cfg_entry["backup"].as_str().unwrap());
    let meta = std::fs::metadata(&copy).unwrap();
    assert_eq!((meta.ino(), meta.nlink()), (old_ino, 1));
    assert_eq!(read(&copy), old_cfg);
    assert_ne!(std::fs::metadata(&cfg).unwrap().ino(), old_ino);
}

#[test]
fn no_terminal_and_no_yes_refuses_with_exit_2() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(sb.path(), true);
    let out = sb.run(&["migrate"], &st);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(tree(sb.path(), true), before);
}

#[test]
fn a_broken_install_is_reported_and_the_others_carry_on() {
    let sb = Sandbox::new();
    let good = sb.demo("good");
    let bad = sb.demo("bad");
    let text = read(bad.join("openclaw.json")).replace(
        "api: \"anthropic-messages\",",
        "api: \"anthropic-messages\" \"oops\",",
    );
    write(bad.join("openclaw.json"), &text);
    let bad_before = tree(&bad, true);
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--state-dir"])
        .arg(&bad)
        .arg("--state-dir")
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let s = stdout(&out);
    assert!(
        s.contains(
            "bad/openclaw.json: invalid JSON5 at line 16, column 35: expected ',' or '}' after the value, found '\"'"
        ),
        "{s}"
    );
    assert!(s.contains("hint: fix the JSON5 syntax"), "{s}");
    assert_eq!(
        tree(&bad, true),
        bad_before,
        "the broken install was written"
    );
    assert!(read(good.join("openclaw.json")).contains("api.minimaxi.com"));
}

#[test]
fn broken_agent_file_blocks_only_its_install() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    write(
        st.join("agents/minimax-cn/agent/models.json"),
        "{\n  \"providers\": {,}\n}\n",
    );
    let before = tree(&st, true);
    let out = sb.run(&["migrate", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    let err = v["installs"][0]["error"]["message"].as_str().unwrap();
    assert!(
        err.contains("agents/minimax-cn/agent/models.json: invalid JSON at line 2"),
        "{err}"
    );
    assert_eq!(tree(&st, true), before);
}

#[test]
fn default_target_finds_a_legacy_clawdbot_install() {
    let sb = Sandbox::new();
    let st = sb.path().join(".clawdbot");
    copy_tree(std::path::Path::new(DEMO), &st);
    std::fs::rename(st.join("openclaw.json"), st.join("clawdbot.json")).unwrap();
    let out = sb.cmd().args(["migrate", "--dry-run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("+++ b/clawdbot.json"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains(".clawdbot [pending]"));
}

#[test]
fn default_target_honours_env_and_profile() {
    let sb = Sandbox::new();
    let custom = sb.demo("custom-state");
    let out = sb
        .cmd()
        .env("OPENCLAW_STATE_DIR", &custom)
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(v["installs"][0]["state_dir"], custom.display().to_string());
    let prof = sb.path().join(".openclaw-work");
    copy_tree(std::path::Path::new(DEMO), &prof);
    let out = sb
        .cmd()
        .args(["status", "--profile", "work", "--format", "json"])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(v["installs"][0]["state_dir"], prof.display().to_string());
    // Nothing at ~/.openclaw: a clear error, exit 2.
    let out = Sandbox::new().cmd().args(["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("pass --state-dir DIR"),
        "{}",
        stdout(&out)
    );
}

/// Moves the demo's minimax-cn agent dir to `to` (maybe on another filesystem) and points the
/// config's `agentDir` at it, written as `agent_dir`.
fn move_cn_agent(st: &std::path::Path, to: &std::path::Path, agent_dir: &str) {
    copy_tree(&st.join("agents/minimax-cn/agent"), to);
    std::fs::remove_dir_all(st.join("agents/minimax-cn")).unwrap();
    let cfg = read(st.join("openclaw.json")).replace(
        r#"{ id: "minimax-cn", name: "MiniMax CN" }"#,
        &format!(r#"{{ id: "minimax-cn", name: "MiniMax CN", agentDir: "{agent_dir}" }}"#),
    );
    write(st.join("openclaw.json"), &cfg);
}

#[test]
fn agent_dir_outside_agents_is_migrated() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let outside = sb.path().join("elsewhere/cn-agent");
    move_cn_agent(&st, &outside, "~/elsewhere/cn-agent");
    sb.cli(&["migrate", "--yes"], &st).success();
    let auth = json(outside.join("auth-profiles.json"));
    assert!(auth["profiles"].get("minimax-cn:default").is_some());
    assert!(
        json(outside.join("models.json"))["providers"]
            .get("minimax-cn")
            .is_none()
    );
}

#[test]
fn a_file_on_another_filesystem_is_backed_up_by_copy_and_rolled_back() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    // /dev/shm is a tmpfs: a hard link from there into the install's backups is impossible.
    let shm = tempfile::tempdir_in("/dev/shm").expect("a tmpfs at /dev/shm");
    let dev = |p: &std::path::Path| std::fs::metadata(p).unwrap().dev();
    assert_ne!(
        dev(shm.path()),
        dev(&st),
        "/dev/shm must be another filesystem"
    );
    let outside = shm.path().join("cn-agent");
    move_cn_agent(&st, &outside, &outside.display().to_string());
    let models = outside.join("models.json");
    let (old, old_ino) = (read(&models), std::fs::metadata(&models).unwrap().ino());
    sb.cli(&["migrate", "--yes"], &st).success();
    assert_ne!(read(&models), old);
    let set = only_backup_set(&st);
    let manifest = json(set.join("manifest.json"));
    let entry = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        // Outside the state dir, the file is recorded through its agent, never by absolute path.
        .find(|f| f["path"] == "@agent/minimax-cn/models.json")
        .unwrap()
        .clone();
    let copy = set.join(entry["backup"].as_str().unwrap());
    let meta = std::fs::metadata(&copy).unwrap();
    assert_ne!(meta.ino(), old_ino);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(read(&copy), old);
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(read(&models), old);
}

#[test]
fn stale_agent_dirs_are_found_by_the_scan() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    copy_tree(&st.join("agents/minimax-cn"), &st.join("agents/old-copy"));
    let out = sb.run(&["status", "--format", "json"], &st);
    let v = json_of(&out);
    let agents = v["installs"][0]["agents"].as_array().unwrap();
    assert!(
        agents
            .iter()
            .any(|a| a["id"] == "old-copy" && a["listed"] == false),
        "{agents:?}"
    );
    sb.cli(&["migrate", "--yes"], &st).success();
    assert!(
        json(st.join("agents/old-copy/agent/models.json"))["providers"]
            .get("minimax-cn")
            .is_none()
    );
}

#[test]
fn a_state_database_of_an_unknown_layout_is_unsupported_and_untouched() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    write(st.join("state/openclaw.sqlite"), "SQLite format 3\0");
    let before = tree(&st, true);
    let out = sb.run(&["migrate", "--yes"], &st);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("[unsupported]"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("a layout clawmigrate does not know"),
        "{}",
        stdout(&out)
    );
    assert_eq!(tree(&st, true), before);
}

#[test]
fn status_shows_applied_pending_and_drift() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let out = sb.run(&["status"], &st);
    assert!(
        stdout(&out).contains("V0001__minimax_cn_china_base_url   pending"),
        "{}",
        stdout(&out)
    );
    sb.cli(&["migrate", "--yes"], &st).success();
    let out = sb.run(&["status"], &st);
    assert!(
        stdout(&out).contains("V0001__minimax_cn_china_base_url   applied"),
        "{}",
        stdout(&out)
    );
    // Something (an old onboarding) puts the global host back: V0001 drifts.
    let cfg = read(st.join("openclaw.json")).replace("api.minimaxi.com", "api.minimax.io");
    write(st.join("openclaw.json"), &cfg);
    let out = sb.run(&["status", "--format", "json"], &st);
    let v = json_of(&out);
    let m = &v["installs"][0]["migrations"];
    assert_eq!(m[0]["state"], "drift");
    assert_eq!(m[1]["state"], "applied");
}

#[test]
fn only_runs_the_selected_migration() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes", "--only", "V0001"], &st)
        .success();
    assert!(read(st.join("openclaw.json")).contains("api.minimaxi.com"));
    assert!(
        json(st.join("agents/main/agent/auth-profiles.json"))["profiles"]
            .get("minimax-cn:default")
            .is_none()
    );
    sb.cli(&["migrate", "--dry-run", "--only", "9"], &st)
        .code(2);
}

#[test]
fn list_shows_every_migration() {
    let out = Sandbox::new()
        .cmd()
        .args(["list", "--format", "json"])
        .output()
        .unwrap();
    let v = json_of(&out);
    let ids: Vec<&str> = v["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    // Every file of migrations/, in version (run) order; the seed's three repairs first.
    let mut files: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .replace(".json", "")
            })
            .collect();
    files.sort();
    assert_eq!(ids, files);
    assert_eq!(
        ids[..3],
        [
            "V0001__minimax_cn_china_base_url",
            "V0002__minimax_cn_default_profile",
            "V0003__models_json_cleanup"
        ]
    );
    assert!(
        v["migrations"][0]["checksum"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

/// Runs `migrate` on a pseudo-terminal, answering the question.
fn on_terminal(sb: &Sandbox, st: &std::path::Path, answer: &str) -> std::process::Output {
    let cmdline = format!(
        "{} migrate --state-dir {}",
        env!("CARGO_BIN_EXE_clawmigrate"),
        st.display()
    );
    on_a_pty(sb, &cmdline, &[("NO_COLOR", "1")], Some(answer))
}

#[test]
fn on_a_terminal_it_shows_the_plan_and_asks() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(&st, true);
    let out = on_terminal(&sb, &st, "n\n");
    let s = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{s}");
    assert!(
        s.contains("+++ b/openclaw.json")
            && s.contains("Apply these changes to 5 files in 1 install? [y/N]"),
        "{s}"
    );
    assert_eq!(tree(&st, true), before, "answering no wrote");
    let out = on_terminal(&sb, &st, "y\n");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    sb.cli(&["migrate", "--check"], &st).code(0);
}

#[test]
fn symlinked_files_are_written_through_and_stay_links() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let link = st.join("agents/main/agent/auth-profiles.json");
    let real = st.join("secrets/main-auth-profiles.json");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::rename(&link, &real).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    sb.cli(&["migrate", "--yes"], &st).success();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(json(&real)["profiles"].get("minimax-cn:default").is_some());
}

#[test]
fn a_rollback_saves_the_bytes_it_replaces() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let migrated = read(st.join("openclaw.json"));
    sb.cli(&["rollback", "--yes"], &st).success();
    let v = json(st.join(".clawmigrate/ledger.json"));
    let rb = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "rollback")
        .unwrap();
    let set = st.join(rb["backup"].as_str().unwrap());
    let manifest = json(set.join("manifest.json"));
    let cfg = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("openclaw.json"))
        .unwrap();
    assert_eq!(read(set.join(cfg["backup"].as_str().unwrap())), migrated);
}

/// A run that wrote nothing counts nothing: with a stale saved plan the recap says `0 files
/// written, 0 operations applied` and the JSON summary 0 and 0, where a dry run says what it
/// plans.
#[test]
fn counts_say_what_happened_not_what_was_planned() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let plan = sb.path().join("plan.json");
    let p = plan.to_str().unwrap();
    let out = sb.run(&["migrate", "--dry-run", "--plan-out", p], &st);
    assert!(
        stdout(&out).contains("Recap: 1 install; 5 files, 7 operations planned"),
        "{}",
        stdout(&out)
    );
    // A gateway rewrites the config after the review: the plan is stale.
    let cfg = st.join("openclaw.json");
    write(&cfg, &format!("{}\n", read(&cfg)));
    let before = tree(&st, true);
    let out = sb
        .cmd()
        .args(["migrate", "--plan", p, "--yes", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    assert_eq!(v["installs"][0]["error"]["kind"], "changed", "{v}");
    let s = &v["summary"];
    assert_eq!(
        (&s["files"], &s["operations"], &s["changed"]),
        (&0.into(), &0.into(), &0.into()),
        "{s}"
    );
    let out = sb
        .cmd()
        .args(["migrate", "--plan", p, "--yes"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("Recap: 1 install; 0 files written, 0 operations applied\n"),
        "{text}"
    );
    assert!(!text.contains("undo with"), "{text}");
    assert_eq!(tree(&st, true), before);
}

/// Rolling back a rollback run is one clear error, not also "no install holds the run".
#[test]
fn rolling_back_a_rollback_is_one_clear_error() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let v = json_of(&sb.run(&["rollback", "--yes", "--format", "json"], &st));
    let id = v["installs"][0]["rollback_run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = sb.run(&["rollback", &id, "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    assert_eq!(v["errors"], serde_json::json!([]), "{v}");
    let e = &v["installs"][0]["error"];
    assert_eq!(e["kind"], "usage", "{v}");
    assert!(
        e["message"].as_str().unwrap().contains("itself a rollback"),
        "{e}"
    );
    let out = sb.run(&["rollback", &id, "--yes"], &st);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(all.matches("error:").count(), 1, "{all}");
    assert!(!all.contains("no target install holds"), "{all}");
}

/// `rollback --list` labels an install by the runs it lists, never `[nothing to undo]` above them.
#[test]
fn rollback_list_labels_an_install_by_its_runs() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let list = |sb: &Sandbox| stdout(&sb.run(&["rollback", "--list"], &st));
    let head = format!("{} [", st.display());
    assert!(
        list(&sb).starts_with(&format!("{head}no runs recorded]\n")),
        "{}",
        list(&sb)
    );
    sb.cli(&["migrate", "--yes"], &st).success();
    assert!(
        list(&sb).starts_with(&format!("{head}runs recorded]\n")),
        "{}",
        list(&sb)
    );
    sb.cli(&["rollback", "--yes"], &st).success();
    let text = list(&sb);
    assert!(
        text.starts_with(&format!("{head}runs recorded, none to undo]\n")),
        "{text}"
    );
    assert!(!text.contains("[nothing to undo]"), "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.contains(" files ") || l.contains(" file "))
            .count(),
        2,
        "{text}"
    );
}

/// `--color always|never|auto`: always colours even under NO_COLOR and off a terminal, never
/// does not, auto follows the terminal and NO_COLOR.
#[test]
fn color_always_never_and_auto() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let esc = |args: &[&str], no_color: bool| {
        let mut c = sb.cmd();
        if !no_color {
            c.env_remove("NO_COLOR");
        }
        let out = c.args(args).arg("--state-dir").arg(&st).output().unwrap();
        stdout(&out).contains('\u{1b}')
    };
    assert!(esc(&["status", "--color", "always"], true));
    assert!(esc(&["--color=always", "status"], false));
    assert!(!esc(&["status", "--color", "never"], false));
    assert!(!esc(&["status"], false), "auto off a terminal");
    let out = sb
        .cmd()
        .args(["status", "--color", "sometimes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Every man page (the main one and each verb's) has EXIT STATUS and ENVIRONMENT, the latter
/// naming every variable of the README's Environment table.
#[test]
fn every_man_page_has_exit_status_and_environment() {
    let sb = Sandbox::new();
    let readme = read(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let table = &readme[readme.find("### Environment").unwrap()..];
    let table = &table[..table.find("\n#").unwrap()];
    let vars: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| l.split('|').nth(1).unwrap().split('`').skip(1).step_by(2))
        .collect();
    assert!(vars.len() >= 10, "{vars:?}");
    let dir = sb.path().join("man");
    sb.cmd().args(["man", "--dir"]).arg(&dir).assert().success();
    let pages: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(pages.len(), 9, "{pages:?}");
    for verb in [
        None,
        Some("migrate"),
        Some("status"),
        Some("rollback"),
        Some("repair"),
        Some("list"),
        Some("schema"),
        Some("completions"),
        Some("man"),
    ] {
        let out = sb.cmd().arg("man").args(verb).output().unwrap();
        let page = stdout(&out);
        let name = format!(
            "clawmigrate{}.1",
            verb.map(|v| format!("-{v}")).unwrap_or_default()
        );
        assert_eq!(read(dir.join(&name)), page, "{name}");
        let exit = page
            .find(".SH \"EXIT STATUS\"")
            .unwrap_or_else(|| panic!("{name}: no EXIT STATUS"));
        let env = page
            .find(".SH \"ENVIRONMENT\"")
            .unwrap_or_else(|| panic!("{name}: no ENVIRONMENT"));
        assert!(
            exit < env && page[exit..env].contains("\\fB1\\fR"),
            "{name}"
        );
        for v in &vars {
            assert!(
                page[env..].contains(&v.replace('-', "\\-")),
                "{name}: {v} missing"
            );
        }
    }
}
