//! Step `pin_implicit_primary`: before OpenClaw 2026.9.6 separates utility models from the
//! primary, its doctor writes down the primary an install ran with implicitly (the release's
//! default model, or the first configured provider's first model) as
//! `agents.defaults.model.primary`, or per agent when only agents set a `utilityModel`, and
//! stamps `meta.migrations.utilityModelSeparation: true`. It defers (changes nothing) where the
//! ref could not be pinned as written, and skips a config with `$include`, as doctor does.
use super::agents_entries::normalize_agent_id;
use super::path::lookup;
use crate::document::include::contains_include;
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

const MARKER: [&str; 3] = ["meta", "migrations", "utilityModelSeparation"];

/// What the step writes: the ref, and where (the defaults, or these agents' `model`).
#[derive(Debug, PartialEq)]
struct Pins {
    primary: String,
    /// Tokens of each `model` setting that gets the primary.
    at: Vec<Vec<String>>,
}

pub fn run(
    ws: &mut Workspace,
    default_provider: &str,
    default_model: &str,
) -> Result<(), StepError> {
    let Some(pins) = plan(ws.config(), default_provider, default_model) else {
        return Ok(());
    };
    // Doctor leaves a config with `$include` in its authored file alone.
    if contains_include(ws.raw(CONFIG)) {
        return Ok(());
    }
    for at in &pins.at {
        pin(ws, at, &pins.primary)?;
    }
    let marker: Vec<String> = MARKER.iter().map(|s| s.to_string()).collect();
    add_nested(ws, &marker, Value::Bool(true))
}

/// Doctor's decision on a config (`materializeUtilityModelSeparation` with the config as its own
/// previous state): `None` when nothing changes.
fn plan(config: &Value, default_provider: &str, default_model: &str) -> Option<Pins> {
    if !can_materialize(config) || lookup_str(config, &MARKER) == Some(&Value::Bool(true)) {
        return None;
    }
    let defaults = lookup_str(config, &["agents", "defaults"]);
    let field = |key: &str| defaults.and_then(|d| d.get(key));
    if primary_of(field("model")).is_some() {
        return None;
    }
    let providers = provider_values(config);
    let had_configured = providers.iter().any(|p| {
        models_of(p)
            .and_then(|m| m.first())
            .is_some_and(first_id_truthy)
    });
    let defaults_utility = optional_string(field("utilityModel")).is_some();
    let agents = needing_agents(config, field("utilityModel"));
    if !had_configured && !defaults_utility && agents.is_empty() {
        return None;
    }
    let primary = implicit_primary(config, default_provider, default_model);
    let dynamic_id = providers
        .iter()
        .filter_map(|p| models_of(p))
        .flatten()
        .any(|m| {
            m.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.contains("${"))
        });
    if primary.contains("${") || model_without_profile(&primary) != primary || dynamic_id {
        return None;
    }
    let at = if had_configured || defaults_utility {
        vec![toks(&["agents", "defaults", "model"])]
    } else {
        agents
    };
    Some(Pins { primary, at })
}

/// The shapes doctor materialises: `meta`, `meta.migrations`, `agents`, `agents.defaults` and
/// each roster entry objects (or absent), every model setting a string or an object whose
/// `primary` is a string (or absent), and a marker that is `true` if present.
fn can_materialize(config: &Value) -> bool {
    let object_or_none = |v: Option<&Value>| v.is_none_or(Value::is_object);
    let Value::Object(root) = config else {
        return false;
    };
    let meta = root.get("meta");
    let migrations = meta.and_then(|m| m.get("migrations"));
    let marker = migrations.and_then(|m| m.get("utilityModelSeparation"));
    let agents = root.get("agents");
    let defaults = agents.and_then(|a| a.get("defaults"));
    if !object_or_none(meta)
        || !object_or_none(migrations)
        || marker.is_some_and(|m| m != &Value::Bool(true))
        || !object_or_none(agents)
        || !object_or_none(defaults)
        || !model_parent_ok(defaults.and_then(|d| d.get("model")))
    {
        return false;
    }
    match roster(config) {
        None => true,
        Some(("entries", Value::Object(entries))) => entries
            .values()
            .all(|e| e.is_object() && model_parent_ok(e.get("model"))),
        Some(("list", Value::Array(list))) => list.iter().all(|e| {
            e.is_object()
                && e.get("id").is_some_and(Value::is_string)
                && model_parent_ok(e.get("model"))
        }),
        Some(_) => false,
    }
}

fn model_parent_ok(model: Option<&Value>) -> bool {
    match model {
        None | Some(Value::String(_)) => true,
        Some(Value::Object(m)) => m.get("primary").is_none_or(Value::is_string),
        Some(_) => false,
    }
}

/// The roster doctor reads: `agents.entries` when present, else `agents.list`.
fn roster(config: &Value) -> Option<(&'static str, &Value)> {
    let agents = config.get("agents")?.as_object()?;
    if let Some(e) = agents.get("entries") {
        return Some(("entries", e));
    }
    agents.get("list").map(|l| ("list", l))
}

/// The agents without a primary whose `utilityModel` (their own, else the defaults') is set: the
/// tokens of their `model` setting. Among agents whose ids normalise alike, the last one's
/// settings count for each (doctor keys them by normalised id).
fn needing_agents(config: &Value, defaults_utility: Option<&Value>) -> Vec<Vec<String>> {
    let entries: Vec<(Vec<String>, &Value, String)> = match roster(config) {
        Some(("entries", v)) => js_entries(v)
            .into_iter()
            .map(|(k, e)| {
                let id = normalize_agent_id(&k);
                (toks(&["agents", "entries", &k, "model"]), e, id)
            })
            .collect(),
        Some(("list", Value::Array(list))) => list
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let id = normalize_agent_id(e.get("id").and_then(Value::as_str).unwrap_or(""));
                (toks(&["agents", "list", &i.to_string(), "model"]), e, id)
            })
            .collect(),
        _ => return Vec::new(),
    };
    let prior: HashMap<&str, &Value> = entries.iter().map(|(_, e, id)| (id.as_str(), *e)).collect();
    entries
        .iter()
        .filter(|(_, entry, id)| {
            let prior = prior[id.as_str()];
            let utility = match prior.get("utilityModel") {
                None | Some(Value::Null) => defaults_utility,
                own => own,
            };
            primary_of(prior.get("model")).is_none()
                && primary_of(entry.get("model")).is_none()
                && optional_string(utility).is_some()
        })
        .map(|(at, _, _)| at.clone())
        .collect()
}

/// The primary OpenClaw ran with when none was set: the default ref when the default provider
/// configures the default model (or no provider's first row has an id), else the first provider
/// (in JavaScript's key order) whose first row has an id, with that id.
fn implicit_primary(config: &Value, default_provider: &str, default_model: &str) -> String {
    let fallback = format!("{default_provider}/{default_model}");
    let Some(providers) =
        lookup_str(config, &["models", "providers"]).filter(|p| p.is_object() || p.is_array())
    else {
        return fallback;
    };
    let entries = js_entries(providers);
    let wanted = provider_id(default_provider);
    let default_rows = entries
        .iter()
        .find(|(k, _)| provider_id(k) == wanted)
        .and_then(|(_, p)| models_of(p));
    let serves_default = default_rows.is_some_and(|rows| {
        rows.iter()
            .any(|m| m.get("id").and_then(Value::as_str) == Some(js::trim(default_model)))
    });
    if serves_default {
        return fallback;
    }
    entries
        .iter()
        .find_map(|(k, p)| {
            let first = models_of(p)?.first().filter(|m| first_id_truthy(m))?;
            Some(format!("{}/{}", provider_id(k), js::string(&first["id"])))
        })
        .unwrap_or(fallback)
}

/// The ref without a trailing `@profile`, as OpenClaw splits it (an `@` followed by an
/// eight-digit date or a quantisation tag such as `q4_k_m` or `8bit` belongs to the model).
fn model_without_profile(raw: &str) -> String {
    let trimmed = js::trim(raw);
    let after_slash = trimmed.rfind('/').map_or(0, |i| i + 1);
    let Some(mut at) = trimmed[after_slash..].find('@').map(|i| i + after_slash) else {
        return trimmed.to_string();
    };
    if at == 0 {
        return trimmed.to_string();
    }
    for tag in [is_date_tag as fn(&str) -> bool, is_quant_tag] {
        let token = trimmed[at + 1..].split('@').next().unwrap_or("");
        if tag(token) {
            match trimmed[at + 1..].find('@') {
                Some(next) => at = at + 1 + next,
                None => return trimmed.to_string(),
            }
        }
    }
    let model = js::trim(&trimmed[..at]);
    let profile = js::trim(&trimmed[at + 1..]);
    if model.is_empty() || profile.is_empty() {
        return trimmed.to_string();
    }
    model.to_string()
}

fn is_date_tag(t: &str) -> bool {
    t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit())
}

/// `i?q\d+(_[a-z0-9]+)*` or `\d+bit`, any case.
fn is_quant_tag(t: &str) -> bool {
    let t = t.to_ascii_lowercase();
    if let Some(digits) = t.strip_suffix("bit") {
        return !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    }
    let Some(rest) = t.strip_prefix("iq").or_else(|| t.strip_prefix('q')) else {
        return false;
    };
    let mut parts = rest.split('_');
    let head = parts.next().unwrap_or("");
    !head.is_empty()
        && head.bytes().all(|b| b.is_ascii_digit())
        && parts.all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Sets `primary` in the model setting at `at`: a string setting (blank, so no primary) becomes
/// `{primary}`, an object keeps its other keys.
fn pin(ws: &mut Workspace, at: &[String], primary: &str) -> Result<(), StepError> {
    let value = Value::String(primary.to_string());
    match lookup(ws.config(), at) {
        Some(Value::Object(m)) if m.contains_key("primary") => {
            let mut to = at.to_vec();
            to.push("primary".into());
            ws.replace(CONFIG, pointer(&to), value)
        }
        Some(Value::Object(_)) | None => {
            let mut to = at.to_vec();
            to.push("primary".into());
            add_nested(ws, &to, value)
        }
        Some(_) => {
            let mut m = Map::new();
            m.insert("primary".into(), value);
            ws.replace(CONFIG, pointer(at), Value::Object(m))
        }
    }
}

/// Adds `value` at `to`, creating the objects above it that are missing (in one operation).
fn add_nested(ws: &mut Workspace, to: &[String], value: Value) -> Result<(), StepError> {
    let config = ws.config();
    let first_missing = (1..=to.len())
        .find(|&n| lookup(config, &to[..n]).is_none())
        .unwrap_or(to.len());
    let nested = to[first_missing..].iter().rev().fold(value, |inner, k| {
        let mut m = Map::new();
        m.insert(k.clone(), inner);
        Value::Object(m)
    });
    ws.add(CONFIG, pointer(&to[..first_missing]), nested)
}

/// `model` or `{primary}`: the primary, trimmed, if not blank.
fn primary_of(model: Option<&Value>) -> Option<&str> {
    match model {
        Some(Value::Object(m)) => optional_string(m.get("primary")),
        other => optional_string(other),
    }
}

/// A string with something besides whitespace, trimmed.
fn optional_string(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .map(js::trim)
        .filter(|s| !s.is_empty())
}

/// `Object.values(config.models?.providers ?? {})` (a string's characters have no models).
fn provider_values(config: &Value) -> Vec<&Value> {
    match lookup_str(config, &["models", "providers"]) {
        Some(Value::Object(m)) => m.values().collect(),
        Some(Value::Array(a)) => a.iter().collect(),
        _ => Vec::new(),
    }
}

fn models_of(provider: &Value) -> Option<&Vec<Value>> {
    provider.as_object()?.get("models")?.as_array()
}

/// Whether a model row's `id` is truthy in JavaScript.
fn first_id_truthy(row: &Value) -> bool {
    match row.as_object().and_then(|r| r.get("id")) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// OpenClaw's provider id: trimmed and lower-cased.
fn provider_id(key: &str) -> String {
    js::trim(key).to_lowercase()
}

/// `Object.entries` in JavaScript's order: array-index keys ascending first, then the others
/// as written; an array's items by index.
fn js_entries(v: &Value) -> Vec<(Cow<'_, str>, &Value)> {
    match v {
        Value::Object(m) => {
            let index = |k: &str| {
                (k == "0"
                    || (!k.starts_with('0')
                        && !k.is_empty()
                        && k.bytes().all(|b| b.is_ascii_digit())))
                .then(|| k.parse::<u64>().ok())
                .flatten()
                .filter(|&n| n < u64::from(u32::MAX))
            };
            let mut out: Vec<(Cow<str>, &Value)> = m
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), v))
                .collect();
            out.sort_by_key(|(k, _)| index(k).map_or((1, 0), |n| (0, n)));
            out
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (Cow::Owned(i.to_string()), v))
            .collect(),
        _ => Vec::new(),
    }
}

fn lookup_str<'v>(root: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(root, |v, k| v.as_object()?.get(*k))
}

fn toks(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value, with_included_models};
    use super::{model_without_profile, plan};
    use crate::plan::workspace::{Inputs, Workspace};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "pin_implicit_primary", "default_provider": "openai", "default_model": "gpt-6-astra"}"#;

    fn pinned(text: &str) -> serde_json::Value {
        let out = after(text, STEP);
        plans_nothing(&out, STEP);
        value(&out)
    }

    #[test]
    fn the_first_configured_provider_is_pinned_with_the_marker() {
        let out = pinned(
            "{\n  // hosts\n  models: {providers: {vllm: {models: []}, ollama: {models: [{id: 'llama3'}, {id: 'qwen'}]}, b: {models: [{id: 'x'}]}}},\n}",
        );
        assert_eq!(
            out["agents"],
            json!({"defaults": {"model": {"primary": "ollama/llama3"}}})
        );
        assert_eq!(
            out["meta"],
            json!({"migrations": {"utilityModelSeparation": true}})
        );
    }

    #[test]
    fn the_release_default_wins_when_openai_configures_it() {
        let out = pinned(
            "{meta: {lastTouchedVersion: '2026.6.2'}, agents: {defaults: {model: {fallbacks: ['a/b']}}}, models: {providers: {ollama: {models: [{id: 'llama3'}]}, OpenAI: {models: [{id: 'gpt-5.5'}, {id: 'gpt-6-astra'}]}}}}",
        );
        assert_eq!(
            out["agents"]["defaults"]["model"],
            json!({"fallbacks": ["a/b"], "primary": "openai/gpt-6-astra"})
        );
        assert_eq!(
            out["meta"],
            json!({"lastTouchedVersion": "2026.6.2", "migrations": {"utilityModelSeparation": true}})
        );
    }

    #[test]
    fn index_keys_come_first_as_in_javascript() {
        let out =
            pinned("{models: {providers: {b: {models: [{id: 'x'}]}, '7': {models: [{id: 'y'}]}}}}");
        assert_eq!(out["agents"]["defaults"]["model"]["primary"], "7/y");
        // a non-string id is written as JavaScript's template string writes it
        let out = pinned("{models: {providers: {' O ': {models: [{id: 5}]}}}}");
        assert_eq!(out["agents"]["defaults"]["model"]["primary"], "o/5");
    }

    #[test]
    fn a_defaults_utility_model_pins_the_release_default_over_a_blank_primary() {
        let out = pinned("{agents: {defaults: {utilityModel: 'openai/gpt-5-mini', model: '  '}}}");
        assert_eq!(
            out["agents"]["defaults"]["model"],
            json!({"primary": "openai/gpt-6-astra"})
        );
        let out = pinned("{agents: {defaults: {utilityModel: 'a/b', model: {primary: ''}}}}");
        assert_eq!(
            out["agents"]["defaults"]["model"],
            json!({"primary": "openai/gpt-6-astra"})
        );
    }

    #[test]
    fn agents_with_a_utility_model_get_the_pin_when_the_defaults_do_not() {
        let out = pinned(
            "{agents: {list: [{id: 'ops', utilityModel: 'a/b'}, {id: 'dev'}, {id: 'own', utilityModel: 'a/b', model: 'x/y'}, {id: 'str', utilityModel: 'a/b', model: {fallbacks: []}}]}}",
        );
        let list = &out["agents"]["list"];
        assert_eq!(list[0]["model"], json!({"primary": "openai/gpt-6-astra"}));
        assert_eq!(list[1].get("model"), None);
        assert_eq!(list[2]["model"], "x/y");
        assert_eq!(
            list[3]["model"],
            json!({"fallbacks": [], "primary": "openai/gpt-6-astra"})
        );
        let out = pinned("{agents: {entries: {ops: {utilityModel: 'a/b'}, dev: {}}}}");
        assert_eq!(
            out["agents"]["entries"]["ops"]["model"]["primary"],
            "openai/gpt-6-astra"
        );
        assert_eq!(out["agents"]["entries"]["dev"], json!({}));
    }

    #[test]
    fn the_last_agent_of_a_normalised_id_speaks_for_all_of_them() {
        // doctor keys earlier settings by normalised id: `Ops` reads the later `ops`
        let out = pinned("{agents: {list: [{id: 'Ops'}, {id: 'ops', utilityModel: 'a/b'}]}}");
        assert_eq!(
            out["agents"]["list"][0]["model"]["primary"],
            "openai/gpt-6-astra"
        );
        plans_nothing(
            "{agents: {list: [{id: 'Ops', utilityModel: 'a/b'}, {id: 'ops', model: 'x/y'}]}}",
            STEP,
        );
    }

    #[test]
    fn nothing_where_doctor_changes_nothing() {
        for text in [
            // a primary is set, or nothing could have stood in for one
            "{agents: {defaults: {model: {primary: 'a/b'}}}, models: {providers: {o: {models: [{id: 'x'}]}}}}",
            "{agents: {defaults: {model: 'a/b', utilityModel: 'c/d'}}}",
            "{models: {providers: {o: {models: [{name: 'no id'}]}}}}",
            "{}",
            // already separated
            "{meta: {migrations: {utilityModelSeparation: true}}, models: {providers: {o: {models: [{id: 'x'}]}}}}",
            // the ref cannot be pinned as written
            "{models: {providers: {o: {models: [{id: '${MODEL}'}]}}}}",
            "{models: {providers: {o: {models: [{id: 'x'}, {id: 'y-${V}'}]}}}}",
            "{models: {providers: {o: {models: [{id: 'llama@work'}]}}}}",
            "{models: {providers: {o: {models: [{id: 'x '}]}}}}",
            // shapes doctor does not materialise
            "{meta: {migrations: {utilityModelSeparation: false}}, models: {providers: {o: {models: [{id: 'x'}]}}}}",
            "{meta: 'x', models: {providers: {o: {models: [{id: 'x'}]}}}}",
            "{agents: {defaults: {model: {primary: 5}}}, models: {providers: {o: {models: [{id: 'x'}]}}}}",
            "{agents: {list: [{utilityModel: 'a/b'}]}}",
            "{agents: {entries: null, list: [{id: 'a', utilityModel: 'a/b'}]}}",
        ] {
            plans_nothing(text, STEP);
        }
    }

    #[test]
    fn a_config_with_include_is_left_to_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let install = with_included_models(
            dir.path(),
            "{ providers: { ollama: { models: [{ id: 'llama3' }] } } }",
        );
        let inputs = Inputs::default();
        let mut ws = Workspace::new(&install, &inputs);
        // doctor would pin the merged config, but skips it for the `$include`
        assert!(plan(ws.config(), "openai", "gpt-6-astra").is_some());
        let step: crate::migration::Step = serde_json::from_str(STEP).unwrap();
        super::super::run(&step, &mut ws).unwrap();
        assert!(ws.ops.iter().all(Vec::is_empty), "{:?}", ws.ops);
    }

    #[test]
    fn profiles_split_as_openclaw_splits_them() {
        for (raw, model) in [
            ("o/llama@work", "o/llama"),
            ("o/llama@20250101", "o/llama@20250101"),
            ("o/llama@20250101@work", "o/llama@20250101"),
            ("o/llama@q4_k_m", "o/llama@q4_k_m"),
            ("o/llama@Q4_K_M@me", "o/llama@Q4_K_M"),
            ("o/llama@8bit", "o/llama@8bit"),
            ("o@x/llama", "o@x/llama"),
            ("o/llama@", "o/llama@"),
            (" o/m ", "o/m"),
        ] {
            assert_eq!(model_without_profile(raw), model, "{raw}");
        }
    }
}
