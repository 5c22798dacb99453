//! Step `memory_qmd_retired`: OpenClaw 2026.9.6's doctor removes the retired QMD memory backend
//! (`memory.backend`, `memory.qmd`, `memory.search.qmd`, and `memory.search.qmd` of
//! `agents.defaults` and of every agent), carrying over what still means something:
//! `qmd.sessions.enabled: true` becomes `experimental.sessionMemory` plus a `sessions` source of
//! `memory.search`, and the QMD `paths`/`extraCollections` are appended to
//! `memory.search.extraPaths` (deduplicated by trimmed path and pattern). A QMD block in
//! `agents.defaults` also merges the rest of `agents.defaults.memory.search` up into the root's
//! `memory.search` (the root's values win) and drops `agents.defaults.memory`. Same order as
//! doctor: the root, then the defaults, then each agent.
use super::agents_entries::visited_agents;
use super::move_key::merge_missing;
use super::path::lookup;
use super::rewrite::plan_diff;
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{FindingKind, StepError, Workspace};
use serde_json::{Map, Value, json};

fn with(base: &[String], keys: &[&str]) -> Vec<String> {
    let mut out = base.to_vec();
    out.extend(keys.iter().map(|k| k.to_string()));
    out
}

/// Why the step stops: doctor itself would fail on the install (it throws; the step plans
/// nothing then and says why), or a change could not be planned.
enum Stop {
    Fails(String),
    Step(StepError),
}

impl From<StepError> for Stop {
    fn from(e: StepError) -> Self {
        Stop::Step(e)
    }
}

/// Makes the value at `at` an object, as doctor's `ensureRecord` does: added when absent,
/// replaced when it is anything else. Its parent is an object.
fn ensure_object(ws: &mut Workspace, at: &[String]) -> Result<(), StepError> {
    match lookup(ws.config(), at) {
        Some(Value::Object(_)) => Ok(()),
        Some(_) => ws.replace(CONFIG, pointer(at), json!({})),
        None => ws.add(CONFIG, pointer(at), json!({})),
    }
}

/// Doctor's `deleteRetiredPath`: removes `keys` below `base` when every level on the way is an
/// object, then each ancestor below `base` the removal left empty. Whether it removed anything.
fn delete_retired(ws: &mut Workspace, base: &[String], keys: &[&str]) -> Result<(), StepError> {
    let at = with(base, keys);
    let reachable = (base.len()..at.len())
        .all(|i| matches!(lookup(ws.config(), &at[..i]), Some(Value::Object(_))));
    if !reachable || lookup(ws.config(), &at).is_none() {
        return Ok(());
    }
    ws.remove(CONFIG, pointer(&at))?;
    for end in (base.len() + 1..at.len()).rev() {
        match lookup(ws.config(), &at[..end]) {
            Some(Value::Object(m)) if m.is_empty() => ws.remove(CONFIG, pointer(&at[..end]))?,
            _ => break,
        }
    }
    Ok(())
}

/// `qmd.sessions.enabled: true` of a QMD block: `experimental.sessionMemory: true` (unless set,
/// or `experimental` is not an object) and a `sessions` source in the `memory.search` of `scope`.
fn sessions(ws: &mut Workspace, qmd: Option<&Value>, scope: &[String]) -> Result<(), StepError> {
    let enabled = qmd
        .and_then(|q| q.get("sessions"))
        .and_then(Value::as_object)
        .and_then(|s| s.get("enabled"));
    if enabled != Some(&Value::Bool(true)) {
        return Ok(());
    }
    let search = with(scope, &["memory", "search"]);
    ensure_object(ws, &search[..search.len() - 1])?;
    ensure_object(ws, &search)?;
    let current = lookup(ws.config(), &search).cloned().unwrap_or_default();
    match current.get("experimental") {
        None => ws.add(
            CONFIG,
            pointer(&with(&search, &["experimental"])),
            json!({"sessionMemory": true}),
        )?,
        Some(Value::Object(e)) if !e.contains_key("sessionMemory") => ws.add(
            CONFIG,
            pointer(&with(&search, &["experimental", "sessionMemory"])),
            json!(true),
        )?,
        Some(_) => {}
    }
    let sources = with(&search, &["sources"]);
    match current.get("sources") {
        None => ws.add(CONFIG, pointer(&sources), json!(["memory", "sessions"]))?,
        Some(Value::Array(a)) if a.is_empty() => {
            ws.replace(CONFIG, pointer(&sources), json!(["memory", "sessions"]))?
        }
        Some(Value::Array(a)) if !a.contains(&json!("sessions")) => {
            let end = with(&sources, &[&a.len().to_string()]);
            ws.add(CONFIG, pointer(&end), json!("sessions"))?
        }
        Some(_) => {}
    }
    Ok(())
}

/// The external paths a QMD list names: entries with a non-blank `path`, as `path` or, with a
/// non-blank `pattern`, `{path, pattern}` (both trimmed).
fn qmd_paths(list: Option<&Value>) -> Vec<Value> {
    let Some(Value::Array(items)) = list else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|e| {
            let path = js::trim(e.get("path")?.as_str()?);
            let pattern = e.get("pattern").and_then(Value::as_str).map(js::trim);
            match pattern {
                _ if path.is_empty() => None,
                Some(p) if !p.is_empty() => Some(json!({"path": path, "pattern": p})),
                _ => Some(json!(path)),
            }
        })
        .collect()
}

/// The identity doctor deduplicates extra paths by: the path and the pattern.
fn key(entry: &Value) -> String {
    match entry {
        Value::String(p) => format!("{p}\0"),
        e => format!(
            "{}\0{}",
            e["path"].as_str().unwrap_or_default(),
            e["pattern"].as_str().unwrap_or_default()
        ),
    }
}

/// An `extraPaths` list as doctor normalises it before appending: strings and entries with a
/// string `path`, trimmed, blank ones dropped, repeats of a path and pattern dropped; an entry
/// keeps only `path` and a non-blank `pattern` (a string otherwise).
fn normalized(list: Option<&Value>, at: &[String]) -> Result<Vec<Value>, Stop> {
    let Some(Value::Array(items)) = list else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        let (path, pattern) = match item {
            Value::String(p) => (js::trim(p), ""),
            Value::Object(e) => {
                let Some(Value::String(p)) = e.get("path") else {
                    continue;
                };
                let pattern = match e.get("pattern") {
                    None | Some(Value::Null) => "",
                    Some(Value::String(s)) => js::trim(s),
                    Some(_) => {
                        return Err(Stop::Fails(format!(
                            "{}: the entry of path {p:?} has a pattern that is not a string",
                            at.join(".")
                        )));
                    }
                };
                (js::trim(p), pattern)
            }
            _ => continue,
        };
        if path.is_empty() {
            continue;
        }
        let entry = if pattern.is_empty() {
            json!(path)
        } else {
            json!({"path": path, "pattern": pattern})
        };
        if !out.iter().any(|e| key(e) == key(&entry)) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// Appends the QMD paths `entries` to the `memory.search.extraPaths` of `scope` (normalised
/// first), as doctor does when at least one of them is new there.
fn extra_paths(ws: &mut Workspace, entries: Vec<Value>, scope: &[String]) -> Result<(), Stop> {
    if entries.is_empty() {
        return Ok(());
    }
    let search = with(scope, &["memory", "search"]);
    let at = with(&search, &["extraPaths"]);
    let current = lookup(ws.config(), &at).cloned();
    let mut next = normalized(current.as_ref(), &at)?;
    let before = next.len();
    for e in entries {
        if !next.iter().any(|n| key(n) == key(&e)) {
            next.push(e);
        }
    }
    if next.len() == before {
        return Ok(());
    }
    ensure_object(ws, &search[..search.len() - 1])?;
    ensure_object(ws, &search)?;
    match lookup(ws.config(), &at).cloned() {
        Some(old) => plan_diff(ws, &mut at.clone(), &old, &Value::Array(next))?,
        None => ws.add(CONFIG, pointer(&at), Value::Array(next))?,
    }
    Ok(())
}

fn object_at<'v>(config: &'v Value, at: &[String]) -> Option<&'v Map<String, Value>> {
    lookup(config, at).and_then(Value::as_object)
}

/// A copy of the object at `at`, if it is one.
fn object_copy(config: &Value, at: &[String]) -> Option<Value> {
    object_at(config, at).map(|m| Value::Object(m.clone()))
}

fn migrate(ws: &mut Workspace) -> Result<(), Stop> {
    let root: Vec<String> = Vec::new();
    let config = ws.config();
    let qmd = object_copy(config, &with(&root, &["memory", "qmd"]));
    let search_qmd = object_copy(config, &with(&root, &["memory", "search", "qmd"]));
    sessions(ws, qmd.as_ref(), &root)?;
    sessions(ws, search_qmd.as_ref(), &root)?;
    let mut found = qmd_paths(qmd.as_ref().and_then(|q| q.get("paths")));
    found.extend(qmd_paths(
        search_qmd.as_ref().and_then(|q| q.get("extraCollections")),
    ));
    extra_paths(ws, found, &root)?;
    for keys in [
        &["memory", "backend"][..],
        &["memory", "qmd"],
        &["memory", "search", "qmd"],
    ] {
        delete_retired(ws, &root, keys)?;
    }

    let defaults = with(&root, &["agents", "defaults"]);
    let defaults_search = with(&defaults, &["memory", "search"]);
    let in_defaults = object_at(ws.config(), &defaults_search)
        .and_then(|s| s.get("qmd"))
        .cloned();
    if let Some(q) = in_defaults {
        delete_retired(ws, &defaults, &["memory", "search", "qmd"])?;
        let search = with(&root, &["memory", "search"]);
        ensure_object(ws, &search[..1])?;
        ensure_object(ws, &search)?;
        if lookup(ws.config(), &defaults_search).is_some() {
            merge_missing(ws, &defaults_search, &search, &[])?;
        }
        let memory = with(&defaults, &["memory"]);
        if lookup(ws.config(), &memory).is_some() {
            ws.remove(CONFIG, pointer(&memory))?;
        }
        let q = q.is_object().then_some(q);
        sessions(ws, q.as_ref(), &root)?;
        extra_paths(
            ws,
            qmd_paths(q.as_ref().and_then(|q| q.get("extraCollections"))),
            &root,
        )?;
    }

    for scope in visited_agents(ws.config()) {
        let q = object_copy(ws.config(), &with(&scope, &["memory", "search", "qmd"]));
        sessions(ws, q.as_ref(), &scope)?;
        extra_paths(
            ws,
            qmd_paths(q.as_ref().and_then(|q| q.get("extraCollections"))),
            &scope,
        )?;
        delete_retired(ws, &scope, &["memory", "search", "qmd"])?;
    }
    Ok(())
}

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    let why = match migrate(ws) {
        Ok(()) => return Ok(()),
        Err(Stop::Step(e)) => return Err(e),
        Err(Stop::Fails(why)) => why,
    };
    ws.finding(
        FindingKind::Conflict,
        None,
        format!(
            "{why}; OpenClaw's doctor stops with an error on it, so the retired QMD memory \
                 settings were left as they are"
        ),
        Some(
            "make each pattern of memory.search.extraPaths (and of each agent's) a string, \
                 or remove it, then run migrate again"
                .to_string(),
        ),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, findings, plans_nothing, value};
    use crate::plan::workspace::FindingKind;
    use serde_json::json;

    const STEP: &str = r#"{"kind": "memory_qmd_retired"}"#;

    #[test]
    fn root_blocks_carry_sessions_and_paths_then_go() {
        let out = after(
            "{memory: {
               // the old engine
               backend: 'qmd',
               qmd: {sessions: {enabled: true}, paths: [{path: ' n ', pattern: ' *.md '}, {path: 'b'}, {path: ' '}]},
               search: {sources: ['memory'], extraPaths: [' a ', {path: 'b', pattern: ''}, 3], qmd: {extraCollections: [{path: 'a'}]}},
             }}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"memory": {"search": {
                "sources": ["memory", "sessions"],
                "experimental": {"sessionMemory": true},
                "extraPaths": ["a", "b", {"path": "n", "pattern": "*.md"}],
            }}})
        );
        assert!(!out.contains("the old engine"));
        plans_nothing(&out, STEP);
    }

    #[test]
    fn nothing_new_leaves_extra_paths_as_written() {
        let out = after(
            "{memory: {qmd: {paths: [{path: 'a'}]}, search: {extraPaths: [' a ', 5]}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"memory": {"search": {"extraPaths": [" a ", 5]}}})
        );
    }

    #[test]
    fn a_defaults_block_merges_its_search_up_and_drops_the_defaults_memory() {
        let out = after(
            "{memory: {search: {provider: 'openai', experimental: {a: 1}}},
              agents: {defaults: {memory: {other: 1, search: {
                provider: 'local',
                // keep this
                sources: ['x'],
                experimental: {b: 2},
                qmd: {sessions: {enabled: true}, extraCollections: [{path: 't'}]},
              }}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({
                "memory": {"search": {
                    "provider": "openai",
                    "experimental": {"a": 1, "b": 2, "sessionMemory": true},
                    "sources": ["x", "sessions"],
                    "extraPaths": ["t"],
                }},
                "agents": {"defaults": {}},
            })
        );
        assert!(out.contains("keep this"));
        // A root memory that is not an object is replaced by the merged search.
        let out = after(
            "{memory: 1, agents: {defaults: {memory: {search: {qmd: {}}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"memory": {"search": {}}, "agents": {"defaults": {}}})
        );
    }

    #[test]
    fn each_agent_keeps_its_own_paths_and_emptied_objects_go() {
        let out = after(
            "{agents: {entries: {
               a: {memory: {search: {sources: [], qmd: {sessions: {enabled: true}, extraCollections: [{path: '/a'}]}}}},
               b: {memory: {search: {qmd: true}}},
             }, list: [{id: 'c', memory: {search: {qmd: {}}}}]}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"agents": {"entries": {
                "a": {"memory": {"search": {
                    "sources": ["memory", "sessions"],
                    "experimental": {"sessionMemory": true},
                    "extraPaths": ["/a"],
                }}},
                "b": {},
            }, "list": [{"id": "c", "memory": {"search": {"qmd": {}}}}]}})
        );
        let out = after(
            "{agents: {list: [{id: 'c', memory: {search: {qmd: {}}}}]}}",
            STEP,
        );
        assert_eq!(value(&out), json!({"agents": {"list": [{"id": "c"}]}}));
    }

    #[test]
    fn a_pattern_doctor_cannot_trim_is_a_conflict() {
        let text = "{memory: {search: {extraPaths: [{path: 'a', pattern: 5}], qmd: {extraCollections: [{path: 'b'}]}}}}";
        let found = findings(text, STEP);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, FindingKind::Conflict);
        assert!(found[0].message.contains("memory.search.extraPaths"));
        // Without a path to append, doctor never reads the list.
        assert!(
            findings(
                "{memory: {search: {extraPaths: [{path: 'a', pattern: 5}], qmd: {}}}}",
                STEP
            )
            .is_empty()
        );
    }
}
