//! The pure planning core: runs the selected migrations over an install's documents in memory
//! and yields, per file, the tagged RFC 6902 operations and the exact bytes apply would write.
//! Its parts: the `workspace` steps edit, the `steps` migrations are written in, and the `saved`
//! plan an operator reviews.
pub mod saved;
pub mod steps;
pub mod workspace;
use crate::document;
use crate::document::patch::{Op, TaggedOp};
use crate::ledger::Applied;
use crate::load::Install;
use crate::migration::Migration;
use crate::secrets::Redactor;
use serde::Serialize;
use serde_json::Value;
pub use workspace::{Finding, FindingKind, Inputs};
use workspace::{StepError, Workspace};

/// Why an install cannot be planned; nothing of it is written. Each variant says which kind of
/// failure it is ([`PlanError::kind`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "refusing to run {} out of order: earlier migrations are not applied on this install yet: {}; run without --only (or add them to it) to apply in order",
        chosen.join(", "),
        waiting.join(", ")
    )]
    OutOfOrder {
        chosen: Vec<String>,
        waiting: Vec<String>,
    },
    #[error("{migration}: {source}")]
    Step {
        migration: String,
        source: StepError,
    },
    /// The planned tree cannot be written into the file's text.
    #[error("{file}: {source}")]
    Edit {
        file: String,
        source: document::EditError,
    },
}

impl PlanError {
    pub fn kind(&self) -> crate::error::Kind {
        match self {
            PlanError::Step { source, .. } => source.kind(),
            PlanError::OutOfOrder { .. } | PlanError::Edit { .. } => crate::error::Kind::Refused,
        }
    }
}

impl From<PlanError> for crate::error::Error {
    fn from(e: PlanError) -> crate::error::Error {
        crate::error::Error::new(e.kind(), e.to_string())
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
    /// The checksum the install records, when it is not `checksum` (what `repair --rebless
    /// … --from` takes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_checksum: Option<String>,
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
    // Names first: whether a bare name in one file is a reference depends on all of them.
    for d in &install.docs {
        r.declare(&d.value);
    }
    for d in &install.docs {
        match d.kind {
            crate::document::FileKind::AuthProfiles => r.collect_store(&d.value),
            _ => r.collect(&d.value),
        }
    }
    r.collect_env(install.config_value());
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
) -> Result<(), PlanError> {
    let floor = last_touched(install);
    let skipped: Vec<&Migration> = inputs
        .skipped
        .iter()
        .filter(|m| m.in_window(floor.as_ref()))
        .collect();
    if skipped.is_empty() {
        return Ok(());
    }
    let mut all: Vec<&Migration> = skipped
        .iter()
        .copied()
        .chain(selected.iter().copied())
        .collect();
    all.sort_by_key(|m| m.def.version);
    let (_, states) = plan_migrations(install, &all, applied, inputs)?;
    let waiting: Vec<String> = states
        .iter()
        .filter(|s| skipped.iter().any(|m| m.def.version == s.version))
        .filter(|s| !matches!(s.state, MigrationState::Applied | MigrationState::NotNeeded))
        .map(|s| s.id.clone())
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    Err(PlanError::OutOfOrder {
        chosen: selected.iter().map(|m| m.id()).collect(),
        waiting,
    })
}

/// The release that last wrote the install's config (`meta.lastTouchedVersion`), when it names one.
pub fn last_touched(install: &Install) -> Option<crate::release::Release> {
    use crate::document::patch::AtPath;
    install
        .config_value()
        .at_path(&["meta", "lastTouchedVersion"])
        .and_then(Value::as_str)
        .and_then(crate::release::Release::parse)
}

/// The migrations that run on this install: repairs, and the upgrades of releases newer than
/// the one that last touched its config (an upgrade already behind it is neither pending nor
/// left out: OpenClaw's own doctor ran it there).
fn in_window<'m>(install: &Install, migrations: &[&'m Migration]) -> Vec<&'m Migration> {
    let floor = last_touched(install);
    migrations
        .iter()
        .copied()
        .filter(|m| m.in_window(floor.as_ref()))
        .collect()
}

/// Without `--to`: plans the upgrades `--to <newest>` would run on top of what is planned,
/// counts their changes, and takes them back; what they would change becomes one finding.
fn upgrade_available(ws: &mut Workspace, install: &Install, inputs: &Inputs) {
    let all: Vec<&Migration> = inputs.available.iter().collect();
    let upgrades = in_window(install, &all);
    if upgrades.is_empty() {
        return;
    }
    let mark = ws.mark();
    let mut would: Vec<String> = Vec::new();
    let mut changes = 0;
    let mut failed = None;
    for m in &upgrades {
        match plan_one(ws, m) {
            Ok(Some(n)) if n > 0 => {
                changes += n;
                would.push(m.id());
            }
            Ok(_) => {}
            Err(e) => {
                failed = Some(format!("{}: {e}", m.id()));
                break;
            }
        }
    }
    let restored = ws.restore(&mark);
    ws.findings.truncate(mark.findings);
    if let Err(e) = restored {
        failed.get_or_insert_with(|| e.to_string());
    }
    let newest = upgrades
        .iter()
        .filter_map(|m| m.release.as_ref())
        .max()
        .expect("upgrades name their release");
    ws.tag = String::new();
    let message = match (failed, would.is_empty()) {
        (Some(e), _) => format!("upgrading to OpenClaw {newest} cannot be planned here: {e}"),
        (None, true) => return,
        (None, false) => format!(
            "--to {newest} would make {changes} change{} to the config: {}",
            if changes == 1 { "" } else { "s" },
            would.join(", ")
        ),
    };
    ws.finding(
        FindingKind::UpgradeAvailable,
        None,
        message,
        Some(format!(
            "once the install runs OpenClaw {newest}: clawmigrate migrate --to {newest} --dry-run"
        )),
    );
}

/// Plans one migration on the workspace: the number of ops it planned, or `None` when it is
/// blocked (needs input or a conflict), in which case its ops are discarded.
fn plan_one(ws: &mut Workspace, m: &Migration) -> Result<Option<usize>, StepError> {
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
) -> Result<InstallPlan, PlanError> {
    let (mut ws, statuses) = plan_migrations(install, migrations, applied, inputs)?;
    if !inputs.available.is_empty() {
        upgrade_available(&mut ws, install, inputs);
    }
    let mut files = Vec::new();
    for (i, ops) in ws.ops.iter().enumerate() {
        if ops.is_empty() {
            continue;
        }
        let doc = &install.docs[i];
        let plain: Vec<&Op> = ops.iter().map(|t| &t.op).collect();
        let after = document::edit(doc, &plain, ws.raw(i)).map_err(|source| PlanError::Edit {
            file: doc.path().display().to_string(),
            source,
        })?;
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

/// Runs the migrations over the workspace and says where each stands; [`plan`] then renders
/// the files. [`refuse_out_of_order`] needs only the states, not the edited texts or a redactor.
fn plan_migrations<'a>(
    install: &'a Install,
    migrations: &[&Migration],
    applied: &[Applied],
    inputs: &'a Inputs,
) -> Result<(Workspace<'a>, Vec<MigrationStatus>), PlanError> {
    let mut ws = Workspace::new(install, inputs);
    let mut statuses = Vec::new();
    let migrations = in_window(install, migrations);
    let mut blocker: Option<String> = None;
    for m in &migrations {
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
            recorded_checksum: recorded
                .filter(|a| a.checksum != m.checksum)
                .map(|a| a.checksum.clone()),
            blocked_by: blocker.clone(),
        };
        if blocker.is_none() {
            let planned = plan_one(&mut ws, m).map_err(|source| PlanError::Step {
                migration: m.id(),
                source,
            })?;
            match planned {
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
                Some(format!("check with `clawmigrate list` and the release notes that the change is intended (the install got the migration as it was then), then accept it: clawmigrate repair --rebless {} --from {}", m.id(), a.checksum)),
            );
        }
        statuses.push(status);
    }
    Ok((ws, statuses))
}
