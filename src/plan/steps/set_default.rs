//! Step `set_default`: seeds a value at a key that is absent, when the guards hold (its parent
//! path may hold `*`s; missing parents are created); with `overwrite`, a different value there is
//! replaced too.
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
    overwrite: bool,
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
        let present = lookup(config, &toks);
        if present.is_some_and(|v| !overwrite || v == value) || !all_hold(when, config, &captures) {
            continue;
        }
        if present.is_some() {
            ws.replace(CONFIG, pointer(&toks), value.clone())?;
        } else if ensure_parent(ws, &toks)? {
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

    #[test]
    fn overwrite_replaces_a_different_value_in_place() {
        let step = r#"{"kind": "set_default", "path": "b.enabled", "value": false, "overwrite": true,
            "when": [{"path": "b.network", "text_equals": "none"}]}"#;
        let out = after(
            "{\n  b: {\n    enabled: true, // on\n    network: 'None',\n  },\n}\n",
            step,
        );
        assert_eq!(
            out,
            "{\n  b: {\n    enabled: false, // on\n    network: 'None',\n  },\n}\n"
        );
        plans_nothing(&out, step);
        let out = after("{b: {network: 'none'}}", step);
        assert_eq!(
            crate::document::parse(&out, crate::document::FileKind::Config).unwrap(),
            serde_json::json!({"b": {"network": "none", "enabled": false}})
        );
        plans_nothing("{b: {enabled: true, network: 'bridge'}}", step);
    }
}
