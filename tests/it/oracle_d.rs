//! The real openclaw@2026.9.6 on era-D installs (credentials in SQLite): helpers for the Rust
//! tests of issue 10, and tests of the era-D fixtures themselves (tests/oracle/ERAS.md).
//! Every helper runs OpenClaw on a fresh copy: `models status` writes to `state/openclaw.sqlite`.
#![allow(dead_code)]
use crate::era_fixtures::*;
use crate::fixtures::{GLOBAL_KEY, KeyAt, Spec, WRITER_KEY};
use crate::oracle::{models_status, openclaw};
use crate::support::*;
use serde_json::Value;
use std::path::Path;

pub const CN_HOST: &str = "https://api.minimaxi.com/anthropic";
pub const GLOBAL_HOST: &str = "https://api.minimax.io/anthropic";
/// The China key of the demo install (in `agents/minimax-cn/agent/models.json`).
pub const DEMO_CN_KEY: &str = "sk-cp-demo-china-fedcba9876543210";
pub const DEMO_GLOBAL_KEY: &str = "sk-api-demo-global-0123456789abcdef";

/// `models status --agent AGENT --json` of 2026.9.6, on a copy of `state`.
pub fn models_status_2026_9(state: &Path, agent: &str) -> Value {
    match models_status("2026.9.6", state, agent) {
        (out, Some(v)) if out.status.success() => v,
        (out, _) => panic!(
            "models status --agent {agent} failed ({:?}):\n{}\n{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        ),
    }
}

/// The `.auth.providers[]` entry of `provider`, or Null when OpenClaw lists none.
pub fn provider_entry(status: &Value, provider: &str) -> Value {
    status["auth"]["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == provider)
        .cloned()
        .unwrap_or(Value::Null)
}

/// `.profiles.labels` of the `minimax-cn` provider for AGENT, e.g.
/// `["minimax:default=sk-api-d...89abcdef", "minimax-cn:default=sk-cp-de...76543210"]`.
/// Fixed means it contains `minimax-cn:default=<key_label(CN key)>`.
pub fn cn_profile_labels_2026_9(state: &Path, agent: &str) -> Vec<String> {
    labels(&models_status_2026_9(state, agent))
}

fn labels(status: &Value) -> Vec<String> {
    provider_entry(status, "minimax-cn")["profiles"]["labels"]
        .as_array()
        .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The profile ids OpenClaw will use for `minimax-cn`, best first
/// (`.auth.oauth.providers[minimax-cn].effectiveProfiles[].profileId`); empty when the entry is
/// absent (then 2026.9.6 routes minimax-cn to `minimax:*` through its provider alias).
pub fn cn_effective_profiles_2026_9(state: &Path, agent: &str) -> Vec<String> {
    effective(&models_status_2026_9(state, agent))
}

fn effective(status: &Value) -> Vec<String> {
    status["auth"]["oauth"]["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "minimax-cn")
        .map(|p| {
            p["effectiveProfiles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["profileId"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `.auth.storePath` relative to the state dir: `state/openclaw.sqlite` or
/// `agents/<id>/agent/openclaw-agent.sqlite`.
pub fn store_path_2026_9(state: &Path, agent: &str) -> String {
    rel_store(&models_status_2026_9(state, agent))
}

fn rel_store(status: &Value) -> String {
    // OpenClaw ran on a copy at <tmp>/state: keep what follows that.
    let p = status["auth"]["storePath"].as_str().unwrap();
    p.split_once("/state/")
        .map(|x| x.1)
        .unwrap_or(p)
        .to_string()
}

/// `config validate --json` of 2026.9.6 says valid.
pub fn config_valid_2026_9(state: &Path) -> bool {
    let out = openclaw("2026.9.6", state, &["config", "validate", "--json"]);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| {
        panic!(
            "config validate printed no JSON ({e}):\n{}{}",
            stdout(&out),
            stderr(&out)
        )
    });
    v["valid"] == true
}

/// Every `models.json` under the install holding `needle`.
fn models_json_holding(st: &Path, needle: &str) -> Vec<String> {
    files_named(&st.join("agents"), "models.json")
        .into_iter()
        .filter(|f| f.ends_with("models.json") && read(st.join("agents").join(f)).contains(needle))
        .collect()
}

/// What every era-D fixture shares, straight out of doctor --fix.
fn assert_era_d_layout(st: &Path, agents_with_own_db: &[&str], agents: &[&str]) {
    assert!(st.join("state/openclaw.sqlite").is_file());
    assert_eq!(journal_mode(&st.join("state/openclaw.sqlite")), "wal");
    assert_eq!(
        sqlite_cell(
            &st.join("state/openclaw.sqlite"),
            "config_machine_state",
            "value_json",
            "state_key",
            "auth.sharedStore"
        )
        .as_deref(),
        Some(r#"{"location":"state-db"}"#)
    );
    for a in agents {
        let dir = st.join(format!("agents/{a}/agent"));
        assert!(
            !dir.join("auth-profiles.json").exists(),
            "{a}: live JSON store left"
        );
        assert!(
            !dir.join("auth-state.json").exists(),
            "{a}: auth-state.json left"
        );
        let own = dir.join("openclaw-agent.sqlite").exists();
        assert_eq!(own, agents_with_own_db.contains(a), "{a}: own database");
        if own {
            assert_eq!(journal_mode(&dir.join("openclaw-agent.sqlite")), "wal");
        }
    }
    let cfg = read(st.join("openclaw.json"));
    // Plain JSON: doctor stripped the comments and rewrote the file with JSON.stringify(_, null, 2).
    let cfg: Value = serde_json::from_str(&cfg).expect("doctor writes plain JSON");
    assert_eq!(
        cfg["models"]["providers"]["minimax-cn"]["baseUrl"], GLOBAL_HOST,
        "fault 1 kept: base URL still global"
    );
}

/// Fault 2 for the default agent: its store (the shared one) has no minimax-cn profile, and
/// 2026.9.6 routes minimax-cn to the global `minimax:default` without reporting anything missing.
fn assert_main_routes_cn_to_global(st: &Path, global_key: &str) {
    let shared = shared_store_cell(st).value();
    assert!(
        shared["profiles"].get("minimax-cn:default").is_none(),
        "{shared}"
    );
    let s = models_status_2026_9(st, "main");
    assert_eq!(rel_store(&s), "state/openclaw.sqlite");
    assert_eq!(
        labels(&s),
        [format!("minimax:default={}", key_label(global_key))]
    );
    assert!(effective(&s).is_empty(), "{s}");
    assert_eq!(s["auth"]["missingProvidersInUse"], serde_json::json!([]));
}

#[test]
fn era_d_demo_keeps_the_seed_faults() {
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    assert_era_d_layout(&st, &["minimax-cn"], &["main", "minimax-cn"]);
    assert_eq!(
        files_named(&st.join("agents"), ".migrated-").len(),
        2,
        "both JSON stores archived"
    );
    assert_main_routes_cn_to_global(&st, DEMO_GLOBAL_KEY);
    // fault 3: the literal key stays in models.json, although doctor imported it as a profile
    // of that agent's own store.
    assert_eq!(
        models_json_holding(&st, DEMO_CN_KEY),
        ["minimax-cn/agent/models.json"]
    );
    let own = store_cell(&st, "minimax-cn").value();
    assert_eq!(own["profiles"]["minimax-cn:default"]["key"], DEMO_CN_KEY);
    let s = models_status_2026_9(&st, "minimax-cn");
    assert_eq!(
        rel_store(&s),
        "agents/minimax-cn/agent/openclaw-agent.sqlite"
    );
    assert_eq!(effective(&s), ["minimax-cn:default"]);
    assert!(config_valid_2026_9(&st));
}

#[test]
fn era_d_no_key_anywhere() {
    let sb = Sandbox::new();
    let spec = Spec {
        key_at: KeyAt::Nowhere,
        ..Spec::default()
    };
    let st = era_d(&sb, "state", Some(&spec));
    assert_era_d_layout(&st, &["minimax-cn"], &["main", "minimax-cn"]);
    assert_main_routes_cn_to_global(&st, GLOBAL_KEY);
    assert!(models_json_holding(&st, &spec.key).is_empty());
    for a in ["main", "minimax-cn"] {
        assert!(
            !store_cell(&st, a)
                .text()
                .unwrap()
                .contains("minimax-cn:default"),
            "{a}"
        );
    }
    assert!(config_valid_2026_9(&st));
}

#[test]
fn era_d_three_agents_one_on_anthropic() {
    let sb = Sandbox::new();
    let spec = Spec {
        writer: true,
        ..Spec::default()
    };
    let st = era_d(&sb, "state", Some(&spec));
    assert_era_d_layout(
        &st,
        &["minimax-cn", "writer"],
        &["main", "minimax-cn", "writer"],
    );
    assert_main_routes_cn_to_global(&st, GLOBAL_KEY);
    assert_eq!(
        models_json_holding(&st, &spec.key),
        ["minimax-cn/agent/models.json"]
    );
    let w = store_cell(&st, "writer").value();
    assert_eq!(w["profiles"]["anthropic:default"]["key"], WRITER_KEY);
    assert!(w["profiles"].get("minimax-cn:default").is_none());
    assert!(config_valid_2026_9(&st));
}

#[test]
fn era_c_layout_and_its_era_d_upgrade() {
    let sb = Sandbox::new();
    let c = era_c(&sb, "era-c", None);
    let dir = c.join("agents/main/agent");
    assert_eq!(
        json(dir.join("auth-profiles.json"))
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["version", "profiles"]
    );
    assert_eq!(
        json(dir.join("auth-state.json"))["lastGood"]["minimax"],
        "minimax:default"
    );
    let st = era_d_from(&sb, "state", &c);
    assert_era_d_layout(&st, &["minimax-cn"], &["main", "minimax-cn"]);
    assert_eq!(
        shared_store_cell(&st).value()["profiles"]["minimax:default"]["key"],
        DEMO_GLOBAL_KEY
    );
    assert_main_routes_cn_to_global(&st, DEMO_GLOBAL_KEY);
    assert_eq!(
        models_json_holding(&st, DEMO_CN_KEY),
        ["minimax-cn/agent/models.json"]
    );
}

/// The oracle tells a fixed install from a broken one: after the fix clawmigrate will make
/// (done here by tests/oracle/hand-fix.py), 2026.9.6 uses minimax-cn:default for every agent.
#[test]
fn hand_fixed_era_d_demo_satisfies_2026_9() {
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    hand_fix(&st, DEMO_CN_KEY, &["main", "minimax-cn"]);
    let want = format!("minimax-cn:default={}", key_label(DEMO_CN_KEY));
    for a in ["main", "minimax-cn"] {
        let s = models_status_2026_9(&st, a);
        assert!(labels(&s).contains(&want), "{a}: {:?}", labels(&s));
        assert_eq!(
            effective(&s).first().map(String::as_str),
            Some("minimax-cn:default"),
            "{a}"
        );
    }
    assert!(models_json_holding(&st, DEMO_CN_KEY).is_empty());
    assert!(config_valid_2026_9(&st));
}
