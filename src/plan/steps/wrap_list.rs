//! Step `wrap_in_list`: replaces a value by a list holding it first and then fixed values (a
//! single CLI argument becoming the argument list doctor writes for it).
use super::path::{Guard, Path, all_hold};
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

pub fn run(
    ws: &mut Workspace,
    path: &Path,
    when: &[Guard],
    append: &[Value],
) -> Result<(), StepError> {
    for m in path.matches(ws.config()) {
        let config = ws.config();
        if !all_hold(when, config, &m.captures) {
            continue;
        }
        let Some(v) = super::path::lookup(config, &m.tokens) else {
            continue;
        };
        let list: Vec<Value> = std::iter::once(v.clone())
            .chain(append.iter().cloned())
            .collect();
        ws.replace(CONFIG, pointer(&m.tokens), Value::Array(list))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use serde_json::json;

    const STEP: &str = r#"{"kind": "wrap_in_list", "path": "b.*.arg", "append": ["{id}"],
        "when": [{"path": "b.*.arg", "is": "string"}]}"#;

    #[test]
    fn wraps_each_guarded_value_keeping_the_comment() {
        let out = after(
            "{\n  b: {\n    x: {\n      // resume flag\n      arg: '--resume',\n    },\n    y: { arg: ['--r'] },\n  },\n}\n",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"b": {"x": {"arg": ["--resume", "{id}"]}, "y": {"arg": ["--r"]}}})
        );
        assert!(out.contains("// resume flag"), "{out}");
        plans_nothing(&out, STEP);
    }
}
