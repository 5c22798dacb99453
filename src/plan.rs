//! The pure planning core: runs the selected migrations over an install's documents in memory
//! and yields, per file, the tagged RFC 6902 operations and the exact bytes apply would write.
//! Its parts: the `workspace` steps edit, the `steps` migrations are written in, the `saved`
//! plan an operator reviews, and the plan as output shows it, `masked`.
pub mod masked;
pub mod saved;
pub mod steps;
pub mod workspace;
use crate::document;
use crate::document::patch::{Op, TaggedOp};
use crate::ledger::Applied;
use crate::load::Install;
use crate::migration::Migration;
use crate::release::Release;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MigrationStatus {
    pub version: u32,
    pub id: String,
    pub checksum: String,
    pub state: MigrationState,
    pub ops: usize,
    /// Recorded with another checksum: the migration file changed since it was applied.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("const" = true))]
    pub checksum_changed: bool,
    /// The checksum the install records, when it is not `checksum` (what `repair --rebless
    /// … --from` takes).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub recorded_checksum: Option<String>,
    /// Not planned because an earlier migration is blocked on this install (its id): like
    /// Flyway, migrations apply in order up to the first blocked one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
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
    upgraded_to: Option<&Release>,
    inputs: &Inputs,
) -> Result<(), PlanError> {
    let floor = floor(install, upgraded_to);
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
    let (_, states) = plan_migrations(install, &all, applied, floor.as_ref(), inputs)?;
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
fn last_touched(install: &Install) -> Option<Release> {
    use crate::document::patch::AtPath;
    install
        .config_value()
        .at_path(&["meta", "lastTouchedVersion"])
        .and_then(Value::as_str)
        .and_then(Release::parse)
}

/// The floor of an install's release window: the newer of the release that last wrote its
/// config (`meta.lastTouchedVersion`) and the one its ledger records it was upgraded to
/// (`upgraded_to`, see [`crate::ledger::Ledger::upgraded_to`]: clawmigrate stamps no `meta`).
/// `None`: the install starts from the oldest carried release.
pub fn floor(install: &Install, upgraded_to: Option<&Release>) -> Option<Release> {
    last_touched(install)
        .into_iter()
        .chain(upgraded_to.cloned())
        .max()
}

/// The migrations that run on an install whose window starts after `floor`: repairs, and the
/// upgrades of newer releases (an upgrade already behind it is neither pending nor left out:
/// OpenClaw's own doctor, or an earlier `--to` run, ran it there).
fn in_window<'m>(floor: Option<&Release>, migrations: &[&'m Migration]) -> Vec<&'m Migration> {
    migrations
        .iter()
        .copied()
        .filter(|m| m.in_window(floor))
        .collect()
}

/// Without `--to`: plans the upgrades `--to <newest>` would run on top of what is planned,
/// counts their changes, and takes them back; what they would change becomes one finding.
fn upgrade_available(ws: &mut Workspace, floor: Option<&Release>, inputs: &Inputs) {
    let all: Vec<&Migration> = inputs.available.iter().collect();
    let upgrades = in_window(floor, &all);
    if upgrades.is_empty() {
        return;
    }
    let mark = ws.mark();
    ws.tidy_pending.clear();
    let mut counted = count_upgrades(ws, &upgrades);
    let writing = due_tidies(
        ws,
        writing_releases(upgrades.iter().copied().zip(counted.0.iter().copied())),
    );
    if counted.1.is_none() && !writing.is_empty() {
        // Again, with the clean-ups of the releases that write (see `plan_migrations`).
        let again = ws.restore(&mark);
        ws.findings.truncate(mark.findings);
        ws.writing = writing;
        counted = match again {
            Ok(()) => count_upgrades(ws, &upgrades),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        ws.writing = Vec::new();
    }
    let (counts, mut failed) = counted;
    let would: Vec<String> = upgrades
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n > 0)
        .map(|(m, _)| m.id())
        .collect();
    let changes: usize = counts.iter().sum();
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

/// Plans the upgrades one after the other: the changes each planned (0 when blocked), up to
/// the first that fails, and that failure.
fn count_upgrades(ws: &mut Workspace, upgrades: &[&Migration]) -> (Vec<usize>, Option<String>) {
    let mut counts = Vec::new();
    for m in upgrades {
        match plan_one(ws, m) {
            Ok(n) => counts.push(n.unwrap_or(0)),
            Err(e) => return (counts, Some(format!("{}: {e}", m.id()))),
        }
    }
    (counts, None)
}

/// Whether a migration holds a `when_release_writes` step.
fn tidies(m: &Migration) -> bool {
    m.def
        .steps
        .iter()
        .any(|s| matches!(s, crate::migration::Step::WhenReleaseWrites { .. }))
}

/// The releases whose `when_release_writes` steps are due: an upgrade of the release changed
/// the config (`planned`: each migration and the changes it planned without those steps) and
/// one of the release's migrations holds such a step. Doctor's clean-ups happen whenever its
/// run writes anything, so they are planned only then.
fn writing_releases<'m>(planned: impl Iterator<Item = (&'m Migration, usize)>) -> Vec<Release> {
    let planned: Vec<(&Migration, usize)> = planned.collect();
    let mut out: Vec<Release> = Vec::new();
    for (m, _) in planned.iter().filter(|(_, n)| *n > 0) {
        let Some(r) = &m.release else { continue };
        let due = planned
            .iter()
            .any(|(o, _)| o.release.as_ref() == Some(r) && tidies(o));
        if due && !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// The `writing` releases whose clean-ups would plan something: for the others, a plan with
/// the clean-ups due is the plan already made.
fn due_tidies(ws: &Workspace, writing: Vec<Release>) -> Vec<Release> {
    writing
        .into_iter()
        .filter(|r| ws.tidy_pending.contains(r))
        .collect()
}

/// Reports that a migration's file changed since the install recorded it (as `flyway validate`).
fn checksum_changed(ws: &mut Workspace, m: &Migration, a: &Applied) {
    ws.tag = m.tag();
    ws.finding(
        FindingKind::ChecksumChanged,
        None,
        format!("{} changed since it was applied here (recorded {}, now {})", m.id(), a.checksum, m.checksum),
        Some(format!("check with `clawmigrate list` and the release notes that the change is intended (the install got the migration as it was then), then accept it: clawmigrate repair --rebless {} --from {}", m.id(), a.checksum)),
    );
}

/// Plans each opt-in migration the run leaves out on top of what is planned, and takes it back:
/// one finding per migration that would change the install (or would be refused here, with
/// why), so an install that needs one is never silent about it. One the ledger records and that
/// plans nothing is listed as applied.
fn opt_in_available(
    ws: &mut Workspace,
    inputs: &Inputs,
    applied: &[Applied],
    statuses: &mut Vec<MigrationStatus>,
) {
    for m in &inputs.opt_in {
        let recorded = applied.iter().find(|a| a.version == m.def.version);
        let mark = ws.mark();
        let planned = plan_one(ws, m);
        let refusals: Vec<(String, Option<String>)> = ws.findings[mark.findings..]
            .iter()
            .filter(|f| f.kind.blocks())
            .map(|f| (f.message.clone(), f.fix.clone()))
            .collect();
        let restored = ws.restore(&mark);
        ws.findings.truncate(mark.findings);
        ws.tag = m.tag();
        let id = m.id();
        let (message, fix) = match (planned, restored) {
            (Err(e), _) => (format!("{id} (opt-in) cannot be planned here: {e}"), None),
            (_, Err(e)) => (format!("{id} (opt-in) cannot be planned here: {e}"), None),
            (Ok(Some(0)), _) => {
                if let Some(a) = recorded {
                    if a.checksum != m.checksum {
                        checksum_changed(ws, m, a);
                    }
                    statuses.push(MigrationStatus {
                        version: m.def.version,
                        id,
                        checksum: m.checksum.clone(),
                        state: MigrationState::Applied,
                        ops: 0,
                        checksum_changed: a.checksum != m.checksum,
                        recorded_checksum: (a.checksum != m.checksum).then(|| a.checksum.clone()),
                        blocked_by: None,
                    });
                }
                continue;
            }
            (Ok(Some(n)), _) => (
                format!(
                    "{id} (opt-in, not selected){} would make {n} change{} here: {}",
                    if recorded.is_some() {
                        ", applied here before,"
                    } else {
                        ""
                    },
                    if n == 1 { "" } else { "s" },
                    m.def.summary
                ),
                Some(format!(
                    "to see them: clawmigrate migrate --only {} --dry-run",
                    m.tag()
                )),
            ),
            (Ok(None), _) => {
                let why: Vec<&str> = refusals.iter().map(|(m, _)| m.as_str()).collect();
                (
                    format!(
                        "{id} (opt-in, not selected) would be refused here: {}",
                        why.join("; ")
                    ),
                    refusals.iter().find_map(|(_, f)| f.clone()),
                )
            }
        };
        ws.finding(FindingKind::OptInAvailable, None, message, fix);
    }
}

/// Plans one migration on the workspace: the number of ops it planned, or `None` when it is
/// blocked (needs input or a conflict), in which case its ops are discarded.
fn plan_one(ws: &mut Workspace, m: &Migration) -> Result<Option<usize>, StepError> {
    ws.tag = m.tag();
    ws.release = m.release.clone();
    let mark = ws.mark();
    for step in &m.steps {
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
/// `applied` and `upgraded_to` are what the install's ledger records (see [`floor`]).
pub fn plan(
    install: &Install,
    migrations: &[&Migration],
    applied: &[Applied],
    upgraded_to: Option<&Release>,
    inputs: &Inputs,
) -> Result<InstallPlan, PlanError> {
    let floor = floor(install, upgraded_to);
    let (mut ws, mut statuses) =
        plan_migrations(install, migrations, applied, floor.as_ref(), inputs)?;
    opt_in_available(&mut ws, inputs, applied, &mut statuses);
    if !inputs.available.is_empty() {
        upgrade_available(&mut ws, floor.as_ref(), inputs);
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
            sha_after: crate::hash::sha256_hex(after.as_bytes()),
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
    floor: Option<&Release>,
    inputs: &'a Inputs,
) -> Result<(Workspace<'a>, Vec<MigrationStatus>), PlanError> {
    let migrations = in_window(floor, migrations);
    let (ws, statuses) = plan_in_order(install, &migrations, applied, inputs, Vec::new())?;
    let writing = due_tidies(
        &ws,
        writing_releases(
            migrations
                .iter()
                .copied()
                .zip(statuses.iter().map(|s| s.ops)),
        ),
    );
    if writing.is_empty() {
        return Ok((ws, statuses));
    }
    // Again, with the clean-ups of the releases that write: in place, as doctor runs them.
    plan_in_order(install, &migrations, applied, inputs, writing)
}

/// [`plan_migrations`] once, the `when_release_writes` steps of the `writing` releases run.
fn plan_in_order<'a>(
    install: &'a Install,
    migrations: &[&Migration],
    applied: &[Applied],
    inputs: &'a Inputs,
    writing: Vec<Release>,
) -> Result<(Workspace<'a>, Vec<MigrationStatus>), PlanError> {
    let mut ws = Workspace::new(install, inputs);
    ws.writing = writing;
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
            checksum_changed(&mut ws, m, a);
        }
        statuses.push(status);
    }
    Ok((ws, statuses))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Document;
    use crate::load::CONFIG;
    use crate::migration::Only;
    use crate::migration::{MigrationKind, Registry};
    use crate::secrets::mask;
    use serde_json::json;
    use std::path::Path;

    const K1: &str = "sk-cn-unit-key-0001aaaa";
    const GLOBAL: &str = "https://api.minimax.io/anthropic";
    const CHINA: &str = "https://api.minimaxi.com/anthropic";
    const V1: &str = "V0001__minimax_cn_china_base_url";
    const V2: &str = "V0002__minimax_cn_default_profile";
    const V3: &str = "V0003__models_json_cleanup";

    /// `main` runs on minimax-cn at the global host, its key only in models.json (as `apiKey`
    /// and an `x-api-key` header), with no profile: every embedded migration has work here.
    /// `store` is its auth store; `key` says whether models.json holds the key.
    fn broken(store: &str, key: bool) -> Install {
        let config = json!({
            "agents": {"list": [{"id": "main", "model": "minimax-cn/MiniMax-M2"}]},
            "models": {"providers": {
                "minimax-cn": {"baseUrl": GLOBAL, "api": "anthropic-messages"},
                "other": {"baseUrl": "https://other.example/v1", "api": "openai-completions"},
            }},
            "auth": {"profiles": {}},
        });
        let mut block = json!({"baseUrl": GLOBAL, "maxRetries": 3});
        if key {
            block["apiKey"] = json!(K1);
            block["headers"] = json!({"x-api-key": K1});
        }
        // A block for `other` that adds nothing to the config's: V0003 removes it.
        let models = json!({"providers": {
            "minimax-cn": block,
            "other": {"baseUrl": "https://other.example/v1"},
        }});
        Install::in_memory(
            Path::new("/nonexistent/st"),
            &config.to_string(),
            &[("main", Some(store), Some(&models.to_string()))],
        )
    }

    const STORE: &str = r#"{"version": 1, "profiles": {}}"#;

    fn applied(m: &Migration) -> Applied {
        Applied {
            version: m.def.version,
            id: m.id(),
            checksum: m.checksum.clone(),
        }
    }

    /// The seed's repairs: what every install runs whatever its release (upgrades need `--to`).
    fn repairs(reg: &Registry) -> Vec<&Migration> {
        reg.migrations
            .iter()
            .filter(|m| m.kind() == MigrationKind::Repair)
            .collect()
    }

    fn states(p: &InstallPlan) -> Vec<(&str, MigrationState, usize)> {
        p.migrations
            .iter()
            .map(|s| (s.id.as_str(), s.state, s.ops))
            .collect()
    }

    /// The (migration, op, path) of every op planned for a document.
    fn planned(p: &InstallPlan, doc: usize) -> Vec<(String, String, String)> {
        let Some(f) = p.files.iter().find(|f| f.doc == doc) else {
            return vec![];
        };
        f.ops
            .iter()
            .map(|t| {
                let v = serde_json::to_value(&t.op).unwrap();
                (
                    t.migration.clone(),
                    v["op"].as_str().unwrap().into(),
                    t.op.path().to_string(),
                )
            })
            .collect()
    }

    fn row(m: &str, op: &str, path: &str) -> (String, String, String) {
        (m.into(), op.into(), path.into())
    }

    /// The install as it is once the plan's bytes are written.
    fn after(install: &Install, p: &InstallPlan) -> Install {
        let mut next = install.clone();
        for f in &p.files {
            let d = &install.docs[f.doc];
            next.docs[f.doc] =
                Document::from_bytes(d.path(), d.kind, d.agent.clone(), f.after.clone().into())
                    .unwrap();
        }
        next
    }

    #[test]
    fn plans_the_migrations_in_version_order_and_tags_every_op_with_its_own() {
        let reg = Registry::embedded();
        let all = repairs(&reg);
        let install = broken(STORE, true);
        let p = plan(&install, &all, &[], None, &Inputs::default()).unwrap();
        // Changes counted without their guards: two URLs; a profile and its config metadata;
        // the header, now kept in the profile, and the redundant `other` block.
        assert_eq!(
            states(&p),
            [
                (V1, MigrationState::Pending, 2),
                (V2, MigrationState::Pending, 2),
                (V3, MigrationState::Pending, 2),
            ]
        );
        let main = &install.agents[0];
        assert_eq!(
            planned(&p, CONFIG),
            [
                row("V0001", "test", "/models/providers/minimax-cn/baseUrl"),
                row("V0001", "replace", "/models/providers/minimax-cn/baseUrl"),
                row("V0002", "add", "/auth/profiles/minimax-cn:default"),
            ]
        );
        assert_eq!(
            planned(&p, main.auth),
            [row("V0002", "add", "/profiles/minimax-cn:default")]
        );
        assert_eq!(
            planned(&p, main.models),
            [
                row("V0001", "test", "/providers/minimax-cn/baseUrl"),
                row("V0001", "replace", "/providers/minimax-cn/baseUrl"),
                row("V0003", "test", "/providers/minimax-cn/headers"),
                row("V0003", "remove", "/providers/minimax-cn/headers"),
                row("V0003", "test", "/providers/other"),
                row("V0003", "remove", "/providers/other"),
            ]
        );
        let models = p.files.iter().find(|f| f.doc == main.models).unwrap();
        assert_eq!(
            models.sha_after,
            crate::hash::sha256_hex(models.after.as_bytes())
        );
        assert_eq!(
            serde_json::from_str::<Value>(&models.after).unwrap(),
            json!({"providers": {"minimax-cn": {"baseUrl": CHINA, "maxRetries": 3, "apiKey": K1}}})
        );
        assert!(!p.blocked());
    }

    #[test]
    fn a_later_migration_sees_what_an_earlier_one_planned() {
        let reg = Registry::embedded();
        let install = broken(STORE, true);
        let models = install.agents[0].models;
        let header = row("V0003", "remove", "/providers/minimax-cn/headers");
        // Alone, V0003 finds the header is the only copy of the key and keeps it.
        let alone = plan(
            &install,
            &[&reg.migrations[2]],
            &[],
            None,
            &Inputs::default(),
        )
        .unwrap();
        assert!(!planned(&alone, models).contains(&header));
        assert!(
            alone
                .findings
                .iter()
                .any(|f| f.message.contains("holds the only copy")),
            "{:?}",
            alone.findings
        );
        // After V0002 planned the profile, the same key is kept there and the header goes.
        let after_v2 = plan(
            &install,
            &[&reg.migrations[1], &reg.migrations[2]],
            &[],
            None,
            &Inputs::default(),
        )
        .unwrap();
        assert!(planned(&after_v2, models).contains(&header));
    }

    #[test]
    fn planning_again_after_the_plan_is_written_plans_nothing() {
        let reg = Registry::embedded();
        let all = repairs(&reg);
        let install = broken(STORE, true);
        let inputs = Inputs::default();
        let first = plan(&install, &all, &[], None, &inputs).unwrap();
        assert_eq!(first.files.len(), 3);
        // The bytes written are the documents the ops make.
        for f in &first.files {
            let mut v = install.docs[f.doc].value.clone();
            for t in &f.ops {
                document::patch::apply(&mut v, &t.op).unwrap();
            }
            assert_eq!(serde_json::from_str::<Value>(&f.after).unwrap(), v);
        }
        let fixed = after(&install, &first);
        let again = plan(&fixed, &all, &[], None, &inputs).unwrap();
        assert!(again.files.is_empty(), "{:?}", again.files);
        assert!(
            again
                .migrations
                .iter()
                .all(|s| s.state == MigrationState::NotNeeded && s.ops == 0),
            "{:?}",
            again.migrations
        );
        // Recorded in the ledger, they are applied.
        let ledger: Vec<Applied> = reg.migrations.iter().map(applied).collect();
        let recorded = plan(&fixed, &all, &ledger, None, &inputs).unwrap();
        assert!(recorded.files.is_empty());
        assert!(
            recorded
                .migrations
                .iter()
                .all(|s| s.state == MigrationState::Applied),
            "{:?}",
            recorded.migrations
        );
    }

    #[test]
    fn a_recorded_migration_that_plans_again_is_drift() {
        let reg = Registry::embedded();
        let all = repairs(&reg);
        let install = broken(STORE, true);
        let p = plan(
            &install,
            &all,
            &[applied(&reg.migrations[0])],
            None,
            &Inputs::default(),
        )
        .unwrap();
        assert_eq!(
            states(&p),
            [
                (V1, MigrationState::Drift, 2),
                (V2, MigrationState::Pending, 2),
                (V3, MigrationState::Pending, 2),
            ]
        );
        // Drift is planned like any pending change.
        assert_eq!(
            planned(&p, CONFIG)[1],
            row("V0001", "replace", "/models/providers/minimax-cn/baseUrl")
        );
        assert!(!p.migrations[0].checksum_changed);
    }

    #[test]
    fn a_migration_changed_since_it_was_applied_is_reported_with_the_repair_command() {
        let reg = Registry::embedded();
        let v1 = &reg.migrations[0];
        let install = broken(STORE, true);
        let old = Applied {
            checksum: "sha256:0000".into(),
            ..applied(v1)
        };
        let p = plan(&install, &[v1], &[old], None, &Inputs::default()).unwrap();
        let s = &p.migrations[0];
        assert!(s.checksum_changed);
        assert_eq!(s.recorded_checksum.as_deref(), Some("sha256:0000"));
        let f = p
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::ChecksumChanged)
            .expect("a checksum-changed finding");
        assert_eq!(f.migration, "V0001");
        assert!(
            f.fix.as_deref().unwrap().ends_with(&format!(
                "clawmigrate repair --rebless {V1} --from sha256:0000"
            )),
            "{f:?}"
        );
        // Not blocking: the migration is still planned.
        assert!(!p.blocked());
        assert_eq!(s.state, MigrationState::Drift);
    }

    #[test]
    fn a_blocked_migration_keeps_nothing_and_holds_back_the_later_ones() {
        let reg = Registry::embedded();
        let all = repairs(&reg);
        // No key anywhere: V0002 needs input.
        let install = broken(STORE, false);
        let p = plan(&install, &all, &[], None, &Inputs::default()).unwrap();
        assert_eq!(
            states(&p),
            [
                (V1, MigrationState::Pending, 2),
                (V2, MigrationState::Blocked, 0),
                (V3, MigrationState::Pending, 0),
            ]
        );
        assert_eq!(p.migrations[2].blocked_by.as_deref(), Some(V2));
        assert!(p.blocked());
        let main = &install.agents[0];
        assert!(planned(&p, main.auth).is_empty());
        // V0003 would remove the `other` block; it is not planned.
        assert!(planned(&p, main.models).iter().all(|(m, ..)| m == "V0001"));
        let needs: Vec<&Finding> = p.findings.iter().filter(|f| f.kind.blocks()).collect();
        assert_eq!(needs.len(), 1);
        assert_eq!(
            (needs[0].migration.as_str(), needs[0].kind),
            ("V0002", FindingKind::NeedsInput)
        );
        // The operator's key unblocks it.
        let mut inputs = Inputs::default();
        inputs.keys.insert("minimax-cn".into(), K1.into());
        let p = plan(&install, &all, &[], None, &inputs).unwrap();
        assert_eq!(p.migrations[1].state, MigrationState::Pending);
        assert_eq!(p.migrations[2].blocked_by, None);
    }

    /// Three upgrades: 2026.2.3 removes `old`; 2026.9.6 deletes an empty `ui.prefs` only when
    /// its run writes (doctor's silent clean-up), then removes `crestodian`.
    fn tidy_registry() -> Registry {
        let upgrade = |version: u32, name: &str, release: &str, steps: serde_json::Value| {
            let text = json!({"version": version, "name": name, "summary": "s",
                "upstream": {"openclaw": release, "ids": [name]}, "steps": steps})
            .to_string();
            (format!("V{version:04}__{name}.json"), text)
        };
        let sources = [
            upgrade(
                100,
                "old_remove",
                "2026.2.3",
                json!([{"kind": "remove", "path": "old"}]),
            ),
            upgrade(
                200,
                "prefs_tidy",
                "2026.9.6",
                json!([{"kind": "when_release_writes", "steps": [
                {"kind": "remove", "path": "ui.prefs", "when": [{"path": "ui.prefs", "is": "empty_object"}],
                 "prune_empty_parents": 1}]}]),
            ),
            upgrade(
                201,
                "crestodian_remove",
                "2026.9.6",
                json!([{"kind": "remove", "path": "crestodian"}]),
            ),
        ];
        let refs: Vec<(&str, &str)> = sources
            .iter()
            .map(|(f, t)| (f.as_str(), t.as_str()))
            .collect();
        Registry::from_sources(&refs).unwrap()
    }

    #[test]
    fn a_clean_up_is_planned_only_when_a_migration_of_its_release_writes() {
        let reg = tidy_registry();
        let all: Vec<&Migration> = reg.migrations.iter().collect();
        let run = |config: serde_json::Value| {
            let install =
                Install::in_memory(Path::new("/nonexistent/st"), &config.to_string(), &[]);
            let p = plan(&install, &all, &[], None, &Inputs::default()).unwrap();
            let written = p.files.first().map(|f| {
                crate::document::parse(&f.after, crate::document::FileKind::Config).unwrap()
            });
            (
                states(&p)
                    .iter()
                    .map(|(id, st, n)| (id.to_string(), *st, *n))
                    .collect::<Vec<_>>(),
                written,
            )
        };
        // A later migration of the release writes: the earlier clean-up is planned, in place.
        let (st, written) = run(json!({"ui": {"prefs": {}}, "crestodian": {}, "x": 1}));
        assert_eq!(
            st[1],
            ("V0200__prefs_tidy".into(), MigrationState::Pending, 2)
        );
        assert_eq!(written, Some(json!({"x": 1})));
        // Alone, or with only another release writing, it changes nothing.
        let (st, written) = run(json!({"ui": {"prefs": {}}}));
        assert!(
            st.iter().all(|s| s.1 == MigrationState::NotNeeded),
            "{st:?}"
        );
        assert_eq!(written, None);
        let (st, written) = run(json!({"ui": {"prefs": {}}, "old": 1}));
        assert_eq!(st[1].1, MigrationState::NotNeeded);
        assert_eq!(written, Some(json!({"ui": {"prefs": {}}})));
        // Without --to, the upgrade it would make counts the clean-up too.
        let install = Install::in_memory(
            Path::new("/nonexistent/st"),
            &json!({"ui": {"prefs": {}}, "crestodian": {}}).to_string(),
            &[],
        );
        let inputs = Inputs {
            available: reg.migrations.clone(),
            ..Inputs::default()
        };
        let p = plan(&install, &[], &[], None, &inputs).unwrap();
        assert_eq!(p.findings.len(), 1, "{:?}", p.findings);
        assert_eq!(
            p.findings[0].message,
            "--to 2026.9.6 would make 3 changes to the config: V0200__prefs_tidy, V0201__crestodian_remove"
        );
        assert!(p.files.is_empty(), "{:?}", p.files);
    }

    #[test]
    fn a_repair_cannot_hold_a_clean_up() {
        let text = json!({"version": 1, "name": "tidy", "summary": "s", "steps": [
            {"kind": "when_release_writes", "steps": [{"kind": "remove", "path": "a"}]}]})
        .to_string();
        let e = Registry::from_sources(&[("V0001__tidy.json", &text)]).unwrap_err();
        assert!(e.problem.contains("needs upstream"), "{e}");
    }

    #[test]
    fn a_migration_blocked_in_a_later_step_discards_what_its_earlier_steps_planned() {
        // One migration: move the host, then a profile that only the operator can key.
        let source = json!({
            "version": 1,
            "name": "move_and_profile",
            "summary": "s",
            "steps": [
                {"kind": "rewrite_url_host", "provider": "minimax-cn", "field": "baseUrl",
                 "from_hosts": ["api.minimax.io"], "to_host": "api.minimaxi.com",
                 "files": ["config", "models"]},
                {"kind": "ensure_auth_profile", "provider": "minimax-cn",
                 "profile": "minimax-cn:default", "agents": "using_provider",
                 "include_default_agent": true, "config_metadata": null,
                 "key_sources": ["operator"]},
            ],
        })
        .to_string();
        let reg = Registry::from_sources(&[("V0001__move_and_profile.json", &source)]).unwrap();
        let install = broken(STORE, true);
        let p = plan(
            &install,
            &[&reg.migrations[0]],
            &[],
            None,
            &Inputs::default(),
        )
        .unwrap();
        assert_eq!(
            states(&p),
            [("V0001__move_and_profile", MigrationState::Blocked, 0)]
        );
        assert!(p.files.is_empty(), "{:?}", p.files);
        assert_eq!(p.findings.len(), 1, "{:?}", p.findings);
        assert_eq!(p.findings[0].kind, FindingKind::NeedsInput);
    }

    #[test]
    fn an_opt_in_left_out_is_reported_as_available_and_never_planned() {
        let reg = Registry::embedded();
        let v4 = reg.migrations.iter().find(|m| m.def.opt_in).unwrap();
        let all = repairs(&reg);
        let inputs = Inputs {
            opt_in: vec![v4.clone()],
            ..Inputs::default()
        };
        // On the broken install: planned on top of the repairs, reported, taken back.
        let install = broken(STORE, true);
        let alone = plan(&install, &all, &[], None, &Inputs::default()).unwrap();
        let p = plan(&install, &all, &[], None, &inputs).unwrap();
        assert_eq!(
            p.files
                .iter()
                .map(|f| (f.doc, &f.after))
                .collect::<Vec<_>>(),
            alone
                .files
                .iter()
                .map(|f| (f.doc, &f.after))
                .collect::<Vec<_>>()
        );
        assert_eq!(states(&p), states(&alone));
        let f = p
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::OptInAvailable)
            .expect("an opt-in finding");
        assert_eq!(f.migration, "V0004");
        assert!(
            f.message.starts_with(
                "V0004__minimax_cn_to_unified_minimax (opt-in, not selected) would make "
            ),
            "{}",
            f.message
        );
        assert_eq!(
            f.fix.as_deref(),
            Some("to see them: clawmigrate migrate --only V0004 --dry-run")
        );
        assert!(!f.kind.blocks() && !p.blocked());
        // Refused here: the finding says why, and still blocks nothing.
        let mut taken = broken(STORE, true);
        let cfg = r#"{"agents": {"list": [{"id": "main", "model": "minimax-cn/MiniMax-M2"}]},
                      "models": {"providers": {"minimax-cn": {"baseUrl": "https://api.minimaxi.com/anthropic"},
                                               "minimax": {"baseUrl": "https://api.minimax.io/anthropic"}}}}"#;
        taken = taken.with_text(CONFIG, cfg);
        let p = plan(&taken, &[], &[], None, &inputs).unwrap();
        let [f] = &p.findings[..] else {
            panic!("one finding: {:?}", p.findings)
        };
        assert_eq!(f.kind, FindingKind::OptInAvailable);
        assert!(
            f.message
                .contains("would be refused here: openclaw.json already defines provider minimax"),
            "{}",
            f.message
        );
        assert!(!p.blocked() && p.files.is_empty());
        // Applied here and planning nothing: listed as applied; never applied, nothing to say.
        let moved = after(
            &install,
            &plan(&install, &all, &[], None, &Inputs::default()).unwrap(),
        );
        let moved = after(
            &moved,
            &plan(&moved, &[v4], &[], None, &Inputs::default()).unwrap(),
        );
        let p = plan(&moved, &all, &[applied(v4)], None, &inputs).unwrap();
        assert!(
            p.findings
                .iter()
                .all(|f| f.kind != FindingKind::OptInAvailable)
        );
        assert_eq!(
            p.migrations.last().map(|s| (s.id.as_str(), s.state)),
            Some((
                "V0004__minimax_cn_to_unified_minimax",
                MigrationState::Applied
            ))
        );
        let p = plan(&moved, &all, &[], None, &inputs).unwrap();
        assert!(
            p.findings.is_empty() && p.migrations.len() == all.len(),
            "{:?}",
            p.findings
        );
    }

    #[test]
    fn only_runs_the_chosen_migrations_and_refuses_to_skip_a_pending_earlier_one() {
        let reg = Registry::embedded();
        let chosen = reg
            .select(&[Only {
                version: 3,
                name: None,
            }])
            .unwrap();
        assert_eq!(chosen.iter().map(|m| m.id()).collect::<Vec<_>>(), [V3]);
        let inputs = Inputs {
            skipped: reg.migrations[..2].to_vec(),
            ..Inputs::default()
        };
        let install = broken(STORE, true);
        let e = refuse_out_of_order(&install, &chosen, &[], None, &inputs).unwrap_err();
        assert_eq!(
            e,
            PlanError::OutOfOrder {
                chosen: vec![V3.into()],
                waiting: vec![V1.into(), V2.into()],
            }
        );
        assert_eq!(e.kind(), crate::error::Kind::Refused);
        assert!(e.to_string().contains("run without --only"), "{e}");
        // Once the earlier ones are done (or never needed), V0003 runs alone.
        let all = repairs(&reg);
        let fixed = after(
            &install,
            &plan(&install, &all[..2], &[], None, &Inputs::default()).unwrap(),
        );
        refuse_out_of_order(&fixed, &chosen, &[], None, &inputs).unwrap();
        let p = plan(&fixed, &chosen, &[], None, &inputs).unwrap();
        assert_eq!(states(&p), [(V3, MigrationState::Pending, 2)]);
        // A full id must name the version's own migration.
        let wrong = Only {
            version: 3,
            name: Some("other".into()),
        };
        let e = reg.select(&[wrong]).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Usage);
    }

    #[test]
    fn the_patch_shown_masks_the_key_the_bytes_written_hold() {
        let reg = Registry::embedded();
        let install = broken(STORE, true);
        let p = plan(
            &install,
            &[&reg.migrations[1]],
            &[],
            None,
            &Inputs::default(),
        )
        .unwrap();
        let auth = p
            .files
            .iter()
            .find(|f| f.doc == install.agents[0].auth)
            .unwrap();
        let shown = serde_json::to_value(p.masked_patch(auth)).unwrap();
        assert_eq!(
            shown,
            json!([{
                "op": "add",
                "path": "/profiles/minimax-cn:default",
                "value": {"type": "api_key", "provider": "minimax-cn", "key": mask(K1)},
                "migration": "V0002",
            }])
        );
        assert!(!shown.to_string().contains(K1));
        assert!(auth.after.contains(K1));
    }

    #[test]
    fn a_step_that_cannot_plan_fails_the_install_naming_the_migration() {
        let reg = Registry::embedded();
        let all = repairs(&reg);
        let install = broken(r#"{"version": 1}"#, true);
        let e = plan(&install, &all, &[], None, &Inputs::default()).unwrap_err();
        assert!(
            matches!(&e, PlanError::Step { migration, source: StepError::Shape { .. } } if migration == V2),
            "{e:?}"
        );
        assert_eq!(e.kind(), crate::error::Kind::Parse);
        assert!(
            e.to_string()
                .starts_with(&format!("{V2}: agents/main/agent/auth-profiles.json: ")),
            "{e}"
        );
    }

    #[test]
    fn the_floor_is_the_newest_of_last_touched_and_the_ledgers_release() {
        let r = |s: &str| Release::parse(s).unwrap();
        let with = |config: &str| Install::in_memory(Path::new("/nonexistent/st"), config, &[]);
        let floor_of = |config: &str, to: Option<&str>| {
            floor(&with(config), to.map(r).as_ref()).map(|f| f.to_string())
        };
        let touched = "{meta: {lastTouchedVersion: '2026.2.3'}}";
        assert_eq!(
            floor_of("{}", None),
            None,
            "from the oldest carried release"
        );
        assert_eq!(floor_of(touched, None).as_deref(), Some("2026.2.3"));
        assert_eq!(
            floor_of("{}", Some("2026.9.6")).as_deref(),
            Some("2026.9.6")
        );
        assert_eq!(
            floor_of(touched, Some("2026.9.6")).as_deref(),
            Some("2026.9.6")
        );
        let newer = "{meta: {lastTouchedVersion: '2026.10.1'}}";
        assert_eq!(
            floor_of(newer, Some("2026.9.6")).as_deref(),
            Some("2026.10.1")
        );
        let unreadable = "{meta: {lastTouchedVersion: 'latest'}}";
        assert_eq!(
            floor_of(unreadable, Some("2026.2.3")).as_deref(),
            Some("2026.2.3")
        );

        // An install the ledger records upgraded to 2026.9.6 plans none of its upgrades again
        // (2026.2.3's model-config-v2 would rewrite 2026.9.6's string model).
        let reg = Registry::embedded();
        let all = reg.select_to(&[], Some(&r("2026.9.6"))).unwrap();
        let install = with("{agents: {defaults: {model: 'openai/gpt-5.4'}}}");
        let fresh = plan(&install, &all, &[], None, &Inputs::default()).unwrap();
        assert!(!fresh.files.is_empty(), "from 2026.2.3 it plans changes");
        let done = plan(
            &install,
            &all,
            &[],
            Some(&r("2026.9.6")),
            &Inputs::default(),
        )
        .unwrap();
        assert!(done.files.is_empty());
        let upgrade = |v: u32| reg.upgrades().iter().any(|u| u.def.version == v);
        assert!(
            !done.migrations.iter().any(|s| upgrade(s.version)),
            "{:?}",
            done.migrations
        );
    }
}
