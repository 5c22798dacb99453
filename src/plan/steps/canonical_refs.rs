//! Step `canonicalize_model_refs`: OpenClaw 2026.9.6's doctor (`models.canonical-model-refs`)
//! walks the whole config and rewrites every model ref it recognises with the release's
//! normalizer ([`super::model_refs`]), looking where doctor looks:
//! - a string under one of `string_keys` (`model`, `primary`, ...), anywhere under a
//!   `modelByChannel`, or an `image`/`video`/`music` under a `mediaModels`;
//! - the strings of a list under one of `array_keys` (`fallbacks`, ...) or a `modelPolicy.allow`;
//! - an object's `provider` + `model` pair (its `model` then left alone);
//! - the keys of a map under one of `map_keys` (`models`): a retired key is renamed, and merged
//!   into the canonical key when both are there (the canonical entry's values win, nested
//!   objects merge, equal-once-normalised values are not a conflict);
//! - the row ids of each provider catalog under `models.providers` (rows that end on one id
//!   merge, the row already canonical first).
//!
//! "Where" is the key of the path doctor builds by joining keys with dots, so a map key holding
//! a dot counts by its last part, as in doctor. The rewrite is done on a copy; renamed map keys
//! are moved (keeping their comments), then what still differs is planned.
use super::model_refs::{Normalizer, Renames};
use super::path::lookup;
use super::rewrite::plan_diff;
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Where doctor looks for refs, and the release's table of retired models.
pub struct Params<'a> {
    pub string_keys: &'a [String],
    pub array_keys: &'a [String],
    pub map_keys: &'a [String],
    pub renames: &'a Renames,
}

/// A map key renamed in place: the map's tokens (as in the result), the old key, the new one.
type Rename = (Vec<String>, String, String);

struct Walk<'a> {
    p: &'a Params<'a>,
    n: Normalizer<'a>,
    /// `None` while comparing values (nothing is recorded then).
    renames: Option<Vec<Rename>>,
}

/// The last dot-separated part of a path (doctor's `pathKey`).
fn path_key(path: &str) -> &str {
    &path[path.rfind('.').map_or(0, |i| i + 1)..]
}

fn has(keys: &[String], key: &str) -> bool {
    keys.iter().any(|k| k == key)
}

fn is_media_model_path(path: &str) -> bool {
    ["image", "video", "music"].contains(&path_key(path)) && path.contains(".mediaModels.")
}

fn sanitize(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(sanitize).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !js::is_blocked_key(k))
                .map(|(k, c)| (k.clone(), sanitize(c)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// JavaScript's split of `s` around `s.indexOf("/")` with `slice` (no slash: all but the last
/// character, and the whole).
fn split_at_slash(s: &str) -> (String, String) {
    match s.find('/') {
        Some(i) => (s[..i].to_string(), s[i + 1..].to_string()),
        None => {
            let mut chars = s.chars();
            chars.next_back();
            (chars.as_str().to_string(), s.to_string())
        }
    }
}

impl<'a> Walk<'a> {
    fn new(p: &'a Params<'a>, record: bool) -> Self {
        Walk {
            p,
            n: Normalizer { renames: p.renames },
            renames: record.then(Vec::new),
        }
    }

    /// A ref string rewritten, when it changes.
    fn string(&self, s: &str) -> Option<Value> {
        self.n.model_ref(s).filter(|u| u != s).map(Value::String)
    }

    /// The value rewritten (`None`: unchanged). `path` is doctor's dotted path of `v`; it is
    /// extended for each child and given back as it came.
    fn rewrite(&mut self, v: &Value, path: &mut String, toks: &mut Vec<String>) -> Option<Value> {
        let key = path_key(path);
        match v {
            Value::String(s) => {
                let looked_at = has(self.p.string_keys, key)
                    || path.contains(".modelByChannel.")
                    || is_media_model_path(path);
                if looked_at { self.string(s) } else { None }
            }
            Value::Array(a) => {
                let refs = has(self.p.array_keys, key) || path.ends_with(".modelPolicy.allow");
                let mut changed = false;
                let mut out = Vec::with_capacity(a.len());
                for (i, e) in a.iter().enumerate() {
                    let r = match e {
                        Value::String(s) if refs => self.string(s),
                        _ => {
                            toks.push(i.to_string());
                            let len = path.len();
                            path.push('.');
                            path.push_str(&i.to_string());
                            let r = self.rewrite(e, path, toks);
                            path.truncate(len);
                            toks.pop();
                            r
                        }
                    };
                    changed |= r.is_some();
                    out.push(r.unwrap_or_else(|| e.clone()));
                }
                changed.then_some(Value::Array(out))
            }
            Value::Object(m) => self.record(m, path, toks),
            _ => None,
        }
    }

    fn record(
        &mut self,
        record: &Map<String, Value>,
        path: &mut String,
        toks: &mut Vec<String>,
    ) -> Option<Value> {
        let key_is_map = has(self.p.map_keys, path_key(path));
        let provider = record.get("provider").and_then(Value::as_str);
        let model = record.get("model").and_then(Value::as_str);
        let pair = provider.is_some() && model.is_some();
        // Copied only once something in it changes: most of a config holds no ref.
        let mut working: Option<Map<String, Value>> = None;
        if let (Some(p), Some(m)) = (provider, model)
            && !js::trim(p).is_empty()
        {
            let r = format!("{p}/{m}");
            if let Some(up) = self.n.model_ref(&r).filter(|u| !u.is_empty() && *u != r) {
                let (np, nm) = split_at_slash(&up);
                let w = working.get_or_insert_with(|| record.clone());
                w.insert("provider".into(), Value::String(np));
                w.insert("model".into(), Value::String(nm));
            }
        }
        if (path == ".providers" || path.ends_with(".models.providers"))
            && let Some(w) = self.catalogs(working.as_ref().unwrap_or(record), path)
        {
            working = Some(w);
        }
        if key_is_map && let Some(w) = self.map_keys(working.as_ref().unwrap_or(record), path, toks)
        {
            working = Some(w);
        }
        let mut children = Vec::new();
        for (k, child) in working.as_ref().unwrap_or(record) {
            if pair && k == "model" {
                continue;
            }
            toks.push(k.clone());
            let len = path.len();
            path.push('.');
            path.push_str(k);
            if let Some(r) = self.rewrite(child, path, toks) {
                children.push((k.clone(), r));
            }
            path.truncate(len);
            toks.pop();
        }
        if working.is_none() && children.is_empty() {
            return None;
        }
        let mut next = working.unwrap_or_else(|| record.clone());
        for (k, r) in children {
            // In place: a member keeps its position.
            next.insert(k, r);
        }
        Some(Value::Object(next))
    }

    /// Two values equal as they are, or once both are rewritten at `path`.
    fn same(&self, a: &Value, b: &Value, path: &str) -> bool {
        if js::deep_equal(a, b) {
            return true;
        }
        let mut w = Walk::new(self.p, false);
        let a = w
            .rewrite(a, &mut path.to_string(), &mut Vec::new())
            .unwrap_or_else(|| a.clone());
        let b = w
            .rewrite(b, &mut path.to_string(), &mut Vec::new())
            .unwrap_or_else(|| b.clone());
        js::deep_equal(&a, &b)
    }

    /// Doctor's merge of two entries that end on one key: the existing entry's values win,
    /// members it lacks are added, objects on both sides merge.
    fn merge(&self, existing: &Value, incoming: &Value, path: &str) -> Value {
        let (Some(e), Some(i)) = (existing.as_object(), incoming.as_object()) else {
            return sanitize(existing);
        };
        let Value::Object(mut merged) = sanitize(existing) else {
            unreachable!("an object stays an object")
        };
        for (f, iv) in i.iter().filter(|(f, _)| !js::is_blocked_key(f)) {
            let Some(ev) = e.get(f) else {
                merged.insert(f.clone(), sanitize(iv));
                continue;
            };
            let fp = format!("{path}.{f}");
            if self.same(ev, iv, &fp) {
                continue;
            }
            if ev.is_object() && iv.is_object() {
                merged.insert(f.clone(), self.merge(ev, iv, &fp));
            }
        }
        Value::Object(merged)
    }

    fn map_keys(
        &mut self,
        record: &Map<String, Value>,
        path: &str,
        toks: &[String],
    ) -> Option<Map<String, Value>> {
        let mut changed = false;
        let mut next = Map::new();
        let mut consumed: HashSet<String> = HashSet::new();
        let mut renamed = Vec::new();
        for (key, child) in record {
            let up = self.n.model_ref(key);
            let truthy = up.as_ref().is_some_and(|u| !u.is_empty());
            let next_key = up.unwrap_or_else(|| key.clone());
            if !truthy && consumed.contains(key) {
                continue;
            }
            changed |= truthy;
            if truthy
                && !next.contains_key(&next_key)
                && let Some(canonical) = record.get(&next_key)
            {
                next.insert(next_key.clone(), canonical.clone());
                consumed.insert(next_key.clone());
            }
            if let Some(existing) = next.get(&next_key) {
                let merged = self.merge(existing, child, &format!("{path}.{next_key}"));
                next.insert(next_key, merged);
                continue;
            }
            if truthy {
                renamed.push((toks.to_vec(), key.clone(), next_key.clone()));
            }
            next.insert(next_key, child.clone());
        }
        if !changed {
            return None;
        }
        if let Some(r) = self.renames.as_mut() {
            r.extend(renamed);
        }
        Some(next)
    }

    /// Doctor's rewrite of the catalog row ids under `models.providers`.
    fn catalogs(&self, providers: &Map<String, Value>, path: &str) -> Option<Map<String, Value>> {
        struct Row<'v> {
            index: usize,
            model: &'v Value,
            rec: Option<&'v Map<String, Value>>,
            original: Option<&'v str>,
            normalized: Option<String>,
            changed: bool,
        }
        let mut next: Option<Map<String, Value>> = None;
        for (pid, pv) in providers {
            let Some(provider) = pv.as_object() else {
                continue;
            };
            let Some(models) = provider.get("models").and_then(Value::as_array) else {
                continue;
            };
            let rows: Vec<Row> = models
                .iter()
                .enumerate()
                .map(|(index, model)| {
                    let rec = model.as_object();
                    match rec.and_then(|r| r.get("id")).and_then(Value::as_str) {
                        Some(id) => {
                            let normalized = self.n.catalog_id(pid, id);
                            Row {
                                index,
                                model,
                                rec,
                                original: Some(id),
                                changed: normalized != id,
                                normalized: Some(normalized),
                            }
                        }
                        None => Row {
                            index,
                            model,
                            rec: None,
                            original: None,
                            normalized: None,
                            changed: false,
                        },
                    }
                })
                .collect();
            if !rows.iter().any(|r| r.changed) {
                continue;
            }
            let mut emitted: HashSet<&str> = HashSet::new();
            let mut out = Vec::new();
            for row in &rows {
                let (Some(nid), Some(_)) = (row.normalized.as_deref(), row.rec) else {
                    out.push(row.model.clone());
                    continue;
                };
                let grouped: Vec<&Row> = rows
                    .iter()
                    .filter(|r| r.normalized.as_deref() == Some(nid))
                    .collect();
                if !grouped.iter().any(|r| r.changed) {
                    out.push(row.model.clone());
                    continue;
                }
                if !emitted.insert(nid) {
                    continue;
                }
                let preferred = grouped
                    .iter()
                    .find(|c| c.original == Some(nid))
                    .unwrap_or(&grouped[0]);
                let with_id = |r: &Row| {
                    let mut m = r.rec.cloned().unwrap_or_default();
                    m.insert("id".into(), Value::String(nid.to_string()));
                    Value::Object(m)
                };
                let mut merged = with_id(preferred);
                let at = format!("{path}.{pid}.models.{}", preferred.index);
                for c in grouped.iter().filter(|c| c.index != preferred.index) {
                    merged = self.merge(&merged, &with_id(c), &at);
                }
                out.push(merged);
            }
            let mut p = provider.clone();
            p.insert("models".into(), Value::Array(out));
            next.get_or_insert_with(|| providers.clone())
                .insert(pid.clone(), Value::Object(p));
        }
        next
    }
}

pub fn run(ws: &mut Workspace, params: &Params) -> Result<(), StepError> {
    let mut walk = Walk::new(params, true);
    let Some(new) = walk.rewrite(ws.config(), &mut "config".to_string(), &mut Vec::new()) else {
        return Ok(());
    };
    for (parent, old, key) in walk.renames.unwrap_or_default() {
        let free = lookup(ws.config(), &parent)
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(&old) && !m.contains_key(&key));
        if free {
            let at = |k: &str| {
                let mut t = parent.clone();
                t.push(k.to_string());
                pointer(&t)
            };
            ws.move_value(CONFIG, at(&old), at(&key))?;
        }
    }
    let current = ws.config().clone();
    plan_diff(ws, &mut Vec::new(), &current, &new)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "canonicalize_model_refs",
        "string_keys": ["model", "primary"], "array_keys": ["fallbacks"], "map_keys": ["models"],
        "renames": {"openai": {"gpt-4o": "gpt-5.5"}}}"#;

    #[test]
    fn values_pairs_and_lists_where_doctor_looks() {
        let out = after(
            "{agents: {defaults: {model: {primary: 'anthropic/claude-opus-4-5', fallbacks: ['openai/gpt-4o', 'x']},
               note: 'anthropic/claude-opus-4-5', modelByChannel: {tg: ' openai/gpt-4o '}}},
              hooks: [{provider: 'openai', model: 'gpt-4o'}, {provider: ' ', model: 'openai/gpt-4o'}],
              tools: {mediaModels: {image: 'openai/gpt-4o', other: 'openai/gpt-4o'}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"agents": {"defaults": {"model": {"primary": "anthropic/claude-opus-4-7", "fallbacks": ["openai/gpt-5.5", "x"]},
                "note": "anthropic/claude-opus-4-5", "modelByChannel": {"tg": "openai/gpt-5.5"}}},
                "hooks": [{"provider": "openai", "model": "gpt-5.5"}, {"provider": " ", "model": "openai/gpt-4o"}],
                "tools": {"mediaModels": {"image": "openai/gpt-5.5", "other": "openai/gpt-4o"}}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn map_keys_rename_with_their_comments_or_merge_into_the_canonical_key() {
        let out = after(
            "{\n  agents: {\n    defaults: {\n      models: {\n        // the old opus\n        'anthropic/claude-opus-4-5': { alias: 'opus' },\n        'openai/gpt-4o': { alias: 'o', params: { t: 1 } },\n        'openai/gpt-5.5': { params: { t: 2, u: 3 } },\n      },\n    },\n  },\n}\n",
            STEP,
        );
        assert_eq!(
            value(&out)["agents"]["defaults"]["models"],
            json!({"anthropic/claude-opus-4-7": {"alias": "opus"},
                   "openai/gpt-5.5": {"params": {"t": 2, "u": 3}, "alias": "o"}})
        );
        assert!(out.contains("// the old opus"), "{out}");
        plans_nothing(&out, STEP);
    }

    #[test]
    fn catalog_rows_take_the_canonical_id_and_merge() {
        let out = after(
            "{models: {providers: {openai: {models: [{id: 'gpt-4o', name: 'old', input: ['text']}, {id: 'gpt-5.5', name: 'new'}, 'x']},
              anthropic: {models: [{id: 'claude-3-5-sonnet'}]}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["models"]["providers"],
            json!({"openai": {"models": [{"id": "gpt-5.5", "name": "new", "input": ["text"]}, "x"]},
                   "anthropic": {"models": [{"id": "claude-sonnet-4-6"}]}})
        );
        plans_nothing(&out, STEP);
    }
}
