//! Applies an install's plan: lock, re-check, back up, write atomically, record in the ledger.
use crate::backup::{self, Item};
use crate::document::{FileKind, sha256_hex};
use crate::fsio;
use crate::ledger::{Applied, Ledger, Run, RunKind};
use crate::load::Install;
use crate::lock;
use crate::plan::{InstallPlan, MigrationState};
use std::path::Path;
use std::time::Duration;

/// Reads a file's current bytes (`None` when absent).
fn current(path: &Path) -> Result<Option<Vec<u8>>, String> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
    }
}

fn unchanged(path: &Path, planned: Option<&str>) -> Result<(), String> {
    let now = current(path)?;
    if now.as_deref().map(sha256_hex).as_deref() != planned {
        return Err(format!(
            "{} changed since it was planned (another program wrote it); nothing more was written — run clawmigrate again to re-plan",
            path.display()
        ));
    }
    Ok(())
}

/// Writes the plan and returns the run recorded in the ledger.
pub fn apply(install: &Install, plan: &InstallPlan, ledger: &mut Ledger) -> Result<Run, String> {
    let state = &install.root.state_dir;
    let _lock = lock::install_lock(state)?;
    // The plan was made from these bytes; refuse anything that moved since.
    for f in &plan.files {
        let doc = &install.docs[f.doc];
        unchanged(&doc.path, doc.sha256.as_deref())?;
    }
    let run_id = crate::ledger::new_run_id();
    let items: Vec<Item> = plan
        .files
        .iter()
        .map(|f| {
            let doc = &install.docs[f.doc];
            Item {
                path: &doc.path,
                before: doc.text.as_deref().map(str::as_bytes),
                sha256_before: doc.sha256.clone(),
                sha256_after: f.sha_after.clone(),
                mode: fsio::keep_of(&doc.path).map(|k| k.mode),
            }
        })
        .collect();
    let set = backup::create(state, &run_id, &items, true).map_err(|e| {
        format!(
            "{}: cannot write the backup set: {e}",
            backup::set_dir(state, &run_id).display()
        )
    })?;
    let mut written = Vec::new();
    let mut error = None;
    for f in &plan.files {
        let doc = &install.docs[f.doc];
        if let Err(e) = write_one(
            &doc.path,
            doc.kind,
            doc.sha256.as_deref(),
            f.after.as_bytes(),
        ) {
            error = Some(e);
            break;
        }
        written.push(doc.path.display().to_string());
    }
    let migrations = plan
        .migrations
        .iter()
        .filter(|m| matches!(m.state, MigrationState::Pending | MigrationState::Drift))
        .map(|m| Applied {
            version: m.version,
            id: m.id.clone(),
            checksum: m.checksum.clone(),
        })
        .collect();
    let run = Run {
        id: run_id,
        kind: RunKind::Migrate,
        at: jiff::Timestamp::now().to_string(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        migrations: if error.is_none() {
            migrations
        } else {
            Vec::new()
        },
        backup: set
            .strip_prefix(state)
            .unwrap_or(&set)
            .display()
            .to_string(),
        files: written,
        error: error.clone(),
        undoes: None,
        undone_by: None,
    };
    ledger.runs.push(run.clone());
    ledger
        .write(state)
        .map_err(|e| format!("{}: cannot write the ledger: {e}", state.display()))?;
    match error {
        Some(e) => Err(format!(
            "{e} (run {} stopped; files written so far can be restored with `clawmigrate rollback {}`)",
            run.id, run.id
        )),
        None => Ok(run),
    }
}

/// Stages the new bytes, takes OpenClaw's lock for auth stores, re-checks, then renames.
fn write_one(
    path: &Path,
    kind: FileKind,
    planned: Option<&str>,
    bytes: &[u8],
) -> Result<(), String> {
    let target = fsio::real_path(path);
    let staged = fsio::stage(&target, bytes, fsio::keep_of(&target), true)
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    let _guard = if kind == FileKind::AuthProfiles && planned.is_some() {
        Some(lock::file_lock(&target, Duration::from_secs(10))?)
    } else {
        None
    };
    unchanged(path, planned)?;
    staged
        .commit()
        .map_err(|e| format!("{}: cannot replace: {e}", path.display()))?;
    fsio::sync_dir(target.parent().unwrap_or(Path::new(".")))
        .map_err(|e| format!("{}: cannot sync: {e}", path.display()))
}
