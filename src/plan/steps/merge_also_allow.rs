//! Step `merge_also_allow`: a tool policy scope under `roots` that sets both `allow` and
//! `alsoAllow` (each a non-empty list of strings) gets `allow` followed by the extras it lacks,
//! and `alsoAllow: []`, as OpenClaw 2026.9.6's doctor does when that keeps every permission:
//! each profile that takes its extras from the scope must already grant all of them, and none
//! of them may reach a `sensitive_tools` tool. Who takes a scope's extras is resolved first,
//! over the config as it stands, as OpenClaw resolves a policy: per agent (the global scope
//! alone too), then per `byProvider` context of the global and the agent scope.
use super::agents_entries::visited_agents;
use super::path::lookup;
use super::tool_policy::{
    ToolCatalog, is_policy_path, provider_entry, provider_key, set_list, unique,
};
use crate::plan::workspace::{FindingKind, StepError, Workspace};
use serde_json::{Map, Value};
use std::collections::HashMap;

type Path = Vec<String>;
/// A tools scope: where it is and what it holds.
type Scope<'v> = Option<(Path, &'v Map<String, Value>)>;

/// Each scope that supplies `alsoAllow` extras, with the profiles of those that take them
/// (`None`: no profile).
type Takers<'v> = HashMap<Path, Vec<Option<&'v Value>>>;

/// A scope with both lists: where, its `allow`, its `alsoAllow`.
struct Conflict {
    at: Path,
    allow: Vec<String>,
    extras: Vec<String>,
}

pub fn run(
    ws: &mut Workspace,
    roots: &[String],
    sensitive: &[String],
    catalog: &ToolCatalog,
) -> Result<(), StepError> {
    let config = ws.config();
    let mut found = Vec::new();
    for root in roots {
        if let Some(v) = config.get(root) {
            conflicts(v, &mut vec![root.clone()], &mut found);
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    let takers = takers(config);
    let (merges, kept): (Vec<Conflict>, Vec<Conflict>) = found.into_iter().partition(|c| {
        let profiles = takers.get(&c.at).map(Vec::as_slice).unwrap_or_default();
        profiles
            .iter()
            .all(|p| needs_nothing(catalog, *p, &c.extras, sensitive))
    });
    // Doctor warns about these and changes nothing; so does the step.
    for c in kept {
        let at = c.at.join(".");
        ws.finding(
            FindingKind::Note,
            None,
            format!(
                "{at}.allow and {at}.alsoAllow are both set and left as they are: merging them \
                 would change what a profile or the Gateway tool grants"
            ),
            Some(format!(
                "decide by hand: remove {at}.allow to keep the profile plus its extras, or move \
                 the alsoAllow entries into {at}.allow and empty {at}.alsoAllow"
            )),
        );
    }
    let strings = |l: &[String]| l.iter().cloned().map(Value::String).collect::<Vec<_>>();
    for c in merges {
        let merged = unique(c.allow.iter().chain(&c.extras).cloned());
        let key = |k: &str| [c.at.clone(), vec![k.to_string()]].concat();
        set_list(ws, &key("allow"), &strings(&c.allow), &strings(&merged))?;
        set_list(ws, &key("alsoAllow"), &strings(&c.extras), &[])?;
    }
    Ok(())
}

/// The object at `path`, as a scope.
fn scope_at(config: &Value, path: Path) -> Scope<'_> {
    let found = lookup(config, &path)?.as_object()?;
    Some((path, found))
}

/// Who takes whose extras, resolved as OpenClaw resolves a policy: the global scope alone,
/// each agent's tools (`agents.defaults.tools` when the config has no roster), and for each
/// `byProvider` context of the global and the agent scope the policies that apply there.
fn takers(config: &Value) -> Takers<'_> {
    let mut takers = Takers::new();
    let tools = || vec!["tools".to_string()];
    let global = scope_at(config, tools());
    let mut agents: Vec<Scope> = vec![None];
    for at in visited_agents(config) {
        agents.push(scope_at(config, [at, tools()].concat()));
    }
    let roster = config
        .get("agents")
        .and_then(Value::as_object)
        .is_some_and(|a| a.contains_key("entries") || a.contains_key("list"));
    if !roster {
        let defaults = ["agents", "defaults", "tools"].map(str::to_string).to_vec();
        agents.push(scope_at(config, defaults));
    }
    for agent in agents {
        take(&mut takers, &global, &agent);
        let (gp, ap) = (providers(&global), providers(&agent));
        let mut contexts: Vec<String> = Vec::new();
        for key in [&gp, &ap].into_iter().flatten().flat_map(|(_, m)| m.keys()) {
            let n = provider_key(key);
            let provider = n.find('/').map_or(n.clone(), |i| n[..i].to_string());
            for c in [n, provider] {
                if !contexts.contains(&c) {
                    contexts.push(c);
                }
            }
        }
        for context in contexts {
            let (provider, model) = match context.split_once('/') {
                Some((p, m)) => (p, Some(m)),
                None => (context.as_str(), None),
            };
            let (g, a) = (entry(&gp, provider, model), entry(&ap, provider, model));
            take(&mut takers, &g, &a);
        }
    }
    takers
}

/// The `byProvider` map of a scope, as a scope of its own.
fn providers<'v>(s: &Scope<'v>) -> Scope<'v> {
    let (at, m) = s.as_ref()?;
    let by = m.get("byProvider")?.as_object()?;
    Some(([at.clone(), vec!["byProvider".to_string()]].concat(), by))
}

/// The policy of a `byProvider` map that applies to a provider (and model).
fn entry<'v>(by: &Scope<'v>, provider: &str, model: Option<&str>) -> Scope<'v> {
    let (at, by) = by.as_ref()?;
    let (key, policy) = provider_entry(Some(by), provider, model)?;
    Some((
        [at.clone(), vec![key.clone()]].concat(),
        policy.as_object()?,
    ))
}

/// Records who supplies a context's extras (the agent's own `alsoAllow`, else the global one)
/// and the profile that takes them (the agent's, else the global one).
fn take<'v>(takers: &mut Takers<'v>, global: &Scope<'v>, agent: &Scope<'v>) {
    let supplies = |s: &Scope| {
        s.as_ref()
            .filter(|(_, m)| m.get("alsoAllow").is_some_and(Value::is_array))
            .map(|(at, _)| at.clone())
    };
    let Some(supplier) = supplies(agent).or_else(|| supplies(global)) else {
        return;
    };
    let profile = |s: &Scope<'v>| s.as_ref().and_then(|(_, m)| m.get("profile"));
    let profile = profile(agent)
        .filter(|p| !p.is_null())
        .or_else(|| profile(global).filter(|p| !p.is_null()));
    takers.entry(supplier).or_default().push(profile);
}

/// A non-empty list of strings only.
fn grant_list(scope: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    let list = scope.get(key)?.as_array().filter(|l| !l.is_empty())?;
    list.iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Every policy scope with both lists, depth first; a sandbox policy (`…tools.sandbox`) and
/// everything under it is not doctor's to merge.
fn conflicts(v: &Value, path: &mut Path, out: &mut Vec<Conflict>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                conflicts(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            if path.ends_with(&["tools".to_string(), "sandbox".to_string()]) {
                return;
            }
            if is_policy_path(path)
                && let (Some(allow), Some(extras)) =
                    (grant_list(map, "allow"), grant_list(map, "alsoAllow"))
            {
                out.push(Conflict {
                    at: path.clone(),
                    allow,
                    extras,
                });
            }
            for (key, child) in map {
                path.push(key.clone());
                conflicts(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Whether a profile taking `extras` loses nothing when they move into `allow`: no profile and
/// `full` need none; a known profile must list every extra itself (names normalised, no group
/// or glob expanded) and extras reaching a sensitive tool never merge; an unknown or
/// non-string profile always needs them.
fn needs_nothing(
    catalog: &ToolCatalog,
    profile: Option<&Value>,
    extras: &[String],
    sensitive: &[String],
) -> bool {
    let id = match profile {
        None => return true,
        Some(Value::String(id)) => id,
        Some(_) => return false,
    };
    let Some(grants) = catalog.profile(id) else {
        return false;
    };
    if grants.iter().any(|g| g == "*") {
        return true;
    }
    let extras = catalog.normalize_list(extras);
    if !extras.is_empty() && sensitive.iter().any(|t| catalog.allows(&extras, t)) {
        return false;
    }
    let tokens = catalog.normalize_list(grants);
    extras.iter().all(|e| tokens.contains(e))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "merge_also_allow", "roots": ["tools", "agents", "channels"],
        "sensitive_tools": ["gateway"],
        "catalog": {
          "profiles": {"minimal": ["session_status", "gateway"],
                       "coding": ["read", "exec", "automations", "gateway"], "full": ["*"]},
          "groups": {"group:automation": ["automations", "gateway"]},
          "aliases": {"bash": "exec", "cron": "automations"},
          "core_tools": ["read", "exec", "automations", "gateway", "session_status", "browser"]}}"#;

    #[test]
    fn merges_where_no_profile_takes_the_extras() {
        let out = after(
            "{tools: {allow: ['read', 'write'], alsoAllow: ['browser', 'read']}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"tools": {"allow": ["read", "write", "browser"], "alsoAllow": []}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn a_profile_must_already_grant_every_extra_by_name() {
        let coding = "{tools: {profile: 'coding', allow: ['read'], alsoAllow: [' Bash ', 'cron']}}";
        assert_eq!(
            value(&after(coding, STEP))["tools"]["allow"],
            json!(["read", " Bash ", "cron"])
        );
        for kept in [
            "{tools: {profile: 'coding', allow: ['read'], alsoAllow: ['browser']}}",
            // A group or a glob is not expanded to find the profile's tools.
            "{tools: {profile: 'coding', allow: ['read'], alsoAllow: ['group:automation']}}",
            "{tools: {profile: 'custom', allow: ['read'], alsoAllow: ['read']}}",
            "{tools: {profile: 7, allow: ['read'], alsoAllow: ['read']}}",
            // The Gateway tool never comes in through extras, even where the profile has it.
            "{tools: {profile: 'minimal', allow: ['read'], alsoAllow: ['gateway']}}",
            // Not both lists of strings, or an empty one: nothing to merge.
            "{tools: {allow: ['read'], alsoAllow: []}}",
            "{tools: {allow: ['read'], alsoAllow: ['x', 1]}}",
            "{tools: {allow: 'read', alsoAllow: ['x']}}",
            // The sandbox policy is not doctor's to merge, nor anything under it.
            "{tools: {sandbox: {tools: {allow: ['read'], alsoAllow: ['x']}}}}",
            // Outside a policy scope.
            "{agents: {defaults: {allow: ['read'], alsoAllow: ['x']}}}",
        ] {
            plans_nothing(kept, STEP);
        }
        let full = "{tools: {profile: 'full', allow: ['read'], alsoAllow: ['gateway']}}";
        assert_eq!(
            value(&after(full, STEP))["tools"]["allow"],
            json!(["read", "gateway"])
        );
    }

    #[test]
    fn a_scope_left_as_it_is_is_a_note_with_both_ways_out() {
        use crate::migration::Step;
        use crate::plan::workspace::{FindingKind, Inputs, Workspace};
        let install = super::super::testing::install(
            "{tools: {profile: 'minimal', allow: ['read'], alsoAllow: ['gateway']}}",
        );
        let inputs = Inputs::default();
        let mut ws = Workspace::new(&install, &inputs);
        let step: Step = serde_json::from_str(STEP).unwrap();
        super::super::run(&step, &mut ws).unwrap();
        assert!(ws.ops.iter().all(Vec::is_empty));
        let [note] = &ws.findings[..] else {
            panic!("one finding: {:?}", ws.findings)
        };
        assert_eq!(note.kind, FindingKind::Note);
        assert!(note.message.starts_with("tools.allow and tools.alsoAllow"));
        assert!(
            note.fix
                .as_deref()
                .is_some_and(|f| f.contains("remove tools.allow"))
        );
    }

    #[test]
    fn agents_inherit_the_global_extras_and_profile() {
        // The agent's coding profile takes the global extras: browser is not in it.
        plans_nothing(
            "{tools: {allow: ['read'], alsoAllow: ['browser']},
              agents: {list: [{id: 'a', tools: {profile: 'coding'}}]}}",
            STEP,
        );
        // An agent with extras of its own takes nothing from the global scope.
        let out = after(
            "{tools: {allow: ['read'], alsoAllow: ['browser']},
              agents: {entries: {a: {tools: {profile: 'coding', alsoAllow: ['exec']}}}}}",
            STEP,
        );
        assert_eq!(value(&out)["tools"]["alsoAllow"], json!([]));
        // Without a roster, agents.defaults.tools is one more taker (and a scope itself).
        plans_nothing(
            "{tools: {allow: ['read'], alsoAllow: ['browser']},
              agents: {defaults: {tools: {profile: 'minimal'}}}}",
            STEP,
        );
        let out = after(
            "{agents: {defaults: {tools: {allow: ['read'], alsoAllow: ['exec'], profile: 'coding'}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["agents"]["defaults"]["tools"]["allow"],
            json!(["read", "exec"])
        );
    }

    #[test]
    fn provider_contexts_resolve_model_then_provider() {
        // openai/gpt-5 resolves to the global openai policy, whose extras the agent's
        // minimal-profile openai/gpt-5 policy takes.
        plans_nothing(
            "{tools: {byProvider: {OpenAI: {allow: ['read'], alsoAllow: ['exec']}}},
              agents: {entries: {a: {tools: {byProvider: {'openai/gpt-5': {profile: 'minimal'}}}}}}}",
            STEP,
        );
        let out = after(
            "{tools: {byProvider: {openai: {allow: ['read'], alsoAllow: ['exec'], profile: 'coding'}}},
              channels: {x: {toolsBySender: {a: {allow: ['read'], alsoAllow: ['browser']}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"tools": {"byProvider": {"openai": {"allow": ["read", "exec"], "alsoAllow": [],
                "profile": "coding"}}},
                "channels": {"x": {"toolsBySender": {"a": {"allow": ["read", "browser"],
                    "alsoAllow": []}}}}})
        );
    }
}
