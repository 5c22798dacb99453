//! Step `map_value`: replaces a value by the one a map gives for it (`"dm"` -> `"direct"`),
//! wherever its `*` path matches and the guards hold; values the map does not name stay. With
//! `loose`, a string matches a `from` string ignoring case and surrounding whitespace.
use super::path::{Guard, Path, all_hold, same_loosely};
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::migration::ValuePair;
use crate::plan::workspace::{StepError, Workspace};

pub fn run(
    ws: &mut Workspace,
    path: &Path,
    map: &[ValuePair],
    when: &[Guard],
    loose: bool,
) -> Result<(), StepError> {
    for m in path.matches(ws.config()) {
        let config = ws.config();
        let Some(v) = super::path::lookup(config, &m.tokens) else {
            continue;
        };
        let Some(pair) = map
            .iter()
            .find(|p| (p.from == *v || loose && same_loosely(&p.from, v)) && p.to != *v)
        else {
            continue;
        };
        if all_hold(when, config, &m.captures) {
            ws.replace(CONFIG, pointer(&m.tokens), pair.to.clone())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing};

    #[test]
    fn maps_named_values_in_place_and_keeps_the_rest() {
        let step = r#"{"kind": "map_value", "path": "bindings.*.match.peer.kind", "map": [{"from": "dm", "to": "direct"}]}"#;
        let text = "[\n]".replace("[\n]", "{ bindings: [\n  { match: { peer: { kind: 'dm' } } }, // one\n  { match: { peer: { kind: 'group' } } },\n] }\n");
        let out = after(&text, step);
        assert_eq!(
            out,
            "{ bindings: [\n  { match: { peer: { kind: 'direct' } } }, // one\n  { match: { peer: { kind: 'group' } } },\n] }\n"
        );
        plans_nothing(&out, step);
    }

    #[test]
    fn a_guard_limits_the_map() {
        let step = r#"{"kind": "map_value", "path": "auth.profiles[\"anthropic:claude-cli\"].mode", "map": [{"from": "token", "to": "oauth"}],
            "when": [{"path": "auth.profiles[\"anthropic:claude-cli\"]", "is": "object"}]}"#;
        let out = after(
            "{auth: {profiles: {'anthropic:claude-cli': {mode: 'token'}}}}",
            step,
        );
        assert_eq!(
            out,
            "{auth: {profiles: {'anthropic:claude-cli': {mode: 'oauth'}}}}"
        );
        plans_nothing(
            "{auth: {profiles: {'anthropic:claude-cli': {mode: 'api_key'}}}}",
            step,
        );
    }

    #[test]
    fn loose_matches_ignore_case_and_whitespace() {
        let step = r#"{"kind": "map_value", "path": "gateway.bind", "loose": true,
            "map": [{"from": "localhost", "to": "loopback"}, {"from": "0.0.0.0", "to": "lan"}]}"#;
        assert_eq!(
            after("{gateway: {bind: ' LocalHost '}}", step),
            "{gateway: {bind: 'loopback'}}"
        );
        plans_nothing("{gateway: {bind: 'loopback'}}", step);
        let strict = r#"{"kind": "map_value", "path": "gateway.bind", "map": [{"from": "localhost", "to": "loopback"}]}"#;
        plans_nothing("{gateway: {bind: 'LOCALHOST'}}", strict);
    }
}
