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

#[cfg(test)]
mod tests {
    use super::{Params, run};
    use crate::load::{CONFIG, Install};
    use crate::migration::{AgentSelector, KeySource};
    use crate::plan::workspace::{FindingKind, Inputs, StepError, Workspace};
    use crate::secrets::mask;
    use serde_json::{Value, json};
    use std::path::Path;

    const K1: &str = "sk-cn-unit-key-0001aaaa";
    const K2: &str = "sk-cn-unit-key-0002bbbb";
    const ALL_SOURCES: &[KeySource] = &[
        KeySource::OwnModelsJson,
        KeySource::OtherAgentProfile,
        KeySource::OtherModelsJson,
        KeySource::Operator,
    ];
    const EMPTY_STORE: &str = r#"{"version": 1, "profiles": {}}"#;

    fn meta() -> Value {
        json!({"provider": "minimax-cn", "mode": "api_key"})
    }

    /// The V0002 step's parameters, with the key sources and default-agent rule given.
    fn params<'a>(meta: &'a Value, sources: &'a [KeySource], default_too: bool) -> Params<'a> {
        Params {
            provider: "minimax-cn",
            profile: "minimax-cn:default",
            agents: AgentSelector::UsingProvider,
            include_default_agent: default_too,
            config_metadata: Some(meta),
            key_sources: sources,
            satisfied_by_config_api_key: true,
        }
    }

    fn models_key(key: &str) -> String {
        json!({"providers": {"minimax-cn": {"apiKey": key}}}).to_string()
    }

    fn install(config: &Value, files: &[(&str, Option<&str>, Option<&str>)]) -> Install {
        Install::in_memory(Path::new("/nonexistent/st"), &config.to_string(), files)
    }

    /// Runs the step on a fresh workspace tagged V0002.
    fn ensure<'a>(
        install: &'a Install,
        inputs: &'a Inputs,
        p: Params,
    ) -> Result<Workspace<'a>, StepError> {
        let mut ws = Workspace::new(install, inputs);
        ws.tag = "V0002".into();
        run(&mut ws, p)?;
        Ok(ws)
    }

    fn ops(ws: &Workspace, doc: usize) -> Value {
        serde_json::to_value(&ws.ops[doc]).unwrap()
    }

    fn profile(key: &str) -> Value {
        json!({"type": "api_key", "provider": "minimax-cn", "key": key})
    }

    /// One agent, `main`, running on minimax-cn.
    fn user_config() -> Value {
        json!({
            "agents": {"list": [{"id": "main", "model": "minimax-cn/MiniMax-M2"}]},
            "auth": {"profiles": {}},
        })
    }

    #[test]
    fn copies_the_agents_own_models_json_key_into_a_profile_and_adds_the_config_metadata() {
        let models = models_key(K1);
        let install = install(
            &user_config(),
            &[("main", Some(EMPTY_STORE), Some(&models))],
        );
        let (meta, inputs) = (meta(), Inputs::default());
        let ws = ensure(&install, &inputs, params(&meta, ALL_SOURCES, true)).unwrap();
        let main = &install.agents[0];
        assert_eq!(
            ops(&ws, main.auth),
            json!([{"op": "add", "path": "/profiles/minimax-cn:default", "value": profile(K1), "migration": "V0002"}])
        );
        assert_eq!(
            ops(&ws, CONFIG),
            json!([{"op": "add", "path": "/auth/profiles/minimax-cn:default", "value": meta, "migration": "V0002"}])
        );
        assert!(ws.ops[main.models].is_empty());
        let [note] = &ws.findings[..] else {
            panic!("one finding: {:?}", ws.findings)
        };
        assert_eq!(note.kind, FindingKind::Note);
        assert_eq!(note.agent.as_deref(), Some("main"));
        assert_eq!(
            note.message,
            "agent main gets profile minimax-cn:default with the key from its models.json"
        );
    }

    #[test]
    fn creates_the_store_when_the_agent_has_none_and_skips_metadata_without_an_auth_map() {
        let models = models_key(K1);
        let config =
            json!({"agents": {"list": [{"id": "main", "model": "minimax-cn/MiniMax-M2"}]}});
        let install = install(&config, &[("main", None, Some(&models))]);
        let (meta, inputs) = (meta(), Inputs::default());
        let ws = ensure(&install, &inputs, params(&meta, ALL_SOURCES, true)).unwrap();
        assert_eq!(
            ops(&ws, install.agents[0].auth),
            json!([{"op": "add", "path": "", "value": {"version": 1, "profiles": {"minimax-cn:default": profile(K1)}}, "migration": "V0002"}])
        );
        assert!(ws.ops[CONFIG].is_empty(), "{:?}", ws.ops[CONFIG]);
    }

    #[test]
    fn plans_nothing_for_an_agent_that_already_has_a_profile() {
        let models = models_key(K1);
        // A profile of the provider under another id, or the id itself (of any provider).
        for store in [
            json!({"version": 1, "profiles": {"minimax-cn:work": profile(K2)}}),
            json!({"version": 1, "profiles": {"minimax-cn:default": {"type": "api_key", "provider": "minimax", "key": K2}}}),
        ] {
            let store = store.to_string();
            let install = install(&user_config(), &[("main", Some(&store), Some(&models))]);
            let (meta, inputs) = (meta(), Inputs::default());
            let ws = ensure(&install, &inputs, params(&meta, ALL_SOURCES, true)).unwrap();
            assert!(ws.ops.iter().all(Vec::is_empty), "{store}: {:?}", ws.ops);
            assert!(ws.findings.is_empty(), "{store}: {:?}", ws.findings);
        }
    }

    #[test]
    fn a_key_in_the_config_satisfies_every_agent_but_only_when_the_step_says_so() {
        let mut config = user_config();
        config["models"] =
            json!({"providers": {"minimax-cn": {"apiKey": "${MINIMAX_CN_API_KEY}"}}});
        let models = models_key(K1);
        let install = install(&config, &[("main", Some(EMPTY_STORE), Some(&models))]);
        let (meta, inputs) = (meta(), Inputs::default());
        let ws = ensure(&install, &inputs, params(&meta, ALL_SOURCES, true)).unwrap();
        assert!(ws.ops.iter().all(Vec::is_empty), "{:?}", ws.ops);
        assert_eq!(ws.findings.len(), 1);
        assert_eq!(ws.findings[0].kind, FindingKind::Note);
        assert!(
            ws.findings[0].message.contains("no profile needed"),
            "{:?}",
            ws.findings
        );
        let p = Params {
            satisfied_by_config_api_key: false,
            ..params(&meta, ALL_SOURCES, true)
        };
        let ws = ensure(&install, &inputs, p).unwrap();
        assert_eq!(ws.ops[install.agents[0].auth].len(), 1);
    }

    #[test]
    fn different_keys_are_a_conflict_reported_masked_and_not_planned() {
        // main uses the provider but holds no key; the two other agents hold different ones.
        let config = json!({
            "agents": {"list": [
                {"id": "main", "model": "minimax-cn/MiniMax-M2"},
                {"id": "a"},
                {"id": "b"},
            ]},
        });
        let (ma, mb) = (models_key(K1), models_key(K2));
        let install = install(
            &config,
            &[
                ("main", Some(EMPTY_STORE), None),
                ("a", Some(EMPTY_STORE), Some(&ma)),
                ("b", Some(EMPTY_STORE), Some(&mb)),
            ],
        );
        let (meta, inputs) = (meta(), Inputs::default());
        let ws = ensure(
            &install,
            &inputs,
            params(&meta, &[KeySource::OtherModelsJson], true),
        )
        .unwrap();
        let main = install.agent("main").unwrap();
        assert!(ws.ops[main.auth].is_empty(), "{:?}", ws.ops[main.auth]);
        let conflict = ws
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::Conflict)
            .expect("a conflict");
        assert_eq!(conflict.agent.as_deref(), Some("main"));
        assert!(
            conflict.message.contains(&mask(K1)) && conflict.message.contains(&mask(K2)),
            "{}",
            conflict.message
        );
        for f in &ws.findings {
            assert!(
                !f.message.contains(K1) && !f.message.contains(K2),
                "{}",
                f.message
            );
        }
        assert!(
            conflict
                .fix
                .as_deref()
                .unwrap()
                .contains("--key-file minimax-cn=FILE")
        );
        // Each of the others takes the one key another agent holds.
        assert_eq!(
            ops(&ws, install.agent("a").unwrap().auth)[0]["value"],
            profile(K2)
        );
        assert_eq!(
            ops(&ws, install.agent("b").unwrap().auth)[0]["value"],
            profile(K1)
        );
    }

    #[test]
    fn no_key_anywhere_needs_input_and_plans_nothing() {
        let install = install(&user_config(), &[("main", Some(EMPTY_STORE), None)]);
        let (meta, inputs) = (meta(), Inputs::default());
        let ws = ensure(&install, &inputs, params(&meta, ALL_SOURCES, true)).unwrap();
        assert!(ws.ops.iter().all(Vec::is_empty), "{:?}", ws.ops);
        let [f] = &ws.findings[..] else {
            panic!("one finding: {:?}", ws.findings)
        };
        assert_eq!(f.kind, FindingKind::NeedsInput);
        assert!(f.kind.blocks());
        assert!(
            f.fix
                .as_deref()
                .unwrap()
                .contains("--key-file minimax-cn=FILE"),
            "{f:?}"
        );
    }

    #[test]
    fn sources_are_tried_in_order_the_operators_key_last() {
        let mut inputs = Inputs::default();
        inputs.keys.insert("minimax-cn".into(), K2.into());
        let meta = meta();
        // No key in the install: the operator's.
        let install_bare = install(&user_config(), &[("main", Some(EMPTY_STORE), None)]);
        let ws = ensure(&install_bare, &inputs, params(&meta, ALL_SOURCES, true)).unwrap();
        assert_eq!(
            ops(&ws, install_bare.agents[0].auth)[0]["value"],
            profile(K2)
        );
        assert!(
            ws.findings[0]
                .message
                .ends_with("the key supplied with --key-file")
        );
        // A key of its own comes first.
        let models = models_key(K1);
        let install_own = install(
            &user_config(),
            &[("main", Some(EMPTY_STORE), Some(&models))],
        );
        let ws = ensure(&install_own, &inputs, params(&meta, ALL_SOURCES, true)).unwrap();
        assert_eq!(
            ops(&ws, install_own.agents[0].auth)[0]["value"],
            profile(K1)
        );
    }

    #[test]
    fn another_agents_profile_lends_its_key() {
        let config = json!({
            "agents": {"list": [{"id": "main"}, {"id": "coder", "model": "minimax-cn/MiniMax-M2"}]},
        });
        let main_store =
            json!({"version": 1, "profiles": {"minimax-cn:default": profile(K1)}}).to_string();
        let install = install(
            &config,
            &[
                ("main", Some(&main_store), None),
                ("coder", Some(EMPTY_STORE), None),
            ],
        );
        let (meta, inputs) = (meta(), Inputs::default());
        let ws = ensure(&install, &inputs, params(&meta, ALL_SOURCES, true)).unwrap();
        let coder = install.agent("coder").unwrap();
        assert_eq!(
            ops(&ws, coder.auth),
            json!([{"op": "add", "path": "/profiles/minimax-cn:default", "value": profile(K1), "migration": "V0002"}])
        );
        assert!(ws.ops[install.agent("main").unwrap().auth].is_empty());
        assert!(
            ws.findings[0].message.ends_with("another agent's profile"),
            "{:?}",
            ws.findings
        );
    }

    #[test]
    fn selects_the_users_of_the_provider_and_the_default_agent_only_when_asked() {
        // main is the default and names no model; coder inherits nothing, names minimax-cn by alias.
        let config = json!({
            "agents": {
                "defaults": {"models": {"minimax-cn/MiniMax-M2": {"alias": "mm"}}},
                "list": [{"id": "main", "model": "openai/gpt-5"}, {"id": "coder", "model": "MM"}],
            },
        });
        let mut inputs = Inputs::default();
        inputs.keys.insert("minimax-cn".into(), K1.into());
        let install = install(
            &config,
            &[
                ("main", Some(EMPTY_STORE), None),
                ("coder", Some(EMPTY_STORE), None),
            ],
        );
        let meta = meta();
        let (main, coder) = (
            install.agent("main").unwrap(),
            install.agent("coder").unwrap(),
        );
        let ws = ensure(&install, &inputs, params(&meta, ALL_SOURCES, true)).unwrap();
        assert_eq!((ws.ops[main.auth].len(), ws.ops[coder.auth].len()), (1, 1));
        let ws = ensure(&install, &inputs, params(&meta, ALL_SOURCES, false)).unwrap();
        assert_eq!((ws.ops[main.auth].len(), ws.ops[coder.auth].len()), (0, 1));
        // With every agent selected, main gets one though it does not use the provider.
        let all = Params {
            agents: AgentSelector::All,
            ..params(&meta, ALL_SOURCES, false)
        };
        let ws = ensure(&install, &inputs, all).unwrap();
        assert_eq!((ws.ops[main.auth].len(), ws.ops[coder.auth].len()), (1, 1));
    }

    #[test]
    fn a_store_without_a_profiles_object_is_refused_naming_the_file() {
        let models = models_key(K1);
        let install = install(
            &user_config(),
            &[("main", Some(r#"{"version": 1}"#), Some(&models))],
        );
        let (meta, inputs) = (meta(), Inputs::default());
        let Err(e) = ensure(&install, &inputs, params(&meta, ALL_SOURCES, true)) else {
            panic!("a store without profiles is refused")
        };
        assert!(matches!(e, StepError::Shape { .. }), "{e:?}");
        assert_eq!(e.kind(), crate::error::Kind::Parse);
        let text = e.to_string();
        assert!(
            text.starts_with("agents/main/agent/auth-profiles.json: has no \"profiles\" object"),
            "{text}"
        );
        assert!(!text.contains(K1), "{text}");
    }
}
