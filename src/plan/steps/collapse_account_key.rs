//! Step `collapse_account_key`: OpenClaw 2026.9.6's doctor retires a key a channel could set
//! per account (WhatsApp's `debounceMs`) for one value elsewhere
//! (`messages.inbound.byChannel.whatsapp`). The key goes from `channels.<channel>` and from each
//! of its accounts; of the values that are non-negative integers, one moves to the target,
//! unless the target is already set: the configured default account's (`defaultAccount`, or
//! `default`), else the `default` account's, else the channel's own, else the first account's
//! (ids in JavaScript's sort order). Account ids compare as OpenClaw normalises them. Parents of
//! the target that are not objects are replaced by objects, as doctor does.
use super::move_key::ensure_parent;
use super::path::{Path, lookup};
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};

/// One place the key is set: where, the account it belongs to (`None`: the channel itself),
/// and whether its value counts.
struct Source {
    toks: Vec<String>,
    account: Option<String>,
    valid: bool,
}

/// A non-negative integer, as `Number.isInteger(v) && v >= 0` decides.
fn valid(v: &Value) -> bool {
    v.as_f64()
        .is_some_and(|f| f.is_finite() && f.fract() == 0.0 && f >= 0.0)
}

/// An account id as OpenClaw normalises it: trimmed and lower-cased; an id that is not
/// `[a-z0-9][a-z0-9_-]{0,63}` has every other run of characters turned into `-`, the dashes
/// at its ends dropped and is cut at 64; empty or a prototype key: `default`.
pub(crate) fn normalize_account_id(raw: &str) -> String {
    let trimmed = js::trim(raw);
    if trimmed.is_empty() {
        return "default".into();
    }
    let lower = trimmed.to_lowercase();
    let simple = trimmed.len() <= 64
        && trimmed.starts_with(|c: char| c.is_ascii_alphanumeric())
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let canonical = if simple {
        lower
    } else {
        let mut out = String::new();
        let mut in_run = false;
        for c in lower.chars() {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                out.push(c);
                in_run = false;
            } else if !in_run {
                out.push('-');
                in_run = true;
            }
        }
        out.trim_matches('-').chars().take(64).collect()
    };
    if canonical.is_empty() || js::is_blocked_key(&canonical) {
        "default".into()
    } else {
        canonical
    }
}

/// Where the key is set on the channel and its accounts, the channel first, then the accounts
/// in JavaScript's default sort order (UTF-16 code units).
fn sources(channel: &Map<String, Value>, name: &str, key: &str) -> Vec<Source> {
    let at = |rest: &[&str]| -> Vec<String> {
        ["channels", name]
            .iter()
            .chain(rest)
            .map(|s| s.to_string())
            .collect()
    };
    let mut out: Vec<Source> = channel
        .get(key)
        .map(|v| Source {
            toks: at(&[key]),
            account: None,
            valid: valid(v),
        })
        .into_iter()
        .collect();
    if let Some(Value::Object(accounts)) = channel.get("accounts") {
        let mut ids: Vec<&String> = accounts.keys().collect();
        ids.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        for id in ids {
            if let Some(v) = accounts[id].as_object().and_then(|a| a.get(key)) {
                out.push(Source {
                    toks: at(&["accounts", id, key]),
                    account: Some(normalize_account_id(id)),
                    valid: valid(v),
                });
            }
        }
    }
    out
}

pub fn run(ws: &mut Workspace, name: &str, key: &str, to: &Path) -> Result<(), StepError> {
    let Some(target) = to.bind(&[]) else {
        return Ok(()); // the registry refuses a target with *
    };
    let config = ws.config();
    let Some(channel) = config
        .get("channels")
        .filter(|c| c.is_object())
        .and_then(|c| c.get(name))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    let found = sources(channel, name, key);
    let default = normalize_account_id(
        channel
            .get("defaultAccount")
            .and_then(Value::as_str)
            .unwrap_or(""),
    );
    let counted: Vec<&Source> = found.iter().filter(|s| s.valid).collect();
    let chosen = counted
        .iter()
        .find(|s| s.account.as_deref() == Some(default.as_str()))
        .or_else(|| {
            counted
                .iter()
                .find(|s| s.account.as_deref() == Some("default"))
        })
        .or_else(|| counted.iter().find(|s| s.account.is_none()))
        .or_else(|| counted.first())
        .map(|s| s.toks.clone())
        .filter(|_| lookup(config, &target).is_none());
    for s in found.iter().filter(|s| Some(&s.toks) != chosen.as_ref()) {
        ws.remove(CONFIG, pointer(&s.toks))?;
    }
    if counted.is_empty() {
        return Ok(());
    }
    // Doctor makes each parent of the target an object before it looks at the target.
    for depth in 1..target.len() {
        match lookup(ws.config(), &target[..depth]) {
            Some(Value::Object(_)) => {}
            Some(_) => ws.replace(CONFIG, pointer(&target[..depth]), Value::Object(Map::new()))?,
            None => break,
        }
    }
    if let Some(from) = chosen
        && ensure_parent(ws, &target)?
    {
        ws.move_value(CONFIG, pointer(&from), pointer(&target))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use super::normalize_account_id;
    use serde_json::json;

    const STEP: &str = r#"{"kind": "collapse_account_key", "channel": "whatsapp", "key": "debounceMs", "to": "messages.inbound.byChannel.whatsapp"}"#;

    #[test]
    fn account_ids_normalise_as_openclaw_does() {
        assert_eq!(normalize_account_id("  Work "), "work");
        assert_eq!(normalize_account_id("My Phone!"), "my-phone");
        assert_eq!(normalize_account_id("--a__b--"), "a__b");
        assert_eq!(normalize_account_id(" "), "default");
        assert_eq!(normalize_account_id("***"), "default");
        assert_eq!(normalize_account_id("Constructor"), "default");
        assert_eq!(normalize_account_id(&"x".repeat(70)), "x".repeat(64));
    }

    #[test]
    fn the_default_account_wins_and_every_copy_goes() {
        let text = "{\n  channels: {\n    whatsapp: {\n      defaultAccount: ' Work ',\n      debounceMs: 100,\n      accounts: {\n        default: { debounceMs: 200 },\n        work: {\n          // per phone\n          debounceMs: 300,\n        },\n      },\n    },\n  },\n}\n";
        let out = after(text, STEP);
        assert_eq!(
            value(&out),
            json!({"channels": {"whatsapp": {"defaultAccount": " Work ", "accounts": {"default": {}, "work": {}}}},
                   "messages": {"inbound": {"byChannel": {"whatsapp": 300}}}})
        );
        assert!(
            out.contains("// per phone"),
            "the comment moves with the value: {out}"
        );
        plans_nothing(&out, STEP);
    }

    #[test]
    fn then_the_default_id_the_channel_and_the_first_account() {
        let pick = |text: &str| {
            value(&after(text, STEP))["messages"]["inbound"]["byChannel"]["whatsapp"].clone()
        };
        let wa = |inner: &str| format!("{{channels: {{whatsapp: {inner}}}}}");
        assert_eq!(
            pick(&wa("{debounceMs: 1, accounts: {Default: {debounceMs: 2}}}")),
            json!(2)
        );
        assert_eq!(
            pick(&wa("{debounceMs: 1, accounts: {b: {debounceMs: 2}}}")),
            json!(1)
        );
        assert_eq!(
            pick(&wa(
                "{debounceMs: -1, accounts: {b: {debounceMs: 3}, a: {debounceMs: 2}}}"
            )),
            json!(2)
        );
        assert_eq!(
            pick(&wa(
                "{defaultAccount: 'b', accounts: {b: {debounceMs: 1.5}, a: {debounceMs: 2}}}"
            )),
            json!(2)
        );
    }

    #[test]
    fn a_set_target_or_no_integer_only_drops_the_keys() {
        let out = after(
            "{channels: {whatsapp: {debounceMs: 5}}, messages: {inbound: {byChannel: {whatsapp: 9}}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"channels": {"whatsapp": {}}, "messages": {"inbound": {"byChannel": {"whatsapp": 9}}}})
        );
        let out = after(
            "{channels: {whatsapp: {debounceMs: 'x', accounts: {a: {debounceMs: -2}}}}, messages: 1}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"channels": {"whatsapp": {"accounts": {"a": {}}}}, "messages": 1})
        );
        plans_nothing("{channels: {whatsapp: {accounts: {a: 'x'}}}}", STEP);
        plans_nothing("{channels: {telegram: {debounceMs: 1}}}", STEP);
    }

    #[test]
    fn parents_that_are_not_objects_become_objects() {
        let out = after(
            "{channels: {whatsapp: {debounceMs: 5}}, messages: {inbound: [1]}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"channels": {"whatsapp": {}}, "messages": {"inbound": {"byChannel": {"whatsapp": 5}}}})
        );
    }
}
