//! Step `cli_runtime_to_model_policy`: where an agent scope's `agentRuntime.id` names a CLI
//! runtime (`claude-cli`), the scope's selected models of that runtime's provider
//! (`anthropic/...` in `model` or its `primary`/`fallbacks`) get `models["<ref>"].agentRuntime.id`,
//! as doctor does before it drops the agent-wide runtime. Data cannot say it: the keys written
//! are the model refs the scope selects.
use super::path::{Guard, Path, all_hold, lookup};
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Trimmed and lowercased, as OpenClaw normalises runtime and provider ids.
fn norm(s: &str) -> String {
    js::trim(s).to_lowercase()
}

pub fn run(
    ws: &mut Workspace,
    scope: &Path,
    when: &[Guard],
    runtimes: &BTreeMap<String, String>,
) -> Result<(), StepError> {
    for m in scope.matches(ws.config()) {
        if !all_hold(when, ws.config(), &m.captures) {
            continue;
        }
        let Some(Value::Object(s)) = lookup(ws.config(), &m.tokens) else {
            continue;
        };
        let Some((runtime, provider)) = s
            .get("agentRuntime")
            .and_then(Value::as_object)
            .and_then(|r| r.get("id")?.as_str())
            .and_then(|id| runtimes.iter().find(|(rt, _)| norm(rt) == norm(id)))
        else {
            continue;
        };
        let (runtime, provider) = (runtime.clone(), norm(provider));
        for r in selected_refs(s.get("model"), &provider) {
            set_runtime(ws, &m.tokens, &r, &runtime)?;
        }
    }
    Ok(())
}

/// The refs of `model` (a string, or `primary` and `fallbacks`) that belong to `provider`,
/// trimmed, in order.
fn selected_refs(model: Option<&Value>, provider: &str) -> Vec<String> {
    let raw: Vec<&Value> = match model {
        Some(v @ Value::String(_)) => vec![v],
        Some(Value::Object(m)) => {
            let mut out: Vec<&Value> = m.get("primary").into_iter().collect();
            if let Some(Value::Array(f)) = m.get("fallbacks") {
                out.extend(f);
            }
            out
        }
        _ => vec![],
    };
    raw.into_iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|r| {
            r.find('/')
                .is_some_and(|i| i > 0 && i < r.len() - 1 && norm(&r[..i]) == provider)
        })
        .map(str::to_string)
        .collect()
}

/// Gives `models[ref]` of the scope the runtime, unless it already selects a runtime other than
/// `auto`; whatever in the way is not an object becomes one.
fn set_runtime(
    ws: &mut Workspace,
    scope: &[String],
    model_ref: &str,
    runtime: &str,
) -> Result<(), StepError> {
    let at = |more: &[&str]| -> Vec<String> {
        let mut t = scope.to_vec();
        t.extend(more.iter().map(|s| s.to_string()));
        t
    };
    let config = ws.config();
    let entry = lookup(config, &at(&["models", model_ref]));
    let current = entry.and_then(|e| e.get("agentRuntime"));
    let id = current
        .and_then(Value::as_object)
        .and_then(|r| r.get("id")?.as_str());
    if id.is_some_and(|id| !norm(id).is_empty() && norm(id) != "auto") {
        return Ok(());
    }
    let policy = json!({"id": runtime});
    match (lookup(config, &at(&["models"])), entry, current) {
        (Some(Value::Object(_)), Some(Value::Object(_)), Some(Value::Object(_))) => {
            let path = pointer(&at(&["models", model_ref, "agentRuntime", "id"]));
            match id {
                Some(_) => ws.replace(CONFIG, path, json!(runtime)),
                None if current.and_then(|c| c.get("id")).is_some() => {
                    ws.replace(CONFIG, path, json!(runtime))
                }
                None => ws.add(CONFIG, path, json!(runtime)),
            }
        }
        (Some(Value::Object(_)), Some(Value::Object(_)), Some(_)) => ws.replace(
            CONFIG,
            pointer(&at(&["models", model_ref, "agentRuntime"])),
            policy,
        ),
        (Some(Value::Object(_)), Some(Value::Object(_)), None) => ws.add(
            CONFIG,
            pointer(&at(&["models", model_ref, "agentRuntime"])),
            policy,
        ),
        (Some(Value::Object(_)), Some(_), _) => ws.replace(
            CONFIG,
            pointer(&at(&["models", model_ref])),
            json!({"agentRuntime": policy}),
        ),
        (Some(Value::Object(_)), None, _) => ws.add(
            CONFIG,
            pointer(&at(&["models", model_ref])),
            json!({"agentRuntime": policy}),
        ),
        (other, _, _) => {
            let mut models = Map::new();
            models.insert(model_ref.to_string(), json!({"agentRuntime": policy}));
            let path = pointer(&at(&["models"]));
            match other {
                Some(_) => ws.replace(CONFIG, path, Value::Object(models)),
                None => ws.add(CONFIG, path, Value::Object(models)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "cli_runtime_to_model_policy", "scope": "agents.defaults",
        "runtimes": {"claude-cli": "anthropic", "google-gemini-cli": "google"}}"#;

    #[test]
    fn the_selected_models_of_the_runtime_provider_get_the_policy() {
        let text = "{agents: {defaults: {agentRuntime: {id: ' Claude-CLI '}, model: {primary: ' anthropic/opus ', fallbacks: ['openai/gpt', 'Anthropic/sonnet', 'anthropic/']}, models: {'Anthropic/sonnet': {alias: 's', agentRuntime: {id: 'auto'}}}}}}";
        let out = after(text, STEP);
        assert_eq!(
            value(&out)["agents"]["defaults"]["models"],
            json!({
                "Anthropic/sonnet": {"alias": "s", "agentRuntime": {"id": "claude-cli"}},
                "anthropic/opus": {"agentRuntime": {"id": "claude-cli"}},
            })
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn an_explicit_runtime_another_provider_or_auto_plans_nothing() {
        plans_nothing(
            "{agents: {defaults: {agentRuntime: {id: 'claude-cli'}, model: 'anthropic/opus', models: {'anthropic/opus': {agentRuntime: {id: 'pi'}}}}}}",
            STEP,
        );
        plans_nothing(
            "{agents: {defaults: {agentRuntime: {id: 'claude-cli'}, model: 'openai/gpt'}}}",
            STEP,
        );
        plans_nothing(
            "{agents: {defaults: {agentRuntime: {id: 'auto'}, model: 'anthropic/opus'}}}",
            STEP,
        );
        let out = after(
            "{agents: {defaults: {agentRuntime: {id: 'google-gemini-cli'}, model: 'google/gemini', models: ['x']}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["agents"]["defaults"]["models"],
            json!({"google/gemini": {"agentRuntime": {"id": "google-gemini-cli"}}})
        );
    }
}
