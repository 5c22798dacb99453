//! Step `codex_routes_to_openai`: OpenClaw 2026.9.6's doctor
//! (`models.providers.codex-routes->models.providers.openai`) retires the Codex provider routes.
//! In `models.providers`, in the order of its keys:
//! - every provider's `api: "openai-codex-responses"` (and its model rows') becomes
//!   `openai-chatgpt-responses`;
//! - a legacy provider (`codex`, `openai-codex`, any case) that some agent scope's
//!   `modelPolicy.allow` names as `<provider>/*` is left alone (it would widen to `openai/*`);
//! - otherwise, with no `openai` provider yet, it moves to `openai` (a `codex` provider's model
//!   rows getting the `codex` agent runtime it implied);
//! - with one, its model rows the `openai` block lacks (by id, else name) are appended to it,
//!   each carrying the provider-level `baseUrl`, `api`, window sizes, `params` and runtime it
//!   inherited (and `metadataSource: "models-add"` for the stock `/models add` Codex rows), and
//!   it goes; unless a row colliding with an `openai` row differs from it, or provider-level
//!   defaults (`apiKey`, `headers`... on the legacy block; `params`, `maxTokens`... on
//!   `openai`) could not be carried by the appended rows: then it stays (its api renamed).
//!
//! The walk is done on a copy; a provider moved to a free `openai` key is moved (keeping its
//! comments), then what still differs is planned.
use super::agents_entries::visited_agents;
use super::path::lookup;
use super::rewrite::plan_diff;
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};
use std::collections::HashSet;

const LEGACY_API: &str = "openai-codex-responses";
const CHATGPT_API: &str = "openai-chatgpt-responses";
const OPENAI: &str = "openai";
/// Provider-level defaults of a legacy block that appended rows could not carry.
const UNSCOPED: [&str; 9] = [
    "apiKey",
    "auth",
    "request",
    "timeoutSeconds",
    "region",
    "injectNumCtxForOpenAICompat",
    "localService",
    "headers",
    "authHeader",
];
/// Provider-level settings of `openai` that would leak onto appended rows.
const LEAK: [&str; 14] = [
    "apiKey",
    "auth",
    "contextWindow",
    "contextTokens",
    "maxTokens",
    "timeoutSeconds",
    "region",
    "injectNumCtxForOpenAICompat",
    "params",
    "agentRuntime",
    "localService",
    "headers",
    "authHeader",
    "request",
];

type Obj = Map<String, Value>;

fn norm_id(s: &str) -> String {
    js::trim(s).to_lowercase()
}

fn is_legacy(id: &str) -> bool {
    matches!(norm_id(id).as_str(), "codex" | "openai-codex")
}

fn str_of<'v>(m: &'v Obj, k: &str) -> Option<&'v str> {
    m.get(k).and_then(Value::as_str)
}

fn models(m: &Obj) -> &[Value] {
    m.get("models")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The provider with `openai-codex-responses` renamed (its own `api` and its rows'), and
/// whether anything was.
fn rename_api(provider: &Obj) -> (Obj, bool) {
    let mut next = provider.clone();
    let mut changed = false;
    if str_of(provider, "api") == Some(LEGACY_API) {
        next.insert("api".into(), Value::String(CHATGPT_API.into()));
        changed = true;
    }
    if let Some(rows) = provider.get("models").and_then(Value::as_array) {
        let mut rows_changed = false;
        let rows: Vec<Value> = rows
            .iter()
            .map(|row| match row.as_object() {
                Some(r) if str_of(r, "api") == Some(LEGACY_API) => {
                    rows_changed = true;
                    let mut r = r.clone();
                    r.insert("api".into(), Value::String(CHATGPT_API.into()));
                    Value::Object(r)
                }
                _ => row.clone(),
            })
            .collect();
        if rows_changed {
            next.insert("models".into(), Value::Array(rows));
            changed = true;
        }
    }
    (next, changed)
}

/// The agent scopes: `agents.defaults`, then `agents.entries` (else `agents.list`).
fn agent_scopes(root: &Value) -> Vec<&Obj> {
    let defaults = lookup(root, &["agents".to_string(), "defaults".to_string()]);
    let agents = visited_agents(root);
    let entries = agents.iter().filter_map(|p| lookup(root, p));
    defaults
        .into_iter()
        .chain(entries)
        .filter_map(Value::as_object)
        .collect()
}

/// Legacy providers some scope's `modelPolicy.allow` names as `<provider>/*`.
fn wildcard_providers(root: &Value) -> HashSet<String> {
    let mut out = HashSet::new();
    for scope in agent_scopes(root) {
        let allow = scope
            .get("modelPolicy")
            .and_then(Value::as_object)
            .and_then(|p| p.get("allow"))
            .and_then(Value::as_array);
        for entry in allow.into_iter().flatten().filter_map(Value::as_str) {
            if let Some(p) = js::trim(entry).strip_suffix("/*").map(norm_id)
                && is_legacy(&p)
            {
                out.insert(p);
            }
        }
    }
    out
}

/// OpenClaw's runtime id as configured: trimmed, lower-cased, aliases resolved.
fn runtime_id(runtime: Option<&Obj>) -> Option<String> {
    let id = norm_id(runtime?.get("id")?.as_str()?);
    Some(match id.as_str() {
        "" => return None,
        "openclaw" | "pi" => "openclaw".into(),
        "codex-app-server" => "codex".into(),
        _ => id,
    })
}

/// The agent runtime a `codex` provider's row gets when it moves: the row's own unless it is
/// `auto` (then `codex`), else the provider's, else `codex`.
fn moved_runtime(provider_id: &str, provider: &Obj, row: &Obj) -> Option<Value> {
    if norm_id(provider_id) != "codex" {
        return None;
    }
    let with_codex = |r: Option<&Obj>| {
        let mut m = r.cloned().unwrap_or_default();
        m.insert("id".into(), Value::String("codex".into()));
        Some(Value::Object(m))
    };
    let own = row.get("agentRuntime").and_then(Value::as_object);
    match runtime_id(own).as_deref() {
        Some("auto") => return with_codex(own),
        Some(_) => return None,
        None => {}
    }
    let theirs = provider.get("agentRuntime").and_then(Value::as_object);
    match runtime_id(theirs).as_deref() {
        Some(id) if id != "auto" => theirs.cloned().map(Value::Object),
        _ => with_codex(theirs),
    }
}

fn num_is(m: Option<&Obj>, k: &str, n: f64) -> bool {
    m.and_then(|m| m.get(k))
        .and_then(Value::as_f64)
        .is_some_and(|x| x == n)
}

/// A row of the stock Codex `/models add` shape (whose metadata the move stamps).
fn models_add_row(provider_id: &str, row: &Obj) -> bool {
    let id = str_of(row, "id").map(|s| js::trim(s).to_lowercase());
    let input = row.get("input").and_then(Value::as_array);
    let cost = row.get("cost").and_then(Value::as_object);
    is_legacy(provider_id)
        && matches!(id.as_deref(), Some("gpt-5.5" | "gpt-5.5-pro"))
        && matches!(str_of(row, "api"), Some(LEGACY_API | CHATGPT_API))
        && row.get("reasoning") == Some(&Value::Bool(true))
        && input.is_some_and(|i| i.len() == 2 && i[0] == "text" && i[1] == "image")
        && num_is(cost, "input", 5.0)
        && num_is(cost, "output", 30.0)
        && num_is(cost, "cacheRead", 0.5)
        && num_is(cost, "cacheWrite", 0.0)
        && num_is(Some(row), "contextWindow", 400_000.0)
        && num_is(Some(row), "contextTokens", 272_000.0)
        && num_is(Some(row), "maxTokens", 128_000.0)
}

/// JavaScript's truthiness of a member (absent counts as false).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// A row as it would stand in `openai`: what it inherited from its provider made explicit.
fn effective_row(row: &Value, provider: &Obj, provider_id: &str) -> Value {
    let Some(rec) = row.as_object() else {
        return row.clone();
    };
    let mut patch = Obj::new();
    let base_url = provider.get("baseUrl").filter(|v| v.is_string());
    let api = provider.get("api").filter(|v| v.is_string());
    let params = provider.get("params").and_then(Value::as_object);
    let runtime = provider.get("agentRuntime").and_then(Value::as_object);
    let moved = moved_runtime(provider_id, provider, rec);
    if let Some(u) = base_url.filter(|u| truthy(Some(u)))
        && !truthy(rec.get("baseUrl"))
    {
        patch.insert("baseUrl".into(), u.clone());
    }
    if let Some(a) = api.filter(|a| truthy(Some(a)))
        && !truthy(rec.get("api"))
    {
        patch.insert("api".into(), a.clone());
    }
    for k in ["contextWindow", "contextTokens", "maxTokens"] {
        if let Some(n) = provider.get(k).filter(|v| v.is_number())
            && !rec.contains_key(k)
        {
            patch.insert(k.into(), n.clone());
        }
    }
    if let Some(p) = params {
        match rec.get("params") {
            Some(Value::Object(own)) => {
                let mut merged = p.clone();
                for (k, v) in own {
                    merged.insert(k.clone(), v.clone());
                }
                patch.insert("params".into(), Value::Object(merged));
            }
            None => {
                patch.insert("params".into(), Value::Object(p.clone()));
            }
            Some(_) => {}
        }
    }
    if let Some(m) = moved {
        patch.insert("agentRuntime".into(), m);
    } else if let Some(r) = runtime
        && !rec.contains_key("agentRuntime")
    {
        patch.insert("agentRuntime".into(), Value::Object(r.clone()));
    }
    if !rec.contains_key("metadataSource") && models_add_row(provider_id, rec) {
        patch.insert("metadataSource".into(), Value::String("models-add".into()));
    }
    if patch.is_empty() {
        return row.clone();
    }
    let mut out = rec.clone();
    for (k, v) in patch {
        out.insert(k, v);
    }
    Value::Object(out)
}

/// The id of a row (a string, even empty) and its name, as doctor reads them.
fn id_name(row: &Obj) -> (Option<&str>, Option<&str>) {
    (str_of(row, "id"), str_of(row, "name"))
}

/// Whether some legacy row collides (same id, else same name) with an `openai` row that is not
/// equivalent to it, or the two blocks' provider-level defaults differ.
fn collides(canonical: &Obj, legacy: &Obj, legacy_id: &str) -> bool {
    models(legacy).iter().any(|row| {
        let Some(rec) = row.as_object() else {
            return false;
        };
        let (id, name) = id_name(rec);
        let id = id.filter(|s| !s.is_empty());
        if id.is_none() && name.is_none_or(str::is_empty) {
            return false;
        }
        let hits: Vec<&Value> = models(canonical)
            .iter()
            .filter(|c| {
                let c = c.as_object();
                match id {
                    Some(id) => c.and_then(|c| str_of(c, "id")) == Some(id),
                    None => c.and_then(|c| str_of(c, "name")) == name,
                }
            })
            .collect();
        if hits.is_empty() {
            return false;
        }
        let theirs = effective_row(row, legacy, legacy_id);
        !hits.iter().all(|c| {
            js::deep_equal(&effective_row(c, canonical, OPENAI), &theirs)
                && UNSCOPED
                    .iter()
                    .all(|k| match (canonical.get(*k), legacy.get(*k)) {
                        (Some(a), Some(b)) => js::deep_equal(a, b),
                        (a, b) => a.is_none() && b.is_none(),
                    })
        })
    })
}

/// The legacy rows `openai` lacks (by id, else by name).
fn mergeable<'v>(canonical: &Obj, legacy: &'v Obj) -> Vec<&'v Value> {
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for c in models(canonical).iter().filter_map(Value::as_object) {
        ids.extend(str_of(c, "id").filter(|s| !s.is_empty()));
        names.extend(str_of(c, "name").filter(|s| !s.is_empty()));
    }
    models(legacy)
        .iter()
        .filter(|row| {
            let Some(rec) = row.as_object() else {
                return false;
            };
            match id_name(rec) {
                (Some(id), _) if !id.is_empty() => !ids.contains(id),
                (_, Some(name)) if !name.is_empty() => !names.contains(name),
                _ => false,
            }
        })
        .collect()
}

fn blocked_by_defaults(canonical: &Obj, legacy: &Obj) -> bool {
    UNSCOPED.iter().any(|k| legacy.contains_key(*k))
        || LEAK.iter().any(|k| canonical.contains_key(*k))
}

/// A `codex` provider's rows with the runtime their move implies.
fn prepare_move(provider_id: &str, mut provider: Obj) -> Obj {
    if norm_id(provider_id) != "codex" {
        return provider;
    }
    let Some(rows) = provider.get("models").and_then(Value::as_array) else {
        return provider;
    };
    let rows: Vec<Value> = rows
        .iter()
        .map(|row| match row.as_object() {
            Some(rec) => match moved_runtime(provider_id, &provider, rec) {
                Some(rt) => {
                    let mut r = rec.clone();
                    r.insert("agentRuntime".into(), rt);
                    Value::Object(r)
                }
                None => row.clone(),
            },
            None => row.clone(),
        })
        .collect();
    provider.insert("models".into(), Value::Array(rows));
    provider
}

/// Doctor's walk over a copy of the config, and the providers moved to a free `openai` key;
/// `None` without a `models.providers` to walk.
fn migrated(config: &Value) -> Option<(Value, Vec<String>)> {
    config
        .get("models")?
        .as_object()?
        .get("providers")?
        .as_object()?;
    let mut root = config.clone();
    let wildcards = wildcard_providers(config);
    let mut moved = Vec::new();
    let providers = root
        .get_mut("models")
        .and_then(Value::as_object_mut)
        .and_then(|m| m.get_mut("providers"))
        .and_then(Value::as_object_mut)?;
    let snapshot = providers.clone();
    for (pid, value) in &snapshot {
        let current = providers
            .get(pid)
            .and_then(Value::as_object)
            .or_else(|| value.as_object());
        let Some(provider) = current.cloned() else {
            continue;
        };
        let legacy = is_legacy(pid);
        if legacy && wildcards.contains(&norm_id(pid)) {
            continue;
        }
        let (renamed, changed) = rename_api(&provider);
        if !legacy {
            if changed {
                providers.insert(pid.clone(), Value::Object(renamed));
            }
            continue;
        }
        let canonical_key = providers.keys().find(|k| norm_id(k) == OPENAI).cloned();
        let Some(canonical_key) = canonical_key else {
            providers.insert(OPENAI.into(), Value::Object(prepare_move(pid, renamed)));
            moved.push(pid.clone());
            providers.shift_remove(pid);
            continue;
        };
        let (key, canonical) = match providers.get(&canonical_key).and_then(Value::as_object) {
            Some(c) => (canonical_key, c.clone()),
            None => (OPENAI.to_string(), Obj::new()),
        };
        let rows = mergeable(&canonical, &renamed);
        if collides(&canonical, &renamed, pid)
            || (!rows.is_empty() && blocked_by_defaults(&canonical, &renamed))
        {
            if changed {
                providers.insert(pid.clone(), Value::Object(renamed));
            }
            continue;
        }
        let stamped: Vec<Value> = rows
            .into_iter()
            .map(|r| effective_row(r, &renamed, pid))
            .collect();
        if !stamped.is_empty() {
            let mut merged = canonical;
            let mut all = models(&merged).to_vec();
            all.extend(stamped);
            merged.insert("models".into(), Value::Array(all));
            providers.insert(key, Value::Object(merged));
        }
        providers.shift_remove(pid);
    }
    Some((root, moved))
}

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    let Some((new, moved)) = migrated(ws.config()) else {
        return Ok(());
    };
    if new == *ws.config() {
        return Ok(());
    }
    let at = |k: &str| pointer(&["models".into(), "providers".into(), k.to_string()]);
    for pid in moved {
        let free = lookup(ws.config(), &["models".into(), "providers".into()])
            .and_then(Value::as_object)
            .is_some_and(|p| p.contains_key(&pid) && !p.contains_key(OPENAI));
        if free {
            ws.move_value(CONFIG, at(&pid), at(OPENAI))?;
        }
    }
    let current = ws.config().clone();
    plan_diff(ws, &mut Vec::new(), &current, &new)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "codex_routes_to_openai"}"#;

    #[test]
    fn a_lone_codex_provider_moves_to_openai_with_its_comments() {
        let out = after(
            "{\n  models: {\n    providers: {\n      // the ChatGPT route\n      codex: {\n        api: 'openai-codex-responses',\n        // the one model\n        models: [{ id: 'gpt-5.4' }, { id: 'x', agentRuntime: { id: 'auto' } }],\n      },\n      other: { models: [{ id: 'y', api: 'openai-codex-responses' }] },\n    },\n  },\n}\n",
            STEP,
        );
        assert_eq!(
            value(&out)["models"]["providers"],
            json!({"other": {"models": [{"id": "y", "api": "openai-chatgpt-responses"}]},
                   "openai": {"api": "openai-chatgpt-responses", "models": [
                       {"id": "gpt-5.4", "agentRuntime": {"id": "codex"}},
                       {"id": "x", "agentRuntime": {"id": "codex"}}]}})
        );
        assert!(
            out.contains("// the ChatGPT route") && out.contains("// the one model"),
            "{out}"
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn rows_merge_into_openai_unless_defaults_or_collisions_block() {
        let out = after(
            "{models: {providers: {openai: {models: [{id: 'a', name: 'A', baseUrl: 'https://chatgpt.com', contextWindow: 9}]},
              'openai-codex': {baseUrl: 'https://chatgpt.com', contextWindow: 9, models: [{id: 'a', name: 'A'}, {id: 'b'}]}}}}",
            STEP,
        );
        // the colliding row is the same once its inherited values are explicit
        assert_eq!(
            value(&out)["models"]["providers"],
            json!({"openai": {"models": [{"id": "a", "name": "A", "baseUrl": "https://chatgpt.com", "contextWindow": 9},
                {"id": "b", "baseUrl": "https://chatgpt.com", "contextWindow": 9}]}})
        );
        // a colliding row that differs keeps the legacy block
        plans_nothing(
            "{models: {providers: {openai: {models: [{id: 'a'}]}, codex: {models: [{id: 'a', name: 'other'}]}}}}",
            STEP,
        );
        // an apiKey on the legacy block cannot ride on the appended rows
        plans_nothing(
            "{models: {providers: {openai: {}, codex: {apiKey: 'k', models: [{id: 'b'}]}}}}",
            STEP,
        );
        // a `codex/*` allowance keeps it where it is
        plans_nothing(
            "{agents: {defaults: {modelPolicy: {allow: [' Codex/* ']}}}, models: {providers: {codex: {models: []}}}}",
            STEP,
        );
    }
}
