//! Recovery after a crash, run by `migrate` and `rollback` before they plan an install, under its
//! run lock: clears OpenClaw locks left by a dead clawmigrate, removes this tool's temp files left
//! beside the install's files, and rolls back every run the ledger still marks incomplete (a crash
//! between the barriers), restoring the files it had already replaced from its backup set through
//! the commit layer. Rolling back is always correct: the backup set holds the old bytes of every
//! file the run meant to change, and the manifest tells which ones were replaced (their bytes are
//! `sha256_after`) and which were not (`sha256_before`).
use crate::commit::backup;
use crate::commit::restore::{self, Restore};
use crate::commit::{self, Change, Locks, RunHead};
use crate::discover::{self, InstallRoot};
use crate::error::{Error, Kind};
use crate::fsio;
use crate::ledger::{self, Ledger, Run, RunKind};
use crate::storage::Store;
use std::path::{Path, PathBuf};

/// What recovery did to an install.
#[derive(Debug, Default)]
pub struct Recovered {
    /// What to tell the operator, one line each.
    pub notes: Vec<String>,
    /// The interrupted runs it closed (rolled back, or found to have written nothing), each with
    /// the rollback run that undid it.
    pub closed: Vec<(String, Option<String>)>,
}

/// The directories the install's files live in (state dir, config dir, agent dirs, the real dirs
/// of linked files) and this tool's own (with the backup sets of interrupted runs), where a
/// crash can leave temp files.
fn install_dirs(root: &InstallRoot, agent_dirs: &[PathBuf], ledger: &Ledger) -> Vec<PathBuf> {
    let state = &root.state_dir;
    let mut dirs = vec![state.clone(), ledger::dir(state)];
    // Only an interrupted run's backup set can hold a temp file (a complete run's is whole).
    dirs.extend(
        ledger
            .runs
            .iter()
            .filter(|r| r.incomplete && ledger::valid_id(&r.id))
            .map(|r| backup::set_dir(state, &r.id)),
    );
    let mut files = vec![root.config_path.clone()];
    for a in agent_dirs {
        files.push(a.join("auth-profiles.json"));
        files.push(a.join("models.json"));
        dirs.push(a.clone());
    }
    for f in files {
        dirs.push(fsio::dir_of(&f).to_path_buf());
        dirs.push(fsio::dir_of(&fsio::real_path(&f)).to_path_buf());
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// The install's auth stores (existing ones, by path as planned) and its agent dirs.
fn auth_and_agents(root: &InstallRoot, home: &Path) -> (Vec<Store>, Vec<PathBuf>) {
    let agents = crate::document::include::read_config(&root.config_path)
        .map(|c| discover::agents(root, &c, home).0)
        .unwrap_or_default();
    let dirs: Vec<PathBuf> = agents.into_iter().map(|a| a.dir).collect();
    let auth = dirs
        .iter()
        .map(|d| Store::File(d.join("auth-profiles.json")))
        .collect();
    (auth, dirs)
}

/// This tool's temp files in `dirs`: regular files (and the directories a lock is made under)
/// named exactly as it names them.
fn temps(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        for e in rd.flatten() {
            if fsio::is_temp_name(&e.file_name())
                && e.file_type().is_ok_and(|t| t.is_file() || t.is_dir())
            {
                out.push(e.path());
            }
        }
    }
    out
}

/// What undoing an interrupted run means now: the files it replaced (bytes `sha256_after`), and
/// those changed by another writer since (left as they are, named in a note).
fn plan_undo(
    root: &InstallRoot,
    home: &Path,
    run: &Run,
) -> Result<(Vec<Restore>, Vec<String>), Error> {
    let state = &root.state_dir;
    // The backup set and its manifest are written (and made durable) before any rename: without
    // them, nothing was replaced.
    if !set_has_manifest(state, &run.id) {
        return Ok((Vec::new(), Vec::new()));
    }
    restore::of_run(root, home, run, restore::Changed::Keep)
}

fn set_has_manifest(state: &Path, run_id: &str) -> bool {
    std::fs::symlink_metadata(backup::set_dir(state, run_id).join("manifest.json")).is_ok()
}

/// Recovers an install after a crash (see the module docs). Does nothing, and creates nothing,
/// when no run of this tool left anything behind; an install another run holds now is left to it.
pub fn recover(root: &InstallRoot, home: &Path) -> Result<Recovered, Error> {
    let state = &root.state_dir;
    let mut done = Recovered::default();
    if !ledger::dir(state).is_dir() {
        return Ok(done);
    }
    let ledger = Ledger::read(state)?;
    let interrupted = ledger.runs.iter().any(|r| r.incomplete);
    // A run records itself as incomplete before it stages a file, but a crash can still leave
    // a temp of its own before that (the directory an OpenClaw lock is made under, before the
    // lock is recorded): so the install's folders are always looked at.
    let (auth, agent_dirs) = auth_and_agents(root, home);
    let dirs = install_dirs(root, &agent_dirs, &ledger);
    if !interrupted && !crate::commit::lock::recorded(state) && temps(&dirs).is_empty() {
        return Ok(done);
    }
    let auth: Vec<&Store> = auth.iter().collect();
    // Under the run lock, and OpenClaw's lock on every auth store (one left by a dead clawmigrate
    // is cleared at once). Another run working on the install now owns what it left: skip.
    let Ok(install) = crate::commit::lock::install_lock(state) else {
        return Ok(done);
    };
    drop(install);
    let mut rounds = ledger.runs.iter().filter(|r| r.incomplete).count() + 1;
    let mut first = true;
    loop {
        let locks = commit::lock(state, &auth)?;
        if std::mem::take(&mut first) {
            sweep(&dirs, &mut done);
        }
        let ledger = Ledger::read(state)?;
        let Some(run) = ledger.runs.iter().rev().find(|r| r.incomplete).cloned() else {
            return Ok(done);
        };
        rounds = rounds.saturating_sub(1);
        if rounds == 0 {
            return Err(Error::new(
                Kind::Io,
                format!(
                    "{}: could not close the interrupted run {}; check the install, then run clawmigrate again",
                    state.display(),
                    run.id
                ),
            ));
        }
        close(root, home, locks, ledger, &run, &mut done)?;
    }
}

/// Removes the temp files (and lock staging dirs) a crash left in the install's folders.
fn sweep(dirs: &[PathBuf], done: &mut Recovered) {
    let swept = temps(dirs);
    // A directory only when empty: a lock directory never holds anything.
    swept.iter().for_each(|t| {
        let _ = std::fs::remove_file(t).or_else(|_| std::fs::remove_dir(t));
    });
    if !swept.is_empty() {
        done.notes.push(format!(
            "removed {} temp files left by an interrupted clawmigrate run",
            swept.len()
        ));
    }
}

/// Closes one interrupted run under `locks`: its ledger entry says what became of it, and the
/// files it had replaced are rolled back (those another writer changed since are kept).
fn close(
    root: &InstallRoot,
    home: &Path,
    locks: Locks,
    mut ledger: Ledger,
    run: &Run,
    done: &mut Recovered,
) -> Result<(), Error> {
    let state = &root.state_dir;
    let (undos, moved) = plan_undo(root, home, run)?;
    let changed = if moved.is_empty() {
        String::new()
    } else {
        format!("; kept as another writer left them: {}", moved.join(", "))
    };
    let entry = ledger
        .runs
        .iter_mut()
        .rev()
        .find(|r| r.id == run.id)
        .expect("the run is in the ledger");
    entry.migrations.clear();
    entry.to = None;
    if undos.is_empty() {
        // Settled: rollback finds nothing of it to undo (its backup set may lack a manifest).
        entry.incomplete = false;
        entry.settled = true;
        entry.error = Some(format!("interrupted before it replaced any file{changed}"));
    } else {
        entry.error = Some(format!(
            "interrupted; the next run rolled back the files it had replaced{changed}"
        ));
    }
    ledger.write(state, true)?;
    if undos.is_empty() {
        done.notes.push(format!(
            "run {} was interrupted before it replaced any file; nothing to undo",
            run.id
        ));
        done.closed.push((run.id.clone(), None));
        return Ok(());
    }
    let id = undo(root, locks, run, &undos)?;
    done.notes.push(format!(
        "run {} was interrupted; rolled back the {} it had replaced (recorded as run {id}){changed}",
        run.id,
        crate::display::plural(undos.len(), "file")
    ));
    done.closed.push((run.id.clone(), Some(id)));
    Ok(())
}

/// Restores the files an interrupted run replaced through the commit layer, as a rollback run.
fn undo(root: &InstallRoot, locks: Locks, run: &Run, undos: &[Restore]) -> Result<String, Error> {
    let invocation = ledger::new_invocation_id();
    struct One<'a> {
        locks: Option<Locks>,
        changes: Vec<Change<'a>>,
        result: Option<Result<Run, Error>>,
    }
    let mut one = [One {
        locks: Some(locks),
        changes: undos.iter().map(Restore::change).collect(),
        result: None,
    }];
    let stage = |u: &mut One| {
        let head = RunHead {
            id: ledger::run_id(&invocation, 1),
            invocation: invocation.clone(),
            kind: RunKind::Rollback,
            migrations: Vec::new(),
            to: None,
            undoes: Some(run.id.clone()),
            reblessed_from: None,
        };
        let locks = u.locks.take()?;
        Some(commit::open_run(root, locks, head, &u.changes))
    };
    commit::commit_units(&mut one, &stage, |u, r| u.result = Some(r));
    match one[0].result.take() {
        Some(Ok(r)) => Ok(r.id),
        Some(Err(e)) => {
            Err(e.map_message(|m| {
                format!("could not roll back the interrupted run {}: {m}", run.id)
            }))
        }
        None => Err(Error::new(
            Kind::Io,
            format!("could not roll back the interrupted run {}", run.id),
        )),
    }
}
