//! Step `signal_host_port_to_url`: OpenClaw 2026.9.6's doctor (tier-eval tranche) retires the
//! `httpHost`/`httpPort` pair of `channels.signal` and of each of its accounts. Where either key
//! is present and no `httpUrl` is set, the pair becomes `httpUrl: "http://<host>:<port>"` (host
//! trimmed, `127.0.0.1` when blank or not a string, an IPv6 host bracketed; port 8080 when not a
//! number; an account falls back to the root's values as they were before the step) and
//! `autoStart: true` unless set; where an `httpUrl` is set, or an account inherits a string one
//! from the root, the pair just goes. The walk is done on a copy; what differs is planned.
use super::rewrite::plan_rewritten;
use crate::js;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};

/// The root's endpoint keys, as the accounts inherit them.
#[derive(Default)]
struct Inherited {
    url: Option<Value>,
    host: Option<Value>,
    port: Option<Value>,
}

/// JavaScript's `a ?? b`: `a` unless it is absent or `null`.
fn either<'a>(a: Option<&'a Value>, b: Option<&'a Value>) -> Option<&'a Value> {
    a.filter(|v| !v.is_null()).or(b)
}

fn migrate(entry: &mut Map<String, Value>, inherited: &Inherited) {
    if !entry.contains_key("httpHost") && !entry.contains_key("httpPort") {
        return;
    }
    let own_url = entry.contains_key("httpUrl");
    if !own_url && !inherited.url.as_ref().is_some_and(Value::is_string) {
        let host = either(entry.get("httpHost"), inherited.host.as_ref())
            .and_then(Value::as_str)
            .map(js::trim)
            .filter(|h| !h.is_empty())
            .unwrap_or("127.0.0.1");
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let port = match either(entry.get("httpPort"), inherited.port.as_ref()) {
            Some(p @ Value::Number(_)) => js::string(p),
            _ => "8080".to_string(),
        };
        entry.insert(
            "httpUrl".into(),
            Value::String(format!("http://{host}:{port}")),
        );
        entry.entry("autoStart").or_insert(Value::Bool(true));
    }
    entry.shift_remove("httpHost");
    entry.shift_remove("httpPort");
}

/// Doctor's walk over a copy of the config; `None` without a `channels.signal` to walk.
fn migrated(config: &Value) -> Option<Value> {
    config
        .get("channels")?
        .as_object()?
        .get("signal")?
        .as_object()?;
    let mut root = config.clone();
    let signal = root
        .get_mut("channels")
        .and_then(Value::as_object_mut)
        .and_then(|c| c.get_mut("signal"))
        .and_then(Value::as_object_mut)?;
    let inherited = Inherited {
        url: signal.get("httpUrl").cloned(),
        host: signal.get("httpHost").cloned(),
        port: signal.get("httpPort").cloned(),
    };
    migrate(signal, &Inherited::default());
    if let Some(accounts) = signal.get_mut("accounts").and_then(Value::as_object_mut) {
        for account in accounts.values_mut().filter_map(Value::as_object_mut) {
            migrate(account, &inherited);
        }
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

    const STEP: &str = r#"{"kind": "signal_host_port_to_url"}"#;

    #[test]
    fn builds_the_url_from_the_pair_and_the_root_for_accounts() {
        let out = after(
            "{channels: {signal: {httpHost: ' ::1 ', httpPort: 9000, accounts: {
               a: {httpPort: 7000}, b: {httpHost: 'h', httpUrl: 'http://x'}, c: {httpPort: '80'},
               d: [1], e: {httpHost: null, autoStart: false}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"channels": {"signal": {"httpUrl": "http://[::1]:9000", "autoStart": true,
                "accounts": {"a": {"httpUrl": "http://[::1]:7000", "autoStart": true},
                    "b": {"httpUrl": "http://x"}, "c": {"httpUrl": "http://[::1]:8080", "autoStart": true},
                    "d": [1], "e": {"httpUrl": "http://[::1]:9000", "autoStart": false}}}}})
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn an_inherited_url_or_blank_host_decide() {
        let out = after(
            "{channels: {signal: {httpUrl: 'http://r:1', accounts: {a: {httpHost: 'h', httpPort: 2}}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"channels": {"signal": {"httpUrl": "http://r:1", "accounts": {"a": {}}}}})
        );
        let out = after(
            "{channels: {signal: {httpHost: '  ', httpPort: 80.5}}}",
            STEP,
        );
        assert_eq!(
            value(&out)["channels"]["signal"],
            json!({"httpUrl": "http://127.0.0.1:80.5", "autoStart": true})
        );
        plans_nothing("{channels: {signal: {httpUrl: 'http://x'}}}", STEP);
    }
}
