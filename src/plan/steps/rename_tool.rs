//! Step `rename_tool_in_policies`: a renamed tool in every tool policy list under `roots`, as
//! OpenClaw's doctor finds them: `allow`/`alsoAllow`/`deny` of a scope whose path ends in
//! `tools`, lies under `toolsBySender`, or under a `byProvider` inside `tools`, and any
//! `toolsAllow`. Entries naming the old tool (trimmed, any case) become the new name; a list
//! that covers the old name only through a glob (`*`, `sp*`) and not the new one gets the new
//! name appended, so the coverage stays the same.
use super::tool_policy::{glob_matches, is_policy_path};
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

/// What one list needs: entries to replace (by index), and whether to append the new name.
struct ListFix {
    at: Vec<String>,
    replace: Vec<usize>,
    append: bool,
}

pub fn run(ws: &mut Workspace, roots: &[String], from: &str, to: &str) -> Result<(), StepError> {
    let mut fixes = Vec::new();
    for root in roots {
        if let Some(v) = ws.config().get(root) {
            visit(v, &mut vec![root.clone()], from, to, &mut fixes);
        }
    }
    for fix in fixes {
        for i in &fix.replace {
            let mut item = fix.at.clone();
            item.push(i.to_string());
            ws.replace(CONFIG, pointer(&item), Value::String(to.to_string()))?;
        }
        if fix.append {
            let mut end = fix.at.clone();
            end.push("-".to_string());
            ws.add(CONFIG, pointer(&end), Value::String(to.to_string()))?;
        }
    }
    Ok(())
}

fn visit(v: &Value, path: &mut Vec<String>, from: &str, to: &str, out: &mut Vec<ListFix>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                visit(item, path, from, to, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            let mut keys: Vec<&str> = if is_policy_path(path) {
                vec!["allow", "alsoAllow", "deny"]
            } else {
                vec![]
            };
            if map.contains_key("toolsAllow") {
                keys.push("toolsAllow");
            }
            for key in keys {
                if let Some(Value::Array(list)) = map.get(key)
                    && let Some(fix) = inspect(list, from, to)
                {
                    let mut at = path.clone();
                    at.push(key.to_string());
                    out.push(ListFix { at, ..fix });
                }
            }
            for (key, child) in map {
                path.push(key.clone());
                visit(child, path, from, to, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The fix one list needs, if any (its `at` left for the caller).
fn inspect(list: &[Value], from: &str, to: &str) -> Option<ListFix> {
    let names: Vec<(usize, String)> = list
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.as_str().map(|s| (i, normalize(s))))
        .collect();
    let replace: Vec<usize> = names
        .iter()
        .filter(|(_, n)| n == from)
        .map(|(i, _)| *i)
        .collect();
    let covers = |name: &str| names.iter().any(|(_, p)| glob_matches(p, name));
    let append = replace.is_empty() && covers(from) && !covers(to);
    (!replace.is_empty() || append).then_some(ListFix {
        at: vec![],
        replace,
        append,
    })
}

/// A policy entry as OpenClaw compares it: trimmed (JavaScript's whitespace) and lower-cased.
/// (OpenClaw's tool aliases, `bash` → `exec` and the like, name no tool a rename involves.)
fn normalize(s: &str) -> String {
    js::trim(s).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "rename_tool_in_policies", "roots": ["tools", "agents"],
        "from": "spawn_task", "to": "suggest_task"}"#;

    #[test]
    fn renames_exact_entries_and_appends_where_a_glob_covered_the_old_name() {
        let text = "{tools: {allow: [' Spawn_Task ', 'read'], byProvider: {openai: {deny: ['spawn_*']}},\
                    sandbox: {tools: {alsoAllow: ['*', 'x']}}},\
                    agents: {list: [{id: 'a', tools: {deny: ['spawn_task']}}], other: {allow: ['spawn_task']}}}";
        let out = after(text, STEP);
        assert_eq!(
            value(&out),
            json!({"tools": {"allow": ["suggest_task", "read"],
                "byProvider": {"openai": {"deny": ["spawn_*", "suggest_task"]}},
                "sandbox": {"tools": {"alsoAllow": ["*", "x"]}}},
                "agents": {"list": [{"id": "a", "tools": {"deny": ["suggest_task"]}}],
                    "other": {"allow": ["spawn_task"]}}})
        );
        plans_nothing(&out, STEP);
        plans_nothing("{tools: {allow: ['s*'], deny: 'spawn_task'}}", STEP);
        plans_nothing("{plugins: {tools: {allow: ['spawn_task']}}}", STEP);
    }

    #[test]
    fn tools_allow_anywhere_and_sender_scopes_count() {
        let out = after(
            "{agents: {x: {toolsAllow: ['spawn_task'], toolsBySender: {a: {allow: ['spawn_task']}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"agents": {"x": {"toolsAllow": ["suggest_task"],
                "toolsBySender": {"a": {"allow": ["suggest_task"]}}}}})
        );
    }
}
