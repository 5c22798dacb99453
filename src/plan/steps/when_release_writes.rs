//! Step `when_release_writes`: runs its steps only when the upgrades of the migration's own
//! release change the config otherwise in this run. OpenClaw's doctor tidies some things (an
//! empty `ui.prefs`, an empty Slack `socketMode`) as part of a migration without a change line
//! of its own, so they change only when something else makes its run write the file; the plan
//! (see `plan::plan_migrations`) learns which releases write, then plans again with these
//! steps due. A step not due is tried and taken back, so that the second plan is made only when
//! it would come out different.
use crate::migration::Step;
use crate::plan::workspace::{StepError, Workspace};

pub fn run(ws: &mut Workspace, steps: &[Step]) -> Result<(), StepError> {
    let Some(release) = ws.release.clone() else {
        return Ok(());
    };
    if ws.writing.contains(&release) {
        for step in steps {
            super::run(step, ws)?;
        }
        return Ok(());
    }
    if ws.tidy_pending.contains(&release) {
        return Ok(());
    }
    let mark = ws.mark();
    let tried = steps.iter().try_for_each(|step| super::run(step, ws));
    let planned = tried.is_err()
        || ws.findings.len() > mark.findings
        || ws.ops.iter().zip(&mark.ops).any(|(ops, &n)| ops.len() > n);
    // A failure to take it back is the same failure the due plan meets: it is made, and fails.
    let restored = ws.restore(&mark);
    ws.findings.truncate(mark.findings);
    if planned || restored.is_err() {
        ws.tidy_pending.push(release);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::value;
    use crate::document::{Document, FileKind};
    use crate::load::Install;
    use crate::migration::Step;
    use crate::plan::workspace::{Inputs, Workspace};
    use crate::release::Release;
    use serde_json::json;
    use std::path::Path;

    const TIDY: &str = r#"{"kind": "when_release_writes", "steps": [
        {"kind": "remove", "path": "ui.prefs", "when": [{"path": "ui.prefs", "is": "empty_object"}], "prune_empty_parents": 1}]}"#;

    /// The config text after the step, planned for an upgrade of `release` while `writing`
    /// releases write; `None` when it planned nothing.
    fn after(text: &str, release: Option<&str>, writing: &[&str]) -> Option<String> {
        let doc = Document::from_bytes(
            Path::new("/st/openclaw.json"),
            FileKind::Config,
            None,
            text.as_bytes().to_vec(),
        )
        .unwrap();
        let install = Install {
            root: crate::discover::InstallRoot {
                state_dir: "/st".into(),
                config_path: "/st/openclaw.json".into(),
                template: false,
            },
            docs: vec![doc],
            agents: vec![],
            default_agent: "main".into(),
            era: crate::storage::stores::Era::Json,
            unsupported: None,
            includes: None,
        };
        let inputs = Inputs::default();
        let mut ws = Workspace::new(&install, &inputs);
        ws.release = release.and_then(Release::parse);
        ws.writing = writing.iter().filter_map(|r| Release::parse(r)).collect();
        let step: Step = serde_json::from_str(TIDY).unwrap();
        super::super::run(&step, &mut ws).unwrap();
        let ops: Vec<_> = ws.ops[0].iter().map(|t| &t.op).collect();
        (!ops.is_empty()).then(|| crate::document::edit(&install.docs[0], &ops, ws.raw(0)).unwrap())
    }

    #[test]
    fn runs_only_when_its_release_writes() {
        let text = "{\n  ui: {\n    prefs: {},\n  },\n  x: 1,\n}\n";
        let out = after(text, Some("2026.9.6"), &["2026.9.6"]).expect("due");
        assert_eq!(value(&out), json!({"x": 1}));
        assert_eq!(after(text, Some("2026.9.6"), &[]), None);
        assert_eq!(after(text, Some("2026.9.6"), &["2026.2.3"]), None);
        assert_eq!(
            after(text, None, &["2026.9.6"]),
            None,
            "a repair has no release"
        );
        assert_eq!(
            after("{ui: {prefs: {a: 1}}}", Some("2026.9.6"), &["2026.9.6"]),
            None,
            "its own guards still hold"
        );
    }
}
