//! Issue 19, part 2: `migrate --config FILE…` on config templates kept in git. Each file is the
//! openclaw.json of an install with no agents: its `$include`s are followed (a change lands in
//! the file that owns the value), it is written in place (atomically, mode kept, comments kept)
//! and nothing is kept in `.clawmigrate/`. Secrets are masked; errors name the file; `--config`
//! with another target, a saved plan or a key file is a usage error. Real OpenClaw 2026.9.6
//! refuses the legacy template and accepts the migrated one.
use crate::support::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const RELEASE: &str = "2026.9.6";
/// A key in the template, which no output may show (nor its tail).
const KEY: &str = "sk-cp-template-secret-5f4e3d2c1b0a9988";
const KEY_TAIL: &str = "5f4e3d2c1b0a9988";

/// A legacy template (before 2026.2.3's doctor): the gateway token at its old place, the China
/// provider on the global host, and cron from an included file holding a retired key.
fn legacy(dir: &Path) -> PathBuf {
    let main = dir.join("openclaw.json5");
    write(
        &main,
        &format!(
            "// Team template: rolled out to every gateway host.\n{{\n  gateway: {{\n    port: 18789, // the default\n    token: '${{GATEWAY_TOKEN}}',\n  }},\n  cron: {{ $include: \"./shared/cron.json5\" }},\n  models: {{\n    providers: {{\n      // China region\n      \"minimax-cn\": {{ baseUrl: \"https://api.minimax.io/anthropic\", apiKey: \"{KEY}\", api: \"anthropic-messages\", models: [] }},\n    }},\n  }},\n}}\n"
        ),
    );
    write(
        dir.join("shared/cron.json5"),
        "// Cron, shared by every template.\n{\n  enabled: true,\n  webhook: 'https://example.com/hook', // retired in 2026.9\n}\n",
    );
    main
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn parsed(p: &Path) -> Value {
    clawmigrate::document::parse(&read(p), clawmigrate::document::FileKind::Config).unwrap()
}

/// `clawmigrate migrate FLAGS --to 2026.9.6 --config FILES` in `dir`.
fn migrate_to(sb: &Sandbox, dir: &Path, flags: &[&str], files: &[&str]) -> std::process::Output {
    let args = [&["migrate"], flags, &["--to", RELEASE, "--config"], files].concat();
    sb.run_in(dir, &args)
}

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

/// Every output, both streams: no key, nor its tail.
fn assert_masked(out: &std::process::Output) {
    let all = format!("{}{}", stdout(out), stderr(out));
    assert!(
        !all.contains(KEY) && !all.contains(KEY_TAIL),
        "a key leaked: {all}"
    );
}

#[test]
fn check_names_the_template_and_exits_1_then_the_apply_writes_in_place_and_check_passes() {
    let sb = Sandbox::new();
    let dir = sb.path().join("repo");
    let main = legacy(&dir);
    let cron = dir.join("shared/cron.json5");
    chmod(&main, 0o640);
    chmod(&cron, 0o604);
    let before = tree(&dir, true);

    let out = migrate_to(&sb, &dir, &["--check"], &["openclaw.json5"]);
    assert_eq!(code(&out), Some(1), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{} [pending]", main.display())),
        "{text}"
    );
    assert!(text.contains("template: no agents"), "{text}");
    assert_masked(&out);
    assert_eq!(tree(&dir, true), before, "--check writes nothing");

    // Without a terminal and without --yes, nothing is written (as for an install).
    let out = migrate_to(&sb, &dir, &[], &["openclaw.json5"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert_eq!(tree(&dir, true), before);

    let out = migrate_to(&sb, &dir, &["--yes"], &["openclaw.json5"]);
    assert_eq!(code(&out), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("2 files written"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("git holds their history"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains("undo with"),
        "no run to undo: {}",
        stdout(&out)
    );
    assert_masked(&out);

    // Each value changed in the file that owns it, comments kept, and the files' modes.
    let text = read(&main);
    for kept in [
        "// Team template",
        "// the default",
        "// China region",
        "$include: \"./shared/cron.json5\"",
    ] {
        assert!(text.contains(kept), "{kept:?} lost: {text}");
    }
    assert!(
        read(&cron).contains("// Cron, shared by every template."),
        "{}",
        read(&cron)
    );
    assert_eq!(
        parsed(&main)["gateway"],
        json!({"port": 18789, "auth": {"mode": "token", "token": "${GATEWAY_TOKEN}"}})
    );
    assert_eq!(
        parsed(&main)["models"]["providers"]["minimax-cn"]["baseUrl"],
        "https://api.minimaxi.com/anthropic"
    );
    assert_eq!(parsed(&cron), json!({"enabled": true}));
    assert_eq!((mode(&main), mode(&cron)), (0o640, 0o604));
    // Nothing beside them: no .clawmigrate, no backups, no temp files, no agents.
    let names: Vec<PathBuf> = tree(&dir, true).into_keys().collect();
    assert_eq!(
        names,
        [
            PathBuf::from("openclaw.json5"),
            PathBuf::from("shared/cron.json5")
        ]
    );
    assert!(!dir.join(".clawmigrate").exists() && !dir.join("shared/.clawmigrate").exists());

    let out = migrate_to(&sb, &dir, &["--check"], &["openclaw.json5"]);
    assert_eq!(code(&out), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("[up to date]"), "{}", stdout(&out));
}

#[test]
fn the_dry_run_shows_a_masked_diff_per_file_and_writes_nothing() {
    let sb = Sandbox::new();
    let dir = sb.path().join("repo");
    let main = legacy(&dir);
    let before = tree(&dir, true);
    let out = migrate_to(&sb, &dir, &["--dry-run"], &["openclaw.json5"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("--- a/openclaw.json5\n+++ b/openclaw.json5"),
        "{text}"
    );
    assert!(
        text.contains("--- a/shared/cron.json5\n+++ b/shared/cron.json5"),
        "{text}"
    );
    assert!(
        text.contains("-  webhook: 'https://example.com/hook', // retired in 2026.9"),
        "{text}"
    );
    assert!(text.contains("+      mode: \"token\","), "{text}");
    assert!(text.contains("sk-cp-…["), "the key is shown masked: {text}");
    assert!(
        text.contains("V0107__gateway_token_to_auth_token") && text.contains("pending (4 ops)"),
        "{text}"
    );
    assert!(stderr(&out).contains("dry run: nothing was written"));
    assert_masked(&out);
    assert_eq!(tree(&dir, true), before);
    assert!(main.exists());
}

#[test]
fn json_names_the_template_its_files_and_masks_the_key() {
    let sb = Sandbox::new();
    let dir = sb.path().join("repo");
    let main = legacy(&dir);
    let out = migrate_to(
        &sb,
        &dir,
        &["--check", "--format", "json"],
        &["openclaw.json5"],
    );
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert_masked(&out);
    let v = json_of(&out);
    assert_eq!(v["mode"], "check");
    let i = &v["installs"][0];
    assert_eq!(i["template"], main.display().to_string());
    assert_eq!(i["state_dir"], dir.display().to_string());
    assert_eq!(i["config_path"], main.display().to_string());
    assert_eq!(i["outcome"], "pending");
    assert_eq!(i["agents"], json!([]));
    assert!(i.get("era").is_none(), "a template has no era: {i}");
    let files: Vec<&str> = i["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            main.display().to_string(),
            dir.join("shared/cron.json5").display().to_string()
        ]
    );
    assert_eq!(v["summary"]["pending"], 1);
    assert_eq!(v["undo_command"], Value::Null);

    // Applied: changed, no run id (nothing recorded), and still no key.
    let out = migrate_to(
        &sb,
        &dir,
        &["--yes", "--format", "json"],
        &["openclaw.json5"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_masked(&out);
    let v = json_of(&out);
    assert_eq!(v["installs"][0]["outcome"], "changed");
    assert_eq!(v["installs"][0].get("run_id"), None);
    assert_eq!(v["undo_command"], Value::Null);
    assert_eq!(v["summary"]["files"], 2);
}

#[test]
fn a_template_has_no_agents_even_when_it_lists_some_or_sits_beside_agent_folders() {
    let sb = Sandbox::new();
    let dir = sb.path().join("repo");
    // An agent uses minimax-cn with no key in the config: on an install, V0002 would need the
    // operator's key; a template has no agents, so nothing needs one.
    write(
        dir.join("openclaw.json"),
        "{\n  agents: { list: [{ id: \"main\", model: \"minimax-cn/MiniMax-M2\" }] },\n  models: { providers: { \"minimax-cn\": { baseUrl: \"https://api.minimax.io/anthropic\", api: \"anthropic-messages\", models: [] } } },\n}\n",
    );
    // A folder beside it shaped like an agent's, with a hardcoded key V0003 would remove.
    let models = dir.join("agents/main/agent/models.json");
    write(
        &models,
        &format!("{{\"providers\": {{\"minimax-cn\": {{\"apiKey\": \"{KEY}\"}}}}}}\n"),
    );
    let agent_files = read(&models);
    let out = sb.run_in(
        &dir,
        &[
            "migrate",
            "--yes",
            "--format",
            "json",
            "--config",
            "openclaw.json",
        ],
    );
    assert_eq!(code(&out), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_masked(&out);
    let v = json_of(&out);
    let i = &v["installs"][0];
    assert_eq!(i["outcome"], "changed", "{i}");
    assert_eq!(i["agents"], json!([]));
    let states: Vec<(&str, &str)> = i["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states[0], ("V0001__minimax_cn_china_base_url", "pending"));
    assert_eq!(
        states[1],
        ("V0002__minimax_cn_default_profile", "not-needed")
    );
    assert_eq!(states[2], ("V0003__models_json_cleanup", "not-needed"));
    assert_eq!(
        read(&models),
        agent_files,
        "the agent-shaped folder is not read or written"
    );
    assert!(!dir.join("agents/main/agent/auth-profiles.json").exists());
    assert!(!dir.join(".clawmigrate").exists());
}

#[test]
fn errors_name_the_file_missing_a_directory_not_json5_or_a_missing_include() {
    let sb = Sandbox::new();
    let dir = sb.path().join("repo");
    write(dir.join("broken.json5"), "{\n  gateway: { port: 18789,\n");
    write(
        dir.join("includes.json5"),
        "{ cron: { $include: \"./gone.json5\" } }\n",
    );
    std::fs::create_dir_all(dir.join("folder")).unwrap();
    let cases = [
        ("missing.json", "no such file", "not-found"),
        ("folder", "a directory, not a config file", "usage"),
        ("broken.json5", "invalid JSON5 at line 3", "parse"),
        ("includes.json5", "gone.json5", ""),
    ];
    for (name, why, kind) in cases {
        let path = dir.join(name);
        let out = sb.run_in(&dir, &["migrate", "--check", "--config", name]);
        assert_eq!(code(&out), Some(2), "{name}: {}", stdout(&out));
        let text = stdout(&out);
        assert!(
            text.contains(&format!("{} [failed]", path.display())),
            "{name}: {text}"
        );
        assert!(text.contains(why), "{name}: {text}");
        let out = sb.run_in(
            &dir,
            &["migrate", "--dry-run", "--format", "json", "--config", name],
        );
        assert_eq!(code(&out), Some(2), "{name}");
        let i = &json_of(&out)["installs"][0];
        assert_eq!(i["template"], path.display().to_string(), "{name}: {i}");
        let message = i["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&dir.display().to_string()) && message.contains(why),
            "{name}: {i}"
        );
        if !kind.is_empty() {
            assert_eq!(i["error"]["kind"], kind, "{name}: {i}");
        }
    }
    // One bad template among good ones fails alone, and the run exits 2.
    legacy(&dir.join("good"));
    let out = migrate_to(
        &sb,
        &dir,
        &["--check"],
        &["good/openclaw.json5", "missing.json"],
    );
    assert_eq!(code(&out), Some(2));
    let text = stdout(&out);
    assert!(text.contains("good/openclaw.json5 [pending]"), "{text}");
    assert!(text.contains("missing.json [failed]"), "{text}");
    let parse_hint = sb.run_in(&dir, &["migrate", "--check", "--config", "broken.json5"]);
    assert!(
        !stdout(&parse_hint).contains(".bak"),
        "a template has no .bak to restore: {}",
        stdout(&parse_hint)
    );
}

#[test]
fn config_with_another_target_a_saved_plan_or_a_key_file_is_a_usage_error() {
    let sb = Sandbox::new();
    let dir = sb.path().join("repo");
    legacy(&dir);
    let st = sb.demo("state");
    std::fs::write(sb.path().join("key"), "sk-cp-operator-0011223344556677\n").unwrap();
    let before = (tree(&dir, true), tree(&st, true));
    let plan = sb.path().join("plan.json");
    let (st, plan, key) = (
        st.display().to_string(),
        plan.display().to_string(),
        format!("minimax-cn={}", sb.path().join("key").display()),
    );
    let combos: [&[&str]; 8] = [
        &["--state-dir", &st],
        &["--fleet", &st],
        &["--fleet-depth", "2"],
        &["--allow-empty"],
        &["--profile", "work"],
        &["--plan-out", &plan, "--dry-run"],
        &["--plan", &plan],
        &["--key-file", &key],
    ];
    for extra in combos {
        let mut args = vec!["migrate", "--yes", "--config", "openclaw.json5"];
        args.extend_from_slice(extra);
        let out = sb.run_in(&dir, &args);
        assert_eq!(code(&out), Some(2), "{extra:?}: {}", stdout(&out));
        assert!(
            stderr(&out).contains("--config"),
            "{extra:?}: {}",
            stderr(&out)
        );
    }
    // FILEs without --config, and --config without a FILE.
    for args in [
        &["migrate", "--check", "openclaw.json5"][..],
        &["migrate", "--check", "--config"][..],
        &["migrate", "--check", "--config", "--to", RELEASE][..],
    ] {
        let out = sb.run_in(&dir, args);
        assert_eq!(code(&out), Some(2), "{args:?}: {}", stdout(&out));
        assert!(
            stderr(&out).contains("--config"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // In JSON, the usage error is one document.
    let out = sb.run_in(
        &dir,
        &[
            "migrate",
            "--check",
            "--format",
            "json",
            "--config",
            "openclaw.json5",
            "--fleet",
            &st,
        ],
    );
    assert_eq!(code(&out), Some(2));
    assert_eq!(
        json_of(&out)["errors"][0]["kind"],
        "usage",
        "{}",
        stdout(&out)
    );
    assert_eq!((tree(&dir, true), tree(Path::new(&st), true)), before);
}

#[test]
fn config_takes_the_files_wherever_they_come_as_pre_commit_passes_them() {
    let sb = Sandbox::new();
    let dir = sb.path().join("repo");
    let a = legacy(&dir.join("a"));
    let b = legacy(&dir.join("b"));
    // `--config` before the hook's args, the files after them (pre-commit's order), as
    // `--to=R` or `--to R`.
    for args in [
        &[
            "migrate",
            "--check",
            "--config",
            "--to=2026.9.6",
            "a/openclaw.json5",
            "b/openclaw.json5",
        ][..],
        &[
            "migrate",
            "--check",
            "--config",
            "--to",
            RELEASE,
            "a/openclaw.json5",
            "b/openclaw.json5",
        ][..],
        &[
            "migrate",
            "--check",
            "--to",
            RELEASE,
            "--config",
            "a/openclaw.json5",
            "b/openclaw.json5",
        ][..],
        &[
            "migrate",
            "--check",
            "--to",
            RELEASE,
            "--config",
            "a/openclaw.json5",
            "--config",
            "b/openclaw.json5",
        ][..],
    ] {
        let out = sb.run_in(&dir, args);
        assert_eq!(code(&out), Some(1), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        for t in [&a, &b] {
            assert!(
                text.contains(&format!("{} [pending]", t.display())),
                "{args:?}: {text}"
            );
        }
        assert!(text.contains("Recap: 2 installs"), "{args:?}: {text}");
    }
    // The same file named twice is one template.
    let out = migrate_to(
        &sb,
        &dir,
        &["--check"],
        &["a/openclaw.json5", "a/../a/openclaw.json5"],
    );
    assert!(
        stdout(&out).contains("Recap: 1 install;"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn templates_in_one_folder_are_each_their_own_also_when_reviewed_on_a_terminal() {
    let sb = Sandbox::new();
    let dir = sb.path().join("repo");
    let main = legacy(&dir);
    let prod = dir.join("openclaw.prod.json5");
    write(
        &prod,
        "// Production.\n{ gateway: { token: 'prod-token-abc' } }\n",
    );
    // Reviewed and confirmed on a terminal: the plan shown for each is the one written.
    let cmdline = format!(
        "cd {} && {} migrate --to {RELEASE} --config openclaw.json5 openclaw.prod.json5",
        dir.display(),
        env!("CARGO_BIN_EXE_clawmigrate")
    );
    let out = on_a_pty(&sb, &cmdline, &[("NO_COLOR", "1")], Some("y\n"));
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("[y/N]"), "{shown}");
    assert!(shown.contains("[changed]"), "{shown}");
    assert_eq!(parsed(&prod)["gateway"]["auth"]["token"], "prod-token-abc");
    assert!(read(&prod).starts_with("// Production.\n"));
    assert_eq!(parsed(&main)["gateway"]["auth"]["mode"], "token");
    assert!(!dir.join(".clawmigrate").exists());
}

#[test]
fn a_change_that_would_land_outside_the_templates_folder_is_refused_naming_the_file() {
    let sb = Sandbox::new();
    let repo = sb.path().join("repo");
    let shared = repo.join("shared/cron.json5");
    write(
        &shared,
        "{ enabled: true, webhook: 'https://example.com/hook' }\n",
    );
    let main = repo.join("hosts/a/openclaw.json5");
    write(
        &main,
        "// host a\n{ cron: { $include: \"../../shared/cron.json5\" } }\n",
    );
    let before = tree(&repo, true);
    let out = migrate_to(&sb, &repo, &["--yes"], &["hosts/a/openclaw.json5"]);
    assert_eq!(code(&out), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{} [failed]", main.display())),
        "{text}"
    );
    assert!(text.contains(&shared.display().to_string()), "{text}");
    assert_eq!(tree(&repo, true), before, "nothing written");
}

/// Real OpenClaw 2026.9.6 is the judge: its `config validate` refuses the legacy template (the
/// keys its doctor would move) and accepts the migrated one, each read as an install's config.
#[test]
fn openclaw_2026_9_6_refuses_the_legacy_template_and_accepts_the_migrated_one() {
    let sb = Sandbox::new();
    let dir = sb.path().join("repo");
    legacy(&dir);
    let as_install = |name: &str| {
        let st = sb.path().join(name);
        copy_tree(&dir, &st);
        std::fs::rename(st.join("openclaw.json5"), st.join("openclaw.json")).unwrap();
        st
    };
    let v = crate::oracle::validate(&as_install("before"));
    assert_eq!(v["valid"], false, "{v}");
    let issues = v["issues"].to_string();
    assert!(
        issues.contains("webhook") && issues.contains("token"),
        "{v}"
    );
    let out = migrate_to(&sb, &dir, &["--yes"], &["openclaw.json5"]);
    assert_eq!(code(&out), Some(0), "{}", stdout(&out));
    let v = crate::oracle::validate(&as_install("after"));
    assert_eq!(v["valid"], true, "{v}");
}
