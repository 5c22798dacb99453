//! Step `vllm_qwen_thinking_to_compat`: OpenClaw 2026.9.6's doctor moves the legacy
//! `params.qwenThinkingFormat` (or `qwen_thinking_format`) of vLLM models to
//! `models.providers.vllm.models[].compat.thinkingFormat`, translated (`chat-template` and its
//! spellings to `qwen-chat-template`, `enable-thinking`/`top-level`/`request-body` to `qwen`).
//! It reads the param from each `agents.defaults.models` entry of a `vllm/...` ref, each vLLM
//! model row, the vLLM provider, `agents.defaults` and every agent, and writes it on the rows
//! the refs of that scope name (created `{id, name}` when missing; `reasoning: true` unless
//! set), a format already valid there winning; an unknown value, or a param no row can take,
//! is just removed. The walk is doctor's, done on a copy of the config; what differs is planned.
use super::agents_entries::visited_agents;
use super::path::lookup;
use super::rewrite::plan_diff;
use crate::js;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};

const KEYS: [&str; 2] = ["qwenThinkingFormat", "qwen_thinking_format"];
/// The thinking formats OpenClaw 2026.9.6 knows (`isModelThinkingFormat`).
const FORMATS: [&str; 7] = [
    "openai",
    "openrouter",
    "deepseek",
    "together",
    "qwen",
    "qwen-chat-template",
    "zai",
];

/// The compat format a legacy value stands for, if any.
fn translate(value: &Value) -> Option<&'static str> {
    let s = js::trim(value.as_str()?).to_lowercase();
    let mut norm = String::new();
    let mut in_run = false;
    for c in s.chars() {
        if c == '_' || js::space(c) {
            if !in_run {
                norm.push('-');
            }
            in_run = true;
        } else {
            norm.push(c);
            in_run = false;
        }
    }
    match norm.as_str() {
        "chat-template"
        | "chat-template-argument"
        | "chat-template-arguments"
        | "chat-template-kwarg"
        | "chat-template-kwargs"
        | "qwen-chat-template" => Some("qwen-chat-template"),
        "enable-thinking" | "qwen" | "request-body" | "top-level" => Some("qwen"),
        _ => None,
    }
}

/// The legacy key a params object holds (the first of `KEYS`) and its translation.
fn legacy(params: &Map<String, Value>) -> Option<Option<&'static str>> {
    KEYS.iter().find_map(|k| params.get(*k).map(translate))
}

/// `provider/model@profile` without the profile, as OpenClaw splits it (a date or a
/// quantization after `@` belongs to the model).
fn without_profile(raw: &str) -> &str {
    let t = js::trim(raw);
    let last_slash = t.rfind('/').map_or(0, |i| i + 1);
    let Some(mut at) = t[last_slash..].find('@').map(|i| i + last_slash) else {
        return t;
    };
    if at == 0 {
        return t;
    }
    let suffix = |at: usize| &t[at + 1..];
    let ends = |rest: &str| rest.is_empty() || rest.starts_with('@');
    let s = suffix(at);
    if s.len() >= 8 && s.as_bytes()[..8].iter().all(u8::is_ascii_digit) && ends(&s[8..]) {
        match t[at + 9.min(t.len() - at)..].find('@') {
            Some(i) => at = at + 9 + i,
            None => return t,
        }
    }
    if quantization(suffix(at)) {
        match t[at + 1..].find('@') {
            Some(i) => at = at + 1 + i,
            None => return t,
        }
    }
    let (model, profile) = (js::trim(&t[..at]), js::trim(&t[at + 1..]));
    if model.is_empty() || profile.is_empty() {
        t
    } else {
        model
    }
}

/// `^(?:i?q\d+(?:_[a-z0-9]+)*|\d+bit)(?:@|$)`, case-insensitive.
fn quantization(s: &str) -> bool {
    let b = s.to_ascii_lowercase().into_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let end_ok = |i: usize| i == b.len() || b[i] == b'@';
    let mut i = 0;
    if b.first() == Some(&b'i') {
        i = 1;
    }
    if b.get(i) == Some(&b'q') && digits(i + 1) > 0 {
        let mut j = i + 1 + digits(i + 1);
        loop {
            if end_ok(j) {
                return true;
            }
            if b[j] != b'_' {
                break;
            }
            let n = b[j + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if n == 0 {
                break;
            }
            j += 1 + n;
        }
    }
    let d = digits(0);
    d > 0 && b[d..].starts_with(b"bit") && end_ok(d + 3)
}

/// The model id of a `vllm/<id>` ref (any case of the provider, an auth profile dropped).
fn vllm_model(key: &str) -> Option<String> {
    let t = js::trim(without_profile(key));
    let slash = t.find('/').filter(|&i| i > 0)?;
    if js::trim(&t[..slash]).to_lowercase() != "vllm" {
        return None;
    }
    let id = js::trim(&t[slash + 1..]);
    (!id.is_empty() && id != "*").then(|| id.to_string())
}

fn from_selection(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vllm_model(s).into_iter().collect(),
        Some(Value::Object(o)) => {
            let primary = o
                .get("primary")
                .and_then(Value::as_str)
                .and_then(vllm_model);
            let fallbacks = o
                .get("fallbacks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            let fallbacks = fallbacks.filter_map(Value::as_str).filter_map(vllm_model);
            primary.into_iter().chain(fallbacks).collect()
        }
        _ => Vec::new(),
    }
}

fn from_model_map(v: Option<&Value>) -> Vec<String> {
    let keys = v.and_then(Value::as_object).into_iter().flat_map(Map::keys);
    keys.filter_map(|k| vllm_model(k)).collect()
}

fn obj(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.as_object_mut()
}

/// The config, mutated as doctor mutates its copy.
struct Doctor {
    root: Value,
}

impl Doctor {
    fn providers(&mut self) -> Option<&mut Map<String, Value>> {
        obj(obj(&mut self.root)?.get_mut("models")?)?
            .get_mut("providers")
            .and_then(obj)
    }

    fn vllm_key(providers: &Map<String, Value>) -> Option<String> {
        providers
            .keys()
            .find(|k| js::trim(k).to_lowercase() == "vllm")
            .cloned()
    }

    fn vllm(&mut self) -> Option<&mut Map<String, Value>> {
        let providers = self.providers()?;
        let key = Self::vllm_key(providers)?;
        providers.get_mut(&key).and_then(obj)
    }

    /// Indexes of the object rows of the vLLM provider.
    fn existing_rows(&mut self) -> Vec<usize> {
        let rows = self
            .vllm()
            .and_then(|p| p.get("models"))
            .and_then(Value::as_array);
        let rows = rows.into_iter().flatten().enumerate();
        rows.filter(|(_, r)| r.is_object())
            .map(|(i, _)| i)
            .collect()
    }

    /// The row of `id` (or `vllm/<id>`), appended when missing; `None` where a parent on the
    /// way is not an object (or `models` not an array).
    fn find_or_create(&mut self, id: &str) -> Option<usize> {
        fn record<'a>(
            m: &'a mut Map<String, Value>,
            k: &str,
        ) -> Option<&'a mut Map<String, Value>> {
            m.entry(k.to_string())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
        }
        let root = obj(&mut self.root)?;
        let providers = record(record(root, "models")?, "providers")?;
        let key = Self::vllm_key(providers).unwrap_or_else(|| "vllm".into());
        let vllm = record(providers, &key)?;
        let rows = vllm
            .entry("models")
            .or_insert_with(|| Value::Array(Vec::new()));
        let rows = rows.as_array_mut()?;
        let full = format!("vllm/{id}");
        let found = rows.iter().position(|r| {
            let rid = r.get("id").and_then(Value::as_str);
            r.is_object() && (rid == Some(id) || rid == Some(full.as_str()))
        });
        Some(found.unwrap_or_else(|| {
            let mut row = Map::new();
            row.insert("id".into(), Value::String(id.into()));
            row.insert("name".into(), Value::String(id.into()));
            rows.push(Value::Object(row));
            rows.len() - 1
        }))
    }

    fn create_targets(&mut self, ids: &[String]) -> Vec<usize> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(i) = self.find_or_create(id).filter(|i| !out.contains(i)) {
                out.push(i);
            }
        }
        out
    }

    /// Writes `format` on row `i` unless it holds a valid one already (doctor's apply).
    fn write(&mut self, i: usize, format: &str) {
        let Some(row) = self
            .vllm()
            .and_then(|p| p.get_mut("models"))
            .and_then(|m| m.get_mut(i))
        else {
            return;
        };
        let Some(row) = obj(row) else { return };
        row.entry("reasoning").or_insert(Value::Bool(true));
        if !row.get("compat").is_some_and(Value::is_object) {
            row.insert("compat".into(), Value::Object(Map::new()));
        }
        let compat = row.get_mut("compat").and_then(obj).expect("set above");
        let current = compat.get("thinkingFormat").and_then(Value::as_str);
        if !current.is_some_and(|c| FORMATS.contains(&c)) {
            compat.insert("thinkingFormat".into(), Value::String(format.into()));
        }
    }

    /// Applies a legacy format found at `params` (a path of object keys/indexes from the root)
    /// to `targets`, then removes the keys (and `params` when left empty).
    fn apply(&mut self, params: &[String], format: Option<&'static str>, targets: &[usize]) {
        if let Some(f) = format {
            for &t in targets {
                self.write(t, f);
            }
        }
        let (parent, last) = params.split_at(params.len() - 1);
        let Some(owner) = lookup_mut(&mut self.root, parent).and_then(obj) else {
            return;
        };
        if let Some(p) = owner.get_mut(&last[0]).and_then(obj) {
            for k in KEYS {
                p.shift_remove(k);
            }
            if p.is_empty() {
                owner.shift_remove(&last[0]);
            }
        }
    }
}

fn lookup_mut<'a>(v: &'a mut Value, toks: &[String]) -> Option<&'a mut Value> {
    toks.iter().try_fold(v, |v, t| match v {
        Value::Object(m) => m.get_mut(t),
        Value::Array(a) => a.get_mut(t.parse::<usize>().ok()?),
        _ => None,
    })
}

fn at(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn legacy_at(root: &Value, toks: &[String]) -> Option<Option<&'static str>> {
    lookup(root, toks)
        .and_then(Value::as_object)
        .and_then(legacy)
}

/// Doctor's walk over a copy of the config; `None` when it changes nothing.
fn migrated(config: &Value) -> Option<Value> {
    let mut d = Doctor {
        root: config.clone(),
    };
    // 1. agents.defaults.models entries of vLLM refs
    let keys: Vec<String> = lookup(config, &at(&["agents", "defaults", "models"]))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for key in keys {
        let params = at(&["agents", "defaults", "models", &key, "params"]);
        let (Some(id), Some(format)) = (vllm_model(&key), legacy_at(&d.root, &params)) else {
            continue;
        };
        let target = match format {
            Some(_) => match d.find_or_create(&id) {
                Some(t) => vec![t],
                None => continue,
            },
            None => Vec::new(),
        };
        d.apply(&params, format, &target);
    }
    // 2. the vLLM rows' own params
    let vllm_key = d.providers().and_then(|p| Doctor::vllm_key(p));
    let rows = |d: &mut Doctor| {
        d.vllm()
            .and_then(|p| p.get("models"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    if let Some(vk) = &vllm_key {
        for i in 0..rows(&mut d) {
            let params = at(&[
                "models",
                "providers",
                vk,
                "models",
                &i.to_string(),
                "params",
            ]);
            if let Some(format) = legacy_at(&d.root, &params) {
                d.apply(&params, format, &[i]);
            }
        }
    }
    let default_ids = |d: &Doctor| {
        let mut ids = from_selection(lookup(&d.root, &at(&["agents", "defaults", "model"])));
        ids.extend(from_model_map(lookup(
            &d.root,
            &at(&["agents", "defaults", "models"]),
        )));
        ids
    };
    // 3. the provider's params: existing rows plus the rows every agent's refs name
    if let Some(vk) = &vllm_key {
        let params = at(&["models", "providers", vk, "params"]);
        if let Some(format) = legacy_at(&d.root, &params) {
            let mut ids = default_ids(&d);
            for (_, agent) in visited(&d.root) {
                ids.extend(from_selection(agent.get("model")));
                ids.extend(from_model_map(agent.get("models")));
            }
            let mut targets = d.existing_rows();
            for t in d.create_targets(&ids) {
                if !targets.contains(&t) {
                    targets.push(t);
                }
            }
            d.apply(&params, format, &targets);
        }
    }
    // 4. agents.defaults.params, then 5. each agent's params
    let mut scopes = vec![(at(&["agents", "defaults", "params"]), None)];
    for (path, agent) in visited(&d.root) {
        let mut ids = from_selection(agent.get("model"));
        ids.extend(from_model_map(agent.get("models")));
        let mut p = path;
        p.push("params".into());
        scopes.push((p, Some(ids)));
    }
    for (params, own) in scopes {
        let Some(format) = legacy_at(&d.root, &params) else {
            continue;
        };
        let ids = match own {
            Some(ids) if !ids.is_empty() => ids,
            _ => default_ids(&d),
        };
        let targets = if ids.is_empty() {
            d.existing_rows()
        } else {
            d.create_targets(&ids)
        };
        d.apply(&params, format, &targets);
    }
    (d.root != *config).then_some(d.root)
}

/// The agents doctor visits ([`visited_agents`]), each with its path and a copy of its entry.
fn visited(root: &Value) -> Vec<(Vec<String>, Map<String, Value>)> {
    visited_agents(root)
        .into_iter()
        .filter_map(|p| Some((p.clone(), lookup(root, &p)?.as_object()?.clone())))
        .collect()
}

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    let Some(new) = migrated(ws.config()) else {
        return Ok(());
    };
    // A copy to diff from: planning changes the working config.
    let config = ws.config().clone();
    plan_diff(ws, &mut Vec::new(), &config, &new)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use super::{quantization, translate, without_profile};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "vllm_qwen_thinking_to_compat"}"#;

    #[test]
    fn values_translate_as_doctor_reads_them() {
        assert_eq!(
            translate(&json!(" Chat_Template  kwargs")),
            Some("qwen-chat-template")
        );
        assert_eq!(translate(&json!("top_level")), Some("qwen"));
        assert_eq!(translate(&json!("ENABLE THINKING")), Some("qwen"));
        assert_eq!(translate(&json!("other")), None);
        assert_eq!(translate(&json!(true)), None);
    }

    #[test]
    fn an_auth_profile_is_split_off_but_not_a_date_or_a_quantization() {
        assert_eq!(without_profile(" vllm/qwen@work "), "vllm/qwen");
        assert_eq!(without_profile("vllm/qwen@20250101"), "vllm/qwen@20250101");
        assert_eq!(
            without_profile("vllm/qwen@20250101@work"),
            "vllm/qwen@20250101"
        );
        assert_eq!(without_profile("vllm/qwen@q4_k_m"), "vllm/qwen@q4_k_m");
        assert_eq!(without_profile("vllm/qwen@4bit@me"), "vllm/qwen@4bit");
        assert!(quantization("IQ4_xs") && quantization("8bit") && !quantization("q_4"));
    }

    #[test]
    fn a_default_model_entry_param_moves_to_its_row() {
        let text = "{models: {providers: {vllm: {models: [{id: 'Qwen/Qwen3-32B', name: 'Q'}]}}},
          agents: {defaults: {models: {'vllm/Qwen/Qwen3-32B': {params: {qwenThinkingFormat: 'chat-template'}}}}}}";
        let out = after(text, STEP);
        assert_eq!(
            value(&out),
            json!({"models": {"providers": {"vllm": {"models": [{"id": "Qwen/Qwen3-32B", "name": "Q",
                "reasoning": true, "compat": {"thinkingFormat": "qwen-chat-template"}}]}}},
                "agents": {"defaults": {"models": {"vllm/Qwen/Qwen3-32B": {}}}}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn provider_params_reach_every_row_and_the_refs_rows_a_set_format_wins() {
        let text =
            "{models: {providers: {vllm: {params: {qwen_thinking_format: 'qwen', temperature: 0},
            models: [{id: 'a', compat: {thinkingFormat: 'openai'}}]}}},
          agents: {defaults: {model: 'vllm/b'}}}";
        assert_eq!(
            value(&after(text, STEP))["models"],
            json!({"providers": {"vllm": {"params": {"temperature": 0}, "models": [
                {"id": "a", "compat": {"thinkingFormat": "openai"}, "reasoning": true},
                {"id": "b", "name": "b", "reasoning": true, "compat": {"thinkingFormat": "qwen"}}]}}})
        );
    }

    #[test]
    fn an_unknown_value_or_no_row_only_removes_the_param() {
        let out = value(&after(
            "{agents: {defaults: {params: {qwenThinkingFormat: 'x'}}}}",
            STEP,
        ));
        assert_eq!(out, json!({"agents": {"defaults": {}}}));
        let out = value(&after(
            "{agents: {entries: {a: {params: {qwenThinkingFormat: 'qwen', t: 1}}}}}",
            STEP,
        ));
        assert_eq!(
            out,
            json!({"agents": {"entries": {"a": {"params": {"t": 1}}}}})
        );
        plans_nothing(
            "{agents: {defaults: {models: {'openai/x': {params: {qwenThinkingFormat: 'qwen'}}}}}}",
            STEP,
        );
    }
}
