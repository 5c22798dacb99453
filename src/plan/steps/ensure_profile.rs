//! Step `ensure_auth_profile`: gives agents that use a provider an auth profile with a real key.
use super::{agent_uses, models_keys, profile_secret, provider_profiles};
use crate::document::patch::{AtPath, pointer};
use crate::load::{CONFIG, LoadedAgent};
use crate::migration::{AgentSelector, KeySource};
use crate::plan::workspace::{FindingKind, StepError, Workspace};
use crate::secrets::mask;
use serde_json::{Value, json};

pub struct Params<'a> {
    pub provider: &'a str,
    pub profile: &'a str,
    pub agents: AgentSelector,
    pub include_default_agent: bool,
    pub config_metadata: Option<&'a Value>,
    pub key_sources: &'a [KeySource],
    pub satisfied_by_config_api_key: bool,
}

/// Where a key was found, for the operator (never the key itself).
enum Found {
    Key(String, &'static str),
    Conflict(Vec<String>, &'static str),
    None,
}

fn distinct(mut keys: Vec<String>) -> Vec<String> {
    keys.sort();
    keys.dedup();
    keys
}

fn pick(keys: Vec<String>, what: &'static str) -> Option<Found> {
    let keys = distinct(keys);
    match keys.len() {
        0 => None,
        1 => Some(Found::Key(keys.into_iter().next().unwrap(), what)),
        _ => Some(Found::Conflict(keys, what)),
    }
}

fn find_key(ws: &Workspace, p: &Params, agent: &LoadedAgent) -> Found {
    let others: Vec<&LoadedAgent> = {
        // The default agent is asked first: its store is the one OpenClaw shares.
        let mut v: Vec<&LoadedAgent> = ws
            .install
            .agents
            .iter()
            .filter(|a| a.agent.id != agent.agent.id)
            .collect();
        v.sort_by_key(|a| a.agent.id != ws.install.default_agent);
        v
    };
    for source in p.key_sources {
        let found = match source {
            KeySource::OwnModelsJson => pick(
                models_keys(ws.value(agent.models), p.provider),
                "its models.json",
            ),
            KeySource::OtherAgentProfile => pick(
                others
                    .iter()
                    .filter_map(|a| ws.value(a.auth).at_path(&["profiles", p.profile]))
                    .filter(|prof| prof.get("provider").and_then(Value::as_str) == Some(p.provider))
                    .filter_map(|prof| profile_secret(prof).map(str::to_string))
                    .collect(),
                "another agent's profile",
            ),
            KeySource::OtherModelsJson => pick(
                others
                    .iter()
                    .flat_map(|a| models_keys(ws.value(a.models), p.provider))
                    .collect(),
                "another agent's models.json",
            ),
            KeySource::Operator => ws
                .inputs
                .keys
                .get(p.provider)
                .map(|k| Found::Key(k.clone(), "the key supplied with --key-file")),
        };
        if let Some(f) = found {
            return f;
        }
    }
    Found::None
}

pub fn run(ws: &mut Workspace, p: Params) -> Result<(), StepError> {
    let config_key = ws
        .config()
        .at_path(&["models", "providers", p.provider, "apiKey"])
        .and_then(Value::as_str)
        .is_some_and(|k| !k.trim().is_empty());
    if p.satisfied_by_config_api_key && config_key {
        ws.finding(
            FindingKind::Note,
            None,
            format!("{} gets its key from openclaw.json (models.providers.{}.apiKey) for every agent; no profile needed", p.provider, p.provider),
            None,
        );
        return Ok(());
    }
    // The config metadata goes with a profile this run adds; it is not a fix of its own.
    let mut added = false;
    for agent in selected(ws, &p) {
        let store = ws.value(agent.auth);
        if !provider_profiles(store, p.provider).is_empty()
            || store.at_path(&["profiles", p.profile]).is_some()
        {
            continue;
        }
        let id = agent.agent.id.as_str();
        match find_key(ws, &p, agent) {
            Found::Key(key, whence) => {
                add_profile(ws, &p, agent, key)?;
                added = true;
                ws.finding(FindingKind::Note, Some(id), format!("agent {id} gets profile {} with the key from {whence}", p.profile), None);
            }
            Found::Conflict(keys, whence) => {
                let masked: Vec<String> = keys.iter().map(|k| mask(k)).collect();
                ws.finding(
                    FindingKind::Conflict,
                    Some(id),
                    format!("agent {id} needs a {} profile, but {whence} holds different keys: {}", p.profile, masked.join(", ")),
                    Some(format!("decide which key is right, put it in a file and run again with --key-file {}=FILE", p.provider)),
                );
            }
            Found::None => ws.finding(
                FindingKind::NeedsInput,
                Some(id),
                format!("agent {id} uses {} but no key for it was found anywhere in the install", p.provider),
                Some(format!("put the {} key in a file (mode 0600) and run again with --key-file {}=FILE (or --key-file {}=- to read it from stdin)", p.provider, p.provider, p.provider)),
            ),
        }
    }
    if added {
        add_config_metadata(ws, &p)?;
    }
    Ok(())
}

/// The agents the step is for: all, or those using the provider (then the default agent too,
/// when asked).
fn selected<'a>(ws: &Workspace<'a>, p: &Params) -> Vec<&'a LoadedAgent> {
    let install = ws.install;
    let mut selected: Vec<&LoadedAgent> = install
        .agents
        .iter()
        .filter(|a| match p.agents {
            AgentSelector::All => true,
            AgentSelector::UsingProvider => agent_uses(ws, a, p.provider),
        })
        .collect();
    if p.include_default_agent
        && !selected.is_empty()
        && let Some(d) = install.agent(&install.default_agent)
        && !selected.iter().any(|a| a.agent.id == d.agent.id)
    {
        selected.insert(0, d);
    }
    selected
}

/// Adds the api_key profile to the agent's store (creating the store when it has none).
fn add_profile(
    ws: &mut Workspace,
    p: &Params,
    agent: &LoadedAgent,
    key: String,
) -> Result<(), StepError> {
    let profile = json!({ "type": "api_key", "provider": p.provider, "key": key });
    if !ws.exists(agent.auth) {
        let store = json!({ "version": 1, "profiles": { p.profile: profile } });
        return ws.add(agent.auth, String::new(), store);
    }
    if ws
        .value(agent.auth)
        .get("profiles")
        .is_some_and(Value::is_object)
    {
        return ws.add(agent.auth, pointer(&["profiles", p.profile]), profile);
    }
    let install = ws.install;
    Err(StepError::Shape {
        file: install.docs[agent.auth].name(&install.root.state_dir),
        what: "has no \"profiles\" object; OpenClaw ignores such a store, fix it by hand".into(),
    })
}

/// The config's `auth.profiles` entry for the added profile, when that map exists.
fn add_config_metadata(ws: &mut Workspace, p: &Params) -> Result<(), StepError> {
    if let Some(meta) = p.config_metadata
        && ws
            .config()
            .pointer("/auth/profiles")
            .is_some_and(Value::is_object)
        && ws
            .config()
            .at_path(&["auth", "profiles", p.profile])
            .is_none()
    {
        ws.add(
            CONFIG,
            pointer(&["auth", "profiles", p.profile]),
            meta.clone(),
        )?;
    }
    Ok(())
}
