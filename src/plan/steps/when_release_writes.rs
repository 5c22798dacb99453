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
    use super::super::testing::{install, value};
    use crate::load::Install;
    use crate::migration::Step;
    use crate::plan::workspace::{Inputs, Workspace};
    use crate::release::Release;
    use serde_json::json;

    const TIDY: &str = r#"{"kind": "when_release_writes", "steps": [
        {"kind": "remove", "path": "ui.prefs", "when": [{"path": "ui.prefs", "is": "empty_object"}], "prune_empty_parents": 1}]}"#;

    /// Runs the step over `install`, planned for an upgrade of `release` while `writing`
    /// releases write.
    fn run<'a>(
        install: &'a Install,
        inputs: &'a Inputs,
        release: Option<&str>,
        writing: &[&str],
    ) -> Workspace<'a> {
        let mut ws = Workspace::new(install, inputs);
        ws.release = release.and_then(Release::parse);
        ws.writing = writing.iter().filter_map(|r| Release::parse(r)).collect();
        let step: Step = serde_json::from_str(TIDY).unwrap();
        super::super::run(&step, &mut ws).unwrap();
        ws
    }

    /// The config text after the step; `None` when it planned nothing.
    fn after(text: &str, release: Option<&str>, writing: &[&str]) -> Option<String> {
        let (install, inputs) = (install(text), Inputs::default());
        let ws = run(&install, &inputs, release, writing);
        let ops: Vec<_> = ws.ops[0].iter().map(|t| &t.op).collect();
        (!ops.is_empty()).then(|| crate::document::edit(&install.docs[0], &ops, ws.raw(0)).unwrap())
    }

    #[test]
    fn a_step_not_due_is_tried_taken_back_and_remembered_only_when_it_would_plan() {
        let release = Release::parse("2026.9.6");
        let (tidy, inputs) = (install("{ui: {prefs: {}}, x: 1}"), Inputs::default());
        let ws = run(&tidy, &inputs, Some("2026.9.6"), &[]);
        assert!(ws.ops[0].is_empty() && ws.findings.is_empty());
        assert_eq!(
            ws.raw(0),
            &json!({"ui": {"prefs": {}}, "x": 1}),
            "taken back"
        );
        assert_eq!(
            ws.tidy_pending,
            release.clone().into_iter().collect::<Vec<_>>()
        );
        let tidy_already = install("{ui: {prefs: {a: 1}}}");
        let ws = run(&tidy_already, &inputs, Some("2026.9.6"), &[]);
        assert!(
            ws.tidy_pending.is_empty(),
            "nothing to tidy: no second plan"
        );
        let ws = run(&tidy, &inputs, Some("2026.9.6"), &["2026.9.6"]);
        assert!(ws.tidy_pending.is_empty(), "due: run, not tried");
        assert_eq!(ws.raw(0), &json!({"x": 1}));
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
