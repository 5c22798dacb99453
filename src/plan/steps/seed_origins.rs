//! Step `seed_control_ui_origins`: a gateway bound beyond loopback gets the Control UI origins
//! its browser uses (`http://localhost:<port>`, `http://127.0.0.1:<port>`, and the custom bind
//! host's) when it names none. Computed from three keys, so a named step kind rather than data.
use super::path::same_loosely;
use crate::js;
use crate::load::CONFIG;
use crate::migration::ValuePair;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};

/// What the step reads its decision from.
pub struct Params<'a> {
    /// Bind modes that reach beyond loopback (`lan`, `tailnet`, `custom`, `auto`).
    pub modes: &'a [String],
    /// Host addresses doctor reads as a mode (`0.0.0.0` is `lan`), case and spaces ignored.
    pub aliases: &'a [ValuePair],
    /// The port when `gateway.port` is not a positive number.
    pub default_port: u32,
}

pub fn run(ws: &mut Workspace, p: &Params) -> Result<(), StepError> {
    let Some(Value::Object(gateway)) = ws.config().get("gateway") else {
        return Ok(());
    };
    let Some(origins) = origins(gateway, p) else {
        return Ok(());
    };
    let origins = Value::Array(origins.into_iter().map(Value::String).collect());
    match gateway.get("controlUi") {
        Some(Value::Object(ui)) if ui.contains_key("allowedOrigins") => {
            ws.replace(CONFIG, "/gateway/controlUi/allowedOrigins".into(), origins)
        }
        Some(Value::Object(_)) => {
            ws.add(CONFIG, "/gateway/controlUi/allowedOrigins".into(), origins)
        }
        other => {
            let ui = Value::Object(Map::from_iter([("allowedOrigins".to_string(), origins)]));
            if other.is_some() {
                ws.replace(CONFIG, "/gateway/controlUi".into(), ui)
            } else {
                ws.add(CONFIG, "/gateway/controlUi".into(), ui)
            }
        }
    }
}

/// The origins to seed, or `None` when the bind stays on loopback or origins are configured.
fn origins(gateway: &Map<String, Value>, p: &Params) -> Option<Vec<String>> {
    let raw = gateway.get("bind")?;
    let bind = p
        .aliases
        .iter()
        .find(|a| same_loosely(&a.from, raw))
        .map(|a| &a.to)
        .unwrap_or(raw)
        .as_str()?;
    if !p.modes.iter().any(|m| m == bind) {
        return None;
    }
    let ui = gateway.get("controlUi").and_then(Value::as_object);
    let configured = ui.is_some_and(|ui| {
        ui.get("dangerouslyAllowHostHeaderOriginFallback") == Some(&Value::Bool(true))
            || ui
                .get("allowedOrigins")
                .and_then(Value::as_array)
                .is_some_and(|l| {
                    l.iter()
                        .any(|o| o.as_str().is_some_and(|o| !js::trim(o).is_empty()))
                })
    });
    if configured {
        return None;
    }
    let port = match gateway.get("port").and_then(Value::as_f64) {
        Some(n) if n > 0.0 => js::number(n),
        _ => p.default_port.to_string(),
    };
    let mut out = vec![
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
    ];
    let host = gateway
        .get("customBindHost")
        .and_then(Value::as_str)
        .map(str::trim);
    if let Some(host) = host.filter(|h| bind == "custom" && !h.is_empty()) {
        let custom = format!("http://{host}:{port}");
        if !out.contains(&custom) {
            out.push(custom);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing};
    use serde_json::json;

    const SEED: &str = r#"{"kind": "seed_control_ui_origins", "modes": ["lan", "tailnet", "custom", "auto"],
        "aliases": [{"from": "0.0.0.0", "to": "lan"}, {"from": "localhost", "to": "loopback"}], "default_port": 18789}"#;

    fn value(text: &str) -> serde_json::Value {
        crate::document::parse(text, crate::document::FileKind::Config).unwrap()
    }

    #[test]
    fn seeds_loopback_origins_for_a_non_loopback_bind() {
        let out = after("{gateway: {bind: 'lan', port: 9000}}", SEED);
        assert_eq!(
            value(&out)["gateway"]["controlUi"],
            json!({"allowedOrigins": ["http://localhost:9000", "http://127.0.0.1:9000"]})
        );
        plans_nothing(&out, SEED);
        let out = after(
            "{gateway: {bind: ' 0.0.0.0 ', controlUi: {enabled: true, allowedOrigins: [' ']}}}",
            SEED,
        );
        assert_eq!(
            value(&out)["gateway"]["controlUi"],
            json!({"enabled": true, "allowedOrigins": ["http://localhost:18789", "http://127.0.0.1:18789"]})
        );
        let out = after(
            "{gateway: {bind: 'custom', customBindHost: ' 10.0.0.5 ', port: -1, controlUi: 3}}",
            SEED,
        );
        assert_eq!(
            value(&out)["gateway"]["controlUi"]["allowedOrigins"],
            json!([
                "http://localhost:18789",
                "http://127.0.0.1:18789",
                "http://10.0.0.5:18789"
            ])
        );
    }

    #[test]
    fn leaves_loopback_and_configured_origins_alone() {
        plans_nothing("{gateway: {bind: 'loopback'}}", SEED);
        plans_nothing("{gateway: {bind: 'localhost'}}", SEED);
        plans_nothing("{gateway: {bind: 'LAN'}}", SEED);
        plans_nothing("{gateway: {port: 1}}", SEED);
        plans_nothing(
            "{gateway: {bind: 'lan', controlUi: {allowedOrigins: ['https://x']}}}",
            SEED,
        );
        plans_nothing(
            "{gateway: {bind: 'auto', controlUi: {dangerouslyAllowHostHeaderOriginFallback: true}}}",
            SEED,
        );
    }
}
