//! Applies plans to a batch of installs: lock and re-check every install (re-planning once if
//! another writer moved a file), then hand its changes to the commit layer (`commit`); a
//! template's (`migrate --config`) to its unrecorded write.
use crate::commit::{self, Change, OpenRun, RunHead};
use crate::error::{Error, Kind};
use crate::ledger::{self, Applied, RunKind};
use crate::migration::Migration;
use crate::outcome::Outcome;
use crate::pipeline::{self, Report};
use crate::plan::saved::SavedPlan;
use crate::plan::{self, FindingKind, Inputs, MigrationState};
use crate::storage::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicU64, Ordering};

/// What apply needs besides the plans: how to re-plan, and what the operator reviewed.
pub struct ApplyBatch<'a> {
    /// The id of this invocation; each install's run id is it plus a sequence number.
    pub invocation: &'a str,
    pub seq: &'a AtomicU64,
    pub migrations: &'a [&'a Migration],
    pub inputs: &'a Inputs,
    pub home: &'a Path,
    /// The release `--to` names when the run covers every upgrade it reaches (no `--only`):
    /// recorded on each install's run that plans no migration blocked (see [`ledger::Run::to`]).
    pub to: Option<&'a str>,
    /// The plan the operator reviewed (saved with --plan-out, or shown before the question):
    /// every file must match it exactly, and no re-planning is allowed.
    pub expected: Option<&'a SavedPlan>,
}

/// The first planned file whose bytes moved since it was read, if any.
fn moved(r: &Report) -> Result<Option<PathBuf>, Error> {
    let Some((install, plan)) = r.planned() else {
        return Ok(None);
    };
    for f in &plan.files {
        let doc = &install.docs[f.doc];
        if doc.store.current_sha()? != doc.sha256() {
            return Ok(Some(doc.path().to_path_buf()));
        }
    }
    Ok(None)
}

/// The planned operations by file path, to tell whether a re-plan is the same change (none
/// when nothing is planned).
fn ops_by_path(r: &Report) -> Option<BTreeMap<PathBuf, String>> {
    let (install, plan) = r.planned()?;
    let ops = plan.files.iter().map(|f| {
        (
            install.docs[f.doc].path().to_path_buf(),
            serde_json::to_string(&f.ops).unwrap(),
        )
    });
    Some(ops.collect())
}

/// Re-reads and re-plans an install whose file moved; accepted only when the very same
/// operations come out (the other writer changed something else in the file).
fn replan(r: &mut Report, batch: &ApplyBatch, path: &Path) -> Result<(), Error> {
    let mut next = pipeline::load_and_plan(&r.root, batch.home, batch.migrations, batch.inputs);
    if let Outcome::Failed(e) = &next.outcome {
        return Err(e.clone());
    }
    if next.outcome != r.outcome || ops_by_path(&next) != ops_by_path(r) {
        return Err(Error::new(
            Kind::Changed,
            format!(
                "{} changed since it was planned and the changes now planned differ; nothing of this install was written — run clawmigrate again to review the new plan",
                path.display()
            ),
        ));
    }
    if let Some(plan) = next.plan_mut() {
        plan.findings.push(plan::Finding {
            migration: String::new(),
            kind: FindingKind::Note,
            agent: None,
            message: format!("re-planned: {} changed since it was planned (another writer); the same changes were planned again on its new bytes", path.display()),
            fix: None,
        });
    }
    *r = next;
    Ok(())
}

/// The changes of a planned install, for the commit layer.
fn changes(r: &Report) -> Result<Vec<Change<'_>>, Error> {
    let planned = r.planned().into_iter();
    planned
        .flat_map(|(install, plan)| plan.files.iter().map(move |f| (install, f)))
        .map(|(install, f)| {
            let doc = &install.docs[f.doc];
            Ok(Change {
                store: &doc.store,
                location: doc.store.record(&r.root, doc.agent.as_deref())?,
                expected: doc.sha256(),
                before: doc.text.as_deref().map(str::as_bytes),
                after: Some(f.after.as_bytes()),
                mode: None,
                xattrs_from: None,
            })
        })
        .collect()
}

/// Refuses, before anything is created, an install whose plan is not what the operator reviewed
/// (if a review was made). A file that moves after this is caught by [`settle`].
fn check_reviewed(r: &Report, batch: &ApplyBatch) -> Result<(), Error> {
    match (batch.expected, r.planned()) {
        (Some(expected), Some((install, plan))) => {
            expected.check(r.root.shown_path(), install, plan)
        }
        _ => Ok(()),
    }
}

/// Checks that the planned files still hold the bytes planned on; re-plans (at most twice, and
/// never for a reviewed plan) when another writer moved one and the same changes come out.
fn settle(r: &mut Report, batch: &ApplyBatch) -> Result<(), Error> {
    let mut attempts = 0;
    while let Some(path) = moved(r)? {
        attempts += 1;
        if batch.expected.is_some() || attempts > 2 {
            return Err(Error::new(
                Kind::Changed,
                format!(
                    "{} changed since it was planned (another writer); nothing of this install was written — run clawmigrate again to re-plan",
                    path.display()
                ),
            ));
        }
        replan(r, batch, &path)?;
    }
    Ok(())
}

/// Writes a template (see `InstallRoot::template`): checked as an install is, then written
/// through the commit layer's unrecorded write (no lock, backups or ledger: git holds its
/// history).
fn write_template(r: &mut Report, batch: &ApplyBatch) -> Result<(), Error> {
    check_reviewed(r, batch)?;
    settle(r, batch)?;
    commit::unrecorded::write(&changes(r)?).map(drop)
}

/// Locks an install, checks that its files are still as planned (re-planning when another writer
/// moved one, never for a reviewed plan), and opens its run with the commit layer (ledger entry,
/// backups, temp files).
fn lock_and_stage(r: &mut Report, batch: &ApplyBatch) -> Result<OpenRun, Error> {
    check_reviewed(r, batch)?;
    let locks = {
        let planned = r.planned().into_iter();
        let stores: Vec<&Store> = planned
            .flat_map(|(install, plan)| plan.files.iter().map(|f| &install.docs[f.doc].store))
            .collect();
        commit::lock(&r.root.state_dir, &stores)?
    };
    settle(r, batch)?;
    let statuses = r.plan().into_iter().flat_map(|p| &p.migrations);
    // An install blocked on a migration is not upgraded to the release: what is blocked (and
    // pending after it) must still be planned by the next run.
    let to = batch
        .to
        .filter(|_| statuses.clone().all(|m| m.state != MigrationState::Blocked))
        .map(str::to_string);
    let migrations = statuses
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
    let head = RunHead {
        id: ledger::run_id(
            batch.invocation,
            batch.seq.fetch_add(1, Ordering::Relaxed) + 1,
        ),
        invocation: batch.invocation.to_string(),
        kind: RunKind::Migrate,
        migrations,
        to,
        undoes: None,
        reblessed_from: None,
    };
    commit::open_run(&r.root, locks, head, &changes(r)?)
}

/// Whether a report has changes to write: a pending install, or one that needs input but whose
/// migrations before the blocked one plan changes (as Flyway applies up to the failing one).
fn writable(r: &Report) -> bool {
    let planned = r.plan().is_some_and(|p| !p.files.is_empty());
    match r.outcome {
        Outcome::Pending => r.plan().is_some(),
        Outcome::NeedsInput => planned,
        _ => false,
    }
}

/// Applies every report of the batch with changes to write; each ends `Changed` (or stays
/// `NeedsInput`, with a run id: the migrations before the blocked one were written) or `Failed`.
pub fn apply_batch(reports: &mut [Report], batch: &ApplyBatch) {
    use rayon::prelude::*;
    // Templates first, each on its own (nothing of theirs is recorded, so no run to batch).
    reports
        .par_iter_mut()
        .filter(|r| r.root.template && writable(r))
        .for_each(|r| {
            let state = r.root.state_dir.clone();
            let result = crate::owner::as_owner(&state, || write_template(r, batch));
            done(r, result.map(|()| None));
        });
    let stage = |r: &mut Report| {
        let state = r.root.state_dir.clone();
        (!r.root.template && writable(r))
            .then(|| crate::owner::as_owner(&state, || lock_and_stage(r, batch)))
    };
    commit::commit_units(reports, &stage, |r, result| {
        done(r, result.map(|run| Some(run.id)))
    });
}

/// What became of a report written (with the run id that records it, if any) or stopped.
fn done(r: &mut Report, result: Result<Option<String>, Error>) {
    match result {
        Ok(run_id) => {
            if r.outcome == Outcome::Pending {
                r.outcome = Outcome::Changed;
            }
            r.run_id = run_id;
            r.wrote = true;
        }
        Err(e) => {
            let e = match r.plan() {
                Some(p) => e.map_message(|m| p.redactor.redact(m)),
                None => e,
            };
            r.outcome = Outcome::Failed(e)
        }
    }
}
