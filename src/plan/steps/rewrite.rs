//! Planning a rewritten copy of the config as the fewest edits. Step kinds that follow doctor's
//! code run its walk over a copy, as doctor does, and plan only the difference, so untouched
//! text and its comments stay.
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

/// Plans `migrated` (doctor's walk over a copy of the config) as the edits from the config.
/// `migrated` gives `None` when its walk has nothing to visit in the config: then no copy is
/// made or compared (most installs hold none of what a given walk rewrites).
pub(super) fn plan_rewritten(
    ws: &mut Workspace,
    migrated: impl FnOnce(&Value) -> Option<Value>,
) -> Result<(), StepError> {
    let Some(new) = migrated(ws.config()) else {
        return Ok(());
    };
    if new == *ws.config() {
        return Ok(());
    }
    let config = ws.config().clone();
    plan_diff(ws, &mut Vec::new(), &config, &new)
}

/// Plans the difference between `old` and `new` at `toks`: keys removed and added, arrays
/// grown at their end, other changes replaced, so untouched text (and comments) stays.
pub(super) fn plan_diff(
    ws: &mut Workspace,
    toks: &mut Vec<String>,
    old: &Value,
    new: &Value,
) -> Result<(), StepError> {
    if old == new {
        return Ok(());
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                toks.push(k.clone());
                ws.remove(CONFIG, pointer(toks))?;
                toks.pop();
            }
            for (k, v) in b {
                toks.push(k.clone());
                match a.get(k) {
                    Some(o) => plan_diff(ws, toks, o, v)?,
                    None => ws.add(CONFIG, pointer(toks), v.clone())?,
                }
                toks.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) if b.len() >= a.len() => {
            for (i, v) in b.iter().enumerate() {
                toks.push(i.to_string());
                match a.get(i) {
                    Some(o) => plan_diff(ws, toks, o, v)?,
                    None => ws.add(CONFIG, pointer(toks), v.clone())?,
                }
                toks.pop();
            }
        }
        _ => ws.replace(CONFIG, pointer(toks), new.clone())?,
    }
    Ok(())
}
