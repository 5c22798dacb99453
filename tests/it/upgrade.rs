//! `--to RELEASE`: upgrades as OpenClaw's doctor would, gated by the release and the install's
//! meta.lastTouchedVersion, previewed, reported without --to, rolled back exactly.
use crate::support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn install(sb: &Sandbox, name: &str, config: &str) -> PathBuf {
    let st = sb.path().join(name);
    std::fs::create_dir_all(&st).unwrap();
    write(st.join("openclaw.json"), config);
    st
}

fn config(st: &Path) -> Value {
    let text = read(st.join("openclaw.json"));
    clawmigrate::document::parse(&text, clawmigrate::document::FileKind::Config).unwrap()
}

const LEGACY: &str = "{\n  gateway: {\n    port: 18789,\n    // shared secret for the CLI\n    token: 'tok-123',\n  },\n  cron: { webhook: 'https://example.com/hook', enabled: true },\n}\n";

#[test]
fn to_runs_the_releases_newer_than_last_touched_oldest_first() {
    let sb = Sandbox::new();
    let st = install(&sb, "old", LEGACY);
    sb.cli(&["migrate", "--to", "2026.9.6", "--yes"], &st)
        .success();
    assert_eq!(
        config(&st),
        json!({"gateway": {"port": 18789, "auth": {"mode": "token", "token": "tok-123"}},
               "cron": {"enabled": true}})
    );
    // Last touched by 2026.2.3: its doctor already ran, only 2026.9.6's list applies.
    let touched = LEGACY.replace(
        "{\n  gateway",
        "{\n  meta: { lastTouchedVersion: '2026.2.3' },\n  gateway",
    );
    let st = install(&sb, "touched", &touched);
    sb.cli(&["migrate", "--to", "2026.9.6", "--yes"], &st)
        .success();
    let v = config(&st);
    assert_eq!(
        v["gateway"]["token"], "tok-123",
        "2026.2.3's move is not applied"
    );
    assert_eq!(v["cron"], json!({"enabled": true}));
    assert_eq!(
        v["meta"],
        json!({"lastTouchedVersion": "2026.2.3"}),
        "no stamp"
    );
    // --to 2026.2.3 stops there: 2026.9.6's list is not applied.
    let st = install(&sb, "staged", LEGACY);
    sb.cli(&["migrate", "--to", "2026.2.3", "--yes"], &st)
        .success();
    let v = config(&st);
    assert_eq!(v["gateway"]["auth"]["token"], "tok-123");
    assert_eq!(v["cron"]["webhook"], "https://example.com/hook");
    // A beta of the newest release has not had its doctor's final list.
    let beta = LEGACY.replace(
        "{\n  gateway",
        "{\n  meta: { lastTouchedVersion: '2026.9.6-beta.1' },\n  gateway",
    );
    let st = install(&sb, "beta", &beta);
    sb.cli(&["migrate", "--to", "2026.9.6", "--yes"], &st)
        .success();
    assert_eq!(config(&st)["cron"], json!({"enabled": true}));
    assert_eq!(config(&st)["gateway"]["token"], "tok-123");
}

#[test]
fn a_release_not_carried_is_a_usage_error_listing_the_carried_ones() {
    let sb = Sandbox::new();
    let st = install(&sb, "old", LEGACY);
    let out = sb.run(
        &[
            "migrate",
            "--to",
            "2026.5.0",
            "--dry-run",
            "--format",
            "json",
        ],
        &st,
    );
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    let e = &v["errors"][0];
    assert_eq!(e["kind"], "usage", "{v}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("it carries: 2026.2.3, 2026.9.6"),
        "{e}"
    );
    let out = sb.run(&["status", "--to", "latest"], &st);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("2026.2.3, 2026.9.6"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn without_to_nothing_is_upgraded_but_status_and_the_dry_run_say_what_would_be() {
    let sb = Sandbox::new();
    let st = install(&sb, "old", LEGACY);
    let before = read(st.join("openclaw.json"));
    for args in [
        &["status", "--format", "json"][..],
        &["migrate", "--dry-run", "--format", "json"],
        &["migrate", "--check", "--format", "json"],
    ] {
        let out = sb.run(args, &st);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stdout(&out));
        let v = json_of(&out);
        let found = &v["installs"][0]["findings"];
        let upgrade: Vec<&Value> = found
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "upgrade-available")
            .collect();
        assert_eq!(upgrade.len(), 1, "{args:?}: {found}");
        let m = upgrade[0]["message"].as_str().unwrap();
        assert!(
            m.starts_with("--to 2026.9.6 would make 4 changes")
                && m.contains("V0107__gateway_token_to_auth_token")
                && m.contains("V0226__cron_webhook_remove"),
            "{m}"
        );
        assert!(!m.contains("tok-123"));
        assert_eq!(v["installs"][0]["outcome"], "up-to-date", "{args:?}");
    }
    sb.cli(&["migrate", "--yes"], &st).success();
    assert_eq!(
        read(st.join("openclaw.json")),
        before,
        "no upgrade without --to"
    );
}

#[test]
fn repairs_still_apply_with_to() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let out = sb.run(
        &["migrate", "--to", "2026.9.6", "--yes", "--format", "json"],
        &st,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v = json_of(&out);
    let states: Vec<(&str, &str)> = v["installs"][0]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert!(
        states.contains(&("V0001__minimax_cn_china_base_url", "pending")),
        "{states:?}"
    );
    sb.cli(&["migrate", "--to", "2026.9.6", "--check"], &st)
        .success();
}

#[test]
fn a_move_keeps_comments_a_second_run_plans_nothing_and_rollback_is_exact() {
    let sb = Sandbox::new();
    let st = install(&sb, "old", LEGACY);
    let before = tree(&st, false);
    let dry = sb.run(&["migrate", "--to", "2026.9.6", "--dry-run"], &st);
    assert!(
        !stdout(&dry).contains("tok-123"),
        "the moved token is masked: {}",
        stdout(&dry)
    );
    sb.cli(&["migrate", "--to", "2026.9.6", "--yes"], &st)
        .success();
    let text = read(st.join("openclaw.json"));
    let comment = text
        .find("// shared secret for the CLI")
        .expect("the comment moved along");
    assert!(
        comment > text.find("auth").unwrap() && comment < text.find("token: ").unwrap(),
        "{text}"
    );
    assert!(text.contains("port: 18789,"), "{text}");
    sb.cli(&["migrate", "--to", "2026.9.6", "--check"], &st)
        .success();
    let out = sb.run(
        &[
            "migrate",
            "--to",
            "2026.9.6",
            "--dry-run",
            "--format",
            "json",
        ],
        &st,
    );
    assert_eq!(json_of(&out)["summary"]["operations"], 0);
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(tree(&st, false), before);
}

#[test]
fn list_names_each_upgrades_release_and_ids_in_run_order() {
    let v = Sandbox::new().list_json();
    let ms = v["migrations"].as_array().unwrap();
    let gw = ms
        .iter()
        .find(|m| m["id"] == "V0107__gateway_token_to_auth_token")
        .unwrap();
    assert_eq!(gw["kind"], "upgrade");
    assert_eq!(
        gw["upstream"],
        json!({"openclaw": "2026.2.3", "ids": ["gateway.token->gateway.auth.token"]})
    );
    assert_eq!(ms[0]["kind"], "repair");
    assert_eq!(ms[0]["upstream"], Value::Null);
    let versions: Vec<u64> = ms.iter().map(|m| m["version"].as_u64().unwrap()).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]));
}

/// Shows the upgrade to 2026.9.6 of `st` every way it can be shown (the dry run, human and
/// JSON; the run saving a plan and the plan; the apply; status), then applies it, and asserts
/// that none shows `secrets` (distinctive slices of the keys it moves) and the dry run names
/// `migration`.
fn assert_moved_keys_masked(sb: &Sandbox, st: &Path, migration: &str, secrets: &[&str]) {
    let shown = |out: &std::process::Output, what: &str| {
        let text = format!("{}{}", stdout(out), stderr(out));
        for k in secrets {
            assert!(!text.contains(k), "{what} shows {k}:\n{text}");
        }
        text
    };
    let human = sb.run(&["migrate", "--dry-run", "--to", "2026.9.6"], st);
    assert!(
        shown(&human, "the dry run").contains(migration),
        "the migration is planned"
    );
    let json_out = sb.run(
        &[
            "migrate",
            "--dry-run",
            "--to",
            "2026.9.6",
            "--format",
            "json",
        ],
        st,
    );
    shown(&json_out, "the JSON report");
    let plan = sb.path().join("plan.json");
    let saved = sb.run(
        &[
            "migrate",
            "--dry-run",
            "--to",
            "2026.9.6",
            "--plan-out",
            plan.to_str().unwrap(),
        ],
        st,
    );
    shown(&saved, "the saved plan's run");
    let saved_plan = read(&plan);
    for k in secrets {
        assert!(!saved_plan.contains(k), "the saved plan shows {k}");
    }
    let applied = sb.run(&["migrate", "--to", "2026.9.6", "--yes"], st);
    assert!(applied.status.success(), "{}", stderr(&applied));
    shown(&applied, "the apply");
    shown(&sb.run(&["status", "--to", "2026.9.6"], st), "status");
}

/// The x_search key (2026.9.6 moves it into the xAI plugin) and the plugin's own key.
const X_KEY: &str = "xai-legacy-5f4e3d2c1b0a9988";
const X_PLUGIN_KEY: &str = "xai-plugin-0a1b2c3d4e5f6677";

#[test]
fn a_moved_x_search_key_is_masked_in_every_output_and_written_unmasked() {
    let sb = Sandbox::new();
    let cfg = format!(
        "{{\n  meta: {{ lastTouchedVersion: '2026.6.2' }},\n  tools: {{ web: {{ x_search: {{ apiKey: '{X_KEY}', model: 'grok-3' }} }} }},\n  plugins: {{ entries: {{ other: {{ config: {{ apiKey: '{X_PLUGIN_KEY}' }} }} }} }},\n}}\n"
    );
    let st = install(&sb, "xs", &cfg);
    assert_moved_keys_masked(
        &sb,
        &st,
        "V0250__x_search_api_key_to_xai_plugin",
        &[&X_KEY[4..20], &X_PLUGIN_KEY[4..20]],
    );
    let v = config(&st);
    assert_eq!(
        v["plugins"]["entries"]["xai"],
        json!({"enabled": true, "config": {"webSearch": {"apiKey": X_KEY}}}),
        "the file holds the key itself"
    );
    assert_eq!(v["tools"]["web"]["x_search"], json!({"model": "grok-4.3"}));
}

#[test]
fn agents_list_whose_workspace_pin_doctor_takes_from_the_host_is_refused_not_guessed() {
    // Two agents, none default, the first without a workspace and no agents.defaults.workspace:
    // doctor would pin a path from the running user's home/profile. Nothing of the roster is
    // planned; a conflict says what to set. The other upgrades still apply.
    let sb = Sandbox::new();
    let text = "{\n  meta: { lastTouchedVersion: '2026.6.2' },\n  cron: { webhook: 'https://h', enabled: true },\n  agents: { list: [{ id: 'a' }, { id: 'b' }] },\n}\n";
    let st = install(&sb, "host-pin", text);
    let out = sb.run(
        &[
            "migrate",
            "--dry-run",
            "--to",
            "2026.9.6",
            "--format",
            "json",
        ],
        &st,
    );
    let v = json_of(&out);
    let findings = v["installs"][0]["findings"].as_array().unwrap().clone();
    let f = findings
        .iter()
        .find(|f| f["migration"] == "V0277")
        .unwrap_or_else(|| panic!("no V0277 finding in {v}"));
    assert_eq!(f["kind"], "conflict", "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("home and profile"),
        "{f}"
    );
    assert!(f["fix"].as_str().unwrap().contains("workspace"), "{f}");
    sb.run(&["migrate", "--to", "2026.9.6", "--yes"], &st);
    let v = config(&st);
    assert_eq!(
        v["agents"],
        json!({"list": [{"id": "a"}, {"id": "b"}]}),
        "roster untouched"
    );
    assert_eq!(
        v["cron"],
        json!({"enabled": true}),
        "the other upgrades apply"
    );
    // With agents.defaults.workspace the pin is the file's own: carried.
    let text = text.replace("agents: {", "agents: { defaults: { workspace: '/w' },");
    let st = install(&sb, "config-pin", &text);
    sb.cli(&["migrate", "--to", "2026.9.6", "--yes"], &st)
        .success();
    assert_eq!(
        config(&st)["agents"]["entries"],
        json!({"a": {"workspace": "/w"}, "b": {}})
    );
}

/// The findings of a JSON run's only install, by kind.
fn finding_kinds(out: &std::process::Output) -> Vec<String> {
    let v = json_of(out);
    let found = v["installs"][0]["findings"].as_array().unwrap().clone();
    found
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The `to` each ledger run records, oldest first (`rollback --list`).
fn recorded_to(sb: &Sandbox, st: &Path) -> Vec<Value> {
    let out = sb.run(&["rollback", "--list", "--format", "json"], st);
    let v = json_of(&out);
    let runs = v["installs"][0]["runs"].as_array().unwrap().clone();
    runs.iter().map(|r| r["to"].clone()).collect()
}

/// clawmigrate stamps no `meta`: the ledger records the release a run upgraded to, and the
/// window starts after it. Without it, an install with no meta.lastTouchedVersion started from
/// 2026.2.3 again on every run, whose model-config-v2 rewrote the string model 2026.9.6 moved.
#[test]
fn the_ledger_records_the_release_upgraded_to_and_the_next_run_starts_after_it() {
    let sb = Sandbox::new();
    let st = install(
        &sb,
        "nometa",
        "{\n  // the model\n  defaultModel: 'openai/gpt-5.4',\n}\n",
    );
    let before = tree(&st, false);
    let dry = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    assert!(finding_kinds(&dry).contains(&"upgrade-available".to_string()));
    sb.cli(&["migrate", "--to", "2026.9.6", "--yes"], &st)
        .success();
    assert_eq!(
        config(&st),
        json!({"agents": {"defaults": {"model": "openai/gpt-5.4"}}})
    );
    assert_eq!(recorded_to(&sb, &st), [json!("2026.9.6")]);
    let after = tree(&st, false);

    // Applied twice equals applied once: the second run plans nothing and writes nothing.
    let again = sb.run(
        &["migrate", "--to", "2026.9.6", "--yes", "--format", "json"],
        &st,
    );
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert_eq!(json_of(&again)["summary"]["operations"], 0);
    assert_eq!(tree(&st, false), after);
    sb.cli(&["migrate", "--check", "--to", "2026.9.6"], &st)
        .success();
    // The same floor for status, the dry run's upgrade-available finding, --only's order rule
    // (2026.2.3's model-config-v2 is not waiting before 2026.9.6's move) and a saved plan.
    let status = sb.run(&["status", "--to", "2026.9.6", "--format", "json"], &st);
    assert_eq!(status.status.code(), Some(0), "{}", stdout(&status));
    assert_eq!(json_of(&status)["installs"][0]["outcome"], "up-to-date");
    let dry = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    assert_eq!(finding_kinds(&dry), Vec::<String>::new());
    sb.cli(
        &["migrate", "--check", "--to", "2026.9.6", "--only", "V0238"],
        &st,
    )
    .success();
    let plan = sb.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    sb.cli(
        &[
            "migrate",
            "--dry-run",
            "--to",
            "2026.9.6",
            "--plan-out",
            plan_arg,
        ],
        &st,
    )
    .success();
    let saved: Value = serde_json::from_str(&read(&plan)).unwrap();
    assert_eq!(saved["installs"], json!([]));
    assert_eq!(
        recorded_to(&sb, &st).len(),
        1,
        "a run that wrote nothing is not recorded"
    );

    // Rolled back, the run counts for nothing: the same upgrade plans again.
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(tree(&st, false), before);
    let check = sb.run(&["migrate", "--check", "--to", "2026.9.6"], &st);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    let dry = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    assert!(finding_kinds(&dry).contains(&"upgrade-available".to_string()));
}

/// A run that leaves an upgrade `--to` reaches unapplied (narrowed by `--only`, or blocked on a
/// migration that needs input) records no release: the next run still plans what it left.
#[test]
fn a_run_narrowed_by_only_or_blocked_records_no_release() {
    let sb = Sandbox::new();
    // --only: the other upgrades are still pending after it.
    let st = install(&sb, "only", LEGACY);
    sb.cli(
        &["migrate", "--to", "2026.9.6", "--only", "107", "--yes"],
        &st,
    )
    .success();
    assert_eq!(recorded_to(&sb, &st), [Value::Null]);
    let check = sb.run(&["migrate", "--check", "--to", "2026.9.6"], &st);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    sb.cli(&["migrate", "--to", "2026.9.6", "--yes"], &st)
        .success();
    assert_eq!(config(&st)["cron"], json!({"enabled": true}));
    assert_eq!(recorded_to(&sb, &st), [Value::Null, json!("2026.9.6")]);

    // Blocked on V0002 (minimax-cn needs a key): V0001 is written, the upgrades wait.
    let blocked = LEGACY.replace(
        "{\n  gateway",
        "{\n  agents: { defaults: { model: { primary: 'minimax-cn/MiniMax-M2' } } },\n  models: { providers: { 'minimax-cn': { baseUrl: 'https://api.minimax.io/anthropic', api: 'anthropic-messages' } } },\n  gateway",
    );
    let st = install(&sb, "blocked", &blocked);
    let out = sb.run(&["migrate", "--to", "2026.9.6", "--yes"], &st);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        config(&st)["models"]["providers"]["minimax-cn"]["baseUrl"],
        "https://api.minimaxi.com/anthropic",
        "the migration before the blocked one is written"
    );
    assert_eq!(recorded_to(&sb, &st), [Value::Null]);
    let key = sb.path().join("minimax.key");
    write(&key, "sk-cn-e2e-key-0001\n");
    let key_arg = format!("minimax-cn={}", key.display());
    sb.cli(
        &[
            "migrate",
            "--to",
            "2026.9.6",
            "--key-file",
            &key_arg,
            "--yes",
        ],
        &st,
    )
    .success();
    assert_eq!(config(&st)["gateway"]["auth"]["token"], "tok-123");
    assert_eq!(config(&st)["cron"], json!({"enabled": true}));
}

#[test]
fn egress_host_list_with_an_internationalised_host_is_reported_not_guessed() {
    // Whether OpenClaw can use `bücher.example` depends on IDNA rules: its list is left as it is
    // with a conflict, and nothing of that migration is applied until the operator resolves it.
    let sb = Sandbox::new();
    let text = "{\n  meta: { lastTouchedVersion: '2026.6.2' },\n  secrets: { egressProxy: {\n    bypassHosts: ['bücher.example', 'https://a.example/'],\n    allowedHosts: ['api.openai.com', '*.example.com'],\n  } },\n}\n";
    let st = install(&sb, "idna-host", text);
    let out = sb.run(
        &[
            "migrate",
            "--dry-run",
            "--to",
            "2026.9.6",
            "--format",
            "json",
        ],
        &st,
    );
    let v = json_of(&out);
    let findings = v["installs"][0]["findings"].as_array().unwrap().clone();
    let f = findings
        .iter()
        .find(|f| f["migration"] == "V0267")
        .unwrap_or_else(|| panic!("no V0267 finding in {v}"));
    assert_eq!(f["kind"], "conflict", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("secrets.egressProxy.bypassHosts[0]"),
        "{f}"
    );
    sb.run(&["migrate", "--to", "2026.9.6", "--yes"], &st);
    assert_eq!(
        config(&st)["secrets"]["egressProxy"]["bypassHosts"],
        json!(["bücher.example", "https://a.example/"]),
        "the list IDNA would judge stays as written"
    );
}

const BRAVE_KEY: &str = "brave-legacy-7a6b5c4d3e2f1100";
const GEMINI_KEY: &str = "gemini-legacy-0011223344556677";

#[test]
fn moved_web_search_keys_are_masked_in_every_output_and_written_unmasked() {
    // The global apiKey moves on its own; the gemini key moves inside its provider block: both
    // are masked wherever the plan is shown.
    let sb = Sandbox::new();
    let cfg = format!(
        "{{\n  meta: {{ lastTouchedVersion: '2026.6.2' }},\n  tools: {{ web: {{ search: {{ provider: 'brave', apiKey: '{BRAVE_KEY}', gemini: {{ apiKey: '{GEMINI_KEY}' }} }} }} }},\n}}\n"
    );
    let st = install(&sb, "ws", &cfg);
    assert_moved_keys_masked(
        &sb,
        &st,
        "V0281__web_search_provider_config_to_plugins",
        &[&BRAVE_KEY[6..22], &GEMINI_KEY[6..22]],
    );
    let v = config(&st);
    assert_eq!(
        v["plugins"]["entries"],
        json!({
            "brave": {"enabled": true, "config": {"webSearch": {"apiKey": BRAVE_KEY}}},
            "google": {"enabled": true, "config": {"webSearch": {"apiKey": GEMINI_KEY}}},
        }),
        "the file holds the keys themselves"
    );
    assert_eq!(v["tools"]["web"]["search"], json!({"provider": "brave"}));
}
