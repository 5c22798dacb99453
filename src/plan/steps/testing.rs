//! Test helpers for the step kinds: one step run over a one-file install, and the text it plans.
use crate::document::{Document, FileKind};
use crate::load::Install;
use crate::migration::Step;
use crate::plan::workspace::{Inputs, Workspace};
use std::path::Path;

/// A one-file install whose config is `text`.
pub fn install(text: &str) -> Install {
    let doc = Document::from_bytes(
        Path::new("/st/openclaw.json"),
        FileKind::Config,
        None,
        text.as_bytes().to_vec(),
    )
    .unwrap();
    Install {
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
    }
}

/// An install in `dir` whose config takes its `models` from `models.json5`, which holds `models`.
pub fn with_included_models(dir: &Path, models: &str) -> Install {
    std::fs::write(dir.join("models.json5"), models).unwrap();
    Install::in_memory(dir, "{ models: { $include: './models.json5' } }", &[])
}

/// The config text after running `step` (its JSON form) over `text`, through the same
/// format-preserving edit the plan uses.
pub fn after(text: &str, step: &str) -> String {
    let step: Step = serde_json::from_str(step).unwrap();
    let install = install(text);
    let inputs = Inputs::default();
    let mut ws = Workspace::new(&install, &inputs);
    super::run(&step, &mut ws).unwrap();
    let ops: Vec<_> = ws.ops[0].iter().map(|t| &t.op).collect();
    assert!(!ops.is_empty(), "the step planned nothing on {text}");
    crate::document::edit(&install.docs[0], &ops, ws.raw(0)).unwrap()
}

/// Asserts the step plans no operation on `text` (an already-fixed file, or a guard failing).
pub fn plans_nothing(text: &str, step: &str) {
    let step: Step = serde_json::from_str(step).unwrap();
    let install = install(text);
    let inputs = Inputs::default();
    let mut ws = Workspace::new(&install, &inputs);
    super::run(&step, &mut ws).unwrap();
    assert!(ws.ops[0].is_empty(), "planned {:?} on {text}", ws.ops[0]);
}

/// The config text read as JSON5, as OpenClaw reads it.
pub fn value(text: &str) -> serde_json::Value {
    crate::document::parse(text, crate::document::FileKind::Config).unwrap()
}

/// The findings the step reports on `text` (what it planned aside).
pub fn findings(text: &str, step: &str) -> Vec<crate::plan::workspace::Finding> {
    let step: Step = serde_json::from_str(step).unwrap();
    let install = install(text);
    let inputs = Inputs::default();
    let mut ws = Workspace::new(&install, &inputs);
    super::run(&step, &mut ws).unwrap();
    ws.findings
}
