//! What counts as a fault and what a run may do: regenerated blocks, healthy installs, blocked
//! migrations, and the refusals that replace silent no-ops.
use crate::fixtures::{self, KeyAt, Spec};
use crate::support::*;
use serde_json::{Value, json};
use std::path::Path;

fn check_json(sb: &Sandbox, st: &Path) -> (Option<i32>, Value) {
    let out = sb.run(&["migrate", "--check", "--format", "json"], st);
    (out.status.code(), json_of(&out))
}

fn states(v: &Value) -> Vec<String> {
    v["installs"][0]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap().to_string())
        .collect()
}

fn write_json(p: impl AsRef<Path>, v: &Value) {
    write(
        p,
        &format!("{}\n", serde_json::to_string_pretty(v).unwrap()),
    );
}

// Defect 4: what OpenClaw regenerates is not a fault; what overrides the config is.

#[test]
fn seed_stale_block_with_header_and_hardcoded_key_is_still_cleaned() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let (_, v) = check_json(&sb, &st);
    let cn_models = v["installs"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["agent"] == "minimax-cn" && f["kind"] == "models")
        .unwrap_or_else(|| panic!("the cn agent's models.json is not planned: {v}"))
        .clone();
    let removes: Vec<&str> = cn_models["patch"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["op"] == "remove")
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(removes, ["/providers/minimax-cn"], "{cn_models}");
    sb.cli(&["migrate", "--yes"], &st).success();
    let cn = json(st.join("agents/minimax-cn/agent/models.json"));
    assert!(cn["providers"].get("minimax-cn").is_none(), "{cn}");
}

/// main's models.json as OpenClaw 2026.2.3 writes it from the fixture's config (which has no
/// `cost`, so OpenClaw fills its defaults) and main's profiles.
fn regenerated_main_models(spec: &Spec, cn_key: &str) -> Value {
    json!({"providers": {
        "minimax": {"baseUrl": "https://api.minimax.chat/v1", "api": "openai-completions",
                    "models": [{"id": "MiniMax-M2.1", "name": "MiniMax M2.1"}],
                    "apiKey": fixtures::GLOBAL_KEY},
        "minimax-cn": {"baseUrl": format!("https://api.minimaxi.com{}", spec.path), "api": "anthropic-messages",
                       "models": [{"id": "MiniMax-M2.1", "name": "MiniMax M2.1", "reasoning": false, "input": ["text"],
                                   "contextWindow": 200000, "maxTokens": 8192,
                                   "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0}}],
                       "apiKey": cn_key}
    }})
}

#[test]
fn a_block_as_openclaw_regenerates_it_is_left_alone() {
    let sb = Sandbox::new();
    let spec = Spec::default();
    let st = fixtures::build(&sb.path().join("s"), &spec);
    sb.cli(&["migrate", "--yes"], &st).success();
    let models = st.join("agents/main/agent/models.json");
    write_json(&models, &regenerated_main_models(&spec, &spec.key));
    let (code, v) = check_json(&sb, &st);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["installs"][0]["outcome"], "up-to-date", "{v}");
    assert!(
        states(&v)
            .iter()
            .all(|s| s == "applied" || s == "not-needed"),
        "{v}"
    );
}

#[test]
fn overrides_of_the_config_or_profiles_are_still_targeted() {
    let sb = Sandbox::new();
    let spec = Spec::default();
    let st = fixtures::build(&sb.path().join("s"), &spec);
    sb.cli(&["migrate", "--yes"], &st).success();
    let models = st.join("agents/main/agent/models.json");
    // Another host: the block overrides the config's baseUrl, so it goes (OpenClaw rebuilds it).
    let mut stale = regenerated_main_models(&spec, &spec.key);
    stale["providers"]["minimax-cn"]["baseUrl"] = json!("https://old-proxy.example/anthropic");
    write_json(&models, &stale);
    let (code, v) = check_json(&sb, &st);
    assert_eq!(code, Some(1), "{v}");
    let patch = &v["installs"][0]["files"][0]["patch"];
    assert_eq!(
        patch[1],
        json!({"op": "remove", "path": "/providers/minimax-cn", "migration": "V0003"}),
        "{v}"
    );
    // An auth header: removed, the rest of the block stays.
    let mut header = regenerated_main_models(&spec, &spec.key);
    header["providers"]["minimax"]["headers"] = json!({"x-api-key": fixtures::GLOBAL_KEY});
    write_json(&models, &header);
    let (code, v) = check_json(&sb, &st);
    assert_eq!(code, Some(1), "{v}");
    let patch = &v["installs"][0]["files"][0]["patch"];
    assert_eq!(
        patch[1],
        json!({"op": "remove", "path": "/providers/minimax/headers", "migration": "V0003"}),
        "{v}"
    );
    // A key that differs from the profile's and is kept nowhere else: reported, never deleted.
    let other = "sk-cp-OTHERKEY-00112233445566";
    write_json(&models, &regenerated_main_models(&spec, other));
    let before = read(&models);
    let (code, v) = check_json(&sb, &st);
    assert_eq!(code, Some(0), "{v}");
    let notes: Vec<&str> = v["installs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|m| m.contains("differs from the agent's minimax-cn profile")),
        "{v}"
    );
    sb.cli(&["migrate", "--yes"], &st).success();
    assert_eq!(read(&models), before);
}

// Defect 5: a healthy install is left as it is.

/// An install fixed by hand (never seen by clawmigrate): every agent holds `minimax-cn:default`,
/// the config's `auth.profiles` has no entry for it (OpenClaw does not need one).
fn healthy(sb: &Sandbox, host: &'static str) -> std::path::PathBuf {
    let spec = Spec {
        host,
        key_at: KeyAt::MainProfile,
        ..Spec::default()
    };
    let st = fixtures::build(&sb.path().join(host), &spec);
    let cn = st.join("agents/minimax-cn/agent/auth-profiles.json");
    let mut store = json(&cn);
    store["profiles"]["minimax-cn:default"] =
        json!({"type": "api_key", "provider": "minimax-cn", "key": spec.key});
    write_json(&cn, &store);
    st
}

#[test]
fn an_install_already_holding_the_profile_is_up_to_date() {
    for host in ["api.minimaxi.com", "llm-proxy.internal"] {
        let sb = Sandbox::new();
        let st = healthy(&sb, host);
        let before = tree(&st, true);
        let (code, v) = check_json(&sb, &st);
        assert_eq!(code, Some(0), "{host}: {v}");
        assert_eq!(v["installs"][0]["outcome"], "up-to-date", "{host}: {v}");
        assert_eq!(v["summary"]["files"], 0, "{host}: {v}");
        sb.cli(&["migrate", "--yes"], &st).success();
        assert_eq!(
            tree(&st, false),
            before,
            "{host}: the healthy install was changed"
        );
    }
}

// Defect 6: migrations apply in order up to the first blocked one.

fn state_of(v: &Value, version: u64) -> &Value {
    v["installs"][0]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["version"] == version)
        .unwrap()
}

#[test]
fn a_blocked_migration_lets_the_earlier_ones_apply_and_holds_the_later_ones() {
    let sb = Sandbox::new();
    let spec = Spec {
        key_at: KeyAt::Nowhere,
        ..Spec::default()
    };
    let st = fixtures::build(&sb.path().join("s"), &spec);
    let out = sb.run(&["migrate", "--yes", "--format", "json"], &st);
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(2), "still needs input: {v}");
    assert_eq!(v["installs"][0]["outcome"], "needs-input", "{v}");
    assert!(v["installs"][0]["run_id"].is_string(), "{v}");
    assert!(read(st.join("openclaw.json")).contains("https://api.minimaxi.com/anthropic"));
    assert_eq!(state_of(&v, 2)["state"], "blocked", "{v}");
    let fix = v["installs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "needs-input")
        .unwrap_or_else(|| panic!("no needs-input finding: {v}"));
    assert!(
        fix["fix"]
            .as_str()
            .unwrap()
            .contains("--key-file minimax-cn=FILE"),
        "{v}"
    );
    assert_eq!(state_of(&v, 3)["state"], "pending", "{v}");
    assert_eq!(
        state_of(&v, 3)["blocked_by"],
        "V0002__minimax_cn_default_profile",
        "{v}"
    );
    // Only V0001 is recorded: status says so, and --check still fails.
    let ledger = json(st.join(".clawmigrate/ledger.json"));
    let recorded: Vec<&Value> = ledger["runs"][0]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["version"])
        .collect();
    assert_eq!(recorded, [&json!(1)], "{ledger}");
    let (code, v) = check_json(&sb, &st);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(state_of(&v, 1)["state"], "applied", "{v}");
    // With the key, the rest applies.
    let key = sb.path().join("cn.key");
    write(&key, &spec.key);
    let key_arg = format!("minimax-cn={}", key.display());
    let out = sb.run(
        &[
            "migrate",
            "--yes",
            "--format",
            "json",
            "--key-file",
            &key_arg,
        ],
        &st,
    );
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["installs"][0]["outcome"], "changed", "{v}");
    let auth = json(st.join("agents/main/agent/auth-profiles.json"));
    assert_eq!(
        auth["profiles"]["minimax-cn:default"]["key"],
        spec.key.as_str()
    );
    let (code, v) = check_json(&sb, &st);
    assert_eq!(code, Some(0), "{v}");
}

// Defect 10: silent no-ops become refusals or findings.

#[test]
fn check_with_yes_is_refused() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(&st, true);
    let out = sb.run(&["migrate", "--check", "--yes"], &st);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'--check' cannot be used with '--yes'"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(&st, true), before);
    // A script asking for JSON gets the refusal as one document, kind usage.
    let out = sb.run(&["migrate", "--check", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_of(&out)["errors"][0]["kind"], "usage");
}

#[test]
fn only_takes_the_full_id_list_prints_and_checks_its_name() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let list = json_of(
        &sb.cmd()
            .args(["list", "--format", "json"])
            .output()
            .unwrap(),
    );
    let id = list["migrations"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(id, "V0001__minimax_cn_china_base_url");
    let out = sb.run(
        &["migrate", "--dry-run", "--format", "json", "--only", &id],
        &st,
    );
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{v}");
    let ids: Vec<&str> = v["installs"][0]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    let out = sb.run(
        &[
            "migrate",
            "--dry-run",
            "--only",
            "V0001__models_json_cleanup",
        ],
        &st,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("V0001 is V0001__minimax_cn_china_base_url"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn only_out_of_order_is_refused_per_install() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(&st, true);
    let out = sb.run(
        &["migrate", "--yes", "--format", "json", "--only", "3"],
        &st,
    );
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert_eq!(v["installs"][0]["outcome"], "failed", "{v}");
    let error = v["installs"][0]["error"]["message"].as_str().unwrap();
    assert!(
        error.contains("out of order")
            && error.contains("V0001__minimax_cn_china_base_url")
            && error.contains("V0002__minimax_cn_default_profile"),
        "{error}"
    );
    assert_eq!(tree(&st, true), before);
    // In order is fine: 1, then 2 once 1 is applied.
    sb.cli(&["migrate", "--yes", "--only", "1"], &st).success();
    sb.cli(&["migrate", "--yes", "--only", "2"], &st).success();
    let (code, v) = check_json(&sb, &st);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(state_of(&v, 3)["state"], "pending", "{v}");
}

#[test]
fn only_a_later_migration_is_fine_when_the_earlier_one_is_not_needed() {
    let sb = Sandbox::new();
    let st = fixtures::build(
        &sb.path().join("s"),
        &Spec {
            host: "api.minimaxi.com",
            ..Spec::default()
        },
    );
    sb.cli(&["migrate", "--yes", "--only", "2"], &st).success();
    let auth = json(st.join("agents/main/agent/auth-profiles.json"));
    assert!(
        auth["profiles"].get("minimax-cn:default").is_some(),
        "{auth}"
    );
}

#[test]
fn a_changed_checksum_is_a_finding_and_fails_check() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    assert_eq!(check_json(&sb, &st).0, Some(0));
    let ledger = st.join(".clawmigrate/ledger.json");
    let mut l = json(&ledger);
    l["runs"][0]["migrations"][0]["checksum"] = json!(format!("sha256:{}", "0".repeat(64)));
    write_json(&ledger, &l);
    let (code, v) = check_json(&sb, &st);
    assert_eq!(code, Some(1), "{v}");
    let out = sb.run(&["status", "--format", "json"], &st);
    let v = json_of(&out);
    let finding = v["installs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "checksum-changed")
        .unwrap_or_else(|| panic!("status shows no checksum-changed finding: {v}"));
    assert_eq!(finding["migration"], "V0001", "{v}");
}

#[test]
fn a_misspelt_key_file_provider_is_refused() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let key = sb.path().join("k");
    write(&key, "sk-cp-SOMEKEY-0123456789");
    let arg = format!("minimax-nc={}", key.display());
    let out = sb.run(&["migrate", "--dry-run", "--key-file", &arg], &st);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("\"minimax-nc\"") && err.contains("supplied for: minimax-cn"),
        "{err}"
    );
    assert!(!err.contains("SOMEKEY"));
    let out = sb.run(
        &[
            "migrate",
            "--dry-run",
            "--format",
            "json",
            "--key-file",
            &arg,
        ],
        &st,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_of(&out)["errors"][0]["kind"], "usage");
    assert!(!stdout(&out).contains("SOMEKEY"));
}

#[test]
fn a_reviewed_plan_carries_the_migrations_before_a_blocked_one() {
    let sb = Sandbox::new();
    let spec = Spec {
        key_at: KeyAt::Nowhere,
        ..Spec::default()
    };
    let st = fixtures::build(&sb.path().join("s"), &spec);
    let plan = sb.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    let out = sb.run(&["migrate", "--dry-run", "--plan-out", plan_arg], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&plan)["installs"].as_array().unwrap().len(), 1);
    let out = sb
        .cmd()
        .args(["migrate", "--plan", plan_arg, "--yes", "--format", "json"])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(2), "still needs input: {v}");
    assert!(v["installs"][0]["run_id"].is_string(), "{v}");
    assert!(read(st.join("openclaw.json")).contains("https://api.minimaxi.com/anthropic"));
}
