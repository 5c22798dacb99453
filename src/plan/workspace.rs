//! The mutable state migrations work on: working copies of an install's documents, the
//! operations planned so far (each tagged with its migration) and the findings. Every change
//! goes through [`Workspace::emit`]; steps read and write only through it.
use crate::document::include::IncludeError;
use crate::document::patch::{self, Op, PatchError, TaggedOp};
use crate::error::Kind;
use crate::load::{CONFIG, Install};
use crate::migration::Migration;
use crate::release::Release;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a step cannot plan its change on an install; nothing of the install is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The change does not fit the document (its shape is not what the step planned for).
    #[error("{file}: {source}")]
    Patch { file: String, source: PatchError },
    #[error(transparent)]
    Include(#[from] IncludeError),
    #[error(
        "cannot change {path}: it is defined in {file}, which the config includes from outside \
         the install {state_dir}; clawmigrate writes only files inside the install (where it \
         can back them up and roll them back). Move the file into the state dir (and its \
         $include with it), or make this change by hand"
    )]
    OutsideInstall {
        path: String,
        file: String,
        state_dir: String,
    },
    #[error(
        "{path}: OpenClaw merges this value from several included files, and changing it in \
         {file} alone does not give the planned config; nothing was written. Make this change \
         by hand"
    )]
    Merged { path: String, file: String },
    /// A document OpenClaw would not read as it stands (say, an auth store without profiles).
    #[error("{file}: {what}")]
    Shape { file: String, what: String },
}

impl StepError {
    pub fn kind(&self) -> Kind {
        match self {
            StepError::Shape { .. } => Kind::Parse,
            _ => Kind::Refused,
        }
    }
}

/// Keys the operator supplied for this run, by provider id. Never printed, never recorded.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub keys: BTreeMap<String, String>,
    /// The migrations `--only` leaves out that come before a selected one: each must already
    /// be applied or not needed on an install (as Flyway refuses out-of-order migrations).
    pub skipped: Vec<Migration>,
    /// Without `--to`: the upgrades `--to <newest>` would run, planned only to report what
    /// they would change (an [`FindingKind::UpgradeAvailable`] finding), never applied.
    pub available: Vec<Migration>,
    /// The opt-in migrations the run does not select: planned only to report what they would
    /// change (an [`FindingKind::OptInAvailable`] finding), never applied.
    pub opt_in: Vec<Migration>,
}

/// Something the operator should know or do.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub migration: String,
    pub kind: FindingKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub agent: Option<String>,
    pub message: String,
    /// The exact step that unblocks it, for needs-input and conflicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A change cannot be planned without something only the operator has (a key).
    NeedsInput,
    /// Sources disagree (two different keys); resolved only by the operator.
    Conflict,
    /// Kept on purpose and worth knowing.
    Note,
    /// A migration's file changed since it was applied here (as `flyway validate` reports it):
    /// what the install got is not what the migration now says. Fails `--check`.
    ChecksumChanged,
    /// A run of this tool did not complete (a crash): what the next migrate does about it, or
    /// what this run's recovery did.
    Interrupted,
    /// Without `--to`: what upgrading to the newest carried release would change. Informative
    /// only: it neither blocks nor fails `--check`.
    UpgradeAvailable,
    /// An opt-in migration the run does not select would change the install (or is refused
    /// here, saying why). Informative only, like [`FindingKind::UpgradeAvailable`].
    OptInAvailable,
}

impl FindingKind {
    /// Whether it blocks its migration: only the operator can resolve it.
    pub fn blocks(self) -> bool {
        matches!(self, FindingKind::NeedsInput | FindingKind::Conflict)
    }
}

/// The mutable state migrations work on: working copies of every document and the ops so far.
pub struct Workspace<'a> {
    pub install: &'a Install,
    pub inputs: &'a Inputs,
    /// Working copies, made on a document's first change (most documents never change).
    values: Vec<Option<Value>>,
    /// The working copy of the config as OpenClaw sees it (every `$include` resolved), made on
    /// its first change; only for a config that includes other files.
    merged: Option<Value>,
    pub(crate) ops: Vec<Vec<TaggedOp>>,
    pub(crate) tag: String,
    pub findings: Vec<Finding>,
    /// The release of the upgrade being planned (`None` for a repair).
    pub(crate) release: Option<Release>,
    /// The releases whose upgrades change the config in this run besides their
    /// `when_release_writes` steps, which run only for these.
    pub(crate) writing: Vec<Release>,
    /// The releases with a `when_release_writes` step that was not due but would have planned
    /// something: only for these does a plan with the step due come out different.
    pub(crate) tidy_pending: Vec<Release>,
}

impl<'a> Workspace<'a> {
    pub fn new(install: &'a Install, inputs: &'a Inputs) -> Self {
        Workspace {
            install,
            inputs,
            values: vec![None; install.docs.len()],
            merged: None,
            ops: vec![Vec::new(); install.docs.len()],
            tag: String::new(),
            findings: Vec::new(),
            release: None,
            writing: Vec::new(),
            tidy_pending: Vec::new(),
        }
    }

    /// A document's value as migrations see it: the config with its includes resolved, as
    /// OpenClaw reads it.
    pub fn value(&self, doc: usize) -> &Value {
        match &self.install.includes {
            Some(inc) if doc == CONFIG => self.merged.as_ref().unwrap_or(&inc.merged),
            _ => self.raw(doc),
        }
    }

    /// A document's own value, as its file holds it (the config's `$include`s unresolved).
    pub(crate) fn raw(&self, doc: usize) -> &Value {
        self.values[doc]
            .as_ref()
            .unwrap_or(&self.install.docs[doc].value)
    }

    pub fn config(&self) -> &Value {
        self.value(CONFIG)
    }

    pub fn exists(&self, doc: usize) -> bool {
        !self.value(doc).is_null()
    }

    /// Records an operation and applies it to the working copy, so later steps see it. An
    /// operation on a config that includes other files is planned in the file that defines the
    /// value ([`crate::document::include::Includes::route`]).
    pub fn emit(&mut self, doc: usize, op: Op) -> Result<(), StepError> {
        match &self.install.includes {
            Some(_) if doc == CONFIG => self.emit_included(op),
            _ => self.record(doc, op),
        }
    }

    /// Applies an operation to a document's own working copy and records it.
    fn record(&mut self, doc: usize, op: Op) -> Result<(), StepError> {
        let install = self.install;
        let working = self.values[doc].get_or_insert_with(|| install.docs[doc].value.clone());
        patch::apply(working, &op).map_err(|source| StepError::Patch {
            file: self.install.docs[doc].path().display().to_string(),
            source,
        })?;
        self.ops[doc].push(TaggedOp {
            op,
            migration: self.tag.clone(),
        });
        Ok(())
    }

    /// An operation on the merged config: applied there, and planned in the document that owns
    /// the value. What OpenClaw would merge from the edited documents must be exactly the
    /// planned config, or the change cannot be made in one file and is refused.
    fn emit_included(&mut self, op: Op) -> Result<(), StepError> {
        let install = self.install;
        let inc = install.includes.as_ref().expect("a config with includes");
        let (target, routed) = inc.route(&|i| self.raw(i), &op)?;
        let name = |i: usize| install.docs[i].name(&install.root.state_dir);
        let is_test = matches!(op, Op::Test(_));
        if !is_test
            && target != CONFIG
            && crate::location::record(&install.root, install.docs[target].path(), None).is_err()
        {
            return Err(StepError::OutsideInstall {
                path: op.path().to_string(),
                file: install.docs[target].path().display().to_string(),
                state_dir: install.root.state_dir.display().to_string(),
            });
        }
        let merged = self.merged.get_or_insert_with(|| inc.merged.clone());
        patch::apply(merged, &op).map_err(|source| StepError::Patch {
            file: name(CONFIG),
            source,
        })?;
        self.record(target, routed)?;
        if is_test {
            return Ok(());
        }
        let now = inc.merge(&|i| self.raw(i))?;
        if Some(&now) != self.merged.as_ref() {
            return Err(StepError::Merged {
                path: op.path().to_string(),
                file: name(target),
            });
        }
        Ok(())
    }

    /// A `test` of the value now at `path`, which guards the operation that follows.
    fn guard(&mut self, doc: usize, path: &str) -> Result<(), StepError> {
        let old = patch::get(self.value(doc), path).cloned();
        let op = old
            .ok_or_else(|| PatchError::NoValue(path.to_string()))
            .and_then(|old| patch::test(path, old));
        let op = self.patched(doc, op)?;
        self.emit(doc, op)
    }

    /// Replaces a value, guarded by a `test` of the value it replaces.
    pub fn replace(&mut self, doc: usize, path: String, value: Value) -> Result<(), StepError> {
        self.guard(doc, &path)?;
        let op = self.patched(doc, patch::replace(&path, value))?;
        self.emit(doc, op)
    }

    /// Removes a value, guarded by a `test` of the value it removes.
    pub fn remove(&mut self, doc: usize, path: String) -> Result<(), StepError> {
        self.guard(doc, &path)?;
        let op = self.patched(doc, patch::remove(&path))?;
        self.emit(doc, op)
    }

    /// Moves a value (renames it in place when both paths share a parent), guarded by a `test`
    /// of the value it moves, so its comments travel with it. In a config that includes other
    /// files it is planned as a removal and an addition, each in the file that owns it.
    pub fn move_value(&mut self, doc: usize, from: String, to: String) -> Result<(), StepError> {
        if self.install.includes.is_some() && doc == CONFIG {
            let Some(value) = patch::get(self.value(doc), &from).cloned() else {
                let op = self.patched(doc, Err(PatchError::NoValue(from.clone())));
                return op.map(|_| ());
            };
            self.remove(doc, from)?;
            return self.add(doc, to, value);
        }
        self.guard(doc, &from)?;
        let op = self.patched(doc, patch::move_to(&from, &to))?;
        self.emit(doc, op)
    }

    pub fn add(&mut self, doc: usize, path: String, value: Value) -> Result<(), StepError> {
        let op = self.patched(doc, patch::add(&path, value))?;
        self.emit(doc, op)
    }

    /// An operation built for a document, or why it could not be, naming the document.
    fn patched(&self, doc: usize, op: Result<Op, PatchError>) -> Result<Op, StepError> {
        op.map_err(|source| StepError::Patch {
            file: self.install.docs[doc].path().display().to_string(),
            source,
        })
    }

    /// Where the workspace stands, to go back to if the next migration is blocked.
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            ops: self.ops.iter().map(Vec::len).collect(),
            findings: self.findings.len(),
        }
    }

    /// Discards everything planned since `mark` (keeping the new needs-input and conflict
    /// findings, which say what unblocks it). Working copies are rebuilt by replaying the ops
    /// kept, so the common, unblocked path never copies a document.
    pub(crate) fn restore(&mut self, mark: &Mark) -> Result<(), StepError> {
        for (i, &keep) in mark.ops.iter().enumerate() {
            if self.ops[i].len() == keep {
                continue;
            }
            self.ops[i].truncate(keep);
            self.values[i] = if keep == 0 {
                None
            } else {
                let mut v = self.install.docs[i].value.clone();
                for t in &self.ops[i] {
                    let applied = patch::apply(&mut v, &t.op);
                    applied.map_err(|source| StepError::Patch {
                        file: self.install.docs[i].path().display().to_string(),
                        source,
                    })?;
                }
                Some(v)
            };
        }
        if let Some(inc) = &self.install.includes
            && self.merged.is_some()
        {
            let merged = inc.merge(&|i| self.raw(i))?;
            self.merged = Some(merged);
        }
        let new = self.findings.split_off(mark.findings);
        self.findings
            .extend(new.into_iter().filter(|f| f.kind.blocks()));
        Ok(())
    }

    pub fn finding(
        &mut self,
        kind: FindingKind,
        agent: Option<&str>,
        message: String,
        fix: Option<String>,
    ) {
        self.findings.push(Finding {
            migration: self.tag.clone(),
            kind,
            agent: agent.map(str::to_string),
            message,
            fix,
        });
    }
}

/// How far a workspace had got: the ops per document and the findings so far.
pub(crate) struct Mark {
    pub(crate) ops: Vec<usize>,
    pub(crate) findings: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::include::IncludeError;
    use serde_json::json;
    use std::path::Path;

    const MODELS: &str = r#"{"providers": {"p": {"baseUrl": "https://a.example/v1", "api": "x"}}}"#;

    /// `main` with no auth store and the models.json above.
    fn install() -> Install {
        Install::in_memory(
            Path::new("/nonexistent/st"),
            r#"{"gateway": {"port": 1}}"#,
            &[("main", None, Some(MODELS))],
        )
    }

    fn ops(ws: &Workspace, doc: usize) -> Value {
        serde_json::to_value(&ws.ops[doc]).unwrap()
    }

    #[test]
    fn emit_applies_to_the_working_copy_and_records_each_op_with_its_migration() {
        let (install, inputs) = (install(), Inputs::default());
        let m = install.agents[0].models;
        let mut ws = Workspace::new(&install, &inputs);
        ws.tag = "V0007".into();
        ws.emit(
            m,
            patch::add("/providers/q", json!({"baseUrl": "u"})).unwrap(),
        )
        .unwrap();
        ws.tag = "V0008".into();
        ws.emit(m, patch::add("/providers/q/api", json!("y")).unwrap())
            .unwrap();
        assert_eq!(
            ws.value(m)["providers"]["q"],
            json!({"baseUrl": "u", "api": "y"})
        );
        assert_eq!(
            ops(&ws, m),
            json!([
                {"op": "add", "path": "/providers/q", "value": {"baseUrl": "u"}, "migration": "V0007"},
                {"op": "add", "path": "/providers/q/api", "value": "y", "migration": "V0008"},
            ])
        );
        // The document as read is untouched, and so are the others.
        assert_eq!(install.docs[m].value["providers"].get("q"), None);
        assert!(ws.ops[CONFIG].is_empty() && ws.ops[install.agents[0].auth].is_empty());
    }

    #[test]
    fn replace_and_remove_are_guarded_by_a_test_of_the_value_they_change() {
        let (install, inputs) = (install(), Inputs::default());
        let m = install.agents[0].models;
        let mut ws = Workspace::new(&install, &inputs);
        ws.tag = "V0001".into();
        ws.replace(
            m,
            "/providers/p/baseUrl".into(),
            json!("https://b.example/v1"),
        )
        .unwrap();
        ws.remove(m, "/providers/p/api".into()).unwrap();
        assert_eq!(
            ops(&ws, m),
            json!([
                {"op": "test", "path": "/providers/p/baseUrl", "value": "https://a.example/v1", "migration": "V0001"},
                {"op": "replace", "path": "/providers/p/baseUrl", "value": "https://b.example/v1", "migration": "V0001"},
                {"op": "test", "path": "/providers/p/api", "value": "x", "migration": "V0001"},
                {"op": "remove", "path": "/providers/p/api", "migration": "V0001"},
            ])
        );
        assert_eq!(
            ws.value(m),
            &json!({"providers": {"p": {"baseUrl": "https://b.example/v1"}}})
        );
        // `add` needs no guard: it replaces nothing the step did not look at.
        ws.add(CONFIG, "/gateway/bind".into(), json!("lan"))
            .unwrap();
        assert_eq!(
            ops(&ws, CONFIG),
            json!([{"op": "add", "path": "/gateway/bind", "value": "lan", "migration": "V0001"}])
        );
    }

    #[test]
    fn a_change_where_the_document_has_no_such_place_is_refused_naming_the_file() {
        let (install, inputs) = (install(), Inputs::default());
        let m = install.agents[0].models;
        let file = "/nonexistent/st/agents/main/agent/models.json";
        let mut ws = Workspace::new(&install, &inputs);
        let e = ws
            .replace(m, "/providers/nope".into(), json!(1))
            .unwrap_err();
        assert_eq!(
            e,
            StepError::Patch {
                file: file.into(),
                source: PatchError::NoValue("/providers/nope".into())
            }
        );
        assert_eq!(e.kind(), Kind::Refused);
        assert!(e.to_string().starts_with(file), "{e}");
        let e = ws.add(m, "/missing/parent/x".into(), json!(1)).unwrap_err();
        assert!(
            matches!(&e, StepError::Patch { file: f, .. } if f == file),
            "{e:?}"
        );
        let e = ws
            .remove(m, "/providers/p/baseUrl/deeper".into())
            .unwrap_err();
        assert!(matches!(e, StepError::Patch { .. }), "{e:?}");
        assert!(ws.ops.iter().all(Vec::is_empty), "{:?}", ws.ops);
        assert_eq!(ws.value(m), &install.docs[m].value);
    }

    #[test]
    fn an_absent_document_exists_once_a_step_creates_it() {
        let (install, inputs) = (install(), Inputs::default());
        let auth = install.agents[0].auth;
        let mut ws = Workspace::new(&install, &inputs);
        assert!(!ws.exists(auth) && ws.exists(install.agents[0].models));
        ws.add(auth, String::new(), json!({"version": 1, "profiles": {}}))
            .unwrap();
        assert!(ws.exists(auth));
        assert_eq!(ws.value(auth), &json!({"version": 1, "profiles": {}}));
    }

    #[test]
    fn restore_goes_back_to_the_mark_and_keeps_only_the_findings_that_block() {
        let (install, inputs) = (install(), Inputs::default());
        let m = install.agents[0].models;
        let mut ws = Workspace::new(&install, &inputs);
        ws.tag = "V0001".into();
        ws.replace(m, "/providers/p/api".into(), json!("z"))
            .unwrap();
        ws.finding(FindingKind::Note, None, "kept".into(), None);
        let mark = ws.mark();
        ws.tag = "V0002".into();
        ws.remove(m, "/providers/p/baseUrl".into()).unwrap();
        ws.add(CONFIG, "/gateway/bind".into(), json!("lan"))
            .unwrap();
        ws.finding(FindingKind::Note, Some("main"), "dropped".into(), None);
        ws.finding(
            FindingKind::NeedsInput,
            Some("main"),
            "needs a key".into(),
            Some("fix".into()),
        );
        ws.restore(&mark).unwrap();
        assert_eq!(ws.ops[m].len(), 2);
        assert!(ws.ops[CONFIG].is_empty());
        assert_eq!(
            ws.value(m)["providers"]["p"],
            json!({"baseUrl": "https://a.example/v1", "api": "z"})
        );
        assert_eq!(ws.config(), &install.docs[CONFIG].value);
        let kept: Vec<(&str, &str)> = ws
            .findings
            .iter()
            .map(|f| (f.migration.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(kept, [("V0001", "kept"), ("V0002", "needs a key")]);
    }

    #[test]
    fn only_needs_input_and_conflicts_block_a_migration() {
        let blocking: Vec<FindingKind> = [
            FindingKind::NeedsInput,
            FindingKind::Conflict,
            FindingKind::Note,
            FindingKind::ChecksumChanged,
            FindingKind::Interrupted,
        ]
        .into_iter()
        .filter(|k| k.blocks())
        .collect();
        assert_eq!(blocking, [FindingKind::NeedsInput, FindingKind::Conflict]);
    }

    /// A config in a temporary state dir whose `models` is `$include`d from `models.json5`.
    fn included(dir: &Path, config: &str) -> Install {
        std::fs::write(
            dir.join("models.json5"),
            "// models\n{ providers: { p: { baseUrl: 'https://a.example/v1' } } }",
        )
        .unwrap();
        Install::in_memory(dir, config, &[])
    }

    #[test]
    fn a_change_to_an_included_value_is_planned_in_the_file_that_defines_it() {
        let dir = tempfile::tempdir().unwrap();
        let install = included(
            dir.path(),
            "{ models: { $include: './models.json5' }, gateway: { port: 1 } }",
        );
        let inputs = Inputs::default();
        let mut ws = Workspace::new(&install, &inputs);
        ws.tag = "V0001".into();
        ws.replace(
            CONFIG,
            "/models/providers/p/baseUrl".into(),
            json!("https://b.example/v1"),
        )
        .unwrap();
        assert_eq!(
            ops(&ws, CONFIG + 1),
            json!([
                {"op": "test", "path": "/providers/p/baseUrl", "value": "https://a.example/v1", "migration": "V0001"},
                {"op": "replace", "path": "/providers/p/baseUrl", "value": "https://b.example/v1", "migration": "V0001"},
            ])
        );
        assert!(ws.ops[CONFIG].is_empty());
        // Steps see the config as OpenClaw merges it; the config's own file keeps its $include.
        assert_eq!(
            ws.config()["models"]["providers"]["p"]["baseUrl"],
            "https://b.example/v1"
        );
        assert_eq!(
            ws.raw(CONFIG)["models"],
            json!({"$include": "./models.json5"})
        );
        // A value the config itself holds is planned there.
        ws.replace(CONFIG, "/gateway/port".into(), json!(2))
            .unwrap();
        assert_eq!(ws.ops[CONFIG].len(), 2);
        // Going back rebuilds the merged view too.
        let mut ws = Workspace::new(&install, &inputs);
        let mark = ws.mark();
        ws.replace(
            CONFIG,
            "/models/providers/p/baseUrl".into(),
            json!("https://c.example"),
        )
        .unwrap();
        ws.restore(&mark).unwrap();
        assert_eq!(
            ws.config()["models"]["providers"]["p"]["baseUrl"],
            "https://a.example/v1"
        );
    }

    #[test]
    fn an_include_is_never_replaced_by_what_it_brings_in() {
        let dir = tempfile::tempdir().unwrap();
        let install = included(dir.path(), "{ models: { $include: './models.json5' } }");
        let inputs = Inputs::default();
        let mut ws = Workspace::new(&install, &inputs);
        let e = ws.replace(CONFIG, "/models".into(), json!({})).unwrap_err();
        assert_eq!(
            e,
            StepError::Include(IncludeError::Flatten("/models".into()))
        );
        assert_eq!(e.kind(), Kind::Refused);
        // Only the guard was recorded (a refused step fails the whole install's plan).
        let planned: Vec<&Op> = ws.ops.iter().flatten().map(|t| &t.op).collect();
        assert!(
            planned.iter().all(|op| matches!(op, Op::Test(_))),
            "{planned:?}"
        );
    }

    #[test]
    fn a_file_included_from_outside_the_install_is_never_planned_a_change() {
        let outside = tempfile::tempdir().unwrap();
        let file = outside.path().join("models.json5");
        std::fs::write(
            &file,
            "{ providers: { p: { baseUrl: 'https://a.example/v1' } } }",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "{{ models: {{ $include: {:?} }} }}",
            file.display().to_string()
        );
        let install = Install::in_memory(dir.path(), &config, &[]);
        let inputs = Inputs::default();
        let mut ws = Workspace::new(&install, &inputs);
        let e = ws
            .replace(
                CONFIG,
                "/models/providers/p/baseUrl".into(),
                json!("https://b.example"),
            )
            .unwrap_err();
        assert_eq!(
            e,
            StepError::OutsideInstall {
                path: "/models/providers/p/baseUrl".into(),
                file: file.display().to_string(),
                state_dir: dir.path().display().to_string(),
            }
        );
        assert!(
            ws.ops[CONFIG + 1]
                .iter()
                .all(|t| matches!(t.op, Op::Test(_)))
        );
    }
}
