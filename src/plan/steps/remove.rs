//! Step `remove`: deletes a retired key wherever its `*` path matches and the guards hold; the
//! comment right above it goes with it.
use super::path::{Guard, Path, all_hold};
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};

pub fn run(ws: &mut Workspace, path: &Path, when: &[Guard], prune: u8) -> Result<(), StepError> {
    // Last first, so removing an array element does not shift the ones still to remove.
    for m in path.matches(ws.config()).into_iter().rev() {
        if all_hold(when, ws.config(), &m.captures) {
            ws.remove(CONFIG, pointer(&m.tokens))?;
            super::move_key::prune_empty(ws, &m.tokens, prune)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing};

    #[test]
    fn removes_the_key_and_the_comment_above_it_only() {
        let step = r#"{"kind": "remove", "path": "channels.webchat"}"#;
        let text = "{\n  // channels\n  channels: {\n    a: 1, // a stays\n    // retired in 2026.5\n    webchat: { on: true },\n    b: 2,\n  },\n}\n";
        let out = after(text, step);
        assert_eq!(
            out,
            "{\n  // channels\n  channels: {\n    a: 1, // a stays\n    b: 2,\n  },\n}\n"
        );
        plans_nothing(&out, step);
    }

    #[test]
    fn guards_and_wildcards_choose_what_goes() {
        let step = r#"{"kind": "remove", "path": "routing", "when": [{"path": "routing", "is": "empty_object"}]}"#;
        assert_eq!(
            after("{\n  \"routing\": {},\n  \"x\": 1\n}", step),
            "{\n  \"x\": 1\n}"
        );
        plans_nothing("{routing: {a: 1}}", step);
        let step = r#"{"kind": "remove", "path": "routing.groupChat.x", "prune_empty_parents": 2}"#;
        assert_eq!(
            after("{routing: {groupChat: {x: 1}}, y: 1}", step),
            "{ y: 1}"
        );
        assert_eq!(
            after("{routing: {groupChat: {x: 1}, z: 1}}", step),
            "{routing: { z: 1}}"
        );
        let step = r#"{"kind": "remove", "path": "list.*.old"}"#;
        assert_eq!(
            after("{list: [{old: 1, k: 1}, {k: 2}, {old: 3}]}", step),
            "{list: [{ k: 1}, {k: 2}, {}]}"
        );
    }
}
