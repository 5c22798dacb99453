//! Step `mcp_servers_canonicalize`: OpenClaw 2026.9.6's doctor rewrites legacy spellings of
//! each server of `mcp.servers` and `nodeHost.mcp.servers`: a boolean `disabled` becomes the
//! inverse `enabled` (unless a boolean `enabled` is set), the timeout aliases in seconds
//! (`connectTimeout`/`connect_timeout`, `timeout`) become `connectionTimeoutMs`/`requestTimeoutMs`
//! in milliseconds (unless set; an alias that is not a positive number is just dropped), the
//! snake_case aliases and `workingDirectory` their canonical keys (`cwd`, `sslVerify`, ...,
//! `codex.defaultToolsApprovalMode`), and a CLI `type` (`http`, `streamable-http`, `sse`,
//! `stdio`, any case) the `transport` it stands for (`stdio` has none: the `type` just goes).
//! The walk is doctor's, done on a copy of the config; what differs is planned.
use super::rewrite::plan_rewritten;
use crate::js;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Number, Value};

/// A CLI `type` alias (trimmed, any case) and the transport OpenClaw 2026.9.6 maps it to.
fn cli_type(v: Option<&Value>) -> Option<Option<&'static str>> {
    let t = js::trim(v?.as_str()?).to_lowercase();
    match t.as_str() {
        "http" | "streamable-http" => Some(Some("streamable-http")),
        "sse" => Some(Some("sse")),
        "stdio" => Some(None),
        _ => None,
    }
}

fn is_str(s: &Map<String, Value>, k: &str) -> bool {
    s.get(k).is_some_and(Value::is_string)
}

fn is_bool(s: &Map<String, Value>, k: &str) -> bool {
    s.get(k).is_some_and(Value::is_boolean)
}

fn disabled_to_enabled(s: &mut Map<String, Value>) {
    let Some(disabled) = s.get("disabled").and_then(Value::as_bool) else {
        return;
    };
    if !is_bool(s, "enabled") {
        s.insert("enabled".into(), Value::Bool(!disabled));
    }
    s.shift_remove("disabled");
}

/// `seconds * 1000` as JavaScript would print it (an integer when it is one).
fn millis(seconds: f64) -> Option<Value> {
    let ms = seconds * 1e3;
    if !(seconds > 0.0 && ms.is_finite()) {
        return None;
    }
    if ms.fract() == 0.0 && ms < 9_007_199_254_740_992.0 {
        return Some(Value::Number(Number::from(ms as u64)));
    }
    Number::from_f64(ms).map(Value::Number)
}

fn timeouts(s: &mut Map<String, Value>) {
    for (alias, canonical) in [
        ("connectTimeout", "connectionTimeoutMs"),
        ("connect_timeout", "connectionTimeoutMs"),
        ("timeout", "requestTimeoutMs"),
    ] {
        let Some(v) = s.shift_remove(alias) else {
            continue;
        };
        let ms = v.as_f64().and_then(millis);
        if let (false, Some(ms)) = (s.contains_key(canonical), ms) {
            s.insert(canonical.into(), ms);
        }
    }
}

fn has_aliases(s: &Map<String, Value>) -> bool {
    let codex = s.get("codex").and_then(Value::as_object);
    s.contains_key("workingDirectory")
        || [
            "supports_parallel_tool_calls",
            "ssl_verify",
            "client_cert",
            "client_key",
        ]
        .iter()
        .any(|k| s.contains_key(*k))
        || codex.is_some_and(|c| c.contains_key("default_tools_approval_mode"))
}

/// `from` (when of the wanted type and `to` is not) becomes `to`; `from` always goes.
fn rename(s: &mut Map<String, Value>, from: &str, to: &str, is: fn(&Value) -> bool) {
    if s.get(from).is_some_and(is) && !s.get(to).is_some_and(is) {
        let v = s[from].clone();
        s.insert(to.into(), v);
    }
    s.shift_remove(from);
}

/// Doctor's server canonicalizer, for a server that holds a legacy alias.
fn canonicalize(s: &mut Map<String, Value>) {
    if !has_aliases(s) {
        return;
    }
    type_to_transport(s);
    rename(s, "workingDirectory", "cwd", Value::is_string);
    rename(
        s,
        "supports_parallel_tool_calls",
        "supportsParallelToolCalls",
        Value::is_boolean,
    );
    rename(s, "ssl_verify", "sslVerify", Value::is_boolean);
    rename(s, "client_cert", "clientCert", Value::is_string);
    rename(s, "client_key", "clientKey", Value::is_string);
    if let Some(codex) = s.get_mut("codex").and_then(Value::as_object_mut) {
        rename(
            codex,
            "default_tools_approval_mode",
            "defaultToolsApprovalMode",
            Value::is_string,
        );
    }
}

fn type_to_transport(s: &mut Map<String, Value>) {
    let Some(transport) = cli_type(s.get("type")) else {
        return;
    };
    if let (false, Some(t)) = (is_str(s, "transport"), transport) {
        s.insert("transport".into(), Value::String(t.into()));
    }
    s.shift_remove("type");
}

fn servers<'a>(root: &'a mut Value, path: &[&str]) -> Vec<&'a mut Map<String, Value>> {
    let found = path
        .iter()
        .try_fold(root, |v, k| v.as_object_mut()?.get_mut(*k));
    let Some(Value::Object(servers)) = found else {
        return Vec::new();
    };
    servers
        .values_mut()
        .filter_map(Value::as_object_mut)
        .collect()
}

/// Doctor's walk over a copy of the config; `None` when neither place holds a server to walk.
fn migrated(config: &Value) -> Option<Value> {
    let has_servers = |path: &[&str]| {
        let found = path.iter().try_fold(config, |v, k| v.as_object()?.get(*k));
        matches!(found, Some(Value::Object(s)) if s.values().any(Value::is_object))
    };
    if !has_servers(&["mcp", "servers"]) && !has_servers(&["nodeHost", "mcp", "servers"]) {
        return None;
    }
    let mut root = config.clone();
    for path in [&["mcp", "servers"][..], &["nodeHost", "mcp", "servers"][..]] {
        for s in servers(&mut root, path) {
            disabled_to_enabled(s);
        }
        for s in servers(&mut root, path) {
            timeouts(s);
        }
        for s in servers(&mut root, path) {
            canonicalize(s);
        }
    }
    for s in servers(&mut root, &["mcp", "servers"]) {
        type_to_transport(s);
    }
    Some(root)
}

pub fn run(ws: &mut Workspace) -> Result<(), StepError> {
    plan_rewritten(ws, migrated)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "mcp_servers_canonicalize"}"#;

    #[test]
    fn types_become_transports_and_stdio_goes() {
        let out = after(
            "{mcp: {servers: {a: {type: ' HTTP', url: 'u'}, b: {type: 'stdio', command: 'x'},
              c: {type: 'sse', transport: 'streamable-http'}, d: {type: 'ws'}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"mcp": {"servers": {"a": {"url": "u", "transport": "streamable-http"},
                "b": {"command": "x"}, "c": {"transport": "streamable-http"}, "d": {"type": "ws"}}}})
        );
        plans_nothing(&out, STEP);
        // nodeHost servers keep a lone type alias
        plans_nothing("{nodeHost: {mcp: {servers: {a: {type: 'http'}}}}}", STEP);
    }

    #[test]
    fn disabled_and_timeouts() {
        let out = after(
            "{nodeHost: {mcp: {servers: {a: {disabled: true, timeout: 1.5, connect_timeout: 10},
              b: {disabled: false, enabled: false, connectTimeout: -1, requestTimeoutMs: 5, timeout: 9}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["nodeHost"]["mcp"]["servers"],
            json!({"a": {"enabled": false, "requestTimeoutMs": 1500, "connectionTimeoutMs": 10000},
                "b": {"enabled": false, "requestTimeoutMs": 5}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn snake_case_aliases_and_the_type_with_them() {
        let out = after(
            "{nodeHost: {mcp: {servers: {a: {type: 'sse', workingDirectory: '/w', ssl_verify: false,
              client_key: 1, sslVerify: 'x', codex: {default_tools_approval_mode: 'auto'}}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["nodeHost"]["mcp"]["servers"]["a"],
            json!({"transport": "sse", "cwd": "/w", "sslVerify": false,
                "codex": {"defaultToolsApprovalMode": "auto"}})
        );
    }
}
