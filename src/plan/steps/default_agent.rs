//! Step `move_to_default_agent`: moves an object into the default agent's `agents.list[]` entry
//! (2026.2.3's doctor moved the top-level `identity` that way). Data cannot say it: which entry is
//! the default is resolved from the list itself, and the entry is created when missing.
use super::path::{Path, lookup};
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Value, json};

/// A list entry's trimmed, non-empty string id.
pub(super) fn entry_id(e: &Value) -> Option<&str> {
    e.as_object()?
        .get("id")?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The default agent id as 2026.2.3's doctor resolves it: the list entry marked `default: true`,
/// else `routing.defaultAgentId`, else the first entry with an id, else `main`.
fn default_id(config: &Value) -> String {
    let list: &[Value] = config
        .pointer("/agents/list")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let marked = list
        .iter()
        .find(|e| e.get("default") == Some(&Value::Bool(true)) && entry_id(e).is_some());
    let routing = config
        .pointer("/routing/defaultAgentId")
        .filter(|_| config.get("routing").is_some_and(Value::is_object))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    marked
        .and_then(entry_id)
        .or(routing)
        .or_else(|| list.iter().find_map(entry_id))
        .unwrap_or("main")
        .to_string()
}

pub fn run(ws: &mut Workspace, from: &Path, to: &str) -> Result<(), StepError> {
    for m in from.matches(ws.config()) {
        let config = ws.config();
        if !lookup(config, &m.tokens).is_some_and(Value::is_object)
            || !config.get("agents").is_none_or(Value::is_object)
        {
            continue;
        }
        let id = default_id(config);
        let list = config.pointer("/agents/list");
        let at = list
            .and_then(Value::as_array)
            .and_then(|l| l.iter().position(|e| entry_id(e) == Some(id.as_str())));
        let len = list.and_then(Value::as_array).map(Vec::len);
        let has_agents = config.get("agents").is_some();
        let index = match (at, len, list.is_some()) {
            (Some(i), _, _) => i,
            (None, Some(len), _) => {
                ws.add(CONFIG, "/agents/list/-".into(), json!({"id": id}))?;
                len
            }
            (None, None, true) => {
                ws.replace(CONFIG, "/agents/list".into(), json!([{"id": id}]))?;
                0
            }
            (None, None, false) if has_agents => {
                ws.add(CONFIG, "/agents/list".into(), json!([{"id": id}]))?;
                0
            }
            (None, None, false) => {
                ws.add(CONFIG, "/agents".into(), json!({"list": [{"id": id}]}))?;
                0
            }
        };
        let target = vec![
            "agents".to_string(),
            "list".to_string(),
            index.to_string(),
            to.to_string(),
        ];
        if lookup(ws.config(), &target).is_some() {
            ws.remove(CONFIG, pointer(&m.tokens))?;
        } else {
            ws.move_value(CONFIG, pointer(&m.tokens), pointer(&target))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "move_to_default_agent", "from": "identity", "to": "identity"}"#;

    #[test]
    fn goes_to_the_marked_entry_or_the_first_or_a_new_main() {
        let out = after(
            "{\n  // who the bot is\n  identity: { name: 'Clawd' },\n  agents: { list: [{ id: 'a' }, { id: ' b ', default: true }] },\n}\n",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"agents": {"list": [{"id": "a"}, {"id": " b ", "default": true, "identity": {"name": "Clawd"}}]}})
        );
        assert!(out.contains("// who the bot is"), "{out}");
        plans_nothing(&out, STEP);
        assert_eq!(
            value(&after(
                "{identity: {name: 'C'}, agents: {list: [{}, {id: 'x'}]}}",
                STEP
            )),
            json!({"agents": {"list": [{}, {"id": "x", "identity": {"name": "C"}}]}})
        );
        assert_eq!(
            value(&after("{identity: {name: 'C'}}", STEP)),
            json!({"agents": {"list": [{"id": "main", "identity": {"name": "C"}}]}})
        );
        assert_eq!(
            value(&after(
                "{identity: {name: 'C'}, routing: {defaultAgentId: 'w'}, agents: {list: [{id: 'x'}]}}",
                STEP
            )),
            json!({"routing": {"defaultAgentId": "w"}, "agents": {"list": [{"id": "x"}, {"id": "w", "identity": {"name": "C"}}]}})
        );
    }

    #[test]
    fn an_identity_already_there_wins() {
        assert_eq!(
            value(&after(
                "{identity: {name: 'C'}, agents: {list: [{id: 'main', identity: {name: 'M'}}]}}",
                STEP
            )),
            json!({"agents": {"list": [{"id": "main", "identity": {"name": "M"}}]}})
        );
        plans_nothing("{identity: 'not an object'}", STEP);
    }
}
