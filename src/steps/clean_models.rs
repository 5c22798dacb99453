//! Step `clean_models_json`: removes kept credentials and redundant provider blocks from models.json.
use super::{
    BlockCredential, block_credentials, is_auth_header, profile_secret, provider_profiles,
};
use crate::load::LoadedAgent;
use crate::patch::{AtPath, pointer};
use crate::plan::{FindingKind, Workspace};
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
    regenerated: &[String],
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
            d.notes.push(format!(
                "models.json of agent {id} holds the only copy of a {pid} key for this agent; kept"
            ));
        }
        let at = |rest: &[&str]| -> Vec<String> {
            ["providers", pid.as_str()]
                .iter()
                .chain(rest)
                .map(|s| s.to_string())
                .collect()
        };
        match ws.config().at_path(&["models", "providers", pid]) {
            Some(cfg)
                if remove_blocks
                    && only_copy.is_empty()
                    && adds_nothing(block, cfg, regenerated) =>
            {
                d.removals.push(at(&[]));
                continue;
            }
            None => d.only_here.push(pid.clone()),
            _ => {}
        }
        let header_creds = keep_ok.iter().filter(|c| c.at[0] == "headers").count();
        let drop_all_headers = block
            .get("headers")
            .and_then(Value::as_object)
            .is_some_and(|h| h.len() == header_creds && header_creds > 0);
        for c in keep_ok
            .iter()
            .filter(|c| !(drop_all_headers && c.at[0] == "headers"))
        {
            d.removals
                .push(at(&c.at.iter().map(String::as_str).collect::<Vec<_>>()));
        }
        if drop_all_headers {
            d.removals.push(at(&["headers"]));
        }
    }
    d
}

pub fn run(ws: &mut Workspace, regenerated: &[String], remove_blocks: bool) -> Result<(), String> {
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
