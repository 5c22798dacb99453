//! Recognises credential values and masks them in everything the tool prints or records.
use crate::document::sha256_hex;
use serde_json::Value;

/// Field names whose string values are credentials.
const SECRET_FIELDS: [&str; 8] = [
    "key",
    "apikey",
    "token",
    "access",
    "refresh",
    "x-api-key",
    "authorization",
    "password",
];

/// Values that name a credential without being one (OpenClaw markers and pi conventions).
const MARKERS: [&str; 6] = [
    "minimax-oauth",
    "qwen-oauth",
    "ollama-local",
    "custom-local",
    "gcp-vertex-credentials",
    "secretref-managed",
];

pub fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Whether a string is a literal credential, not an env reference (`${VAR}`), an env var name,
/// an OpenClaw marker (`minimax-oauth`, `secretref-…`, `oauth:…`) or a shell command (`!cmd`).
pub fn is_literal_secret(s: &str) -> bool {
    let s = s.trim();
    let v = s.strip_prefix("Bearer ").unwrap_or(s).trim();
    !(v.is_empty()
        || v.contains("${")
        || v.starts_with('!')
        || v.starts_with("secretref-")
        || v.starts_with("oauth:")
        || MARKERS.contains(&v)
        || is_env_name(v))
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The key a credential string carries (`Bearer sk-…` carries `sk-…`).
pub fn key_of(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix("Bearer ").unwrap_or(s).trim()
}

/// A masked form that still tells keys apart: a short prefix and a fingerprint, never the key.
pub fn mask(secret: &str) -> String {
    let keep = (secret.chars().count() / 4).min(6);
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}…[{}]", &sha256_hex(secret.as_bytes())[..8])
}

/// Masks every known secret in text. Secrets are collected from the files of a run.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a key that contains another is masked whole; each with its searcher,
    /// built once and reused for every string the run prints.
    secrets: Vec<(String, memchr::memmem::Finder<'static>)>,
}

impl Redactor {
    pub fn add(&mut self, secret: &str) {
        let k = key_of(secret);
        if k.len() >= 6 && !self.secrets.iter().any(|(s, _)| s == k) {
            let finder = memchr::memmem::Finder::new(k.as_bytes()).into_owned();
            self.secrets.push((k.to_string(), finder));
            self.secrets
                .sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        }
    }

    /// Collects every literal credential found under a secret field anywhere in the tree.
    pub fn collect(&mut self, v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match v {
                        Value::String(s) if is_secret_field(k) && is_literal_secret(s) => {
                            self.add(s)
                        }
                        _ => self.collect(v),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| self.collect(v)),
            _ => {}
        }
    }

    /// Also collects the literal values of `env` in the config (`env.vars` and inline entries),
    /// which hold keys that `${VAR}` references resolve to.
    pub fn collect_env(&mut self, config: &Value) {
        let Some(env) = config.get("env").and_then(Value::as_object) else {
            return;
        };
        for (k, v) in env {
            match v {
                Value::String(s) if k != "shellEnv" && is_literal_secret(s) => self.add(s),
                Value::Object(vars) if k == "vars" => vars
                    .values()
                    .filter_map(Value::as_str)
                    .filter(|s| is_literal_secret(s))
                    .for_each(|s| self.add(s)),
                _ => {}
            }
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (s, finder) in &self.secrets {
            if finder.find(out.as_bytes()).is_some() {
                out = out.replace(s.as_str(), &mask(s));
            }
        }
        out
    }

    /// Masks secrets inside a JSON value (for JSON output).
    pub fn redact_value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(a) => Value::Array(a.iter().map(|v| self.redact_value(v)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.redact_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    pub fn merge(&mut self, other: &Redactor) {
        for (s, _) in &other.secrets {
            self.add(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markers_and_env_refs_are_not_keys() {
        for s in [
            "${MINIMAX_CN_KEY}",
            "MINIMAX_API_KEY",
            "minimax-oauth",
            "secretref-env:X",
            "!pass show x",
            "",
        ] {
            assert!(!is_literal_secret(s), "{s}");
        }
        assert!(is_literal_secret("sk-cp-abc123"));
        assert!(is_literal_secret("Bearer sk-cp-abc123"));
    }

    #[test]
    fn masks_hide_keys_but_tell_them_apart() {
        let (a, b) = (
            mask("sk-cp-1111111111111111"),
            mask("sk-cp-2222222222222222"),
        );
        assert_ne!(a, b);
        assert!(!a.contains("1111111111"));
        let mut r = Redactor::default();
        r.collect(&json!({"headers": {"x-api-key": "Bearer sk-cp-1111111111111111"}}));
        assert_eq!(r.redact("x sk-cp-1111111111111111 y"), format!("x {a} y"));
    }
}
