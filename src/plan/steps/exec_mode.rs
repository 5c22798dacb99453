//! Step `exec_policy_to_mode`: OpenClaw 2026.9.6's doctor (tier-eval tranche) folds the retired
//! `tools.exec.security`/`ask` pair into `tools.exec.mode`, at the root and in every agent
//! (`agents.entries`, else `agents.list`; never `agents.defaults`). A scope that already has a
//! `mode` just loses the pair. Otherwise each half present must be a known value (`deny`,
//! `allowlist`, `full`; `off`, `on-miss`, `always`), an agent's missing half comes from the
//! root's policy as it was before the step (its `mode`, else its valid pair), and the pair maps
//! to the one mode that means exactly the same: `deny` (any ask), `allowlist` + `off`,
//! `full` + `off`, `allowlist` + `on-miss` is `ask`; `always`, and `full` + `on-miss`, have no
//! mode and stay as they are. The walk is done on a copy; what differs is planned.
use super::agents_entries::visited_agents;
use super::rewrite::plan_rewritten;
use crate::document::patch::pointer;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};

/// A policy: `security` and `ask`.
type Policy = (&'static str, &'static str);

fn security(v: Option<&Value>) -> Option<&'static str> {
    match v?.as_str()? {
        "deny" => Some("deny"),
        "allowlist" => Some("allowlist"),
        "full" => Some("full"),
        _ => None,
    }
}

fn ask(v: Option<&Value>) -> Option<&'static str> {
    match v?.as_str()? {
        "off" => Some("off"),
        "on-miss" => Some("on-miss"),
        "always" => Some("always"),
        _ => None,
    }
}

fn exec(scope: &Value) -> Option<&Map<String, Value>> {
    scope.get("tools")?.as_object()?.get("exec")?.as_object()
}

fn exec_mut(scope: &mut Value) -> Option<&mut Map<String, Value>> {
    scope
        .get_mut("tools")?
        .as_object_mut()?
        .get_mut("exec")?
        .as_object_mut()
}

/// The root's configured policy: its `mode`, else its `security` and `ask` when both are valid.
fn configured(root: &Value) -> Option<Policy> {
    let exec = exec(root)?;
    match exec.get("mode").and_then(Value::as_str) {
        Some("deny") => return Some(("deny", "off")),
        Some("allowlist") => return Some(("allowlist", "off")),
        Some("ask" | "auto") => return Some(("allowlist", "on-miss")),
        Some("full") => return Some(("full", "off")),
        _ => {}
    }
    Some((security(exec.get("security"))?, ask(exec.get("ask"))?))
}

/// The mode that stands for exactly this policy, if any.
fn exact_mode((security, ask): Policy) -> Option<&'static str> {
    if ask == "always" || (security == "full" && ask == "on-miss") {
        return None;
    }
    Some(match (security, ask) {
        ("deny", _) => "deny",
        ("allowlist", "off") => "allowlist",
        ("full", _) => "full",
        _ => "ask",
    })
}

fn migrate(scope: &mut Value, inherited: Option<Policy>) {
    let Some(exec) = exec_mut(scope) else {
        return;
    };
    if !exec.contains_key("security") && !exec.contains_key("ask") {
        return;
    }
    if !exec.contains_key("mode") {
        let own_security = security(exec.get("security"));
        let own_ask = ask(exec.get("ask"));
        if (exec.contains_key("security") && own_security.is_none())
            || (exec.contains_key("ask") && own_ask.is_none())
        {
            return;
        }
        let policy = own_security
            .or(inherited.map(|p| p.0))
            .zip(own_ask.or(inherited.map(|p| p.1)));
        let Some(mode) = policy.and_then(exact_mode) else {
            return;
        };
        exec.insert("mode".into(), Value::String(mode.into()));
    }
    exec.shift_remove("security");
    exec.shift_remove("ask");
}

/// Whether a scope holds a retired pair member for [`migrate`] to fold (otherwise it leaves the
/// scope as it is).
fn has_pair(scope: &Value) -> bool {
    exec(scope).is_some_and(|e| e.contains_key("security") || e.contains_key("ask"))
}

/// Doctor's walk over a copy of the config; `None` when no scope it visits holds a pair.
fn migrated(config: &Value) -> Option<Value> {
    let visited = visited_agents(config);
    let mut scopes = visited.iter().filter_map(|p| config.pointer(&pointer(p)));
    if !has_pair(config) && !scopes.any(has_pair) {
        return None;
    }
    let mut root = config.clone();
    let inherited = configured(&root);
    migrate(&mut root, None);
    for path in visited_agents(&root) {
        if let Some(entry) = root.pointer_mut(&pointer(&path)) {
            migrate(entry, inherited);
        }
    }
    Some(root)
}

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    plan_rewritten(ws, migrated)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use super::exact_mode;
    use serde_json::json;

    const STEP: &str = r#"{"kind": "exec_policy_to_mode"}"#;

    #[test]
    fn only_pairs_with_an_exact_mode_fold() {
        assert_eq!(exact_mode(("deny", "on-miss")), Some("deny"));
        assert_eq!(exact_mode(("allowlist", "off")), Some("allowlist"));
        assert_eq!(exact_mode(("allowlist", "on-miss")), Some("ask"));
        assert_eq!(exact_mode(("full", "off")), Some("full"));
        assert_eq!(exact_mode(("full", "on-miss")), None);
        assert_eq!(exact_mode(("deny", "always")), None);
    }

    #[test]
    fn agents_inherit_the_root_policy_from_before_the_step() {
        let out = after(
            "{tools: {exec: {security: 'deny', ask: 'on-miss'}},
              agents: {defaults: {tools: {exec: {security: 'full', ask: 'off'}}}, list: [
                {id: 'a', tools: {exec: {security: 'allowlist'}}}, {id: 'b', tools: {exec: {ask: 'off'}}},
                {id: 'c', tools: {exec: {security: 'full', ask: 'on-miss'}}}, {id: 'd', tools: {exec: {security: 'x'}}},
                {id: 'e', tools: {exec: {mode: 'x', ask: 'always'}}}]}}",
            STEP,
        );
        let v = value(&out);
        assert_eq!(v["tools"], json!({"exec": {"mode": "deny"}}));
        assert_eq!(
            v["agents"]["defaults"],
            json!({"tools": {"exec": {"security": "full", "ask": "off"}}})
        );
        let modes: Vec<&serde_json::Value> = v["agents"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["tools"]["exec"])
            .collect();
        assert_eq!(
            modes,
            [
                &json!({"mode": "ask"}),
                &json!({"mode": "deny"}),
                &json!({"security": "full", "ask": "on-miss"}),
                &json!({"security": "x"}),
                &json!({"mode": "x"})
            ]
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn keyed_entries_win_over_the_list_and_a_root_mode_is_inherited() {
        // `full` with the root's `on-miss` has no exact mode; a list beside entries is not read
        plans_nothing(
            "{tools: {exec: {mode: 'auto'}}, agents: {entries: {a: {tools: {exec: {security: 'full'}}}},
              list: [{id: 'b', tools: {exec: {security: 'deny'}}}]}}",
            STEP,
        );
        let out = after(
            "{tools: {exec: {mode: 'allowlist'}}, agents: {entries: {a: {tools: {exec: {security: 'full'}}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["agents"]["entries"]["a"]["tools"]["exec"],
            json!({"mode": "full"})
        );
    }
}
