//! The opt-in move of `minimax-cn` installs onto the unified `minimax` provider (V0004, issue 19):
//! it runs only when named; in every storage era the profile, its routing state, the provider
//! block and every model ref move; the real openclaw@2026.9.6 then serves each agent's MiniMax
//! models from `minimax:cn` with the China key; `rollback` puts every byte and cell back; and an
//! install whose `minimax` names are taken is refused, saying why.
use crate::era_fixtures::*;
use crate::oracle_d::*;
use crate::support::*;
use clawmigrate::document::{FileKind, parse};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const V4: &str = "V0004__minimax_cn_to_unified_minimax";
const AGENTS: [&str; 2] = ["main", "minimax-cn"];
const KEYS: [&str; 2] = [DEMO_CN_KEY, DEMO_GLOBAL_KEY];

/// Every auth store and routing-state cell of the install's databases, by name.
fn cells(st: &Path) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    let shared = st.join("state/openclaw.sqlite");
    if shared.exists() {
        for key in ["authProfiles.store", "authProfiles.state"] {
            let v = sqlite_cell(
                &shared,
                "config_machine_state",
                "value_json",
                "state_key",
                key,
            );
            out.insert(format!("state: {key}"), v);
        }
    }
    for f in files_named(st, "openclaw-agent.sqlite") {
        if !f.ends_with(".sqlite") || f.starts_with(".clawmigrate") {
            continue;
        }
        let db = st.join(&f);
        let store = sqlite_cell(
            &db,
            "auth_profile_store",
            "store_json",
            "store_key",
            "primary",
        );
        let state = sqlite_cell(
            &db,
            "auth_profile_state",
            "state_json",
            "state_key",
            "primary",
        );
        out.insert(format!("{f}: store"), store);
        out.insert(format!("{f}: state"), state);
    }
    out
}

/// The config as OpenClaw reads it (JSON5).
fn config(st: &Path) -> Value {
    parse(&read(st.join("openclaw.json")), FileKind::Config).unwrap()
}

/// An agent's auth store and the routing state OpenClaw keeps beside it, in whatever era.
fn store_and_state(st: &Path, agent: &str) -> (Value, Value) {
    let dir = st.join(format!("agents/{agent}/agent"));
    let parse = |t: Option<String>| serde_json::from_str(&t.expect("a cell")).unwrap();
    let own = dir.join("openclaw-agent.sqlite");
    if own.exists() {
        let c = |t, k, v| sqlite_cell(&own, t, v, k, "primary");
        return (
            parse(c("auth_profile_store", "store_key", "store_json")),
            parse(c("auth_profile_state", "state_key", "state_json")),
        );
    }
    let shared = st.join("state/openclaw.sqlite");
    if shared.exists() && agent == "main" {
        let c = |k| {
            sqlite_cell(
                &shared,
                "config_machine_state",
                "value_json",
                "state_key",
                k,
            )
        };
        return (
            parse(c("authProfiles.store")),
            parse(c("authProfiles.state")),
        );
    }
    let store = json(dir.join("auth-profiles.json"));
    let state = match dir.join("auth-state.json") {
        p if p.exists() => json(p),
        _ => store.clone(),
    };
    (store, state)
}

/// `migrate ARGS --format json` on the install: exit code and document; no key is printed.
fn migrate(sb: &Sandbox, st: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = sb.run(&[&["migrate", "--format", "json"], args].concat(), st);
    no_key_in(&out);
    (out.status.code(), json_of(&out))
}

fn no_key_in(out: &std::process::Output) {
    let (o, e) = (stdout(out), stderr(out));
    for k in KEYS.iter().chain([&CN_KEY, &OTHER_KEY]) {
        assert!(!o.contains(k) && !e.contains(k), "a key was printed");
    }
}

/// The China key of the installs built here (the demo's), and another one.
const CN_KEY: &str = DEMO_CN_KEY;
const OTHER_KEY: &str = "sk-cp-other-account-00000000aaaa";

/// 2026.9.6 serves the agent's `minimax` models from `minimax:cn` alone, with the China key:
/// `minimax:cn=<its label>` among the profiles and the only effective one. Failures name profile
/// ids, never a label.
fn served_from_minimax_cn(st: &Path, agent: &str) {
    let status = models_status_2026_9(st, agent);
    let entry = provider_entry(&status, "minimax");
    let labels: Vec<String> = entry["profiles"]["labels"]
        .as_array()
        .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    let ids: Vec<&str> = labels
        .iter()
        .map(|l| l.split('=').next().unwrap())
        .collect();
    let want = format!("minimax:cn={}", key_label(CN_KEY));
    assert!(
        labels.contains(&want),
        "{agent}: no minimax:cn with the China key among {ids:?}"
    );
    let effective: Vec<&str> = status["auth"]["oauth"]["providers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["provider"] == "minimax")
        .flat_map(|p| p["effectiveProfiles"].as_array().unwrap())
        .map(|e| e["profileId"].as_str().unwrap())
        .collect();
    assert_eq!(effective, ["minimax:cn"], "{agent}");
    assert_eq!(status["defaultModel"], "minimax/MiniMax-M2.1", "{agent}");
    assert_eq!(
        status["aliases"],
        json!({"mm-cn": "minimax/MiniMax-M2.1"}),
        "{agent}"
    );
    assert_eq!(
        status["auth"]["missingProvidersInUse"],
        json!([]),
        "{agent}"
    );
}

/// What 2026.9.6 makes of an install of an older era (it reads only SQLite stores): the
/// install, without clawmigrate's folder, imported by its `doctor --fix`.
fn as_2026_9(sb: &Sandbox, st: &Path, name: &str) -> PathBuf {
    let copy = tempfile::tempdir().unwrap();
    let src = copy.path().join("state");
    copy_tree(st, &src);
    std::fs::remove_dir_all(src.join(".clawmigrate")).unwrap();
    era_d_from(sb, name, &src)
}

/// The moved install as 2026.9.6 sees it: every agent on `minimax:cn`, the config valid.
fn judged_by_2026_9(st: &Path) {
    for agent in AGENTS {
        served_from_minimax_cn(st, agent);
    }
    assert!(config_valid_2026_9(st), "2026.9.6 refuses the moved config");
}

/// What every era shares once moved: no `minimax-cn` name is left in the config; each store
/// holds `minimax:cn` (provider `minimax`, the China key) beside the global profile; its routing
/// state follows it.
fn assert_moved(st: &Path, with_state: bool) {
    let c = config(st);
    let text = c.to_string();
    assert!(
        !text.contains("minimax-cn/") && !text.contains("minimax-cn:"),
        "{text}"
    );
    assert_eq!(c["models"]["providers"]["minimax"]["baseUrl"], CN_HOST);
    assert_eq!(c["models"]["providers"].get("minimax-cn"), None);
    // The config names the profile where V0002 named it (the move adds no entry of its own).
    let meta = &c["auth"]["profiles"];
    assert_eq!(meta.get("minimax-cn:default"), None);
    if !with_state {
        assert_eq!(
            meta["minimax:cn"],
            json!({"provider": "minimax", "mode": "api_key"})
        );
    }
    assert_eq!(c["auth"]["order"], json!({"minimax": ["minimax:cn"]}));
    assert_eq!(
        c["agents"]["defaults"]["model"]["primary"],
        "minimax/MiniMax-M2.1"
    );
    assert_eq!(
        c["agents"]["defaults"]["models"]["minimax/MiniMax-M2.1"],
        json!({"alias": "mm-cn"})
    );
    for agent in AGENTS {
        let (store, state) = store_and_state(st, agent);
        let p = &store["profiles"];
        assert_eq!(p.get("minimax-cn:default"), None, "{agent}");
        assert_eq!(p["minimax:cn"]["provider"], "minimax", "{agent}");
        assert!(
            p["minimax:cn"]["key"] == CN_KEY,
            "{agent}: not the China key"
        );
        assert!(
            p["minimax:default"]["key"] == DEMO_GLOBAL_KEY,
            "{agent}: the global key moved"
        );
        if with_state {
            assert_eq!(
                state["order"],
                json!({"minimax": ["minimax:cn"]}),
                "{agent}"
            );
            assert_eq!(
                state["lastGood"],
                json!({"minimax": "minimax:cn"}),
                "{agent}"
            );
            assert_eq!(
                state["usageStats"].get("minimax-cn:default"),
                None,
                "{agent}"
            );
            assert_eq!(
                state["usageStats"]["minimax:cn"]["lastUsed"],
                1770282764999u64
            );
            assert_eq!(
                state["usageStats"]["minimax:default"]["lastUsed"],
                1770282764120u64
            );
        }
    }
}

/// The demo with the China profile already in both stores and the routing state a gateway
/// leaves after using it (an order, the last good profile, usage): in the JSON era, the state
/// sits in `auth-profiles.json` itself.
fn demo_with_china_state(sb: &Sandbox, name: &str) -> PathBuf {
    let st = sb.demo(name);
    for agent in AGENTS {
        let p = st.join(format!("agents/{agent}/agent/auth-profiles.json"));
        let mut v = json(&p);
        v["profiles"]["minimax-cn:default"] =
            json!({"type": "api_key", "provider": "minimax-cn", "key": CN_KEY});
        v["order"] = json!({"minimax-cn": ["minimax-cn:default"]});
        v["lastGood"]["minimax-cn"] = json!("minimax-cn:default");
        v["usageStats"]["minimax-cn:default"] =
            json!({"lastUsed": 1770282764999u64, "errorCount": 0});
        write(&p, &(serde_json::to_string_pretty(&v).unwrap() + "\n"));
    }
    st
}

/// The repairs, then V0004 alone; the move is checked, idempotent, judged by 2026.9.6 (`judge`
/// gives the install it reads) and undone exactly.
fn move_and_undo(sb: &Sandbox, st: &Path, with_state: bool, judge: impl Fn(&Path) -> PathBuf) {
    let (code, v) = migrate(sb, st, &["--yes"]);
    assert_eq!(code, Some(0), "{v}");
    let ids: Vec<&str> = v["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&V4), "V0004 ran without being named: {ids:?}");
    let (before, cells_before) = (plain_files(st), cells(st));
    let (code, v) = migrate(sb, st, &["--only", "V0004", "--yes"]);
    assert_eq!(code, Some(0), "{v}");
    let install = &v["installs"][0];
    assert_eq!(install["outcome"], "changed", "{install}");
    assert_eq!(install["migrations"][0]["id"], V4);
    assert_moved(st, with_state);
    // Planned again, it plans nothing; the other migrations stay done.
    sb.cli(&["migrate", "--only", "4", "--check"], st).code(0);
    sb.cli(&["migrate", "--check"], st).code(0);
    judged_by_2026_9(&judge(st));
    let out = sb.run(&["rollback", "--yes"], st);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    no_key_in(&out);
    assert_eq!(plain_files(st), before, "a file differs after rollback");
    assert_eq!(cells(st), cells_before, "a cell differs after rollback");
}

#[test]
fn the_demo_moves_only_when_named_and_2026_9_serves_it_the_china_key() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let original = plain_files(&st);
    // Listed as opt-in; reported as available, never applied by default.
    let list = sb.list_json();
    let v4 = list["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == V4)
        .unwrap();
    assert_eq!(v4["kind"], "opt-in");
    let out = sb.run(&["status", "--format", "json"], &st);
    let status = json_of(&out);
    let found = status["installs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "opt-in-available")
        .cloned()
        .expect("an opt-in-available finding");
    assert_eq!(found["migration"], "V0004");
    assert_eq!(
        found["fix"],
        "to see them: clawmigrate migrate --only V0004 --dry-run"
    );
    // Named before the repairs it builds on, it is refused in order, as Flyway does.
    let (code, v) = migrate(&sb, &st, &["--only", "4", "--yes"]);
    assert_eq!(code, Some(2), "{v}");
    let e = &v["installs"][0]["error"];
    assert_eq!(e["kind"], "refused", "{v}");
    assert!(
        e["message"].as_str().unwrap().contains(
            "earlier migrations are not applied on this install yet: V0001__minimax_cn_china_base_url, V0002__minimax_cn_default_profile, V0003__models_json_cleanup"
        ),
        "{e}"
    );
    assert_eq!(plain_files(&st), original);
    move_and_undo(&sb, &st, false, |st| as_2026_9(&sb, st, "judge"));
    // And the repairs roll back to the demo itself.
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(plain_files(&st), original);
}

/// A 2026.2 install OpenClaw ran after the repairs: 2026.2.3 regenerated main's models.json with
/// a China and a global block, each with its profile's key. The generated global block gives way
/// to the moved one (OpenClaw rebuilds it from the config); no key is lost (the store keeps it).
#[test]
fn a_models_json_block_2026_2_generated_from_the_global_profile_gives_way() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let args = ["models", "status", "--agent", "main", "--json"];
    let out = crate::oracle::openclaw_in_place("2026.2.3", &st, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let models = st.join("agents/main/agent/models.json");
    let generated = json(&models)["providers"]["minimax"].clone();
    assert!(
        generated["baseUrl"]
            .as_str()
            .is_some_and(|u| u.contains("api.minimax")),
        "2026.2.3 wrote no global block"
    );
    move_and_undo(&sb, &st, false, |st| {
        let providers = json(st.join("agents/main/agent/models.json"))["providers"].clone();
        let ids: Vec<&String> = providers.as_object().unwrap().keys().collect();
        assert_eq!(ids, ["minimax"]);
        assert_eq!(providers["minimax"]["baseUrl"], CN_HOST);
        assert!(
            providers["minimax"]["apiKey"] == CN_KEY,
            "not the China key"
        );
        as_2026_9(&sb, st, "judge")
    });
}

#[test]
fn a_json_era_store_moves_its_routing_state_with_the_profile() {
    let sb = Sandbox::new();
    let st = demo_with_china_state(&sb, "state");
    move_and_undo(&sb, &st, true, |st| as_2026_9(&sb, st, "judge"));
}

#[test]
fn an_auth_state_json_moves_with_its_store() {
    let sb = Sandbox::new();
    let st = demo_with_china_state(&sb, "state");
    to_era_c(&st);
    assert!(st.join("agents/main/agent/auth-state.json").exists());
    move_and_undo(&sb, &st, true, |st| {
        assert_eq!(
            json(st.join("agents/main/agent/auth-profiles.json")).get("lastGood"),
            None,
            "the state left auth-state.json"
        );
        as_2026_9(&sb, st, "judge")
    });
}

/// Doctor's era-D install: `main` reads the shared store of `state/openclaw.sqlite`, agent
/// `minimax-cn` its own `openclaw-agent.sqlite`: both SQLite layouts, store and state cells.
#[test]
fn both_sqlite_layouts_move_store_and_state_cells_and_2026_9_agrees() {
    let sb = Sandbox::new();
    let src = demo_with_china_state(&sb, "src");
    let st = era_d_from(&sb, "state", &src);
    let cells_before = cells(&st);
    assert!(
        cells_before["state: authProfiles.state"]
            .as_deref()
            .unwrap()
            .contains("minimax-cn:default")
    );
    move_and_undo(&sb, &st, true, |st| st.to_path_buf());
}

/// A 2026.6-style install (each agent's own database, built by hand without a state table):
/// the stores move, the missing state is nothing to move, rollback restores the cells.
#[test]
fn agent_databases_without_a_state_table_move_their_stores() {
    let sb = Sandbox::new();
    let st = era_d1(&sb, "state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let before = cells(&st);
    let (code, v) = migrate(&sb, &st, &["--only", "4", "--yes"]);
    assert_eq!(code, Some(0), "{v}");
    for agent in AGENTS {
        let db = st.join(format!("agents/{agent}/agent/openclaw-agent.sqlite"));
        let store: Value = serde_json::from_str(
            &sqlite_cell(
                &db,
                "auth_profile_store",
                "store_json",
                "store_key",
                "primary",
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            store["profiles"]["minimax:cn"]["provider"], "minimax",
            "{agent}"
        );
        assert_eq!(store["profiles"].get("minimax-cn:default"), None, "{agent}");
    }
    sb.cli(&["migrate", "--only", "4", "--check"], &st).code(0);
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(cells(&st), before);
}

/// The demo, repaired, with `edit` applied to its config text.
fn repaired_demo_with(sb: &Sandbox, edit: impl Fn(&str) -> String) -> PathBuf {
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let cfg = st.join("openclaw.json");
    let text = read(&cfg);
    let edited = edit(&text);
    assert_ne!(edited, text);
    write(&cfg, &edited);
    st
}

/// Refused: V0004 is blocked with a conflict naming why, nothing is written, the default run
/// says it would be refused, and no key is printed. Returns the conflicts' messages.
fn refused(sb: &Sandbox, st: &Path) -> Vec<String> {
    let (before, cells_before) = (plain_files(st), cells(st));
    let (code, v) = migrate(sb, st, &["--only", "4", "--yes"]);
    assert_eq!(code, Some(2), "{v}");
    let install = &v["installs"][0];
    assert_eq!(install["outcome"], "needs-input", "{install}");
    assert_eq!(install["migrations"][0]["state"], "blocked", "{install}");
    assert_eq!(plain_files(st), before);
    assert_eq!(cells(st), cells_before);
    let out = sb.run(&["status", "--format", "json"], st);
    no_key_in(&out);
    let status = json_of(&out);
    assert!(
        status["installs"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "opt-in-available"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("would be refused here")),
        "{status}"
    );
    install["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "conflict")
        .map(|f| {
            assert_eq!(f["migration"], "V0004");
            f["message"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn a_global_minimax_provider_beside_the_china_one_is_refused() {
    let sb = Sandbox::new();
    let st = repaired_demo_with(&sb, |t| {
        t.replace(
            "    providers: {\n",
            "    providers: {\n      minimax: { baseUrl: \"https://api.minimax.io/anthropic\", api: \"anthropic-messages\", models: [] },\n",
        )
    });
    assert_eq!(
        refused(&sb, &st),
        [
            "openclaw.json already defines provider minimax (models.providers.minimax) beside minimax-cn, with other values; another minimax setup must not be merged into the minimax-cn one"
        ]
    );
    let out = sb.run(&["migrate", "--only", "4", "--dry-run"], &st);
    snap(Some(sb.path()), || {
        insta::assert_snapshot!("unify_refused_global_provider", stdout(&out))
    });
}

#[test]
fn global_minimax_models_in_use_are_refused() {
    let sb = Sandbox::new();
    let st = repaired_demo_with(&sb, |t| {
        t.replace(
            "{ id: \"minimax-cn\", name: \"MiniMax CN\" },",
            "{ id: \"minimax-cn\", name: \"MiniMax CN\" },\n      { id: \"global\", model: \"minimax/MiniMax-M2.5\" },",
        )
    });
    assert_eq!(
        refused(&sb, &st),
        [
            "openclaw.json already uses provider minimax (agents.list.2.model = minimax/MiniMax-M2.5); moving the minimax-cn models onto it would send both to one endpoint and one key"
        ]
    );
}

/// In the shared SQLite store: a `minimax:cn` that holds another key is another account, kept
/// apart; the message names the cell and tells the two keys apart, masked.
#[test]
fn a_minimax_cn_profile_with_another_key_is_refused_naming_the_cell() {
    let sb = Sandbox::new();
    let src = demo_with_china_state(&sb, "src");
    let st = era_d_from(&sb, "state", &src);
    sb.cli(&["migrate", "--yes"], &st).success();
    let shared = shared_store_cell(&st);
    let mut store = shared.value();
    store["profiles"]["minimax:cn"] =
        json!({"type": "api_key", "provider": "minimax", "key": OTHER_KEY});
    shared.set(&serde_json::to_string(&store).unwrap());
    let got = refused(&sb, &st);
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert!(
        m.starts_with("state/openclaw.sqlite: authProfiles.store already holds a profile minimax:cn with other values than minimax-cn:default (it holds sk-cp-…["),
        "{m}"
    );
    assert!(m.ends_with("; it is kept apart"), "{m}");
}
