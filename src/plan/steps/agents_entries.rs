//! Step `agents_list_to_entries`: turns the `agents.list` array into the keyed
//! `agents.entries` map as OpenClaw 2026.9.6's doctor does (entries that are not objects
//! dropped, ids normalised and deduplicated, the `id` key removed), and pins the first agent's
//! workspace where doctor does. When doctor would take that pin from the running user's home
//! and profile (not from the file), it plans nothing and reports a conflict instead.
use super::path::lookup;
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{FindingKind, StepError, Workspace};
use serde_json::Value;
use std::collections::HashSet;

/// The agent id OpenClaw uses when an id normalises to nothing.
const DEFAULT_AGENT_ID: &str = "main";

/// OpenClaw's agent-id normalisation: a valid id (`[a-z0-9][a-z0-9_-]{0,63}`, any case) is
/// lower-cased; otherwise lower-cased, every run of other characters made one `-`, dashes
/// trimmed at both ends, cut to 64 characters; nothing left gives `main`.
pub fn normalize_agent_id(raw: &str) -> String {
    let trimmed = js::trim(raw);
    let lower = trimmed.to_lowercase();
    let valid = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.len() <= 64
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if valid(trimmed) {
        return lower;
    }
    let mut out = String::new();
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            out.push(c);
        } else if !out.ends_with('\u{0}') {
            // A run of invalid characters becomes one dash (marked, then replaced below).
            out.push('\u{0}');
        }
    }
    let out = out.replace('\u{0}', "-");
    let out: String = out.trim_matches('-').chars().take(64).collect();
    if out.is_empty() {
        DEFAULT_AGENT_ID.to_string()
    } else {
        out
    }
}

/// The agents doctor's walks visit: the object entries of `agents.entries` when that is an
/// object, else of `agents.list`, those under a key (or with an `id`) JavaScript will not set
/// aside ([`js::is_blocked_key`]); each by its path.
pub fn visited_agents(config: &Value) -> Vec<Vec<String>> {
    let Some(agents) = config.get("agents").and_then(Value::as_object) else {
        return Vec::new();
    };
    let at = |kind: &str, i: String| vec!["agents".to_string(), kind.to_string(), i];
    if let Some(entries) = agents.get("entries").and_then(Value::as_object) {
        return entries
            .iter()
            .filter(|(k, v)| !js::is_blocked_key(k) && v.is_object())
            .map(|(k, _)| at("entries", k.clone()))
            .collect();
    }
    let list = agents.get("list").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, v)| {
            v.is_object()
                && !v
                    .get("id")
                    .and_then(Value::as_str)
                    .is_some_and(js::is_blocked_key)
        })
        .map(|(i, _)| at("list", i.to_string()))
        .collect()
}

/// An `agents.list` read as OpenClaw 2026.9.6 reads a roster it does not repair (its
/// `parseLegacyAgentRoster`): every entry an object whose `id` is already canonical (a string,
/// untrimmed-free, equal to its normalised form) and unique; each as (id, entry). Anything else
/// is no roster at all (`None`).
pub fn strict_roster(list: &[Value]) -> Option<Vec<(&str, &serde_json::Map<String, Value>)>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for v in list {
        let entry = v.as_object()?;
        let id = entry.get("id")?.as_str()?;
        if id.is_empty() || js::trim(id) != id || normalize_agent_id(id) != id || !seen.insert(id) {
            return None;
        }
        out.push((id, entry));
    }
    Some(out)
}

/// Where an entry of the list goes: its index in the list and its key in `agents.entries`.
struct Projected {
    index: usize,
    id: String,
}

/// The entries doctor keeps, in order, with the keys it gives them.
fn project(list: &[Value]) -> Vec<Projected> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (index, v) in list.iter().enumerate() {
        let Value::Object(entry) = v else { continue };
        let raw = match entry.get("id") {
            Some(Value::String(s)) if !js::trim(s).is_empty() => js::trim(s),
            _ => "agent",
        };
        let requested = normalize_agent_id(raw);
        let mut id = requested.clone();
        let mut suffix = 2;
        while seen.contains(&id) {
            id = format!("{requested}-{suffix}");
            suffix += 1;
        }
        seen.insert(id.clone());
        out.push(Projected { index, id });
    }
    out
}

/// What the first agent's workspace is pinned to, if doctor pins it.
enum Pin {
    None,
    /// From `agents.defaults.workspace` (trimmed).
    Config(String),
    /// From the running user's environment (home, profile, `OPENCLAW_*_DIR`): not the file's.
    Host,
}

fn workspace_pin(
    agents: &serde_json::Map<String, Value>,
    list: &[Value],
    kept: &[Projected],
) -> Pin {
    let entry = |p: &Projected| {
        list[p.index]
            .as_object()
            .expect("projected entries are objects")
    };
    let markerless = kept
        .iter()
        .all(|p| matches!(entry(p).get("default"), None | Some(Value::Bool(false))));
    if agents.contains_key("ownership") || kept.len() < 2 || !markerless {
        return Pin::None;
    }
    let first = entry(&kept[0]);
    let unset = match first.get("workspace") {
        None => true,
        Some(Value::String(s)) => js::trim(s).is_empty(),
        Some(_) => false,
    };
    if !unset {
        return Pin::None;
    }
    match agents
        .get("defaults")
        .and_then(|d| d.get("workspace"))
        .and_then(Value::as_str)
        .map(str::trim)
    {
        Some(w) if !w.is_empty() => Pin::Config(w.to_string()),
        _ => Pin::Host,
    }
}

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    let at = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let Some(Value::Object(agents)) = lookup(ws.config(), &at(&["agents"])) else {
        return Ok(());
    };
    let Some(Value::Array(list)) = agents.get("list") else {
        return Ok(());
    };
    if agents.get("entries").is_some_and(Value::is_object) {
        return ws.remove(CONFIG, pointer(&at(&["agents", "list"])));
    }
    let (agents, list) = (agents.clone(), list.clone());
    let kept = project(&list);
    let pin = match workspace_pin(&agents, &list, &kept) {
        Pin::Host => {
            ws.finding(
                FindingKind::Conflict,
                None,
                "agents.list holds several agents, none marked default, and the first has no \
                 workspace: OpenClaw's doctor would pin it to a workspace path it resolves from \
                 the running user's home and profile (OPENCLAW_WORKSPACE_DIR, OPENCLAW_STATE_DIR, \
                 OPENCLAW_PROFILE), which the config does not say; agents.list was left as it is"
                    .to_string(),
                Some(
                    "set the first agent's workspace (or agents.defaults.workspace), or mark one \
                     agent \"default\": true, then run migrate again"
                        .to_string(),
                ),
            );
            return Ok(());
        }
        Pin::Config(w) => Some(w),
        Pin::None => None,
    };
    let entries_at = at(&["agents", "entries"]);
    ws.add(
        CONFIG,
        pointer(&entries_at),
        Value::Object(Default::default()),
    )?;
    // Move each kept entry out of the list (front first: what is left shifts down), dropping
    // the malformed ones met on the way.
    let mut next = 0;
    for p in &kept {
        for _ in next..p.index {
            ws.remove(CONFIG, pointer(&at(&["agents", "list", "0"])))?;
        }
        if list[p.index].get("id").is_some() {
            ws.remove(CONFIG, pointer(&at(&["agents", "list", "0", "id"])))?;
        }
        let dst = [entries_at.clone(), vec![p.id.clone()]].concat();
        ws.move_value(
            CONFIG,
            pointer(&at(&["agents", "list", "0"])),
            pointer(&dst),
        )?;
        next = p.index + 1;
    }
    if let (Some(w), Some(first)) = (pin, kept.first()) {
        let path = pointer(
            &[
                entries_at.clone(),
                vec![first.id.clone(), "workspace".into()],
            ]
            .concat(),
        );
        if list[first.index].get("workspace").is_some() {
            ws.replace(CONFIG, path, Value::String(w))?;
        } else {
            ws.add(CONFIG, path, Value::String(w))?;
        }
    }
    ws.remove(CONFIG, pointer(&at(&["agents", "list"])))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing};
    use super::normalize_agent_id;
    use serde_json::json;

    const STEP: &str = r#"{"kind": "agents_list_to_entries"}"#;

    fn parsed(text: &str) -> serde_json::Value {
        crate::document::parse(text, crate::document::FileKind::Config).unwrap()
    }

    #[test]
    fn ids_normalise_as_openclaw_does() {
        assert_eq!(normalize_agent_id(" Ops "), "ops");
        assert_eq!(normalize_agent_id("My Agent!!x"), "my-agent-x");
        assert_eq!(normalize_agent_id("--a.b--"), "a-b");
        assert_eq!(normalize_agent_id("_x"), "_x");
        assert_eq!(normalize_agent_id("!!!"), "main");
        assert_eq!(normalize_agent_id(&"a".repeat(70)).len(), 64);
    }

    #[test]
    fn keyed_entries_with_ids_deduplicated_and_malformed_dropped() {
        let out = after(
            "{agents: {list: [{id: 'A', x: 1, workspace: '/a'}, 'odd', {id: 'a'}, {name: 'n'}], defaults: {}}}",
            STEP,
        );
        assert_eq!(
            parsed(&out),
            json!({"agents": {"defaults": {}, "entries": {"a": {"x": 1, "workspace": "/a"}, "a-2": {}, "agent": {"name": "n"}}}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn entries_already_set_drop_the_list() {
        let out = after("{agents: {entries: {b: {}}, list: [{id: 'a'}]}}", STEP);
        assert_eq!(parsed(&out), json!({"agents": {"entries": {"b": {}}}}));
    }

    #[test]
    fn the_workspace_pin_comes_from_the_defaults_or_is_refused() {
        let out = after(
            "{agents: {defaults: {workspace: ' /w '}, list: [{id: 'a', workspace: ''}, {id: 'b'}]}}",
            STEP,
        );
        assert_eq!(
            parsed(&out),
            json!({"agents": {"defaults": {"workspace": " /w "}, "entries": {"a": {"workspace": "/w"}, "b": {}}}})
        );
        // One agent, a default, an explicit ownership or a workspace: no pin needed.
        for text in [
            "{agents: {list: [{id: 'a'}]}}",
            "{agents: {list: [{id: 'a'}, {id: 'b', default: true}]}}",
            "{agents: {ownership: 'explicit', list: [{id: 'a'}, {id: 'b'}]}}",
            "{agents: {list: [{id: 'a', workspace: '/x'}, {id: 'b'}]}}",
        ] {
            assert!(!parsed(&after(text, STEP))["agents"]["entries"].is_null());
        }
        // Doctor would take the pin from the host: nothing planned.
        plans_nothing("{agents: {list: [{id: 'a'}, {id: 'b'}]}}", STEP);
        plans_nothing(
            "{agents: {list: [{id: 'a'}, {id: 'b', default: false}]}}",
            STEP,
        );
    }
}
