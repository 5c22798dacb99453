//! The JSON Schema (draft 2020-12) of every `--format json` document, made from the very types
//! the documents are serialised from (`schemars`), so it cannot drift from them: one variant per
//! verb and its modes, each the envelope with that verb's installs, closed wherever the output is.
use super::repair::RepairJson;
use super::report::InstallJson;
use super::rollback::{RunsJson, UndoJson};
use crate::printer::{Document, JSON_SCHEMA, Mode, NoInstall};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::transform::RecursiveTransform;
use schemars::{Schema, json_schema};
use serde_json::{Map, Value};

/// The dialect the schema is written in.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The document schema of a mode: the envelope around the installs that mode reports (the one
/// place that pairs them; the match has no catch-all, so a new mode must be placed here).
fn document(g: &mut SchemaGenerator, mode: Mode) -> Schema {
    match mode {
        Mode::DryRun | Mode::Check | Mode::Apply | Mode::Status => {
            g.subschema_for::<Document<InstallJson>>()
        }
        Mode::List => g.subschema_for::<Document<NoInstall>>(),
        Mode::Rollback | Mode::RollbackDryRun => g.subschema_for::<Document<UndoJson>>(),
        Mode::RollbackList => g.subschema_for::<Document<RunsJson>>(),
        Mode::Repair | Mode::RepairDryRun => g.subschema_for::<Document<RepairJson>>(),
    }
}

/// Closes every object schema that lists its members and says nothing of others: each is a
/// Rust struct, and the output has no member the struct does not name.
fn close(schema: &mut Schema) {
    if let Some(obj) = schema.as_object_mut()
        && obj.contains_key("properties")
        && !obj.contains_key("additionalProperties")
    {
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
}

fn mode_name(mode: Mode) -> Value {
    serde_json::to_value(mode).expect("a mode serialises")
}

/// The schema of every document `--format json` prints, as a JSON value.
pub fn schema() -> Value {
    let mut g = SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(RecursiveTransform(close))
        .into_generator();
    // One variant per verb and kind of installs, naming the modes that print it.
    let mut variants: Vec<(&str, Schema, Vec<Value>)> = Vec::new();
    for mode in Mode::ALL {
        let doc = document(&mut g, mode);
        let command = mode.command();
        match variants
            .iter_mut()
            .find(|(c, d, _)| *c == command && *d == doc)
        {
            Some((_, _, modes)) => modes.push(mode_name(mode)),
            None => variants.push((command, doc, vec![mode_name(mode)])),
        }
    }
    let one_of: Vec<Value> = variants
        .into_iter()
        .map(|(command, doc, modes)| {
            let names: Vec<&str> = modes.iter().filter_map(Value::as_str).collect();
            json_schema!({
                "title": format!("{command}: {}", names.join(", ")),
                "allOf": [doc],
                "properties": {
                    "command": {"const": command},
                    "mode": {"enum": modes},
                },
            })
            .to_value()
        })
        .collect();
    let defs: Map<String, Value> = g.take_definitions(true);
    serde_json::json!({
        "$schema": DIALECT,
        "$id": format!("urn:clawmigrate:json-output:schema-{JSON_SCHEMA}"),
        "title": format!("clawmigrate --format json (schema {JSON_SCHEMA})"),
        "description": "The one document every clawmigrate verb prints on stdout with --format json: the same envelope for every verb, with that verb's installs.",
        "type": "object",
        "properties": {
            "schema": {"const": JSON_SCHEMA},
            "tool": {"properties": {"name": {"const": "clawmigrate"}}},
        },
        "oneOf": one_of,
        "$defs": defs,
    })
}

/// The schema as `clawmigrate schema` prints it: pretty, with a final newline.
pub fn text() -> String {
    let mut s = serde_json::to_string_pretty(&schema()).expect("a schema serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mode has a variant, under its own command, and no two variants share a mode.
    #[test]
    fn every_mode_is_in_exactly_one_variant() {
        let s = schema();
        let variants = s["oneOf"].as_array().unwrap();
        for mode in Mode::ALL {
            let name = mode_name(mode);
            let holding: Vec<&Value> = variants
                .iter()
                .filter(|v| {
                    v["properties"]["mode"]["enum"]
                        .as_array()
                        .unwrap()
                        .contains(&name)
                })
                .collect();
            assert_eq!(holding.len(), 1, "{mode:?}");
            assert_eq!(holding[0]["properties"]["command"]["const"], mode.command());
        }
    }
}
