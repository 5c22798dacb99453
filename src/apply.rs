//! Applies plans to a batch of installs with few durability barriers: lock and re-check every
//! install (re-planning once if another writer moved a file), write backups and temp files,
//! one barrier, rename and record in the ledger, one barrier.
use crate::backup::{self, Item};
use crate::document::{FileKind, sha256_hex};
use crate::fsio::{self, Staged};
use crate::ledger::{Applied, Run, RunKind};
use crate::lock::{self, FileLock, InstallLock};
use crate::migration::Migration;
use crate::pipeline::{self, Outcome, Report};
use crate::plan::{self, FindingKind, Inputs, MigrationState};
use crate::saved::SavedPlan;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What apply needs besides the plans: how to re-plan, and what the operator reviewed.
pub struct Ctx<'a> {
    pub migrations: &'a [&'a Migration],
    pub inputs: &'a Inputs,
    pub home: &'a Path,
    /// The plan the operator reviewed (saved with --plan-out, or shown before the question):
    /// every file must match it exactly, and no re-planning is allowed.
    pub expected: Option<&'a SavedPlan>,
}

fn current_sha(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(sha256_hex(&b))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
    }
}

/// An install ready to commit: locks held, backups and temp files written, run recorded as started.
struct Prepared {
    _install_lock: InstallLock,
    _auth_locks: Vec<FileLock>,
    staged: Vec<StagedFile>,
    run: Run,
    /// The directories written in (the state dir, and each file's real one), for the barriers.
    dirs: Vec<PathBuf>,
}

/// A file's replacement, written beside it and waiting for its rename.
struct StagedFile {
    path: PathBuf,
    /// The sha256 its bytes must still have right before the rename.
    planned: Option<String>,
    temp: Staged,
    /// Its backup when that is a hard link to its inode (removed unless sealed after the rename).
    link: Option<backup::LinkedBackup>,
}

/// The first planned file whose bytes moved since it was read, if any.
fn moved(r: &Report) -> Result<Option<PathBuf>, String> {
    let (install, plan) = (r.install.as_ref().unwrap(), r.plan.as_ref().unwrap());
    for f in &plan.files {
        let doc = &install.docs[f.doc];
        if current_sha(&doc.path)? != doc.sha256() {
            return Ok(Some(doc.path.clone()));
        }
    }
    Ok(None)
}

/// The planned operations by file path, to tell whether a re-plan is the same change.
fn ops_by_path(r: &Report) -> BTreeMap<PathBuf, String> {
    let (install, plan) = (r.install.as_ref().unwrap(), r.plan.as_ref().unwrap());
    plan.files
        .iter()
        .map(|f| {
            (
                install.docs[f.doc].path.clone(),
                serde_json::to_string(&f.ops).unwrap(),
            )
        })
        .collect()
}

/// Re-reads and re-plans an install whose file moved; accepted only when the very same
/// operations come out (the other writer changed something else in the file).
fn replan(r: &mut Report, ctx: &Ctx, path: &Path) -> Result<(), String> {
    let mut next = pipeline::prepare_one(&r.root, ctx.home, ctx.migrations, ctx.inputs);
    if let Outcome::Failed(e) = &next.outcome {
        return Err(e.clone());
    }
    if next.outcome != r.outcome || ops_by_path(&next) != ops_by_path(r) {
        return Err(format!(
            "{} changed since it was planned and the changes now planned differ; nothing of this install was written — run clawmigrate again to review the new plan",
            path.display()
        ));
    }
    let plan = next
        .plan
        .as_mut()
        .expect("an install with changes has a plan");
    plan.findings.push(plan::Finding {
        migration: String::new(),
        kind: FindingKind::Note,
        agent: None,
        message: format!("re-planned: {} changed since it was planned (another writer); the same changes were planned again on its new bytes", path.display()),
        fix: None,
    });
    *r = next;
    Ok(())
}

fn prepare(r: &mut Report, ctx: &Ctx) -> Result<Prepared, String> {
    // What the operator reviewed must be what is planned now; refused before anything is
    // created. A file that moves after this is caught below (no re-plan for a reviewed plan).
    if let Some(expected) = ctx.expected {
        expected.check(r)?;
    }
    let state = r.root.state_dir.clone();
    let install_lock = lock::install_lock(&state)?;
    // OpenClaw's lock on every auth store we replace, held until the renames are done.
    let mut auth_locks = Vec::new();
    {
        let (install, plan) = (r.install.as_ref().unwrap(), r.plan.as_ref().unwrap());
        for f in &plan.files {
            let doc = &install.docs[f.doc];
            if doc.kind == FileKind::AuthProfiles && doc.exists() {
                auth_locks.push(lock::file_lock(
                    &fsio::real_path(&doc.path),
                    Duration::from_secs(10),
                )?);
            }
        }
    }
    let mut attempts = 0;
    while let Some(path) = moved(r)? {
        attempts += 1;
        if ctx.expected.is_some() || attempts > 2 {
            return Err(format!(
                "{} changed since it was planned (another writer); nothing of this install was written — run clawmigrate again to re-plan",
                path.display()
            ));
        }
        replan(r, ctx, &path)?;
    }
    let (install, plan) = (r.install.as_ref().unwrap(), r.plan.as_ref().unwrap());
    let run_id = crate::ledger::new_run_id();
    // Where each file is written (a symlink's target) and the mode and owner it keeps.
    let targets: Vec<(PathBuf, Option<fsio::Keep>)> = plan
        .files
        .iter()
        .map(|f| {
            let target = fsio::real_path(&install.docs[f.doc].path);
            let keep = fsio::keep_of(&target);
            (target, keep)
        })
        .collect();
    let items: Vec<Item> = plan
        .files
        .iter()
        .zip(&targets)
        .map(|(f, (target, keep))| {
            let doc = &install.docs[f.doc];
            Item {
                path: &doc.path,
                before: doc.text.as_deref().map(str::as_bytes),
                // `commit` renames over it after checking its bytes: its inode keeps them.
                link_from: Some(target),
                sha256_before: doc.sha256(),
                sha256_after: f.sha_after.clone(),
                mode: keep.map(|k| k.mode),
            }
        })
        .collect();
    let set = backup::create(&state, &run_id, &items, false).map_err(|e| {
        format!(
            "{}: cannot write the backup set: {e}",
            backup::set_dir(&state, &run_id).display()
        )
    })?;
    let mut staged = Vec::new();
    for ((f, (target, keep)), link) in plan.files.iter().zip(&targets).zip(set.links) {
        let doc = &install.docs[f.doc];
        let temp = fsio::stage(target, f.after.as_bytes(), *keep, false)
            .map_err(|e| format!("{}: cannot write: {e}", doc.path.display()))?;
        staged.push(StagedFile {
            path: doc.path.clone(),
            planned: doc.sha256(),
            temp,
            link,
        });
    }
    let migrations = plan
        .migrations
        .iter()
        .filter(|m| {
            m.blocked_by.is_none()
                && matches!(m.state, MigrationState::Pending | MigrationState::Drift)
        })
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
        migrations,
        backup: set
            .dir
            .strip_prefix(&state)
            .unwrap_or(&set.dir)
            .display()
            .to_string(),
        files: Vec::new(),
        error: None,
        undoes: None,
        undone_by: None,
        incomplete: true,
    };
    // Recorded as started before any rename: after a crash, rollback finds the backup set.
    r.ledger.runs.push(run.clone());
    r.ledger
        .write(&state, false)
        .map_err(|e| format!("{}: cannot write the ledger: {e}", state.display()))?;
    let mut dirs = vec![state];
    dirs.extend(
        targets
            .iter()
            .filter_map(|(t, _)| t.parent().map(Path::to_path_buf)),
    );
    Ok(Prepared {
        _install_lock: install_lock,
        _auth_locks: auth_locks,
        staged,
        run,
        dirs,
    })
}

/// Renames every staged file, re-checking each right before its rename; stops at the first
/// that cannot be renamed.
fn commit(p: &mut Prepared) -> Result<(), String> {
    let (run_id, files) = (&p.run.id, &mut p.run.files);
    // A file not renamed keeps its inode: dropping its linked backup unsealed removes it.
    std::mem::take(&mut p.staged).into_iter().try_for_each(|f| {
        rename_checked(f.temp, &f.path, f.planned.as_deref(), run_id)?;
        files.push(f.path.display().to_string());
        if let Some(link) = f.link {
            link.seal();
        }
        Ok(())
    })
}

fn rename_checked(
    temp: Staged,
    path: &Path,
    planned: Option<&str>,
    run_id: &str,
) -> Result<(), String> {
    if current_sha(path)?.as_deref() != planned {
        return Err(format!(
            "{} changed since it was planned (another writer); it and the files after it were not written, so that write is kept — `clawmigrate rollback {}` restores the files written before it",
            path.display(),
            run_id
        ));
    }
    temp.commit()
        .map_err(|e| format!("{}: cannot replace: {e}", path.display()))
}

/// One durability barrier: `syncfs` once per filesystem the batch touched.
fn barrier(dirs: &[PathBuf]) {
    let mut seen = std::collections::BTreeSet::new();
    for d in dirs {
        let Ok(meta) = std::fs::metadata(d) else {
            continue;
        };
        if !seen.insert(meta.dev()) {
            continue;
        }
        if let Ok(f) = std::fs::File::open(d) {
            // SAFETY: syncfs takes any open descriptor on the filesystem and only flushes it.
            unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&f)) };
        }
    }
}

/// A pause between staging and renaming, for tests that write files during a run.
fn test_pause() {
    if let Some(ms) = std::env::var("CLAWMIGRATE_TEST_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Whether a report has changes to write: a pending install, or one that needs input but whose
/// migrations before the blocked one plan changes (as Flyway applies up to the failing one).
/// A reviewed plan never holds the latter, so it is then left for the next run.
fn writable(r: &Report, ctx: &Ctx) -> bool {
    let planned = r.plan.as_ref().is_some_and(|p| !p.files.is_empty());
    match r.outcome {
        Outcome::Pending => true,
        Outcome::NeedsInput => planned && ctx.expected.is_none(),
        _ => false,
    }
}

/// Applies every report of the batch with changes to write; each ends `Changed` (or stays
/// `NeedsInput`, with a run id) or `Failed`.
pub fn apply_batch(reports: &mut [Report], ctx: &Ctx) {
    let mut prepared: Vec<Option<Prepared>> = reports
        .par_iter_mut()
        .map(|r| {
            if !writable(r, ctx) {
                return None;
            }
            match prepare(r, ctx) {
                Ok(p) => Some(p),
                Err(e) => {
                    r.outcome = Outcome::Failed(
                        r.plan.as_ref().map(|p| p.redactor.redact(&e)).unwrap_or(e),
                    );
                    None
                }
            }
        })
        .collect();
    // The filesystems the batch wrote on: a symlinked file's target may be on another one.
    let mut dirs: Vec<PathBuf> = prepared
        .iter()
        .flatten()
        .flat_map(|p| p.dirs.clone())
        .collect();
    dirs.sort();
    dirs.dedup();
    barrier(&dirs);
    test_pause();
    reports
        .par_iter_mut()
        .zip(prepared.par_iter_mut())
        .for_each(|(r, p)| {
            let Some(p) = p else { return };
            if let Err(e) = commit(p) {
                p.run.error = Some(e.clone());
                p.run.migrations.clear();
                r.outcome = Outcome::Failed(e);
            }
            // Recorded in the same barrier as the renames: if a crash keeps one and loses the
            // other, every file is still old or new, and status or a new run sees the truth.
            p.run.incomplete = false;
            if let Some(last) = r.ledger.runs.last_mut() {
                *last = p.run.clone();
            }
            if let Err(e) = r.ledger.write(&r.root.state_dir, false) {
                r.outcome = Outcome::Failed(format!(
                    "{}: cannot write the ledger: {e}",
                    r.root.state_dir.display()
                ));
                return;
            }
            match r.outcome {
                Outcome::Pending => r.outcome = Outcome::Changed,
                // The migrations before the blocked one were written; it still needs input.
                Outcome::NeedsInput => {}
                _ => return,
            }
            r.run_id = Some(p.run.id.clone());
        });
    barrier(&dirs);
    drop(prepared);
}
