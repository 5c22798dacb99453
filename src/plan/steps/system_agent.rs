//! Step `legacy_system_agent_owner`: OpenClaw 2026.9.6's doctor gives a multi-agent roster that
//! has no system-agent owner one: `agents.defaults.systemAgent.agentId` is set to the agent
//! marked `default: true` (only under `agents.ownership: "explicit"`) or else to the agent whose
//! id normalises to `main`, and `agents.defaults.heartbeat.agentId` too when no heartbeat is
//! configured anywhere. The roster is `agents.entries` (keys normalised as agent ids), or an
//! `agents.list` that is already canonical ([`super::agents_entries::strict_roster`]).
use super::agents_entries::{normalize_agent_id, strict_roster};
use super::path::{Type, lookup};
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value, json};

/// The roster's agents as doctor lists them: (normalised id, entry), objects with a non-blank key.
fn roster(agents: &Map<String, Value>) -> Option<Vec<(String, &Map<String, Value>)>> {
    let pairs: Vec<(&str, &Map<String, Value>)> = match agents.get("entries") {
        Some(Value::Object(entries)) => entries
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_object()?)))
            .collect(),
        Some(_) => return None,
        None => strict_roster(agents.get("list")?.as_array()?)?,
    };
    Some(
        pairs
            .into_iter()
            .filter(|(k, _)| !js::trim(k).is_empty())
            .map(|(k, v)| (normalize_agent_id(k), v))
            .collect(),
    )
}

/// The owner doctor picks and whether the heartbeat owner is unresolved too, if it sets one.
fn owner(config: &Value) -> Option<(String, bool)> {
    let agents = config.get("agents")?.as_object()?;
    let defaults = match agents.get("defaults") {
        Some(Value::Object(d)) => Some(d),
        Some(_) => return None,
        None => None,
    };
    match defaults.and_then(|d| d.get("systemAgent")) {
        Some(Value::Object(s)) if s.contains_key("agentId") => return None,
        Some(Value::Object(_)) | None => {}
        Some(_) => return None,
    }
    let entries = roster(agents)?;
    let marked: Vec<&(String, &Map<String, Value>)> = entries
        .iter()
        .filter(|(_, e)| e.get("default") == Some(&Value::Bool(true)))
        .collect();
    let explicit = agents.get("ownership") == Some(&json!("explicit"));
    if entries.len() < 2 || marked.len() > 1 || (marked.len() == 1 && !explicit) {
        return None;
    }
    let selected = match marked.first() {
        Some((id, _)) => id.clone(),
        None => entries.iter().find(|(id, _)| id == "main")?.0.clone(),
    };
    let heartbeat_unresolved = !defaults.is_some_and(|d| d.contains_key("heartbeat"))
        && !entries
            .iter()
            .any(|(_, e)| Type::Truthy.holds(e.get("heartbeat")));
    Some((selected, heartbeat_unresolved))
}

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    let Some((id, heartbeat)) = owner(ws.config()) else {
        return Ok(());
    };
    let at = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let defaults = at(&["agents", "defaults"]);
    if lookup(ws.config(), &defaults).is_none() {
        ws.add(CONFIG, pointer(&defaults), json!({}))?;
    }
    let system = at(&["agents", "defaults", "systemAgent"]);
    if lookup(ws.config(), &system).is_none() {
        ws.add(CONFIG, pointer(&system), json!({ "agentId": id }))?;
    } else {
        let agent_id = at(&["agents", "defaults", "systemAgent", "agentId"]);
        ws.add(CONFIG, pointer(&agent_id), json!(id))?;
    }
    if heartbeat {
        let at = at(&["agents", "defaults", "heartbeat"]);
        ws.add(CONFIG, pointer(&at), json!({ "agentId": id }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "legacy_system_agent_owner"}"#;

    #[test]
    fn the_explicit_default_owns_system_work_and_heartbeats() {
        let out = after(
            "{agents: {ownership: 'explicit', entries: {Ops: {default: true}, main: {}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["agents"]["defaults"],
            json!({"systemAgent": {"agentId": "ops"}, "heartbeat": {"agentId": "ops"}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn without_a_marker_the_main_agent_is_chosen() {
        let out = after(
            "{agents: {defaults: {systemAgent: {x: 1}, heartbeat: null}, entries: {' Main ': {}, b: {}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["agents"]["defaults"],
            json!({"systemAgent": {"x": 1, "agentId": "main"}, "heartbeat": null})
        );
        // A heartbeat on an agent leaves the heartbeat owner alone.
        let out = after("{agents: {entries: {main: {}, b: {heartbeat: {}}}}}", STEP);
        assert_eq!(
            value(&out)["agents"]["defaults"],
            json!({"systemAgent": {"agentId": "main"}})
        );
    }

    #[test]
    fn a_canonical_list_is_a_roster_but_not_one_doctor_would_repair() {
        let out = after("{agents: {list: [{id: 'main'}, {id: 'b'}]}}", STEP);
        assert_eq!(
            value(&out)["agents"]["defaults"]["systemAgent"],
            json!({"agentId": "main"})
        );
        for list in [
            "[{id: 'Main'}, {id: 'b'}]",
            "[{id: 'main'}, {id: 'main'}]",
            "[{id: ' main'}, {id: 'b'}]",
            "[{id: 'main'}, 'b']",
            "[{id: 'main'}, {name: 'b'}]",
        ] {
            plans_nothing(&format!("{{agents: {{list: {list}}}}}"), STEP);
        }
    }

    #[test]
    fn nothing_when_doctor_sees_no_single_owner_or_one_is_set() {
        for text in [
            "{agents: {entries: {main: {}}}}",
            "{agents: {entries: {a: {}, b: {}}}}",
            "{agents: {entries: {main: {default: true}, b: {}}}}",
            "{agents: {ownership: 'explicit', entries: {a: {default: true}, b: {default: true}}}}",
            "{agents: {entries: {main: {}, b: {}}, defaults: {systemAgent: {agentId: null}}}}",
            "{agents: {entries: {main: {}, b: {}}, defaults: {systemAgent: 'x'}}}",
            "{agents: {entries: {main: {}, b: {}}, defaults: []}}",
            "{agents: {entries: {main: {}, '  ': {}}}}",
            "{agents: {entries: {main: {}, b: 1}}}",
            "{agents: {entries: [], list: [{id: 'main'}, {id: 'b'}]}}",
        ] {
            plans_nothing(text, STEP);
        }
    }
}
