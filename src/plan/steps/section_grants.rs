//! Step `profile_section_grants`: OpenClaw 2026.9.6's repair of tools scopes whose profile
//! filters out the grants of configured sections (`tools.exec`, `tools.fs`) that their `allow`
//! names. Such a scope gets an `allow` that says exactly what it had: the profile's tools its
//! `allow` (and `alsoAllow`) covers, its plugin entries and those section grants; `alsoAllow` is
//! merged in and deleted, and `profile` becomes `full`. Doctor walks the global scope, its
//! `byProvider` policies, then each agent's scope and `byProvider` policies, each seeing what the
//! walk changed before it; the step replays that walk on a copy of the config and plans what
//! changed in each scope it repaired.
use super::agents_entries::visited_agents;
use super::path::lookup;
use super::tool_policy::{ToolCatalog, own_list, provider_key, provider_lookup, set_list, unique};
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::migration::tool_catalog::SectionGrants;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};

type Path = Vec<String>;

/// What a scope inherits: the profile, and the `alsoAllow` extras (`None`: none inherited).
#[derive(Clone, Copy)]
struct Inherited<'a> {
    profile: Option<&'a str>,
    extras: Option<&'a [String]>,
}

/// A scope's lists as the repair reads them.
struct Lists {
    /// Its `allow`, then its own `alsoAllow` entries it lacks.
    allow: Vec<String>,
    /// Its own `alsoAllow` (when a list).
    own_extras: Option<Vec<String>>,
    /// The extras its profile takes: its own, else the inherited ones.
    extras: Vec<String>,
}

impl Lists {
    /// `None` when the scope's own `allow` is empty or no list: nothing to repair.
    fn of(scope: &Map<String, Value>, inherited: Inherited) -> Option<Lists> {
        let allow = list_of(scope, "allow").filter(|a| !a.is_empty())?;
        let own_extras = list_of(scope, "alsoAllow");
        let extras = own_extras.as_deref().or(inherited.extras);
        Some(Lists {
            extras: extras.unwrap_or_default().to_vec(),
            allow: unique(
                allow
                    .into_iter()
                    .chain(own_extras.iter().flatten().cloned()),
            ),
            own_extras,
        })
    }
}

/// The walk's fixed inputs.
struct Walk<'a> {
    catalog: &'a ToolCatalog,
    sections: &'a [SectionGrants],
}

pub fn run(
    ws: &mut Workspace,
    sections: &[SectionGrants],
    catalog: &ToolCatalog,
) -> Result<(), StepError> {
    let before = ws.config();
    let walk = Walk { catalog, sections };
    if !walk.any_section(before) {
        return Ok(());
    }
    let mut after = before.clone();
    let repaired = walk.all(&mut after);
    // What changed in each repaired scope: `allow` item by item (kept entries keep their
    // comments), `alsoAllow` removed, `profile` set.
    let mut changes: Vec<(Path, Option<Value>, Option<Value>)> = Vec::new();
    for at in repaired {
        let (Some(old), Some(new)) = (object_at(before, &at), object_at(&after, &at)) else {
            continue;
        };
        for key in ["allow", "alsoAllow", "profile"] {
            let (o, n) = (old.get(key), new.get(key));
            if o != n {
                let path = [at.clone(), vec![key.to_string()]].concat();
                changes.push((path, o.cloned(), n.cloned()));
            }
        }
    }
    for (path, old, new) in changes {
        match (old, new) {
            (Some(Value::Array(o)), Some(Value::Array(n))) => set_list(ws, &path, &o, &n)?,
            (Some(_), Some(n)) => ws.replace(CONFIG, pointer(&path), n)?,
            (None, Some(n)) => ws.add(CONFIG, pointer(&path), n)?,
            (Some(_), None) => ws.remove(CONFIG, pointer(&path))?,
            (None, None) => {}
        }
    }
    Ok(())
}

fn object_at<'v>(root: &'v Value, at: &[String]) -> Option<&'v Map<String, Value>> {
    lookup(root, at)?.as_object()
}

fn object_at_mut<'v>(root: &'v mut Value, at: &[String]) -> Option<&'v mut Map<String, Value>> {
    let found = at.iter().try_fold(root, |v, t| match v {
        Value::Object(m) => m.get_mut(t),
        Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    });
    found?.as_object_mut()
}

fn string_of<'v>(scope: Option<&'v Map<String, Value>>, key: &str) -> Option<&'v str> {
    scope?.get(key)?.as_str()
}

/// The strings of an array member (`None` when it is no array).
fn list_of(scope: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    let list = scope.get(key)?.as_array()?;
    Some(
        list.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    )
}

fn strings(list: Vec<String>) -> Value {
    Value::Array(list.into_iter().map(Value::String).collect())
}

impl Walk<'_> {
    /// Doctor's walk over `root`, changing it as doctor does; the scopes it repaired.
    fn all(&self, root: &mut Value) -> Vec<Path> {
        let mut repaired = Vec::new();
        let tools = vec!["tools".to_string()];
        let global = object_at(root, &tools).cloned();
        let profile = string_of(global.as_ref(), "profile").map(str::to_string);
        let extras = own_list(root.get("tools"), "alsoAllow").unwrap_or_default();
        let none = Inherited {
            profile: None,
            extras: None,
        };
        if let Some(scope) = object_at_mut(root, &tools)
            && self.repair(scope, none, None, true)
        {
            repaired.push(tools.clone());
        }
        let from_global = Inherited {
            profile: profile.as_deref(),
            extras: None,
        };
        self.providers(root, &tools, None, from_global, None, &mut repaired);
        for agent in visited_agents(root) {
            let at = [agent, tools.clone()].concat();
            let own = object_at(root, &at).cloned();
            // An agent with a profile of its own does not take the global sections.
            let mut granted = match string_of(own.as_ref(), "profile") {
                Some(_) => Vec::new(),
                None => global.as_ref().map(|g| self.granted(g)).unwrap_or_default(),
            };
            granted.extend(own.as_ref().map(|o| self.granted(o)).unwrap_or_default());
            let granted = unique(granted);
            let inherited = Inherited {
                profile: profile.as_deref(),
                extras: Some(&extras),
            };
            if let Some(scope) = object_at_mut(root, &at)
                && self.repair(scope, inherited, Some(&granted), true)
            {
                repaired.push(at.clone());
            }
            // Read after the repair (which may have made the agent `full`), as doctor does.
            let own_profile = string_of(object_at(root, &at), "profile").map(str::to_string);
            let agent_profile = own_profile.or_else(|| profile.clone());
            let global_providers = object_at(root, &tools)
                .and_then(|t| t.get("byProvider"))
                .and_then(Value::as_object)
                .cloned();
            let inherited = Inherited {
                profile: agent_profile.as_deref(),
                extras: None,
            };
            let granted = Some(granted.as_slice());
            let g = global_providers.as_ref();
            self.providers(root, &at, granted, inherited, g, &mut repaired);
        }
        repaired
    }

    /// Whether the global scope or an agent's configures a section: without one no scope has
    /// grants to lose, and the walk (which copies the config) is not needed.
    fn any_section(&self, root: &Value) -> bool {
        let tools = |at: Path| object_at(root, &[at, vec!["tools".to_string()]].concat());
        let mut scopes = visited_agents(root).into_iter().map(tools);
        tools(Vec::new()).is_some_and(|t| !self.granted(t).is_empty())
            || scopes.any(|t| t.is_some_and(|t| !self.granted(t).is_empty()))
    }

    /// The grants of the configured sections of a scope.
    fn granted(&self, scope: &Map<String, Value>) -> Vec<String> {
        let configured = self
            .sections
            .iter()
            .filter(|s| scope.get(&s.key).is_some_and(Value::is_object));
        unique(configured.flat_map(|s| s.grants.iter().cloned()))
    }

    /// The `byProvider` policies of the scope at `at`, each inheriting the profile and extras
    /// of the same provider's policy in `inherited_providers` (the global scope's, for an
    /// agent), else `inherited`'s profile. A policy is repaired only when it or the one it
    /// inherits names a profile. (Doctor also tries the inherited policies the scope lacks,
    /// but a policy without an `allow` of its own never needs the repair.)
    fn providers(
        &self,
        root: &mut Value,
        at: &Path,
        granted: Option<&[String]>,
        inherited: Inherited,
        inherited_providers: Option<&Map<String, Value>>,
        repaired: &mut Vec<Path>,
    ) {
        let Some(scope) = object_at(root, at) else {
            return;
        };
        let granted = granted.map_or_else(|| self.granted(scope), <[String]>::to_vec);
        if granted.is_empty() {
            return;
        }
        let Some(keys) = scope
            .get("byProvider")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
        else {
            return;
        };
        let lookup = inherited_providers.map(|m| provider_lookup(m, true));
        for key in keys.into_iter().filter(|k| !js::is_blocked_key(k)) {
            let from = lookup.as_ref().and_then(|l| {
                let n = provider_key(&key);
                let provider = n.find('/').filter(|&i| i > 0).map(|i| n[..i].to_string());
                [Some(n.clone()), provider]
                    .into_iter()
                    .flatten()
                    .find_map(|c| l.iter().find(|(k, _, _)| *k == c).map(|e| e.2))
            });
            let from = from.and_then(Value::as_object);
            let from_profile = string_of(from, "profile");
            let from_extras = from.and_then(|m| list_of(m, "alsoAllow"));
            let path = [at.clone(), vec!["byProvider".to_string(), key.clone()]].concat();
            let Some(policy) = object_at_mut(root, &path) else {
                continue;
            };
            let owns = policy.get("profile").is_some_and(Value::is_string);
            let materialize = owns || from_profile.is_some_and(|p| !p.is_empty());
            let this = Inherited {
                profile: from_profile.or(inherited.profile),
                extras: from_extras.as_deref(),
            };
            if self.repair(policy, this, Some(&granted), materialize) {
                repaired.push(path);
            }
        }
    }

    /// The section grants a scope's profile filters out although its `allow` names them: those
    /// of `granted` its `allow` and `alsoAllow` cover, that the profile (with the extras, its
    /// own or else inherited) does not grant or that its own `alsoAllow` names.
    fn filtered(
        &self,
        scope: &Map<String, Value>,
        inherited: Inherited,
        granted: &[String],
    ) -> Vec<String> {
        let c = self.catalog;
        let profile = string_of(Some(scope), "profile").or(inherited.profile);
        let Some(profile) = profile.filter(|p| !p.is_empty() && *p != "full") else {
            return Vec::new();
        };
        let Some(lists) = Lists::of(scope, inherited) else {
            return Vec::new();
        };
        let (explicit, own_extras, extras) = (&lists.allow, &lists.own_extras, &lists.extras);
        let by_profile = c.profile_with(profile, extras);
        let kept = |t: &&String| {
            c.allows(explicit, t)
                && (!c.allows_opt(by_profile.as_deref(), t)
                    || own_extras.as_ref().is_some_and(|e| c.allows(e, t)))
        };
        unique(granted.iter().filter(kept).cloned())
    }

    /// Repairs one scope (when `materialize`): a profile other than `full` filtering out some of
    /// the section grants its non-empty `allow` names. Whether it changed.
    fn repair(
        &self,
        scope: &mut Map<String, Value>,
        inherited: Inherited,
        granted: Option<&[String]>,
        materialize: bool,
    ) -> bool {
        let Some(profile) = string_of(Some(scope), "profile")
            .or(inherited.profile)
            .filter(|p| materialize && !p.is_empty())
            .map(str::to_string)
        else {
            return false;
        };
        let granted = granted.map_or_else(|| self.granted(scope), <[String]>::to_vec);
        let repair = self.filtered(scope, inherited, &granted);
        let lists = Lists::of(scope, inherited);
        let Some(lists) = lists.filter(|_| !repair.is_empty() && profile != "full") else {
            return false;
        };
        let new_allow = self.bound(&profile, &lists.extras, &lists.allow, repair);
        scope.insert("allow".into(), strings(new_allow));
        if lists.own_extras.is_some() {
            scope.shift_remove("alsoAllow");
        }
        scope.insert("profile".into(), Value::String("full".into()));
        true
    }

    /// The `allow` that grants under `full` what the scope had: the profile's tools (with its
    /// extras) that `allow` covers (all of `allow` when the profile grants `*`), then the
    /// entries of `allow` that are not core tools and cover none of the profile's (plugin
    /// tools), then the repaired section grants.
    fn bound(
        &self,
        profile: &str,
        extras: &[String],
        allow: &[String],
        repair: Vec<String>,
    ) -> Vec<String> {
        let c = self.catalog;
        let granted = c.expand(&c.profile_with(profile, extras).unwrap_or_default());
        let expanded = c.expand(allow);
        let core: Vec<String> = if granted.iter().any(|t| t == "*") {
            expanded.clone()
        } else {
            granted
                .iter()
                .filter(|t| c.allows(allow, t))
                .cloned()
                .collect()
        };
        let plugins = expanded.into_iter().filter(|e| {
            e != "*"
                && !c.is_core(e)
                && !granted.iter().any(|t| c.allows(std::slice::from_ref(e), t))
        });
        unique(core.into_iter().chain(plugins).chain(repair))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "profile_section_grants",
        "sections": [{"key": "exec", "grants": ["exec", "process"]},
                     {"key": "fs", "grants": ["read", "write", "edit"]}],
        "catalog": {
          "profiles": {"minimal": ["session_status", "gateway"],
                       "coding": ["read", "write", "edit", "apply_patch", "exec", "process", "bundle-mcp"],
                       "messaging": ["message", "bundle-mcp"], "full": ["*"]},
          "groups": {"group:fs": ["read", "write", "edit", "apply_patch"]},
          "aliases": {"bash": "exec"},
          "core_tools": ["read", "write", "edit", "apply_patch", "exec", "process", "message",
                         "session_status", "gateway"]}}"#;

    #[test]
    fn the_profile_covered_tools_then_plugins_then_the_filtered_grants() {
        let out = after(
            "{tools: {profile: 'messaging', allow: ['bash', 'read', 'message', 'myplug'],
                      alsoAllow: ['x'], exec: {}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"tools": {"profile": "full", "allow": ["message", "x", "myplug", "exec"],
                "exec": {}}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn agents_inherit_the_profile_and_the_global_sections() {
        let out = after(
            "{tools: {profile: 'minimal', fs: {}},
              agents: {entries: {a: {tools: {allow: ['write', 'group:fs']}},
                                 b: {tools: {profile: 'coding', allow: ['write']}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["agents"]["entries"],
            json!({"a": {"tools": {"allow": ["read", "write", "edit"], "profile": "full"}},
                   "b": {"tools": {"profile": "coding", "allow": ["write"]}}})
        );
    }

    #[test]
    fn provider_policies_need_a_profile_and_see_the_global_repair() {
        let text = "{tools: {profile: 'coding', exec: {},
            byProvider: {openai: {profile: 'messaging', allow: ['exec']}, anthropic: {allow: ['exec']}}},
            agents: {list: [{id: 'a', tools: {byProvider: {OpenAI: {allow: ['exec', 'read']}}}}]}}";
        let out = after(text, STEP);
        // The agent's OpenAI policy inherits the global one only after its repair (`full`).
        assert_eq!(
            value(&out),
            json!({"tools": {"profile": "coding", "exec": {},
                "byProvider": {"openai": {"profile": "full", "allow": ["exec"]},
                    "anthropic": {"allow": ["exec"]}}},
                "agents": {"list": [{"id": "a", "tools": {"byProvider": {"OpenAI":
                    {"allow": ["exec", "read"]}}}}]}})
        );
    }

    #[test]
    fn nothing_when_the_profile_grants_them_or_no_section_is_configured() {
        for text in [
            "{tools: {profile: 'coding', allow: ['exec'], exec: {}}}",
            "{tools: {profile: 'full', allow: ['exec'], exec: {}}}",
            "{tools: {profile: 'messaging', allow: [], exec: {}}}",
            "{tools: {profile: 'messaging', allow: ['exec'], exec: true}}",
            "{tools: {allow: ['exec'], exec: {}}}",
            "{tools: {profile: 'messaging', allow: ['read'], exec: {}}}",
        ] {
            plans_nothing(text, STEP);
        }
    }
}
