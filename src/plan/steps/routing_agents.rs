//! Step `routing_agents_to_list`: 2026.2.3's doctor turned the keyed `routing.agents.<id>` map
//! into `agents.list[]` entries and `routing.defaultAgentId` into the entry's `default: true`.
//! Data cannot say it: a map key becomes an `id` value, entries are found by that id or created
//! in the map's order, and three parts of each agent land in different places of its entry.
use super::default_agent::entry_id;
use super::path::lookup;
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value, json};

/// Doctor's `mergeMissing`: what `target` lacks is taken from `source`, objects on both sides
/// merge the same way, the target winning.
fn merge_missing(target: &mut Map<String, Value>, source: &Map<String, Value>) {
    for (k, v) in source {
        match (target.get_mut(k), v) {
            (None, _) => {
                target.insert(k.clone(), v.clone());
            }
            (Some(Value::Object(t)), Value::Object(s)) => merge_missing(t, s),
            _ => {}
        }
    }
}

/// Doctor's `ensureRecord`: the object at `key`, made one when it holds anything else.
fn record<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !m.get(key).is_some_and(Value::is_object) {
        m.insert(key.to_string(), json!({}));
    }
    m.get_mut(key)
        .and_then(Value::as_object_mut)
        .expect("just made an object")
}

/// One legacy agent folded into its list entry, as doctor does it.
fn fold(target: &mut Map<String, Value>, legacy: &Map<String, Value>) {
    let mut rest = legacy.clone();
    if let Some(patterns) = rest.remove("mentionPatterns") {
        let group = record(target, "groupChat");
        group.entry("mentionPatterns").or_insert(patterns);
    }
    if let Some(Value::Object(group)) = rest.get("groupChat").cloned() {
        merge_missing(record(target, "groupChat"), &group);
        rest.remove("groupChat");
    }
    if let Some(Value::Object(sandbox)) = rest.get_mut("sandbox")
        && let Some(Value::Object(tools)) = sandbox.remove("tools")
    {
        let t = record(record(record(target, "tools"), "sandbox"), "tools");
        merge_missing(t, &tools);
    }
    merge_missing(target, &rest);
}

/// Plans the operations that turn `old` (at `toks`) into `new`, member by member, so what
/// does not change keeps its text and comments.
pub(super) fn write(
    ws: &mut Workspace,
    toks: &[String],
    old: &Value,
    new: &Value,
) -> Result<(), StepError> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for k in o.keys().filter(|k| !n.contains_key(*k)) {
                let mut at = toks.to_vec();
                at.push(k.clone());
                ws.remove(CONFIG, pointer(&at))?;
            }
            for (k, v) in n {
                let mut at = toks.to_vec();
                at.push(k.clone());
                match o.get(k) {
                    Some(ov) if ov == v => {}
                    Some(ov) => write(ws, &at, ov, v)?,
                    None => ws.add(CONFIG, pointer(&at), v.clone())?,
                }
            }
            Ok(())
        }
        _ if old == new => Ok(()),
        _ => ws.replace(CONFIG, pointer(toks), new.clone()),
    }
}

fn toks(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    let config = ws.config().clone();
    let Some(Value::Object(routing)) = config.get("routing") else {
        return Ok(());
    };
    let legacy = routing.get("agents").and_then(Value::as_object);
    let default_id = routing
        .get("defaultAgentId")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if legacy.is_none() && default_id.is_none() {
        return Ok(());
    }
    let old_list = config.pointer("/agents/list").and_then(Value::as_array);
    let mut list: Vec<Value> = old_list.cloned().unwrap_or_default();
    let find_or_add = |list: &mut Vec<Value>, id: &str| -> usize {
        list.iter()
            .position(|e| entry_id(e) == Some(id))
            .unwrap_or_else(|| {
                list.push(json!({"id": id}));
                list.len() - 1
            })
    };
    // The legacy key each new entry was made from: its object moves there, with its comments.
    let mut made_from: Vec<Option<&String>> = vec![None; list.len()];
    for (raw_id, entry) in legacy.into_iter().flatten() {
        let (id, Value::Object(entry)) = (js::trim(raw_id), entry) else {
            continue;
        };
        if id.is_empty() {
            continue;
        }
        let i = find_or_add(&mut list, id);
        if i == made_from.len() {
            made_from.push(Some(raw_id));
        }
        fold(list[i].as_object_mut().expect("an entry with an id"), entry);
    }
    if let Some(id) = default_id
        && !list.iter().any(|e| {
            e.as_object()
                .is_some_and(|m| m.get("default") == Some(&json!(true)))
        })
    {
        let i = find_or_add(&mut list, id);
        list[i]
            .as_object_mut()
            .expect("an entry with an id")
            .insert("default".into(), json!(true));
    }
    // The config's agents first, then the routing keys go.
    match config.get("agents") {
        Some(Value::Object(_)) => {}
        Some(_) => ws.replace(CONFIG, "/agents".into(), json!({}))?,
        None => ws.add(CONFIG, "/agents".into(), json!({}))?,
    }
    if !list.is_empty() {
        let at = toks(&["agents", "list"]);
        let old = match (old_list, lookup(ws.config(), &at)) {
            (Some(old), _) => old.as_slice(),
            (None, Some(_)) => {
                ws.replace(CONFIG, pointer(&at), json!([]))?;
                &[]
            }
            (None, None) => {
                ws.add(CONFIG, pointer(&at), json!([]))?;
                &[]
            }
        };
        for (i, new) in list.iter().enumerate() {
            let entry = toks(&["agents", "list", &i.to_string()]);
            match (old.get(i), made_from.get(i).copied().flatten()) {
                (Some(o), _) => write(ws, &entry, o, new)?,
                (None, Some(key)) => {
                    // The legacy object moves in (its comments with it), then becomes the entry.
                    let from = toks(&["routing", "agents", key]);
                    let moved = lookup(ws.config(), &from).cloned().unwrap_or_default();
                    ws.move_value(CONFIG, pointer(&from), pointer(&entry))?;
                    write(ws, &entry, &moved, new)?;
                }
                (None, None) => ws.add(CONFIG, "/agents/list/-".into(), new.clone())?,
            }
        }
    }
    if legacy.is_some() {
        ws.remove(CONFIG, "/routing/agents".into())?;
    }
    if default_id.is_some() {
        ws.remove(CONFIG, "/routing/defaultAgentId".into())?;
    }
    if ws
        .config()
        .get("routing")
        .is_some_and(|r| r.as_object().is_some_and(Map::is_empty))
    {
        ws.remove(CONFIG, "/routing".into())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "routing_agents_to_list"}"#;

    #[test]
    fn legacy_agents_become_list_entries_in_order() {
        let out = after(
            "{routing: {defaultAgentId: ' fam ', agents: {main: {name: 'M'}, fam: {mentionPatterns: ['@f'], groupChat: {mentionPatterns: ['x'], historyLimit: 5}, sandbox: {mode: 'all', tools: {deny: ['exec']}}}, ' ': {name: 'skipped'}, bad: 1}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"agents": {"list": [
                {"id": "main", "name": "M"},
                {"id": "fam", "default": true,
                 "groupChat": {"mentionPatterns": ["@f"], "historyLimit": 5},
                 "tools": {"sandbox": {"tools": {"deny": ["exec"]}}},
                 "sandbox": {"mode": "all"}},
            ]}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn a_new_entry_keeps_the_comments_of_its_legacy_agent() {
        let text = "{\n  routing: {\n    agents: {\n      // the work agent\n      work: {\n        workspace: '~/w', // its folder\n        sandbox: { mode: 'all', tools: { deny: ['exec'] } },\n      },\n    },\n  },\n}\n";
        let out = after(text, STEP);
        for c in ["// the work agent", "// its folder"] {
            assert!(out.contains(c), "{c} lost:\n{out}");
        }
        assert_eq!(
            value(&out),
            json!({"agents": {"list": [{"id": "work", "workspace": "~/w",
                "tools": {"sandbox": {"tools": {"deny": ["exec"]}}}, "sandbox": {"mode": "all"}}]}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn existing_entries_win_and_an_existing_default_stays() {
        let out = after(
            "{agents: {list: [{id: 'w', default: true}, {id: 'main', name: 'Kept', groupChat: 'x'}]}, routing: {defaultAgentId: 'main', agents: {main: {name: 'Old', mentionPatterns: ['@m']}}, other: 1}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"agents": {"list": [
                {"id": "w", "default": true},
                {"id": "main", "name": "Kept", "groupChat": {"mentionPatterns": ["@m"]}},
            ]}, "routing": {"other": 1}})
        );
        plans_nothing("{routing: {agents: 'x'}}", STEP);
    }
}
