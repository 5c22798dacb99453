//! JavaScript's semantics where OpenClaw's own code relies on them: what `trim` removes,
//! `String(value)`, `isDeepStrictEqual`, and the keys it will not set as own properties. The
//! guards and the step kinds that reproduce doctor's migrations share these, so each is written once.
use serde_json::Value;

/// JavaScript's `\s`: what `trim` removes (Unicode's White_Space differs: no U+FEFF, plus U+0085).
pub fn space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// JavaScript's `s.trim()`.
pub fn trim(s: &str) -> &str {
    s.trim_matches(space)
}

/// JavaScript's `String(n)` for a finite number in the plain decimal range (an integer below
/// 1e21 without a fraction; JavaScript switches to exponent form outside 1e-6..1e21).
pub fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{}", n as i128)
    } else {
        format!("{n}")
    }
}

/// JavaScript's `String(value)` for a JSON value.
pub fn string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => number(f),
            _ => n.to_string(),
        },
        Value::Array(a) => a
            .iter()
            .map(|x| {
                if x.is_null() {
                    String::new()
                } else {
                    string(x)
                }
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// Node's `isDeepStrictEqual` over JSON values (numbers by value, `-0` apart from `0`, keys in
/// any order).
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y && x.is_sign_negative() == y.is_sign_negative(),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| deep_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => a == b,
    }
}

/// The keys JavaScript will not set as own properties of a record (`__proto__`...): doctor's
/// walks skip them.
pub const BLOCKED_KEYS: [&str; 3] = ["__proto__", "prototype", "constructor"];

/// Whether `k` is one of [`BLOCKED_KEYS`].
pub fn is_blocked_key(k: &str) -> bool {
    BLOCKED_KEYS.contains(&k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trim_is_javascripts_not_unicodes() {
        assert_eq!(trim("\u{feff} a\u{3000}"), "a");
        assert_eq!(trim("\u{85}a"), "\u{85}a");
        assert_eq!(
            "\u{85}a".trim(),
            "a",
            "Rust's trim differs, which is why this exists"
        );
    }

    #[test]
    fn string_is_javascripts_string() {
        assert_eq!(string(&json!(80)), "80");
        assert_eq!(string(&json!(80.0)), "80");
        assert_eq!(string(&json!(0.5)), "0.5");
        assert_eq!(string(&json!([1, null, "a"])), "1,,a");
        assert_eq!(string(&json!({"a": 1})), "[object Object]");
        assert_eq!(string(&json!(null)), "null");
    }

    #[test]
    fn deep_equal_ignores_key_order_and_number_spelling() {
        assert!(deep_equal(
            &json!({"a": 1, "b": [1.0]}),
            &json!({"b": [1], "a": 1.0})
        ));
        assert!(!deep_equal(&json!(-0.0), &json!(0.0)));
        assert!(!deep_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    }

    #[test]
    fn blocked_keys() {
        assert!(is_blocked_key("__proto__") && !is_blocked_key("proto"));
    }
}
