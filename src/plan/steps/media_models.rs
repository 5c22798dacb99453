//! Step `media_models_consolidate`: OpenClaw 2026.9.6's doctor folds the per-capability model
//! lists (`tools.media.<capability>.models`, capabilities in the order given) into the one
//! `tools.media.models` list. Each entry is tagged `capabilities: [<capability>]` (an object
//! whose own `capabilities` array leaves that capability out is dropped), repeats within one
//! capability (same entry but for `capabilities`) are dropped, and the entries go in front of
//! the shared ones, capability by capability. The per-capability `models` keys go, and so does a
//! capability object left empty. Doctor does this whenever a capability object holds a `models`
//! key; the step does too and nothing otherwise.
//!
//! Doctor spreads an entry that is not an object into one (`{...entry}`): a number or a boolean
//! gives `{}`, a string an object of its characters by index, an array one of its items by
//! index; the step writes the same. A `null` entry makes doctor fail: nothing is planned and a
//! conflict says so.
use super::path::lookup;
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{FindingKind, StepError, Workspace};
use serde_json::{Map, Value, json};

/// Equality as doctor's signature (`JSON.stringify` of the entry with sorted keys) sees it:
/// key order aside, numbers by their value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => same_entries(x, y, false),
        _ => a == b,
    }
}

/// Two objects alike, their `capabilities` aside when `signature` (doctor's media model
/// signature leaves the capability tag out).
fn same_entries(x: &Map<String, Value>, y: &Map<String, Value>, signature: bool) -> bool {
    let counted = |k: &String| !(signature && k == "capabilities");
    x.keys().filter(|k| counted(k)).count() == y.keys().filter(|k| counted(k)).count()
        && x.iter()
            .filter(|(k, _)| counted(k))
            .all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
}

/// An entry doctor cannot take: it fails on it.
struct Fails(String);

/// The object doctor makes of a legacy entry for `capability` (`{...entry}`), or `None` when
/// the entry's own capabilities leave it out.
fn scoped(entry: &Value, capability: &str, at: &str) -> Result<Option<Map<String, Value>>, Fails> {
    let by_index = |items: Vec<Value>| -> Map<String, Value> {
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect()
    };
    Ok(Some(match entry {
        Value::Object(m) => match m.get("capabilities") {
            Some(Value::Array(c)) if !c.iter().any(|v| v.as_str() == Some(capability)) => {
                return Ok(None);
            }
            _ => m.clone(),
        },
        Value::Null => return Err(Fails(format!("{at} holds null"))),
        Value::Array(items) => by_index(items.clone()),
        Value::String(s) if s.chars().any(|c| u32::from(c) > 0xFFFF) => {
            // Doctor would split such a character into two halves no JSON text can hold.
            return Err(Fails(format!(
                "{at} holds the string {s:?}, with a character outside the Basic Multilingual Plane"
            )));
        }
        Value::String(s) => by_index(s.chars().map(|c| json!(c.to_string())).collect()),
        Value::Bool(_) | Value::Number(_) => Map::new(),
    }))
}

/// One entry doctor moves to the shared list: where it is in its list and what it becomes.
struct Taken {
    index: usize,
    value: Map<String, Value>,
}

/// The entries of one capability's list doctor moves, in order: the first of each signature.
fn chosen(models: &[Value], capability: &str, at: &str) -> Result<Vec<Taken>, Fails> {
    let mut out: Vec<Taken> = Vec::new();
    for (index, m) in models.iter().enumerate() {
        let Some(value) = scoped(m, capability, &format!("{at}[{index}]"))? else {
            continue;
        };
        if !out.iter().any(|t| same_entries(&t.value, &value, true)) {
            out.push(Taken { index, value });
        }
    }
    Ok(out)
}

fn at(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn child(toks: &[String], key: impl ToString) -> Vec<String> {
    [toks, &[key.to_string()]].concat()
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
    let mut moves: Vec<(String, Vec<Taken>)> = Vec::new();
    for c in capabilities {
        let taken = match config_of(c).and_then(|m| m.get("models")) {
            Some(Value::Array(models)) => chosen(models, c, &format!("tools.media.{c}.models")),
            _ => Ok(Vec::new()),
        };
        match taken {
            Ok(taken) => moves.push((c.clone(), taken)),
            Err(Fails(why)) => {
                ws.finding(
                    FindingKind::Conflict,
                    None,
                    format!(
                        "{why}: OpenClaw's doctor stops with an error on it, so the media model \
                         lists were left as they are"
                    ),
                    Some(format!(
                        "remove that entry of tools.media.{c}.models (or make it a model \
                         object), then run migrate again"
                    )),
                );
                return Ok(());
            }
        }
    }
    let shared_len = match media.get("models") {
        Some(Value::Array(a)) => Some(a.len()),
        _ => None,
    };
    let moving: usize = moves.iter().map(|(_, t)| t.len()).sum();

    let list = at(&["tools", "media", "models"]);
    if moving > 0 && shared_len.is_none() {
        match lookup(ws.config(), &list) {
            Some(_) => ws.replace(CONFIG, pointer(&list), json!([]))?,
            None => ws.add(CONFIG, pointer(&list), json!([]))?,
        }
    }
    let mut next = 0;
    for (capability, taken) in moves {
        let owner = at(&["tools", "media", &capability]);
        if !matches!(lookup(ws.config(), &owner), Some(Value::Object(_))) {
            continue;
        }
        let models = child(&owner, "models");
        let mut moved_out = 0;
        for t in taken {
            let from = child(&models, t.index - moved_out);
            let to = child(&list, next);
            next += 1;
            if !lookup(ws.config(), &from).is_some_and(Value::is_object) {
                let mut value = t.value;
                value.insert("capabilities".into(), json!([capability]));
                ws.add(CONFIG, pointer(&to), Value::Object(value))?;
                continue;
            }
            // An object moves with its comments, then gets its tag.
            ws.move_value(CONFIG, pointer(&from), pointer(&to))?;
            moved_out += 1;
            let tag = child(&to, "capabilities");
            if lookup(ws.config(), &tag).is_some() {
                ws.replace(CONFIG, pointer(&tag), json!([capability]))?;
            } else {
                ws.add(CONFIG, pointer(&tag), json!([capability]))?;
            }
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
    use super::super::testing::{after, findings, plans_nothing, value};
    use super::same;
    use crate::plan::workspace::FindingKind;
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
               image: {models: [{provider: 'i', capabilities: ['video']}, {provider: 'j', capabilities: ['image', 'audio']}]},
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
                    3,
                ],
                "audio": {"enabled": true},
            })
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn entries_that_are_not_objects_are_spread_as_doctor_does() {
        let out = after(
            "{tools: {media: {image: {models: [5, true, 'ab', [1], {}, 'ab', {p: 1}]}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["tools"]["media"],
            json!({"models": [
                {"capabilities": ["image"]},
                {"0": "a", "1": "b", "capabilities": ["image"]},
                {"0": 1, "capabilities": ["image"]},
                {"p": 1, "capabilities": ["image"]},
            ]})
        );
        // Doctor fails on a null entry, and would write halves of a character outside the
        // Basic Multilingual Plane: nothing is planned, a conflict says why.
        for text in [
            "{tools: {media: {image: {models: [{p: 1}, null]}}}}",
            "{tools: {media: {audio: {models: ['\u{1F600}']}}}}",
        ] {
            plans_nothing(text, STEP);
            let found = findings(text, STEP);
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].kind, FindingKind::Conflict);
        }
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
