//! Step `legacy_model_lists`: 2026.2.3's doctor rebuilt the legacy model settings of `agent`
//! (else `agents.defaults`): string `model`/`imageModel` with `modelFallbacks`/
//! `imageModelFallbacks` become `{primary, fallbacks}`, every model named anywhere gets an entry
//! in the `models` map, and `modelAliases` become those entries' `alias`. Data cannot say it:
//! the map's keys are values of the lists.
use super::path::Path;
use super::routing_agents::write;
use crate::js;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value, json};

/// JavaScript truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().map(js::string).collect(),
        _ => Vec::new(),
    }
}

/// The scope's settings as doctor leaves them, or `None` when it has nothing legacy.
fn rebuilt(agent: &Map<String, Value>) -> Option<Map<String, Value>> {
    let string = |k: &str| agent.get(k).and_then(Value::as_str).map(str::to_string);
    let (model, image) = (string("model"), string("imageModel"));
    let allowed = strings(agent.get("allowedModels"));
    let fallbacks = strings(agent.get("modelFallbacks"));
    let image_fallbacks = strings(agent.get("imageModelFallbacks"));
    let aliases: Vec<(String, Value)> = match agent.get("modelAliases") {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v.clone()))
            .collect(),
        _ => Vec::new(),
    };
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    if !(set(&model)
        || set(&image)
        || !allowed.is_empty()
        || !fallbacks.is_empty()
        || !image_fallbacks.is_empty()
        || !aliases.is_empty())
    {
        return None;
    }
    let mut out = agent.clone();
    // A `models` array takes no keys (JavaScript sets them as array properties, which JSON drops).
    if let Some(Value::Object(_)) | None = agent.get("models") {
        let mut models = match agent.get("models") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let named = model
            .iter()
            .chain(&image)
            .chain(&allowed)
            .chain(&fallbacks)
            .chain(&image_fallbacks);
        let targets = aliases
            .iter()
            .filter_map(|(_, t)| t.as_str().map(str::to_string));
        for key in named.cloned().chain(targets) {
            let key = js::trim(&key);
            if !key.is_empty() && !models.get(key).is_some_and(truthy) {
                models.insert(key.to_string(), json!({}));
            }
        }
        for (alias, target) in &aliases {
            let Some(target) = target.as_str().map(str::trim).filter(|t| !t.is_empty()) else {
                continue;
            };
            let mut entry = match models.get(target) {
                Some(Value::Object(m)) => m.clone(),
                Some(Value::Array(_)) => continue, // an alias set on an array is dropped by JSON
                _ => Map::new(),
            };
            if !entry.contains_key("alias") {
                entry.insert("alias".into(), json!(alias));
                models.insert(target.to_string(), Value::Object(entry));
            }
        }
        out.insert("models".into(), Value::Object(models));
    }
    for (key, legacy, list) in [
        ("model", &model, &fallbacks),
        ("imageModel", &image, &image_fallbacks),
    ] {
        match out.get_mut(key) {
            Some(Value::Object(current)) => {
                let empty = current
                    .get("fallbacks")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty);
                if !list.is_empty() && empty {
                    current.insert("fallbacks".into(), json!(list));
                }
            }
            Some(Value::Array(_)) => {}
            _ if set(legacy) || !list.is_empty() => {
                let mut m = Map::new();
                if let Some(primary) = legacy {
                    m.insert("primary".into(), json!(primary));
                }
                m.insert("fallbacks".into(), json!(list));
                out.insert(key.into(), Value::Object(m));
            }
            _ => {}
        }
    }
    for gone in [
        "allowedModels",
        "modelAliases",
        "modelFallbacks",
        "imageModelFallbacks",
    ] {
        out.remove(gone);
    }
    Some(out)
}

/// Rebuilds the first of `scopes` that holds an object.
pub fn run(ws: &mut Workspace, scopes: &[Path]) -> Result<(), StepError> {
    let config = ws.config();
    let Some((toks, old)) = scopes.iter().find_map(|p| {
        let toks = p.bind(&[])?;
        let v = super::path::lookup(config, &toks).filter(|v| v.is_object())?;
        Some((toks, v.clone()))
    }) else {
        return Ok(());
    };
    if let Some(new) = rebuilt(old.as_object().expect("an object")) {
        write(ws, &toks, &old, &Value::Object(new))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "legacy_model_lists", "scopes": ["agent", "agents.defaults"]}"#;

    #[test]
    fn lists_and_aliases_become_the_models_map() {
        let out = after(
            "{agent: {model: 'a/x', modelFallbacks: ['b/y'], allowedModels: [' c/z ', 7], modelAliases: {fast: ' b/y ', n: 3}, imageModel: 'i/m', models: {'a/x': {alias: 'keep'}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"agent": {
                "model": {"primary": "a/x", "fallbacks": ["b/y"]},
                "imageModel": {"primary": "i/m", "fallbacks": []},
                "models": {"a/x": {"alias": "keep"}, "i/m": {}, "c/z": {}, "7": {}, "b/y": {"alias": "fast"}},
            }})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn defaults_are_used_without_agent_and_an_object_model_keeps_its_fallbacks() {
        let out = after(
            "{agents: {defaults: {model: {primary: 'a/x', fallbacks: ['k/k']}, modelFallbacks: ['b/y']}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"agents": {"defaults": {"model": {"primary": "a/x", "fallbacks": ["k/k"]}, "models": {"b/y": {}}}}})
        );
        plans_nothing(
            "{agents: {defaults: {model: 'a/x'}}, agent: {workspace: 'w'}}",
            STEP,
        );
        plans_nothing("{agents: {defaults: {model: {primary: 'a/x'}}}}", STEP);
    }
}
