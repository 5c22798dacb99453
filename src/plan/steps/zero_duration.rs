//! Step `remove_zero_duration`: removes a duration setting that OpenClaw parses to zero (`0`,
//! `'0d'`, `'0h0m'`), where zero means "delete now" rather than the "never" the operator meant;
//! `false`, other durations and values OpenClaw cannot parse stay.
use super::path::{Guard, Path, all_hold, lookup};
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

pub use crate::migration::DurationUnit as Unit;

impl Unit {
    fn parse(s: &str) -> Option<Unit> {
        Some(match s {
            "ms" => Unit::Ms,
            "s" => Unit::S,
            "m" => Unit::M,
            "h" => Unit::H,
            "d" => Unit::D,
            _ => return None,
        })
    }

    fn millis(self) -> f64 {
        match self {
            Unit::Ms => 1.0,
            Unit::S => 1e3,
            Unit::M => 60e3,
            Unit::H => 3600e3,
            Unit::D => 86_400e3,
        }
    }
}

pub fn run(ws: &mut Workspace, path: &Path, when: &[Guard], unit: Unit) -> Result<(), StepError> {
    for m in path.matches(ws.config()).into_iter().rev() {
        let config = ws.config();
        let zero = lookup(config, &m.tokens).is_some_and(|v| is_zero(v, unit));
        if zero && all_hold(when, config, &m.captures) {
            ws.remove(CONFIG, pointer(&m.tokens))?;
        }
    }
    Ok(())
}

/// Whether OpenClaw reads the value as a duration of zero: a string, or a number as JavaScript
/// writes it, parsed as `1h30m`-style segments (a bare number in `unit`), rounded to whole ms.
fn is_zero(v: &Value, unit: Unit) -> bool {
    let text = match v {
        Value::String(s) => js::trim(s).to_lowercase(),
        Value::Number(n) => match js_number(n) {
            Some(t) => t,
            None => return false,
        },
        // `false` means "off" and `true` is no duration; anything else is not a duration.
        _ => return false,
    };
    parse_ms(&text, unit).is_some_and(|ms| ms.round() <= 0.0)
}

/// A number as JavaScript's `String(n)` writes it, when that is plain decimal (JavaScript
/// switches to exponent form below 1e-6 and from 1e21, which no duration parser accepts).
fn js_number(n: &serde_json::Number) -> Option<String> {
    if let Some(i) = n.as_i64() {
        return Some(i.to_string());
    }
    let f = n.as_f64()?;
    let plain = f == 0.0 || (f.abs() >= 1e-6 && f.abs() < 1e21);
    plain.then(|| crate::js::number(f))
}

/// Milliseconds of a duration: one number with an optional unit, or segments each with a unit.
fn parse_ms(text: &str, unit: Unit) -> Option<f64> {
    if text.is_empty() {
        return None;
    }
    let (first, rest) = segment(text)?;
    if rest.is_empty() {
        return token(first.0, first.1.unwrap_or(unit));
    }
    let mut total = token(first.0, first.1?)?;
    let mut rest = rest;
    while !rest.is_empty() {
        let ((num, u), tail) = segment(rest)?;
        total += token(num, u?)?;
        rest = tail;
    }
    Some(total)
}

/// One `digits[.digits][unit]` at the start of `s`, and what follows it.
fn segment(s: &str) -> Option<((&str, Option<Unit>), &str)> {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let int = digits(s);
    if int == 0 {
        return None;
    }
    let mut end = int;
    if s[end..].starts_with('.') {
        let frac = digits(&s[end + 1..]);
        if frac > 0 {
            end += 1 + frac;
        }
    }
    let num = &s[..end];
    let after = &s[end..];
    for u in ["ms", "s", "m", "h", "d"] {
        if let Some(tail) = after.strip_prefix(u) {
            return Some(((num, Unit::parse(u)), tail));
        }
    }
    Some(((num, None), after))
}

/// A segment's milliseconds; OpenClaw's parser gives up on a segment over 100 characters.
fn token(num: &str, unit: Unit) -> Option<f64> {
    (num.len() + 2 <= 100).then_some(())?;
    num.parse::<f64>().ok().map(|n| n * unit.millis())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing};
    use super::*;
    use serde_json::json;

    #[test]
    fn zero_is_what_parses_to_no_time_at_all() {
        for v in [
            json!(0),
            json!("0d"),
            json!(" 0 "),
            json!("0H0M"),
            json!("0.0001ms"),
            json!(0.0),
        ] {
            assert!(is_zero(&v, Unit::D), "{v}");
        }
        for v in [
            json!(false),
            json!(true),
            json!(null),
            json!("0x"),
            json!("d"),
            json!(""),
            json!("-0"),
            json!(0.0001),
            json!("1d0h"),
            json!("0 d"),
            json!(1e-9),
            json!("0h0"),
        ] {
            assert!(!is_zero(&v, Unit::D), "{v}");
        }
    }

    #[test]
    fn removes_zero_durations_only() {
        let step = r#"{"kind": "remove_zero_duration", "path": "session.maintenance.pruneAfter", "default_unit": "d"}"#;
        let out = after(
            "{session: {maintenance: {\n  pruneAfter: '0d', // never?\n  mode: 'x'}}}",
            step,
        );
        assert_eq!(out, "{session: {maintenance: {\n  mode: 'x'}}}");
        plans_nothing("{session: {maintenance: {pruneAfter: '30d'}}}", step);
        plans_nothing("{session: {maintenance: {pruneAfter: false}}}", step);
    }
}
