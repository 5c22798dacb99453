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
