//! Step `clean_models_json`: removes kept credentials and redundant provider blocks from models.json.
use super::{
    BlockCredential, block_credentials, is_auth_header, profile_secret, provider_profiles,
};
use crate::load::LoadedAgent;
use crate::patch::pointer;
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
                is_auth_header(name)
                    || config_block.pointer(&pointer(&["headers", name])) == Some(hv)
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

pub fn run(ws: &mut Workspace, regenerated: &[String], remove_blocks: bool) -> Result<(), String> {
    for agent in &ws.install.agents {
        let Some(providers) = ws
            .value(agent.models)
            .get("providers")
            .and_then(Value::as_object)
            .cloned()
        else {
            continue;
        };
        let mut only_here = Vec::new();
        for (pid, block) in &providers {
            let creds = block_credentials(block);
            let (keep_ok, only_copy): (Vec<_>, Vec<_>) =
                creds.into_iter().partition(|c| kept(ws, agent, pid, c));
            let config_block = ws
                .config()
                .pointer(&pointer(&["models", "providers", pid]))
                .cloned();
            let id = agent.agent.id.as_str();
            if !only_copy.is_empty() {
                ws.finding(
                    FindingKind::Note,
                    Some(id),
                    format!("models.json of agent {id} holds the only copy of a {pid} key for this agent; kept"),
                    None,
                );
            }
            match &config_block {
                Some(cfg)
                    if remove_blocks
                        && only_copy.is_empty()
                        && adds_nothing(block, cfg, regenerated) =>
                {
                    ws.remove(agent.models, pointer(&["providers", pid]))?;
                    continue;
                }
                None => only_here.push(pid.clone()),
                _ => {}
            }
            let headers = block.get("headers").and_then(Value::as_object);
            let header_creds = keep_ok.iter().filter(|c| c.at[0] == "headers").count();
            let drop_all_headers =
                headers.is_some_and(|h| h.len() == header_creds && header_creds > 0);
            for c in &keep_ok {
                if c.at[0] == "headers" && drop_all_headers {
                    continue;
                }
                let mut toks = vec!["providers".to_string(), pid.clone()];
                toks.extend(c.at.iter().cloned());
                ws.remove(agent.models, pointer(&toks))?;
            }
            if drop_all_headers {
                ws.remove(agent.models, pointer(&["providers", pid, "headers"]))?;
            }
        }
        if !only_here.is_empty() {
            let id = agent.agent.id.as_str();
            ws.finding(
                FindingKind::Note,
                Some(id),
                format!("models.json of agent {id} defines providers the config does not ({}); kept as they are", only_here.join(", ")),
                None,
            );
        }
    }
    Ok(())
}
