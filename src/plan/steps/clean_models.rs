//! Step `clean_models_json`: removes kept credentials and redundant provider blocks from models.json.
use super::{
    BlockCredential, block_credentials, is_auth_header, profile_secret, provider_profiles,
};
use crate::document::json5::same_value;
use crate::document::patch::{AtPath, pointer};
use crate::load::LoadedAgent;
use crate::plan::workspace::{FindingKind, StepError, Workspace};
use serde_json::Value;

/// Whether the agent keeps this very key in a profile of this provider.
fn kept(ws: &Workspace, agent: &LoadedAgent, provider: &str, c: &BlockCredential) -> bool {
    provider_profiles(ws.value(agent.auth), provider)
        .iter()
        .any(|(_, prof)| profile_secret(prof) == Some(c.key.as_str()))
}

fn model_ids(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a block adds nothing to the config's block for the same provider, apart from
/// credentials (checked separately), auth-header overrides and fields OpenClaw regenerates.
fn adds_nothing(block: &Value, config_block: &Value, regenerated: &[String]) -> bool {
    let Some(fields) = block.as_object() else {
        return false;
    };
    fields.iter().all(|(k, v)| match k.as_str() {
        "apiKey" => true,
        "headers" => v.as_object().is_some_and(|h| {
            h.iter().all(|(name, hv)| {
                is_auth_header(name) || config_block.at_path(&["headers", name]) == Some(hv)
            })
        }),
        "models" => {
            let have = model_ids(config_block.get("models"));
            v.as_array().is_some_and(|a| {
                a.iter().all(|m| {
                    m.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|id| have.contains(&id))
                })
            })
        }
        _ => regenerated.iter().any(|r| r == k) || config_block.get(k).is_some(),
    })
}

/// A config model entry as OpenClaw 2026.2.3 writes it into models.json: its
/// `applyModelDefaults` fills `reasoning`, `input`, `cost`, `contextWindow` and `maxTokens`.
fn with_openclaw_defaults(model: &Value) -> Value {
    let Some(m) = model.as_object() else {
        return model.clone();
    };
    let positive = |v: Option<&Value>| v.and_then(Value::as_f64).filter(|n| *n > 0.0);
    let mut out = m.clone();
    if !m.get("reasoning").is_some_and(Value::is_boolean) {
        out.insert("reasoning".into(), Value::Bool(false));
    }
    out.entry("input")
        .or_insert_with(|| serde_json::json!(["text"]));
    let cost = m.get("cost");
    let part = |k: &str| {
        cost.and_then(|c| c.get(k))
            .filter(|v| v.is_number())
            .cloned()
            .unwrap_or(Value::from(0))
    };
    out.insert(
        "cost".into(),
        serde_json::json!({"input": part("input"), "output": part("output"), "cacheRead": part("cacheRead"), "cacheWrite": part("cacheWrite")}),
    );
    let window = positive(m.get("contextWindow"));
    if window.is_none() {
        out.insert("contextWindow".into(), Value::from(200_000));
    }
    if positive(m.get("maxTokens")).is_none() {
        let max = window.unwrap_or(200_000.0).min(8192.0);
        out.insert("maxTokens".into(), Value::from(max as u64));
    }
    Value::Object(out)
}

/// The `apiKey` OpenClaw writes from a config value: `${VAR}` becomes the bare `VAR`.
fn config_api_key(config_block: &Value) -> Option<String> {
    let k = config_block.get("apiKey")?.as_str()?.trim();
    let bare = k
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .filter(|v| {
            v.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        });
    Some(bare.unwrap_or(k).to_string())
}

/// Whether a block is exactly what OpenClaw itself regenerates from the config and the agent's
/// own profiles (2026.2.3 `ensureOpenClawModelsJson`, on every start and `models status`): the
/// config's fields with its model defaults filled in, and an `apiKey`, if any, that is the
/// config's or a key the agent's own profile of the provider holds. Such a block overrides
/// nothing, so it is not a fault: cleaning it would only flap with OpenClaw.
fn regenerated(block: &Value, config_block: &Value, key_kept: bool) -> bool {
    let (Some(b), Some(c)) = (block.as_object(), config_block.as_object()) else {
        return false;
    };
    let api_key_ok = match b.get("apiKey") {
        None => true,
        Some(k) => key_kept || k.as_str().map(str::to_string) == config_api_key(config_block),
    };
    let fields = |m: &serde_json::Map<String, Value>| -> Vec<String> {
        let mut v: Vec<String> = m.keys().filter(|k| *k != "apiKey").cloned().collect();
        v.sort();
        v
    };
    api_key_ok
        && fields(b) == fields(c)
        && c.iter().filter(|(k, _)| *k != "apiKey").all(|(k, cv)| {
            let bv = &b[k];
            match (k.as_str(), cv) {
                ("models", Value::Array(models)) => {
                    let want: Vec<Value> = models.iter().map(with_openclaw_defaults).collect();
                    same_value(bv, &Value::Array(want)) || same_value(bv, cv)
                }
                _ => same_value(bv, cv),
            }
        })
}

/// What to do about one agent's models.json, decided before anything changes.
#[derive(Default)]
struct Decision {
    removals: Vec<Vec<String>>,
    notes: Vec<String>,
    only_here: Vec<String>,
}

fn decide(
    ws: &Workspace,
    agent: &LoadedAgent,
    regenerated_fields: &[String],
    remove_blocks: bool,
) -> Decision {
    let mut d = Decision::default();
    let Some(providers) = ws
        .value(agent.models)
        .get("providers")
        .and_then(Value::as_object)
    else {
        return d;
    };
    let id = agent.agent.id.as_str();
    for (pid, block) in providers {
        let (keep_ok, only_copy): (Vec<_>, Vec<_>) = block_credentials(block)
            .into_iter()
            .partition(|c| kept(ws, agent, pid, c));
        if !only_copy.is_empty() {
            d.notes.push(if provider_profiles(ws.value(agent.auth), pid).is_empty() {
                format!("models.json of agent {id} holds the only copy of a {pid} key for this agent; kept")
            } else {
                format!("models.json of agent {id} sets a {pid} key that differs from the agent's {pid} profile and is kept nowhere else; kept (remove it by hand if the profile's key is the right one)")
            });
        }
        let at = |rest: &[&str]| -> Vec<String> {
            ["providers", pid.as_str()]
                .iter()
                .chain(rest)
                .map(|s| s.to_string())
                .collect()
        };
        // OpenClaw 2026.2 writes the profile's key into models.json itself; the SQLite releases
        // (2026.6+) never do, so there a literal key is always an override to remove.
        let regenerates_keys = ws.install.era.regenerates_models_keys();
        let api_key_kept = regenerates_keys && keep_ok.iter().any(|c| c.at[0] == "apiKey");
        match ws.config().at_path(&["models", "providers", pid]) {
            Some(cfg) if only_copy.is_empty() && regenerated(block, cfg, api_key_kept) => continue,
            Some(cfg)
                if remove_blocks
                    && only_copy.is_empty()
                    && adds_nothing(block, cfg, regenerated_fields) =>
            {
                d.removals.push(at(&[]));
                continue;
            }
            None => d.only_here.push(pid.clone()),
            _ => {}
        }
        // A kept apiKey overrides nothing where OpenClaw writes the profile's key there itself;
        // an auth header always does.
        let header_creds: Vec<&BlockCredential> =
            keep_ok.iter().filter(|c| c.at[0] == "headers").collect();
        if !regenerates_keys && keep_ok.iter().any(|c| c.at[0] == "apiKey") {
            d.removals.push(at(&["apiKey"]));
        }
        let drop_all_headers = block
            .get("headers")
            .and_then(Value::as_object)
            .is_some_and(|h| h.len() == header_creds.len() && !header_creds.is_empty());
        if drop_all_headers {
            d.removals.push(at(&["headers"]));
        } else {
            for c in header_creds {
                d.removals
                    .push(at(&c.at.iter().map(String::as_str).collect::<Vec<_>>()));
            }
        }
    }
    d
}

pub fn run(
    ws: &mut Workspace,
    regenerated: &[String],
    remove_blocks: bool,
) -> Result<(), StepError> {
    for agent in &ws.install.agents {
        let d = decide(ws, agent, regenerated, remove_blocks);
        let id = agent.agent.id.as_str();
        for note in d.notes {
            ws.finding(FindingKind::Note, Some(id), note, None);
        }
        for toks in d.removals {
            ws.remove(agent.models, pointer(&toks))?;
        }
        if !d.only_here.is_empty() {
            ws.finding(
                FindingKind::Note,
                Some(id),
                format!("models.json of agent {id} defines providers the config does not ({}); kept as they are", d.only_here.join(", ")),
                None,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::load::Install;
    use crate::plan::workspace::{FindingKind, Inputs, StepError, Workspace};
    use crate::storage::stores::Era;
    use serde_json::{Value, json};
    use std::path::Path;

    const K1: &str = "sk-cn-unit-key-0001aaaa";
    const K2: &str = "sk-cn-unit-key-0002bbbb";
    const CHINA: &str = "https://api.minimaxi.com/anthropic";

    fn config() -> String {
        json!({"models": {"providers": {"minimax-cn": {"baseUrl": CHINA, "api": "anthropic-messages"}}}})
            .to_string()
    }

    fn store_with(key: &str) -> String {
        json!({"version": 1, "profiles": {"minimax-cn:default": {"type": "api_key", "provider": "minimax-cn", "key": key}}})
            .to_string()
    }

    /// One agent, `main`, with this store and minimax-cn block in its models.json. A block
    /// adds something to the config's only with a field the config lacks (`maxRetries` here):
    /// the config's own fields win over it whatever their values.
    fn install(store: Option<&str>, block: Value, era: Era) -> Install {
        let models = json!({"providers": {"minimax-cn": block}}).to_string();
        let mut i = Install::in_memory(
            Path::new("/nonexistent/st"),
            &config(),
            &[("main", store, Some(&models))],
        );
        i.era = era;
        i
    }

    /// Runs the V0003 step (`apiKey` regenerated) on a fresh workspace.
    fn clean<'a>(
        install: &'a Install,
        inputs: &'a Inputs,
        remove_blocks: bool,
    ) -> Result<Workspace<'a>, StepError> {
        let mut ws = Workspace::new(install, inputs);
        ws.tag = "V0003".into();
        run(&mut ws, &["apiKey".to_string()], remove_blocks)?;
        Ok(ws)
    }

    fn models_ops(ws: &Workspace) -> Value {
        serde_json::to_value(&ws.ops[ws.install.agents[0].models]).unwrap()
    }

    fn guarded_remove(path: &str, old: Value) -> Value {
        json!([
            {"op": "test", "path": path, "value": old, "migration": "V0003"},
            {"op": "remove", "path": path, "migration": "V0003"},
        ])
    }

    #[test]
    fn a_kept_auth_header_is_removed_behind_a_test_of_its_value() {
        let inputs = Inputs::default();
        let store = store_with(K1);
        // The only header: the headers object goes.
        let only = install(
            Some(&store),
            json!({"baseUrl": CHINA, "maxRetries": 3, "headers": {"x-api-key": K1}}),
            Era::Json,
        );
        let ws = clean(&only, &inputs, true).unwrap();
        assert_eq!(
            models_ops(&ws),
            guarded_remove("/providers/minimax-cn/headers", json!({"x-api-key": K1}))
        );
        // Beside another header: only the credential goes.
        let beside = install(
            Some(&store),
            json!({"baseUrl": CHINA, "maxRetries": 3, "headers": {"Authorization": K1, "x-trace": "1"}}),
            Era::Json,
        );
        let ws = clean(&beside, &inputs, true).unwrap();
        assert_eq!(
            models_ops(&ws),
            guarded_remove("/providers/minimax-cn/headers/Authorization", json!(K1))
        );
        assert_eq!(
            ws.value(beside.agents[0].models)["providers"]["minimax-cn"],
            json!({"baseUrl": CHINA, "maxRetries": 3, "headers": {"x-trace": "1"}})
        );
    }

    #[test]
    fn a_kept_api_key_goes_only_where_openclaw_does_not_write_it_back() {
        let inputs = Inputs::default();
        let store = store_with(K1);
        let block = json!({"baseUrl": CHINA, "maxRetries": 3, "apiKey": K1});
        let json_era = install(Some(&store), block.clone(), Era::Json);
        let ws = clean(&json_era, &inputs, true).unwrap();
        assert_eq!(models_ops(&ws), json!([]));
        let sqlite = install(Some(&store), block, Era::SqliteAgent);
        let ws = clean(&sqlite, &inputs, true).unwrap();
        assert_eq!(
            models_ops(&ws),
            guarded_remove("/providers/minimax-cn/apiKey", json!(K1))
        );
    }

    #[test]
    fn a_block_that_adds_nothing_to_the_config_goes_whole_when_asked() {
        let inputs = Inputs::default();
        let store = store_with(K1);
        let block = json!({"baseUrl": CHINA, "apiKey": K1});
        let i = install(Some(&store), block.clone(), Era::Json);
        let ws = clean(&i, &inputs, true).unwrap();
        assert_eq!(
            models_ops(&ws),
            guarded_remove("/providers/minimax-cn", block)
        );
        assert_eq!(ws.value(i.agents[0].models), &json!({"providers": {}}));
        // Without remove_redundant_blocks the block stays (its key is OpenClaw's to write).
        let ws = clean(&i, &inputs, false).unwrap();
        assert_eq!(models_ops(&ws), json!([]));
    }

    #[test]
    fn plans_nothing_on_a_block_as_openclaw_regenerates_it() {
        let inputs = Inputs::default();
        let store = store_with(K1);
        for (era, block) in [
            // The config's fields, and the key of the agent's own profile (2026.2 writes it).
            (
                Era::Json,
                json!({"baseUrl": CHINA, "api": "anthropic-messages", "apiKey": K1}),
            ),
            // No key at all, in any era.
            (
                Era::SqliteAgent,
                json!({"baseUrl": CHINA, "api": "anthropic-messages"}),
            ),
        ] {
            let i = install(Some(&store), block.clone(), era);
            let ws = clean(&i, &inputs, true).unwrap();
            assert_eq!(models_ops(&ws), json!([]), "{era:?} {block}");
            assert!(ws.findings.is_empty(), "{:?}", ws.findings);
        }
        // And nothing on a models.json the step already cleaned.
        let cleaned = install(
            Some(&store),
            json!({"baseUrl": CHINA, "maxRetries": 3}),
            Era::SqliteAgent,
        );
        let ws = clean(&cleaned, &inputs, true).unwrap();
        assert_eq!(models_ops(&ws), json!([]));
    }

    #[test]
    fn the_only_copy_of_a_key_is_kept_and_reported_without_the_key() {
        let inputs = Inputs::default();
        let block = json!({"baseUrl": CHINA, "apiKey": K1});
        let other = store_with(K2);
        for (store, says) in [
            (
                None,
                "holds the only copy of a minimax-cn key for this agent; kept",
            ),
            (
                Some(other.as_str()),
                "sets a minimax-cn key that differs from the agent's minimax-cn profile",
            ),
        ] {
            let i = install(store, block.clone(), Era::SqliteAgent);
            let ws = clean(&i, &inputs, true).unwrap();
            assert_eq!(models_ops(&ws), json!([]), "{store:?}");
            let [note] = &ws.findings[..] else {
                panic!("one finding: {:?}", ws.findings)
            };
            assert_eq!(
                (note.kind, note.agent.as_deref()),
                (FindingKind::Note, Some("main"))
            );
            assert!(note.message.contains(says), "{}", note.message);
            assert!(!note.message.contains(K1), "{}", note.message);
        }
    }

    #[test]
    fn a_provider_the_config_does_not_define_is_kept_and_reported() {
        let inputs = Inputs::default();
        let models =
            json!({"providers": {"local": {"baseUrl": "http://127.0.0.1:8080"}}}).to_string();
        let i = Install::in_memory(
            Path::new("/nonexistent/st"),
            &config(),
            &[("main", None, Some(&models))],
        );
        let ws = clean(&i, &inputs, true).unwrap();
        assert_eq!(models_ops(&ws), json!([]));
        assert_eq!(ws.findings.len(), 1, "{:?}", ws.findings);
        assert_eq!(
            ws.findings[0].message,
            "models.json of agent main defines providers the config does not (local); kept as they are"
        );
    }

    #[test]
    fn odd_or_absent_models_json_plans_nothing() {
        let inputs = Inputs::default();
        let store = store_with(K1);
        for models in [
            None,
            Some("{}"),
            Some(r#"{"providers": []}"#),
            Some(r#"{"providers": {"minimax-cn": "sk-cn-unit-key-0001aaaa"}}"#),
            Some(r#"{"providers": {"minimax-cn": {"headers": ["x-api-key"]}}}"#),
        ] {
            let mut i = Install::in_memory(
                Path::new("/nonexistent/st"),
                &config(),
                &[("main", Some(&store), models)],
            );
            i.era = Era::SqliteAgent;
            let ws = clean(&i, &inputs, true).unwrap();
            assert!(ws.ops.iter().all(Vec::is_empty), "{models:?}: {:?}", ws.ops);
        }
    }
}
