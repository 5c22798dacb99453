//! Step `set_default`: seeds a value at a key that is absent, when the guards hold (its parent
//! path may hold `*`s; missing parents are created).
use super::move_key::ensure_parent;
use super::path::{Guard, Path, Seg, all_hold, lookup};
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

pub fn run(
    ws: &mut Workspace,
    path: &Path,
    value: &Value,
    when: &[Guard],
) -> Result<(), StepError> {
    let Some((Seg::Key(key), parents)) = path.segs.split_last() else {
        return Ok(()); // the registry refuses a path ending in *
    };
    let places: Vec<(Vec<String>, Vec<String>)> = if parents.contains(&Seg::Any) {
        let parent = Path::from_segs(parents.to_vec());
        parent
            .matches(ws.config())
            .into_iter()
            .map(|m| (m.tokens, m.captures))
            .collect()
    } else {
        let toks = path.bind(&[]).expect("no * to bind");
        vec![(toks[..toks.len() - 1].to_vec(), Vec::new())]
    };
    for (mut toks, captures) in places {
        toks.push(key.clone());
        let config = ws.config();
        if lookup(config, &toks).is_some() || !all_hold(when, config, &captures) {
            continue;
        }
        if ensure_parent(ws, &toks)? {
            ws.add(CONFIG, pointer(&toks), value.clone())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing};

    const MODE: &str = r#"{"kind": "set_default", "path": "gateway.auth.mode", "value": "token",
        "when": [{"path": "gateway.token", "exists": true}, {"path": "gateway.auth.token", "exists": false}]}"#;

    #[test]
    fn seeds_when_absent_and_the_guards_hold() {
        let out = after("{\n  gateway: {\n    token: 'x',\n  },\n}\n", MODE);
        assert_eq!(
            crate::document::parse(&out, crate::document::FileKind::Config).unwrap(),
            serde_json::json!({"gateway": {"token": "x", "auth": {"mode": "token"}}})
        );
        plans_nothing(&out, MODE);
        plans_nothing("{gateway: {token: 'x', auth: {token: 'y'}}}", MODE);
        plans_nothing("{gateway: {port: 1}}", MODE);
    }

    #[test]
    fn seeds_under_every_wildcard_match() {
        let step = r#"{"kind": "set_default", "path": "agents.list.*.mode", "value": "off", "when": [{"path": "agents.list.*.legacy", "equals": true}]}"#;
        let out = after(
            "{agents: {list: [{legacy: true}, {legacy: false}, {legacy: true, mode: 'on'}]}}",
            step,
        );
        assert_eq!(
            crate::document::parse(&out, crate::document::FileKind::Config).unwrap(),
            serde_json::json!({"agents": {"list": [{"legacy": true, "mode": "off"}, {"legacy": false}, {"legacy": true, "mode": "on"}]}})
        );
        plans_nothing(&out, step);
    }
}
