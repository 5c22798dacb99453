//! Step `rewrite_list`: rewrites the items of an array wherever its `*` path matches and the
//! guards hold: an item a map entry names becomes its `to` (a `null` `to` drops it), and with
//! `dedupe` a string equal to an earlier one goes (`plugins.allow` after a plugin rename).
use super::path::{Guard, Path, all_hold, lookup, same_loosely};
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::migration::ValuePair;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

/// How the items are compared and what else the rewrite does.
pub struct Options {
    /// Strings match ignoring case and surrounding whitespace (for the map and `dedupe`).
    pub loose: bool,
    /// Drops a string item equal to an earlier kept one.
    pub dedupe: bool,
}

pub fn run(
    ws: &mut Workspace,
    path: &Path,
    map: &[ValuePair],
    when: &[Guard],
    how: &Options,
) -> Result<(), StepError> {
    for m in path.matches(ws.config()) {
        let config = ws.config();
        let Some(Value::Array(items)) = lookup(config, &m.tokens) else {
            continue;
        };
        if !all_hold(when, config, &m.captures) {
            continue;
        }
        let (replaced, dropped) = rewrite(items, map, how);
        // Drops first, last first (so none shifts another), then the replacements at the
        // places the drops left them: a replaced item keeps its comments that way.
        for &i in dropped.iter().rev() {
            ws.remove(CONFIG, pointer(&child(&m.tokens, i)))?;
        }
        for (i, v) in replaced {
            let at = i - dropped.iter().filter(|&&d| d < i).count();
            ws.replace(CONFIG, pointer(&child(&m.tokens, at)), v)?;
        }
    }
    Ok(())
}

/// The items to replace (index, new value) and the indices to drop, in order.
fn rewrite(items: &[Value], map: &[ValuePair], how: &Options) -> (Vec<(usize, Value)>, Vec<usize>) {
    let same = |a: &Value, b: &Value| a == b || how.loose && same_loosely(a, b);
    let (mut replaced, mut dropped, mut kept) = (Vec::new(), Vec::new(), Vec::<Value>::new());
    for (i, item) in items.iter().enumerate() {
        let new = match map.iter().find(|p| same(&p.from, item)) {
            Some(p) if p.to.is_null() => {
                dropped.push(i);
                continue;
            }
            Some(p) => p.to.clone(),
            None => item.clone(),
        };
        if how.dedupe && new.is_string() && kept.iter().any(|k| same(k, &new)) {
            dropped.push(i);
            continue;
        }
        if new != *item {
            replaced.push((i, new.clone()));
        }
        kept.push(new);
    }
    (replaced, dropped)
}

fn child(toks: &[String], i: usize) -> Vec<String> {
    let mut out = toks.to_vec();
    out.push(i.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing};

    const RENAME: &str = r#"{"kind": "rewrite_list", "path": "plugins.allow", "loose": true, "dedupe": true,
        "map": [{"from": "openai-codex", "to": "openai"}]}"#;

    #[test]
    fn renames_items_in_place_and_drops_what_the_rename_duplicates() {
        let text =
            "{plugins: {allow: [\n  ' OpenAI-Codex ', // the old id\n  'telegram',\n  7,\n]}}";
        let out = after(text, RENAME);
        assert_eq!(
            out,
            "{plugins: {allow: [\n  'openai', // the old id\n  'telegram',\n  7,\n]}}"
        );
        plans_nothing(&out, RENAME);
        plans_nothing("{plugins: {allow: 'openai-codex'}}", RENAME);
        let out = after(
            "{plugins: {allow: ['openai-codex', 'telegram', 'OpenAI', 7]}}",
            RENAME,
        );
        assert_eq!(
            crate::document::parse(&out, crate::document::FileKind::Config).unwrap(),
            serde_json::json!({"plugins": {"allow": ["openai", "telegram", 7]}})
        );
        plans_nothing(&out, RENAME);
    }

    #[test]
    fn a_null_target_drops_and_dedupe_alone_removes_repeats() {
        let step = r#"{"kind": "rewrite_list", "path": "plugins.deny", "loose": true, "dedupe": true,
            "map": [{"from": "codex-supervisor", "to": null}]}"#;
        assert_eq!(
            after(
                "{plugins: {deny: ['codex-supervisor', 'a', 'A ', 'b']}}",
                step
            ),
            "{plugins: {deny: [ 'a', 'b']}}"
        );
        let strict = r#"{"kind": "rewrite_list", "path": "l", "map": [{"from": "x", "to": "y"}]}"#;
        plans_nothing("{l: ['X', 'y', 'y']}", strict);
        assert_eq!(after("{l: ['x', 'y']}", strict), "{l: ['y', 'y']}");
    }
}
