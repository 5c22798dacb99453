//! Step `legacy_models_to_model_policy_allow`: the keys of a legacy `agents.defaults.models` map
//! (which acted as an allowlist) become `agents.defaults.modelPolicy.allow`, and
//! `meta.migrations.modelPolicyAllowlist: true` records that the map is metadata only from now
//! on, as OpenClaw 2026.9.6's doctor does. When any key fails OpenClaw's model-policy ref grammar
//! (a `provider/model` ref, a `provider/*` wildcard, an alias of the map, or a compat selector)
//! doctor defers, keeping the legacy map in force, and so does this step.
use super::move_key::ensure_parent;
use super::path::lookup;
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};

/// The selectors OpenClaw accepts in a policy besides refs and aliases.
const COMPAT_SELECTORS: [&str; 2] = ["openrouter:auto", "openrouter:free"];

fn toks(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    let config = ws.config();
    let marker = toks(&["meta", "migrations", "modelPolicyAllowlist"]);
    if lookup(config, &marker) == Some(&Value::Bool(true)) {
        return Ok(());
    }
    // Doctor spreads `meta` and `meta.migrations` into new objects; anything but an object
    // (or nothing) there would be rewritten in ways no config means, so it is left alone.
    for at in [&["meta"][..], &["meta", "migrations"][..]] {
        if lookup(config, &toks(at)).is_some_and(|v| !v.is_object()) {
            return Ok(());
        }
    }
    let Some(Value::Object(defaults)) = lookup(config, &toks(&["agents", "defaults"])) else {
        return Ok(());
    };
    let Some(Value::Object(models)) = defaults.get("models") else {
        return Ok(());
    };
    let policy = defaults.get("modelPolicy");
    if policy
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key("allow"))
    {
        return Ok(());
    }
    let allow: Vec<String> = if policy.is_some_and(Value::is_object) {
        Vec::new()
    } else {
        let keys = models.keys().filter(|k| !js::trim(k).is_empty());
        keys.cloned().collect()
    };
    let aliases: Vec<String> = models
        .values()
        .filter_map(|e| e.get("alias").and_then(Value::as_str))
        .map(|a| js::trim(a).to_lowercase())
        .filter(|a| !a.is_empty())
        .collect();
    if !allow.iter().all(|r| valid_policy_ref(r, &aliases)) {
        return Ok(());
    }
    let had_policy = policy.is_some();
    if !allow.is_empty() {
        let at = toks(&["agents", "defaults", "modelPolicy"]);
        let mut value = Map::new();
        value.insert(
            "allow".into(),
            allow.into_iter().map(Value::String).collect(),
        );
        if had_policy {
            ws.replace(CONFIG, pointer(&at), Value::Object(value))?;
        } else {
            ws.add(CONFIG, pointer(&at), Value::Object(value))?;
        }
    }
    if ensure_parent(ws, &marker)? && lookup(ws.config(), &marker).is_none() {
        ws.add(CONFIG, pointer(&marker), Value::Bool(true))?;
    } else if lookup(ws.config(), &marker).is_some() {
        ws.replace(CONFIG, pointer(&marker), Value::Bool(true))?;
    }
    Ok(())
}

/// Every segment non-empty, without `*`, whitespace or control characters, and at least `min`.
fn valid_segments(segments: &[&str], min: usize) -> bool {
    segments.len() >= min
        && segments.iter().all(|s| {
            !s.is_empty()
                && !s.contains('*')
                && !s
                    .chars()
                    .any(|c| js::space(c) || c <= '\u{1f}' || c == '\u{7f}')
        })
}

/// OpenClaw's model-policy grammar: an alias of the map, a compat selector, an exact
/// `provider/model[/...]` ref, or a `provider[/...]/*` wildcard.
fn valid_policy_ref(raw: &str, aliases: &[String]) -> bool {
    let trimmed = js::trim(raw);
    let lower = trimmed.to_lowercase();
    if aliases.contains(&lower) || COMPAT_SELECTORS.contains(&lower.as_str()) {
        return true;
    }
    if let Some(slash) = trimmed
        .find('/')
        .filter(|&i| i > 0 && i < trimmed.len() - 1)
    {
        let provider = js::trim(&trimmed[..slash]).to_lowercase();
        let model = js::trim(&trimmed[slash + 1..]);
        if !provider.is_empty() && !model.is_empty() {
            let mut segments = vec![provider.as_str()];
            segments.extend(model.split('/'));
            if valid_segments(&segments, 2) {
                return true;
            }
        }
    }
    let segments: Vec<&str> = trimmed.split('/').map(js::trim).collect();
    match segments.split_last() {
        Some((&"*", head)) => valid_segments(head, 1),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use super::valid_policy_ref;
    use serde_json::json;

    const STEP: &str = r#"{"kind": "legacy_models_to_model_policy_allow"}"#;

    #[test]
    fn copies_the_map_keys_and_stamps_the_marker() {
        let out = after(
            "{agents: {defaults: {models: {'openai/gpt-5.4': {alias: 'gpt'}, 'openai/gpt-5.4-mini': {}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"agents": {"defaults": {
                "models": {"openai/gpt-5.4": {"alias": "gpt"}, "openai/gpt-5.4-mini": {}},
                "modelPolicy": {"allow": ["openai/gpt-5.4", "openai/gpt-5.4-mini"]}}},
                "meta": {"migrations": {"modelPolicyAllowlist": true}}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn a_policy_object_or_an_empty_map_only_gets_the_marker() {
        for text in [
            "{meta: {}, agents: {defaults: {models: {'a/b': {}}, modelPolicy: {}}}}",
            "{meta: {}, agents: {defaults: {models: {}}}}",
        ] {
            let out = value(&after(text, STEP));
            assert_eq!(
                out["meta"],
                json!({"migrations": {"modelPolicyAllowlist": true}})
            );
            assert_eq!(out["agents"], value(text)["agents"]);
        }
    }

    #[test]
    fn defers_or_skips_where_doctor_does() {
        // a bare model id: the catalog would decide what it means
        plans_nothing("{agents: {defaults: {models: {'gpt-5.4': {}}}}}", STEP);
        plans_nothing(
            "{agents: {defaults: {models: {'a/b': {}}, modelPolicy: {allow: []}}}}",
            STEP,
        );
        plans_nothing(
            "{meta: {migrations: {modelPolicyAllowlist: true}}, agents: {defaults: {models: {'a/b': {}}}}}",
            STEP,
        );
        plans_nothing("{agents: {defaults: {}}}", STEP);
        plans_nothing(
            "{meta: 'x', agents: {defaults: {models: {'a/b': {}}}}}",
            STEP,
        );
    }

    #[test]
    fn the_ref_grammar() {
        let aliases = vec!["fast".to_string()];
        for ok in [
            "a/b",
            " A / b/c ",
            "a/*",
            "a/b/*",
            "FAST",
            "openrouter:free",
            "OpenRouter:Auto",
        ] {
            assert!(valid_policy_ref(ok, &aliases), "{ok}");
        }
        for bad in [
            "b", "/b", "a/", "a/b c", "a/b*", "*", "a//b", "a/\u{7}b", "slow",
        ] {
            assert!(!valid_policy_ref(bad, &aliases), "{bad}");
        }
    }
}
