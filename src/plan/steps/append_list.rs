//! Step `append_list`: merges a legacy array into its canonical one wherever its `*` path
//! matches and the guards hold: the target's items, then the source's, kept only when of the
//! `keep` shape and (with `dedupe`) not repeating an earlier primitive; the source goes.
use super::path::{Guard, Path, Type, all_hold, lookup};
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

/// Which items survive the merge.
pub struct Options {
    /// Only items of this shape stay (from either list); `None` keeps every item.
    pub keep: Option<Type>,
    /// Drops a string, number, boolean or null equal to an earlier kept item (objects and
    /// arrays are never repeats, as in a JavaScript `Set`).
    pub dedupe: bool,
}

impl Options {
    /// For each item in turn, whether it is kept, given the items kept before it.
    fn sieve<'v>(&self, items: impl Iterator<Item = &'v Value>) -> Vec<bool> {
        let mut kept: Vec<&Value> = Vec::new();
        items
            .map(|item| {
                let shaped = self.keep.is_none_or(|t| t.holds(Some(item)));
                let primitive = !item.is_object() && !item.is_array();
                let repeat = self.dedupe && primitive && kept.contains(&item);
                let keep = shaped && !repeat;
                if keep {
                    kept.push(item);
                }
                keep
            })
            .collect()
    }
}

pub fn run(
    ws: &mut Workspace,
    from: &Path,
    to: &Path,
    when: &[Guard],
    how: &Options,
) -> Result<(), StepError> {
    for m in from.matches(ws.config()) {
        let config = ws.config();
        let Some(Value::Array(source)) = lookup(config, &m.tokens) else {
            continue;
        };
        let Some(target) = to.bind(&m.captures) else {
            continue;
        };
        if target == m.tokens || !all_hold(when, config, &m.captures) {
            continue;
        }
        match lookup(config, &target) {
            Some(Value::Array(items)) => {
                // The target keeps its place and text: its refused items go (last first), the
                // source's kept ones are appended, then the source goes.
                let sieve = how.sieve(items.iter().chain(source));
                let (own, appended) = sieve.split_at(items.len());
                let add: Vec<Value> = source
                    .iter()
                    .zip(appended)
                    .filter(|(_, k)| **k)
                    .map(|(v, _)| v.clone())
                    .collect();
                for (i, _) in own.iter().enumerate().rev().filter(|(_, k)| !**k) {
                    ws.remove(CONFIG, pointer(&child(&target, &i.to_string())))?;
                }
                for v in add {
                    ws.add(CONFIG, pointer(&child(&target, "-")), v)?;
                }
                ws.remove(CONFIG, pointer(&m.tokens))?;
            }
            other => {
                // No list there (or something else, which the merge replaces): the source moves
                // in whole, with its comments, and then drops what it may not keep.
                let sieve = how.sieve(source.iter());
                if other.is_some() {
                    ws.remove(CONFIG, pointer(&target))?;
                }
                if !super::move_key::ensure_parent(ws, &target)? {
                    continue;
                }
                ws.move_value(CONFIG, pointer(&m.tokens), pointer(&target))?;
                for (i, _) in sieve.iter().enumerate().rev().filter(|(_, k)| !**k) {
                    ws.remove(CONFIG, pointer(&child(&target, &i.to_string())))?;
                }
            }
        }
    }
    Ok(())
}

fn child(toks: &[String], key: &str) -> Vec<String> {
    let mut out = toks.to_vec();
    out.push(key.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const HOSTS: &str = r#"{"kind": "append_list", "from": "ssrf.legacy", "to": "ssrf.hosts",
        "keep": "string", "dedupe": true}"#;

    #[test]
    fn appends_the_source_to_the_target_keeping_strings_once() {
        let text = "{ssrf: {\n  // canonical\n  hosts: ['b.com', null, 'c.com', 'c.com'],\n  legacy: ['a.com', 3, 'b.com', 'a.com', {x: 1}],\n}}";
        let out = after(text, HOSTS);
        assert!(out.contains("// canonical\n  hosts: ['b.com'"), "{out}");
        assert_eq!(
            value(&out),
            json!({"ssrf": {"hosts": ["b.com", "c.com", "a.com"]}})
        );
        plans_nothing(&out, HOSTS);
    }

    #[test]
    fn moves_the_source_in_when_there_is_no_list_and_replaces_anything_else() {
        let text = "{ssrf: {\n  // old name\n  legacy: ['a', 'a', 2, 'b'],\n}}";
        let out = after(text, HOSTS);
        assert!(out.contains("// old name\n  hosts: ['a',"), "{out}");
        assert_eq!(value(&out), json!({"ssrf": {"hosts": ["a", "b"]}}));
        let out = after("{ssrf: {hosts: 'x', legacy: []}}", HOSTS);
        assert_eq!(value(&out), json!({"ssrf": {"hosts": []}}));
        let out = after(
            "{ssrf: {legacy: [1, 1, {}, {}]}, x: 1}",
            HOSTS.replace(r#""keep": "string", "#, "").as_str(),
        );
        assert_eq!(value(&out), json!({"ssrf": {"hosts": [1, {}, {}]}, "x": 1}));
        plans_nothing("{ssrf: {legacy: 'a.com', hosts: []}}", HOSTS);
        plans_nothing("{ssrf: [1]}", HOSTS);
    }

    #[test]
    fn creates_the_parents_of_the_target_and_follows_guards() {
        let step = r#"{"kind": "append_list", "from": "a.*.old", "to": "b.*.new",
            "when": [{"path": "a.*.on", "equals": true}]}"#;
        let out = after("{a: {x: {old: [1], on: true}, y: {old: [2]}}}", step);
        assert_eq!(
            value(&out),
            json!({"a": {"x": {"on": true}, "y": {"old": [2]}}, "b": {"x": {"new": [1]}}})
        );
        plans_nothing(&out, step);
    }
}
