//! Step `move`: renames or relocates a key (every place a `*` path matches), carrying its
//! comments; when the target already holds a value, the step's policy says which one wins.
use super::path::{Guard, Path, all_hold, lookup};
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::migration::{TargetPolicy, ValuePair};
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

/// What a move does besides moving: a value map (a value outside it is left where it is),
/// trimming a string, and copying (the source stays).
#[derive(Default)]
pub struct Transform<'a> {
    pub map: Option<&'a [ValuePair]>,
    pub trim: bool,
    pub copy: bool,
    /// Members a merge never takes over, at any depth.
    pub skip_keys: &'a [String],
}

impl Transform<'_> {
    /// The value to write for `v`, or `None` when the map does not cover it.
    fn apply(&self, v: &Value) -> Option<Value> {
        let v = match self.map {
            Some(pairs) => pairs.iter().find(|p| p.from == *v)?.to.clone(),
            None => v.clone(),
        };
        Some(match v {
            Value::String(s) if self.trim => Value::String(js::trim(&s).to_string()),
            v => v,
        })
    }
}

pub fn run(
    ws: &mut Workspace,
    from: &Path,
    to: &Path,
    when: &[Guard],
    policy: TargetPolicy,
    how: &Transform,
    prune: u8,
) -> Result<(), StepError> {
    for m in from.matches(ws.config()) {
        let config = ws.config();
        let Some(value) = lookup(config, &m.tokens) else {
            continue; // an earlier move of this step took it along
        };
        let Some(target) = to.bind(&m.captures) else {
            continue;
        };
        if target == m.tokens || !all_hold(when, config, &m.captures) {
            continue;
        }
        // A taken target is the policy's; the value map only decides what moves into a free one.
        let new = how.apply(value);
        if how.copy {
            copy_to(ws, &m.tokens, &target, new, policy)?;
            continue;
        }
        if lookup(config, &target).is_some() {
            match (policy, new) {
                (TargetPolicy::Skip, _) | (TargetPolicy::Replace, None) => continue,
                (TargetPolicy::KeepTarget, _) => ws.remove(CONFIG, pointer(&m.tokens))?,
                (TargetPolicy::MergeMissing, _) => {
                    merge_missing(ws, &m.tokens, &target, how.skip_keys)?
                }
                (TargetPolicy::Replace, Some(new)) => {
                    ws.remove(CONFIG, pointer(&target))?;
                    relocate(ws, &m.tokens, &target, &new)?;
                }
            }
        } else {
            let Some(new) = new else { continue };
            relocate(ws, &m.tokens, &target, &new)?;
        }
        prune_empty(ws, &m.tokens, prune)?;
    }
    Ok(())
}

/// Writes a copy of the value at `src` to `target`: into a free target, or over a taken one that
/// differs with `replace` (the registry refuses a copy that would merge). A free target gets the
/// value moved there, with the comments above it, and the source is written again: the comments
/// go with the first copy, as they would with a move.
fn copy_to(
    ws: &mut Workspace,
    src: &[String],
    target: &[String],
    new: Option<Value>,
    policy: TargetPolicy,
) -> Result<(), StepError> {
    let Some(new) = new else { return Ok(()) };
    match lookup(ws.config(), target) {
        Some(old) if policy == TargetPolicy::Replace && *old != new => {
            ws.replace(CONFIG, pointer(target), new)?
        }
        Some(_) => {}
        None => {
            let Some(old) = lookup(ws.config(), src).cloned() else {
                return Ok(());
            };
            if ensure_parent(ws, target)? {
                relocate(ws, src, target, &new)?;
                ws.add(CONFIG, pointer(src), old)?;
            }
        }
    }
    Ok(())
}

/// Removes up to `levels` ancestors of `toks` that the step left as empty objects (doctor
/// deletes `routing` once its last key moved out).
pub(crate) fn prune_empty(
    ws: &mut Workspace,
    toks: &[String],
    levels: u8,
) -> Result<(), StepError> {
    for up in 1..=usize::from(levels).min(toks.len().saturating_sub(1)) {
        let at = &toks[..toks.len() - up];
        match lookup(ws.config(), at) {
            Some(Value::Object(m)) if m.is_empty() => ws.remove(CONFIG, pointer(at))?,
            _ => break,
        }
    }
    Ok(())
}

/// Moves the value at `src` to the absent `dst` (creating its missing parents), then writes the
/// transformed value there when it differs.
fn relocate(
    ws: &mut Workspace,
    src: &[String],
    dst: &[String],
    new: &Value,
) -> Result<(), StepError> {
    if !ensure_parent(ws, dst)? {
        return Ok(());
    }
    ws.move_value(CONFIG, pointer(src), pointer(dst))?;
    if lookup(ws.config(), dst) != Some(new) {
        ws.replace(CONFIG, pointer(dst), new.clone())?;
    }
    Ok(())
}

/// Merges the object at `src` into the one at `dst`, the target winning: each member `dst`
/// lacks moves over (with its comments), objects on both sides merge the same way, and what
/// is left of `src` is removed. A source or target that is not an object: the target wins.
pub(crate) fn merge_missing(
    ws: &mut Workspace,
    src: &[String],
    dst: &[String],
    skip: &[String],
) -> Result<(), StepError> {
    let config = ws.config();
    if let (Some(Value::Object(s)), Some(Value::Object(d))) =
        (lookup(config, src), lookup(config, dst))
    {
        let plan: Vec<(String, bool)> = s
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    d.get(k).is_some_and(|t| t.is_object() && v.is_object()),
                )
            })
            .filter(|(k, both)| (*both || !d.contains_key(k)) && !skip.contains(k))
            .collect();
        for (k, both) in plan {
            let (from, to) = (child(src, &k), child(dst, &k));
            if both {
                merge_missing_member(ws, &from, &to, skip)?;
            } else {
                ws.move_value(CONFIG, pointer(&from), pointer(&to))?;
            }
        }
    }
    if lookup(ws.config(), src).is_some() {
        ws.remove(CONFIG, pointer(src))?;
    }
    Ok(())
}

/// Merges the object member `src` into the object member `dst` ([`merge_missing`]), keeping
/// the comments on `src`'s key: what is left of `src` takes the merged value and then moves
/// onto it, which the document writes as "drop the source, its comments join the target".
fn merge_missing_member(
    ws: &mut Workspace,
    src: &[String],
    dst: &[String],
    skip: &[String],
) -> Result<(), StepError> {
    let config = ws.config();
    if let (Some(Value::Object(s)), Some(Value::Object(d))) =
        (lookup(config, src), lookup(config, dst))
    {
        let (s, d) = (s.clone(), d.clone());
        for (k, v) in s.iter().filter(|(k, _)| !skip.contains(k)) {
            let (from, to) = (child(src, k), child(dst, k));
            match d.get(k) {
                Some(t) if t.is_object() && v.is_object() => {
                    merge_missing_member(ws, &from, &to, skip)?
                }
                Some(_) => {}
                None => ws.move_value(CONFIG, pointer(&from), pointer(&to))?,
            }
        }
        if let Some(merged) = lookup(ws.config(), dst).cloned() {
            ws.replace(CONFIG, pointer(src), merged)?;
            return ws.move_value(CONFIG, pointer(src), pointer(dst));
        }
    }
    merge_missing(ws, src, dst, skip)
}

fn child(toks: &[String], key: &str) -> Vec<String> {
    let mut out = toks.to_vec();
    out.push(key.to_string());
    out
}

/// Makes sure the parent of `toks` is an object: the missing ones are added as empty objects
/// (one operation, at the first missing one). `false` when some ancestor holds something else,
/// where nothing can be placed.
pub(crate) fn ensure_parent(ws: &mut Workspace, toks: &[String]) -> Result<bool, StepError> {
    let Some((_, parents)) = toks.split_last() else {
        return Ok(false);
    };
    let config = ws.config();
    for i in 0..parents.len() {
        match lookup(config, &parents[..=i]) {
            Some(Value::Object(_)) => {}
            Some(Value::Array(_)) if i + 1 < parents.len() => {}
            Some(_) => return Ok(false),
            None => {
                let nested = parents[i + 1..].iter().rev().fold(
                    Value::Object(Default::default()),
                    |inner, k| {
                        let mut m = serde_json::Map::new();
                        m.insert(k.clone(), inner);
                        Value::Object(m)
                    },
                );
                ws.add(CONFIG, pointer(&parents[..=i]), nested)?;
                return Ok(true);
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing};
    use serde_json::json;

    const BINDINGS: &str = r#"{"kind": "move", "from": "bindings.*.match.provider", "to": "bindings.*.match.channel",
        "when": [{"path": "bindings.*.match.channel", "is_not": "non_empty_string"},
                 {"path": "bindings.*.match.provider", "is": "non_empty_string"}], "trim": true}"#;

    #[test]
    fn renames_in_every_array_element_keeping_comments_and_position() {
        let text = "{\n  bindings: [\n    { match: { provider: ' whatsapp ', x: 1 } },\n    { match: {\n      // which channel\n      provider: 'telegram', // old name\n      peer: 'p',\n    } },\n    { match: { channel: 'slack', provider: 'discord' } },\n  ],\n}\n";
        let out = after(text, BINDINGS);
        assert_eq!(
            out,
            "{\n  bindings: [\n    { match: { channel: 'whatsapp', x: 1 } },\n    { match: {\n      // which channel\n      channel: 'telegram', // old name\n      peer: 'p',\n    } },\n    { match: { channel: 'slack', provider: 'discord' } },\n  ],\n}\n"
        );
        plans_nothing(&out, BINDINGS);
    }

    #[test]
    fn relocates_into_new_parents_and_carries_the_comment() {
        let step = r#"{"kind": "move", "from": "gateway.token", "to": "gateway.auth.token"}"#;
        let text =
            "{\n  gateway: {\n    port: 1,\n    // the shared secret\n    token: 'abc',\n  },\n}\n";
        let out = after(text, step);
        assert!(out.contains("// the shared secret"), "{out}");
        assert_eq!(
            json5_value(&out),
            json!({"gateway": {"port": 1, "auth": {"token": "abc"}}})
        );
        assert!(out.find("// the shared secret") > out.find("auth"), "{out}");
        assert_eq!(out.matches("// the shared secret").count(), 1, "{out}");
        plans_nothing(&out, step);
    }

    #[test]
    fn a_taken_target_wins_or_merges_as_the_policy_says() {
        let keep = r#"{"kind": "move", "from": "q.byProvider", "to": "q.byChannel", "if_target_exists": "keep_target"}"#;
        let out = after("{q: {byProvider: {a: 1}, byChannel: {b: 2}}}", keep);
        assert_eq!(json5_value(&out), json!({"q": {"byChannel": {"b": 2}}}));
        plans_nothing(&out, keep);
        let merge = r#"{"kind": "move", "from": "telegram", "to": "channels.telegram", "if_target_exists": "merge_missing"}"#;
        let out = after(
            "{\n  telegram: {\n    // bot\n    token: 't',\n    groups: { a: 1, b: 2 },\n  },\n  channels: { telegram: { groups: { a: 9 } } },\n}\n",
            merge,
        );
        assert_eq!(
            json5_value(&out),
            json!({"channels": {"telegram": {"groups": {"a": 9, "b": 2}, "token": "t"}}})
        );
        assert!(out.contains("// bot"), "{out}");
        plans_nothing(&out, merge);
        let skip = r#"{"kind": "move", "from": "a", "to": "b", "if_target_exists": "skip"}"#;
        plans_nothing("{a: 1, b: 2}", skip);
    }

    #[test]
    fn a_merge_never_takes_over_the_skipped_keys() {
        let merge = r#"{"kind": "move", "from": "c.dest", "to": "c.alert", "if_target_exists": "merge_missing", "skip_keys": ["constructor"]}"#;
        let out = after(
            "{c: {dest: {constructor: 1, to: 'x', opts: {constructor: 2, a: 1}, more: {constructor: 3}}, alert: {opts: {b: 2}}}}",
            merge,
        );
        assert_eq!(
            json5_value(&out),
            json!({"c": {"alert": {"to": "x", "opts": {"a": 1, "b": 2}, "more": {"constructor": 3}}}}),
            "a member the target lacks moves whole"
        );
        plans_nothing(&out, merge);
        let bad = r#"{"version": 1, "name": "m", "summary": "s", "steps": [{"kind": "move", "from": "a", "to": "b", "skip_keys": ["x"]}]}"#;
        let e = crate::migration::Registry::from_sources(&[("V0001__m.json", bad)]).unwrap_err();
        assert!(e.problem.contains("skip_keys needs merge_missing"), "{e}");
    }

    #[test]
    fn a_merge_keeps_the_comment_on_a_member_merged_into_an_existing_one() {
        let merge = r#"{"kind": "move", "from": "telegram", "to": "channels.telegram", "if_target_exists": "merge_missing"}"#;
        let text = "{\n  telegram: {\n    // per group\n    groups: { b: 2, a: 1 },\n  },\n  channels: {\n    telegram: {\n      // theirs\n      groups: {\n        a: 9, // kept\n      },\n    },\n  },\n}\n";
        let out = after(text, merge);
        assert_eq!(
            json5_value(&out),
            json!({"channels": {"telegram": {"groups": {"a": 9, "b": 2}}}})
        );
        for comment in ["// per group", "// theirs", "// kept"] {
            assert_eq!(out.matches(comment).count(), 1, "{comment} in {out}");
        }
        assert!(out.find("// per group") < out.find("groups"), "{out}");
        plans_nothing(&out, merge);
    }

    #[test]
    fn under_runs_the_moves_at_each_prefix_with_the_prefix_guard() {
        let step = r#"{"kind": "under", "prefixes": [["channels.*.tts", "channels.*.voice.tts"], ["providers.*", "openai"]],
            "when": [{"path": "channels.*", "key_not_one_of": ["discord"], "loose": true}],
            "steps": [{"kind": "move", "from": "voice", "to": "speakerVoice"},
                      {"kind": "move", "from": "voiceName", "to": "speakerVoice"}]}"#;
        let out = after(
            "{channels: {' Discord': {tts: {openai: {voice: 'd'}}}, slack: {tts: {openai: {voice: 'a', voiceName: 'b'}, providers: {y: {voice: 'e'}}}, voice: {tts: {providers: {x: {voiceName: 'c'}}}}}}}",
            step,
        );
        assert_eq!(
            json5_value(&out),
            json!({"channels": {" Discord": {"tts": {"openai": {"voice": "d"}}},
                                "slack": {"tts": {"openai": {"speakerVoice": "a"}, "providers": {"y": {"speakerVoice": "e"}}},
                                          "voice": {"tts": {"providers": {"x": {"speakerVoice": "c"}}}}}}})
        );
        plans_nothing(&out, step);
    }

    #[test]
    fn a_value_map_moves_only_what_it_covers() {
        let step = r#"{"kind": "move", "from": "tts.enabled", "to": "tts.auto", "map": [{"from": true, "to": "always"}, {"from": false, "to": "off"}]}"#;
        let out = after("{tts: {enabled: false}}", step);
        assert_eq!(json5_value(&out), json!({"tts": {"auto": "off"}}));
        plans_nothing("{tts: {enabled: 'yes'}}", step);
        plans_nothing(
            "{gateway: 'x'}",
            r#"{"kind": "move", "from": "gateway.token", "to": "gateway.auth.token"}"#,
        );
    }

    #[test]
    fn a_copy_leaves_the_source_and_spares_a_taken_target() {
        let step = r#"{"kind": "move", "from": "r.m", "to": "c.*.g[\"*\"].m", "copy": true}"#;
        assert!(serde_json::from_str::<crate::migration::Step>(step).is_ok());
        let step = r#"{"kind": "move", "from": "r.m", "to": "c.t.g[\"*\"].m", "copy": true}"#;
        let out = after("{r: {m: true}, c: {t: {}}}", step);
        assert_eq!(
            json5_value(&out),
            json!({"r": {"m": true}, "c": {"t": {"g": {"*": {"m": true}}}}})
        );
        plans_nothing(&out, step);
        plans_nothing("{r: {m: true}, c: {t: {g: {'*': {m: false}}}}}", step);
        let to = |c: &str| {
            format!(r#"{{"kind": "move", "from": "r.m", "to": "c.{c}.m", "copy": true}}"#)
        };
        let out = after(
            "{\n  r: {\n    // why\n    m: 1,\n  },\n  c: { a: {}, b: {} },\n}\n",
            &to("a"),
        );
        let out = after(&out, &to("b"));
        assert_eq!(
            json5_value(&out),
            json!({"r": {"m": 1}, "c": {"a": {"m": 1}, "b": {"m": 1}}})
        );
        assert_eq!(out.matches("// why").count(), 1, "{out}");
        assert!(
            out.find("// why") > out.find("a:"),
            "the first copy takes it: {out}"
        );
        assert!(
            out.find("// why") < out.find("b:"),
            "the first copy takes it: {out}"
        );
        let replace = r#"{"kind": "move", "from": "r.m", "to": "c.m", "copy": true, "if_target_exists": "replace"}"#;
        let out = after("{r: {m: 1}, c: {m: 2}}", replace);
        assert_eq!(json5_value(&out), json!({"r": {"m": 1}, "c": {"m": 1}}));
        plans_nothing(&out, replace);
    }

    fn json5_value(text: &str) -> serde_json::Value {
        crate::document::parse(text, crate::document::FileKind::Config).unwrap()
    }
}
