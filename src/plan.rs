//! The pure planning core: runs the selected migrations over an install's documents in memory
//! and yields, per file, the tagged RFC 6902 operations and the exact bytes apply would write.
use crate::document::{self, FileKind};
use crate::ledger::Applied;
use crate::load::{CONFIG, Install};
use crate::migration::Migration;
use crate::patch::{self, Op, TaggedOp};
use crate::secrets::Redactor;
use crate::steps;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Keys the operator supplied for this run, by provider id. Never printed, never recorded.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub keys: BTreeMap<String, String>,
    /// The migrations `--only` leaves out that come before a selected one: each must already
    /// be applied or not needed on an install (as Flyway refuses out-of-order migrations).
    pub skipped: Vec<Migration>,
}

/// Something the operator should know or do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub migration: String,
    pub kind: FindingKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub message: String,
    /// The exact step that unblocks it, for needs-input and conflicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    ops: Vec<Vec<TaggedOp>>,
    tag: String,
    pub findings: Vec<Finding>,
}

impl<'a> Workspace<'a> {
    pub fn new(install: &'a Install, inputs: &'a Inputs) -> Self {
        Workspace {
            install,
            inputs,
            values: vec![None; install.docs.len()],
            ops: vec![Vec::new(); install.docs.len()],
            tag: String::new(),
            findings: Vec::new(),
        }
    }

    pub fn value(&self, doc: usize) -> &Value {
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

    /// Records an operation and applies it to the working copy, so later steps see it.
    pub fn emit(&mut self, doc: usize, op: Op) -> Result<(), String> {
        if self.install.docs[doc].kind == FileKind::Config {
            refuse_included(self.value(doc), op.path())?;
        }
        let install = self.install;
        let working = self.values[doc].get_or_insert_with(|| install.docs[doc].value.clone());
        patch::apply(working, &op)
            .map_err(|e| format!("{}: {e}", self.install.docs[doc].path.display()))?;
        self.ops[doc].push(TaggedOp {
            op,
            migration: self.tag.clone(),
        });
        Ok(())
    }

    /// A `test` of the value now at `path`, which guards the operation that follows.
    fn guard(&mut self, doc: usize, path: &str) -> Result<(), String> {
        let old = patch::get(self.value(doc), path)
            .cloned()
            .ok_or_else(|| format!("no value at {path}"))?;
        self.emit(doc, patch::test(path, old)?)
    }

    /// Replaces a value, guarded by a `test` of the value it replaces.
    pub fn replace(&mut self, doc: usize, path: String, value: Value) -> Result<(), String> {
        self.guard(doc, &path)?;
        self.emit(doc, patch::replace(&path, value)?)
    }

    /// Removes a value, guarded by a `test` of the value it removes.
    pub fn remove(&mut self, doc: usize, path: String) -> Result<(), String> {
        self.guard(doc, &path)?;
        self.emit(doc, patch::remove(&path)?)
    }

    pub fn add(&mut self, doc: usize, path: String, value: Value) -> Result<(), String> {
        self.emit(doc, patch::add(&path, value)?)
    }

    /// Where the workspace stands, to go back to if the next migration is blocked.
    fn mark(&self) -> Mark {
        Mark {
            ops: self.ops.iter().map(Vec::len).collect(),
            findings: self.findings.len(),
        }
    }

    /// Discards everything planned since `mark` (keeping the new needs-input and conflict
    /// findings, which say what unblocks it). Working copies are rebuilt by replaying the ops
    /// kept, so the common, unblocked path never copies a document.
    fn restore(&mut self, mark: &Mark) -> Result<(), String> {
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
                    patch::apply(&mut v, &t.op)?;
                }
                Some(v)
            };
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
struct Mark {
    ops: Vec<usize>,
    findings: usize,
}

/// Refuses config edits inside a part of the tree that comes from `$include`: the included file
/// owns it, and this tool edits only the file it read.
fn refuse_included(config: &Value, path: &patch::Pointer) -> Result<(), String> {
    let toks = patch::tokens(path);
    let mut cur = config;
    for t in &toks {
        if cur.get("$include").is_some() {
            return Err(format!(
                "{path} lies under an $include; edit the included file by hand"
            ));
        }
        match cur.get(t.as_str()) {
            Some(next) => cur = next,
            None => break,
        }
    }
    Ok(())
}

/// The pointers of every `$include` in the config. The walk borrows keys and builds a pointer
/// only where one is found: configs are walked whole on every run.
fn include_paths<'a>(v: &'a Value, at: &mut Vec<Token<'a>>, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("$include") {
                let toks: Vec<String> = at.iter().map(Token::to_string).collect();
                out.push(if toks.is_empty() {
                    "/".to_string()
                } else {
                    patch::pointer(&toks)
                });
            }
            for (k, v) in m.iter().filter(|(_, v)| v.is_object() || v.is_array()) {
                at.push(Token::Key(k));
                include_paths(v, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, v) in a
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_object() || v.is_array())
            {
                at.push(Token::Index(i));
                include_paths(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// One step of a path into a tree.
enum Token<'a> {
    Key(&'a str),
    Index(usize),
}

impl std::fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Token::Key(k) => f.write_str(k),
            Token::Index(i) => write!(f, "{i}"),
        }
    }
}

/// Where a migration stands on an install.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationState {
    /// Recorded in the ledger and planning nothing.
    Applied,
    /// Not recorded and planning changes.
    Pending,
    /// Recorded, yet planning changes again: something undid it.
    Drift,
    /// Not recorded, planning nothing: the install never needed it.
    NotNeeded,
    /// Cannot be planned until the operator acts (needs input or a conflict).
    Blocked,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationStatus {
    pub version: u32,
    pub id: String,
    pub checksum: String,
    pub state: MigrationState,
    pub ops: usize,
    /// Recorded with another checksum: the migration file changed since it was applied.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub checksum_changed: bool,
    /// Not planned because an earlier migration is blocked on this install (its id): like
    /// Flyway, migrations apply in order up to the first blocked one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
}

/// The planned change of one file.
#[derive(Debug, Clone)]
pub struct FilePlan {
    pub doc: usize,
    pub ops: Vec<TaggedOp>,
    pub after: String,
    pub sha_after: String,
}

/// Everything planned for one install.
#[derive(Debug, Clone)]
pub struct InstallPlan {
    pub files: Vec<FilePlan>,
    pub migrations: Vec<MigrationStatus>,
    pub findings: Vec<Finding>,
    pub redactor: Redactor,
}

impl InstallPlan {
    /// A file's RFC 6902 patch as JSON with every credential masked (JSON output, saved plans).
    pub fn masked_patch(&self, f: &FilePlan) -> Value {
        self.redactor
            .redact_value(&serde_json::to_value(&f.ops).expect("operations serialise"))
    }

    pub fn blocked(&self) -> bool {
        self.findings.iter().any(|f| f.kind.blocks())
    }
}

/// Collects every secret an install holds, plus the operator's keys, for masking.
pub fn redactor_for(install: &Install, inputs: &Inputs) -> Redactor {
    let mut r = Redactor::default();
    for d in &install.docs {
        match d.kind {
            crate::document::FileKind::AuthProfiles => r.collect_store(&d.value),
            _ => r.collect(&d.value),
        }
    }
    r.collect_env(&install.config().value);
    for k in inputs.keys.values() {
        r.add(k);
    }
    r
}

/// Refuses to run `selected` on an install where a migration `--only` left out, and that comes
/// before one of them, is still pending (or drift, or blocked): applying out of order would be
/// reported as drift later. Pure, like `plan`.
pub fn refuse_out_of_order(
    install: &Install,
    selected: &[&Migration],
    applied: &[Applied],
    inputs: &Inputs,
) -> Result<(), String> {
    if inputs.skipped.is_empty() {
        return Ok(());
    }
    let mut all: Vec<&Migration> = inputs
        .skipped
        .iter()
        .chain(selected.iter().copied())
        .collect();
    all.sort_by_key(|m| m.def.version);
    let states = plan(install, &all, applied, inputs)?.migrations;
    let waiting: Vec<&str> = states
        .iter()
        .filter(|s| inputs.skipped.iter().any(|m| m.def.version == s.version))
        .filter(|s| !matches!(s.state, MigrationState::Applied | MigrationState::NotNeeded))
        .map(|s| s.id.as_str())
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    let chosen: Vec<String> = selected.iter().map(|m| m.id()).collect();
    Err(format!(
        "refusing to run {} out of order: earlier migrations are not applied on this install yet: {}; run without --only (or add them to it) to apply in order",
        chosen.join(", "),
        waiting.join(", ")
    ))
}

/// Plans one migration on the workspace: the number of ops it planned, or `None` when it is
/// blocked (needs input or a conflict), in which case its ops are discarded.
fn plan_one(ws: &mut Workspace, m: &Migration) -> Result<Option<usize>, String> {
    ws.tag = m.tag();
    let mark = ws.mark();
    for step in &m.def.steps {
        steps::run(step, ws)?;
    }
    let blocked = ws.findings[mark.findings..].iter().any(|f| f.kind.blocks());
    if blocked {
        ws.restore(&mark)?;
        return Ok(None);
    }
    // The changes it plans: the `test` guards before them are not counted.
    let changes = ws
        .ops
        .iter()
        .zip(&mark.ops)
        .flat_map(|(ops, &from)| &ops[from..])
        .filter(|t| !matches!(t.op, Op::Test(_)))
        .count();
    Ok(Some(changes))
}

/// Plans the migrations over an install, in order up to the first one it is blocked on (the
/// later ones are not planned and stay pending, `blocked_by` it). Pure: reads only the loaded documents.
pub fn plan(
    install: &Install,
    migrations: &[&Migration],
    applied: &[Applied],
    inputs: &Inputs,
) -> Result<InstallPlan, String> {
    let mut ws = Workspace::new(install, inputs);
    let mut includes = Vec::new();
    include_paths(&install.config().value, &mut Vec::new(), &mut includes);
    if !includes.is_empty() {
        ws.finding(
            FindingKind::Note,
            None,
            format!("openclaw.json pulls in other files with $include (at {}); clawmigrate neither reads nor changes what they define", includes.join(", ")),
            None,
        );
    }
    let mut statuses = Vec::new();
    let mut blocker: Option<String> = None;
    for m in migrations {
        let recorded = applied.iter().find(|a| a.version == m.def.version);
        let mut status = MigrationStatus {
            version: m.def.version,
            id: m.id(),
            checksum: m.checksum.clone(),
            state: if recorded.is_some() {
                MigrationState::Applied
            } else {
                MigrationState::Pending
            },
            ops: 0,
            checksum_changed: recorded.is_some_and(|a| a.checksum != m.checksum),
            blocked_by: blocker.clone(),
        };
        if blocker.is_none() {
            match plan_one(&mut ws, m).map_err(|e| format!("{}: {e}", m.id()))? {
                Some(ops) => {
                    status.ops = ops;
                    status.state = match (ops > 0, recorded.is_some()) {
                        (true, true) => MigrationState::Drift,
                        (true, false) => MigrationState::Pending,
                        (false, true) => MigrationState::Applied,
                        (false, false) => MigrationState::NotNeeded,
                    };
                }
                None => {
                    status.state = MigrationState::Blocked;
                    blocker = Some(m.id());
                }
            }
        }
        if let Some(a) = recorded.filter(|_| status.checksum_changed) {
            ws.tag = m.tag();
            ws.finding(
                FindingKind::ChecksumChanged,
                None,
                format!("{} changed since it was applied here (recorded {}, now {})", m.id(), a.checksum, m.checksum),
                Some("check with `clawmigrate list` and the release notes that the change is intended; the install got the migration as it was then".into()),
            );
        }
        statuses.push(status);
    }
    let mut files = Vec::new();
    for (i, ops) in ws.ops.iter().enumerate() {
        if ops.is_empty() {
            continue;
        }
        let doc = &install.docs[i];
        let plain: Vec<&Op> = ops.iter().map(|t| &t.op).collect();
        let after = document::edit(doc, &plain, ws.value(i))
            .map_err(|e| format!("{}: {e}", doc.path.display()))?;
        if doc.text.as_deref() == Some(after.as_str()) {
            continue;
        }
        files.push(FilePlan {
            doc: i,
            sha_after: document::sha256_hex(after.as_bytes()),
            ops: ops.clone(),
            after,
        });
    }
    Ok(InstallPlan {
        files,
        migrations: statuses,
        findings: ws.findings,
        redactor: redactor_for(install, inputs),
    })
}
