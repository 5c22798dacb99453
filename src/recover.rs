//! Recovery after a crash, run by `migrate` and `rollback` before they plan an install, under its
//! run lock: clears OpenClaw locks left by a dead clawmigrate, removes this tool's temp files left
//! beside the install's files, and rolls back every run the ledger still marks incomplete (a crash
//! between the barriers), restoring the files it had already replaced from its backup set through
//! the commit layer. Rolling back is always correct: the backup set holds the old bytes of every
//! file the run meant to change, and the manifest tells which ones were replaced (their bytes are
//! `sha256_after`) and which were not (`sha256_before`).
use crate::backup;
use crate::commit::{self, Change, Locks, RunHead};
use crate::discover::{self, InstallRoot};
use crate::document::sha256_hex;
use crate::error::{Error, Kind};
use crate::fsio;
use crate::ledger::{self, Ledger, Run, RunKind};
use crate::location;
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

/// The message `status` gives for a run left incomplete.
pub fn interrupted_finding(run: &Run) -> String {
    format!(
        "run {} did not complete (interrupted, or still running): the next migrate rolls back what it wrote",
        run.id
    )
}

/// The directories the install's files live in (state dir, config dir, agent dirs, the real dirs
/// of linked files) and this tool's own, where a crash can leave temp files.
fn install_dirs(root: &InstallRoot, home: &Path) -> Vec<PathBuf> {
    let state = &root.state_dir;
    let mut dirs = vec![state.clone(), ledger::dir(state)];
    let backups = ledger::dir(state).join("backups");
    if let Ok(rd) = std::fs::read_dir(&backups) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir())
                && e.file_name().to_str().is_some_and(ledger::valid_id)
            {
                dirs.push(e.path());
            }
        }
    }
    let mut files = vec![root.config_path.clone()];
    for a in auth_and_agents(root, home).1 {
        files.push(a.join("auth-profiles.json"));
        files.push(a.join("models.json"));
        dirs.push(a);
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
fn auth_and_agents(root: &InstallRoot, home: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let agents = crate::include::read_config(&root.config_path)
        .map(|c| discover::agents(root, &c, home).0)
        .unwrap_or_default();
    let dirs: Vec<PathBuf> = agents.into_iter().map(|a| a.dir).collect();
    let auth = dirs
        .iter()
        .map(|d| d.join("auth-profiles.json"))
        .filter(|p| p.exists())
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

/// One file an interrupted run had replaced, to put back.
struct Undo {
    path: PathBuf,
    location: String,
    now: Vec<u8>,
    /// `None`: the run created the file, so undoing it removes it.
    bytes: Option<Vec<u8>>,
    mode: Option<u32>,
    /// Set when the location is a SQLite cell.
    cell: Option<crate::cell::Cell>,
}

/// What undoing an interrupted run means now: the files it replaced (bytes `sha256_after`), and
/// those changed by another writer since (left as they are, named in a note).
fn plan_undo(
    root: &InstallRoot,
    home: &Path,
    run: &Run,
) -> Result<(Vec<Undo>, Vec<String>), Error> {
    let state = &root.state_dir;
    if std::fs::symlink_metadata(backup::set_dir(state, &run.id)).is_err() {
        // Its backup set is written before anything else, so nothing was replaced.
        return Ok((Vec::new(), Vec::new()));
    }
    let (set, manifest) = match backup::read_manifest(state, &run.id) {
        Ok(m) => m,
        // The manifest is written (and made durable) before any rename: none happened.
        Err(_) if !set_has_manifest(state, &run.id) => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let mut agent_dir = location::agent_dirs(root, home);
    let (mut undos, mut moved) = (Vec::new(), Vec::new());
    for e in &manifest.files {
        let (file, cell) = location::split_cell(root, &e.path)?;
        let path = location::resolve(root, &file, &mut agent_dir)?;
        let now = match &cell {
            Some(c) => crate::cell::read(&path, c)?.map(String::into_bytes),
            None => crate::fsio::read_regular(&path, false).map_err(|err| {
                Error::new(
                    Kind::of_io(&err),
                    format!("{}: cannot read: {err}", path.display()),
                )
            })?,
        };
        let now_sha = now.as_deref().map(sha256_hex);
        if now_sha == e.sha256_before {
            continue; // not replaced before the crash
        }
        let Some(now) = now.filter(|_| now_sha == e.sha256_after) else {
            moved.push(path.display().to_string());
            continue;
        };
        let bytes = match &e.backup {
            Some(name) => {
                let copy = set.join(name);
                let b = crate::fsio::read_regular(&copy, true)
                    .and_then(|b| b.ok_or_else(|| std::io::ErrorKind::NotFound.into()))
                    .map_err(|err| {
                        Error::new(
                            Kind::of_io(&err),
                            format!("{}: cannot read the backup copy: {err}", copy.display()),
                        )
                    })?;
                if Some(sha256_hex(&b)) != e.sha256_before {
                    return Err(Error::new(
                        Kind::Confinement,
                        format!(
                            "{}: the backup copy does not match its recorded hash; restore by hand",
                            copy.display()
                        ),
                    ));
                }
                Some(b)
            }
            None if e.sha256_before.is_none() => None,
            None => {
                return Err(Error::new(
                    Kind::Confinement,
                    format!(
                        "{}: run {} has no backup of it; restore by hand",
                        path.display(),
                        run.id
                    ),
                ));
            }
        };
        undos.push(Undo {
            location: e.path.clone(),
            path,
            now,
            bytes,
            mode: e.mode.map(|m| m & 0o777),
            cell,
        });
    }
    Ok((undos, moved))
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
    let dirs = install_dirs(root, home);
    if !interrupted && !crate::lock::recorded(state) && temps(&dirs).is_empty() {
        return Ok(done);
    }
    let (auth, _) = auth_and_agents(root, home);
    let auth: Vec<&Path> = auth.iter().map(PathBuf::as_path).collect();
    // Under the run lock, and OpenClaw's lock on every auth store (one left by a dead clawmigrate
    // is cleared at once). Another run working on the install now owns what it left: skip.
    let Ok(install) = crate::lock::install_lock(state) else {
        return Ok(done);
    };
    drop(install);
    let mut rounds = ledger.runs.iter().filter(|r| r.incomplete).count() + 1;
    let mut first = true;
    loop {
        let locks = commit::lock(state, &auth)?;
        if std::mem::take(&mut first) {
            let swept = temps(&dirs);
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
        let mut ledger = Ledger::read(state)?;
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
        let (undos, moved) = plan_undo(root, home, &run)?;
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
        if undos.is_empty() {
            entry.incomplete = false;
            entry.error = Some(format!("interrupted before it replaced any file{changed}"));
            ledger
                .write(state, true)
                .map_err(|e| format!("{}: cannot write the ledger: {e}", state.display()))?;
            done.notes.push(format!(
                "run {} was interrupted before it replaced any file; nothing to undo",
                run.id
            ));
            done.closed.push((run.id.clone(), None));
            continue;
        }
        entry.error = Some(format!(
            "interrupted; the next run rolled back the files it had replaced{changed}"
        ));
        ledger
            .write(state, true)
            .map_err(|e| format!("{}: cannot write the ledger: {e}", state.display()))?;
        let id = undo(root, locks, &run, &undos)?;
        done.notes.push(format!(
            "run {} was interrupted; rolled back the {} files it had replaced (recorded as run {id}){changed}",
            run.id,
            undos.len()
        ));
        done.closed.push((run.id.clone(), Some(id)));
    }
}

/// Restores the files an interrupted run replaced through the commit layer, as a rollback run.
fn undo(root: &InstallRoot, locks: Locks, run: &Run, undos: &[Undo]) -> Result<String, Error> {
    let invocation = ledger::new_invocation_id();
    struct One<'a> {
        locks: Option<Locks>,
        changes: Vec<Change<'a>>,
        result: Option<Result<Run, Error>>,
    }
    let mut one = [One {
        locks: Some(locks),
        changes: undos
            .iter()
            .map(|u| Change {
                path: &u.path,
                location: u.location.clone(),
                expected: Some(sha256_hex(&u.now)),
                before: Some(&u.now),
                after: u.bytes.as_deref(),
                mode: u.mode,
                xattrs_from: None,
                cell: u.cell.clone(),
            })
            .collect(),
        result: None,
    }];
    let stage = |u: &mut One| {
        let head = RunHead {
            id: ledger::run_id(&invocation, 1),
            invocation: invocation.clone(),
            kind: RunKind::Rollback,
            migrations: Vec::new(),
            undoes: Some(run.id.clone()),
        };
        let locks = u.locks.take()?;
        Some(commit::prepare(root, locks, head, &u.changes))
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
