//! Step `agents_explicit_ownership`: a keyed roster (`agents.entries`) of two or more agents
//! where none is marked `default: true` and `agents.ownership` is unset gets
//! `agents.ownership: "explicit"`, so each surface keeps the owner it was given instead of
//! falling back to an implicit default agent.
use super::path::lookup;
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    let agents = ["agents".to_string()];
    let Some(Value::Object(a)) = lookup(ws.config(), &agents) else {
        return Ok(());
    };
    let Some(Value::Object(entries)) = a.get("entries") else {
        return Ok(());
    };
    let marked = entries
        .values()
        .any(|e| e.get("default") == Some(&Value::Bool(true)) && e.is_object());
    if a.contains_key("ownership") || entries.len() < 2 || marked {
        return Ok(());
    }
    let at = ["agents".to_string(), "ownership".to_string()];
    ws.add(CONFIG, pointer(&at), Value::String("explicit".into()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing};

    const STEP: &str = r#"{"kind": "agents_explicit_ownership"}"#;

    #[test]
    fn stamps_a_markerless_roster_of_two_or_more() {
        let out = after("{agents: {entries: {a: {}, b: {}}}}", STEP);
        assert_eq!(
            crate::document::parse(&out, crate::document::FileKind::Config).unwrap(),
            serde_json::json!({"agents": {"entries": {"a": {}, "b": {}}, "ownership": "explicit"}})
        );
        plans_nothing(&out, STEP);
        plans_nothing("{agents: {entries: {a: {}}}}", STEP);
        plans_nothing("{agents: {entries: {a: {default: true}, b: {}}}}", STEP);
        plans_nothing("{agents: {entries: {a: {}, b: {}}, ownership: null}}", STEP);
        plans_nothing("{agents: {list: [{id: 'a'}, {id: 'b'}]}}", STEP);
    }
}
