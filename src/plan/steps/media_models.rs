//! Step `media_models_consolidate`: OpenClaw 2026.9.6's doctor folds the per-capability model
//! lists (`tools.media.<capability>.models`, capabilities in the order given) into the one
//! `tools.media.models` list. Each object entry is tagged `capabilities: [<capability>]` (an
//! entry whose own `capabilities` array leaves that capability out is dropped), repeats within
//! one capability (same entry but for `capabilities`) are dropped, and the entries go in front
//! of the shared ones, capability by capability. The per-capability `models` keys go, and so
//! does a capability object left empty. Doctor does this whenever a capability object holds a
//! `models` key; the step does too and nothing otherwise.
use super::path::lookup;
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value, json};

/// Equality as doctor's signature (`JSON.stringify` of the entry with sorted keys) sees it:
/// key order aside, numbers by their value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => without_capabilities_same(x, y, false),
        _ => a == b,
    }
}

/// Two objects alike, `capabilities` aside when `skip` (doctor's signature of a media model).
fn without_capabilities_same(x: &Map<String, Value>, y: &Map<String, Value>, skip: bool) -> bool {
    let keys = |m: &Map<String, Value>| -> Vec<String> {
        let mut k: Vec<String> = m
            .keys()
            .filter(|k| !(skip && *k == "capabilities"))
            .cloned()
            .collect();
        k.sort();
        k
    };
    keys(x) == keys(y)
        && x.iter()
            .filter(|(k, _)| !(skip && *k == "capabilities"))
            .all(|(k, v)| same(v, &y[k]))
}

/// The entries of one capability's list doctor moves, by index: objects whose `capabilities`
/// (when an array) name the capability, the first of each signature.
fn chosen(models: &[Value], capability: &str) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let Value::Object(entry) = m else { continue };
        let excluded = match entry.get("capabilities") {
            Some(Value::Array(c)) => !c.iter().any(|v| v.as_str() == Some(capability)),
            _ => false,
        };
        let repeat = out.iter().any(|&j| {
            let earlier = models[j].as_object().expect("chosen entries are objects");
            without_capabilities_same(earlier, entry, true)
        });
        if !excluded && !repeat {
            out.push(i);
        }
    }
    out
}

fn at(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

pub fn run(ws: &mut Workspace, capabilities: &[String]) -> Result<(), StepError> {
    let Some(Value::Object(media)) = lookup(ws.config(), &at(&["tools", "media"])) else {
        return Ok(());
    };
    let config_of = |c: &str| media.get(c).and_then(Value::as_object);
    if !capabilities
        .iter()
        .any(|c| config_of(c).is_some_and(|m| m.contains_key("models")))
    {
        return Ok(());
    }
    let moves: Vec<(String, Vec<usize>)> = capabilities
        .iter()
        .map(|c| {
            let list = config_of(c).and_then(|m| m.get("models"));
            let picked = match list {
                Some(Value::Array(models)) => chosen(models, c),
                _ => Vec::new(),
            };
            (c.clone(), picked)
        })
        .collect();
    let shared = media.get("models").cloned();
    let shared_objects = match &shared {
        Some(Value::Array(a)) => a.iter().filter(|v| v.is_object()).count(),
        _ => 0,
    };
    let moved: usize = moves.iter().map(|(_, picked)| picked.len()).sum();

    // The shared list keeps its objects only, once there is anything to list.
    let list = at(&["tools", "media", "models"]);
    if moved + shared_objects > 0 {
        match &shared {
            Some(Value::Array(a)) => {
                for (i, _) in a.iter().enumerate().rev().filter(|(_, v)| !v.is_object()) {
                    ws.remove(
                        CONFIG,
                        pointer(&[list.clone(), vec![i.to_string()]].concat()),
                    )?;
                }
            }
            Some(_) => ws.replace(CONFIG, pointer(&list), json!([]))?,
            None => ws.add(CONFIG, pointer(&list), json!([]))?,
        }
    }

    let mut next = 0;
    for (capability, picked) in moves {
        let owner = at(&["tools", "media", &capability]);
        if !matches!(lookup(ws.config(), &owner), Some(Value::Object(_))) {
            continue;
        }
        let models = [owner.clone(), vec!["models".into()]].concat();
        for (taken, i) in picked.into_iter().enumerate() {
            let from = [models.clone(), vec![(i - taken).to_string()]].concat();
            let to = [list.clone(), vec![next.to_string()]].concat();
            ws.move_value(CONFIG, pointer(&from), pointer(&to))?;
            let tag = [to, vec!["capabilities".into()]].concat();
            if lookup(ws.config(), &tag).is_some() {
                ws.replace(CONFIG, pointer(&tag), json!([capability]))?;
            } else {
                ws.add(CONFIG, pointer(&tag), json!([capability]))?;
            }
            next += 1;
        }
        if lookup(ws.config(), &models).is_some() {
            ws.remove(CONFIG, pointer(&models))?;
        }
        if matches!(lookup(ws.config(), &owner), Some(Value::Object(m)) if m.is_empty()) {
            ws.remove(CONFIG, pointer(&owner))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use super::same;
    use serde_json::json;

    const STEP: &str =
        r#"{"kind": "media_models_consolidate", "capabilities": ["image", "audio", "video"]}"#;

    #[test]
    fn signatures_ignore_key_order_and_number_spelling() {
        assert!(same(
            &json!({"a": 1, "b": [1.0]}),
            &json!({"b": [1], "a": 1.0})
        ));
        assert!(!same(&json!({"a": 1}), &json!({"a": 1, "b": null})));
        assert!(!same(&json!([1, 2]), &json!([2, 1])));
    }

    #[test]
    fn capability_lists_go_in_front_tagged_and_deduplicated() {
        let out = after(
            "{tools: {media: {
               models: [{provider: 's'}, 3],
               audio: {enabled: true, models: [{provider: 'a', model: 'x'}, {model: 'x', provider: 'a', capabilities: ['audio']}]},
               image: {models: [{provider: 'i', capabilities: ['video']}, {provider: 'j', capabilities: ['image', 'audio']}, 'odd']},
               video: {},
             }}}",
            STEP,
        );
        assert_eq!(
            value(&out)["tools"]["media"],
            json!({
                "models": [
                    {"provider": "j", "capabilities": ["image"]},
                    {"provider": "a", "model": "x", "capabilities": ["audio"]},
                    {"provider": "s"},
                ],
                "audio": {"enabled": true},
            })
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn a_models_key_of_any_kind_goes_and_the_shared_list_may_stay() {
        let out = after(
            "{tools: {media: {models: 'x', image: {models: null}}}}",
            STEP,
        );
        assert_eq!(value(&out)["tools"]["media"], json!({"models": "x"}));
        let out = after(
            "{tools: {media: {models: 'x', video: {models: [{p: 1}]}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["tools"]["media"],
            json!({"models": [{"p": 1, "capabilities": ["video"]}]})
        );
    }

    #[test]
    fn nothing_without_a_capability_models_key() {
        plans_nothing("{tools: {media: {image: {}, models: [1, {p: 1}]}}}", STEP);
        plans_nothing("{tools: {media: {image: [{models: []}]}}}", STEP);
        plans_nothing("{tools: {media: []}}", STEP);
    }
}
