//! The commit layer every write goes through: migrate, rollback and crash recovery write an
//! install's files and ledger here, and repair its ledger entry ([`record`]): the install's run lock and
//! OpenClaw's lock on auth stores, backups, staged temp files, a ledger entry marked incomplete,
//! one barrier, then the install as a unit: every database's write transaction taken,
//! each change checked against the planned bytes and written (cells in those transactions, then
//! the renames; `storage` tells them apart), the transactions committed, and on a failure after a
//! write what was written put back from the run's backups; the completed ledger entry, one
//! barrier. A run that writes no file of the install (a repair) is [`record`]ed here too, under
//! the run lock. Its parts: `lock`s, `backup` sets, the `restore` planner rollback and recovery
//! share, crash `recover`y, and the `unrecorded` write of a template (no lock, backup or ledger).
pub mod backup;
pub mod lock;
pub mod recover;
pub mod restore;
pub mod unrecorded;
use crate::discover::InstallRoot;
use crate::error::{Error, Kind};
use crate::hash::sha256_hex;
use crate::ledger::{Applied, Ledger, Run, RunKind};
use crate::storage::{Pending, Route, Store, Transactions};
use backup::Item;
use lock::InstallLock;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One file's change, as planned.
pub struct Change<'a> {
    /// The file (a symlink is written through to its target, as OpenClaw does), or the SQLite
    /// cell, as planned.
    pub store: &'a Store,
    /// Its location relative to the install, as recorded (see `location`).
    pub location: String,
    /// The sha256 its bytes must still have right before the rename (`None`: it must not exist).
    pub expected: Option<String>,
    /// Its bytes as planned on, kept by copy where a hard-link backup is impossible.
    pub before: Option<&'a [u8]>,
    /// The new bytes, or `None` to remove the file.
    pub after: Option<&'a [u8]>,
    /// The permission bits to give it (a rollback's recorded mode); `None` keeps its own.
    pub mode: Option<u32>,
    /// Whose extended attributes (ACLs) the new file takes: the file itself (migrate), or the
    /// backup copy of its old bytes (rollback). `None`: the file's own, if it exists.
    pub xattrs_from: Option<PathBuf>,
}

/// What a run is, before it runs.
pub struct RunHead {
    pub id: String,
    pub invocation: String,
    pub kind: RunKind,
    pub migrations: Vec<Applied>,
    /// For a migrate run: the release it upgrades the install to (see [`Run::to`]).
    pub to: Option<String>,
    /// For a rollback: the run it undoes (marked undone once every file is restored).
    pub undoes: Option<String>,
    /// For a repair: the checksum it accepts the migration's current one in place of.
    pub reblessed_from: Option<String>,
}

impl RunHead {
    /// The run's ledger entry, complete, with its backup set (relative to the state dir).
    fn entry(self, backup: String) -> Run {
        Run {
            id: self.id,
            invocation: self.invocation,
            kind: self.kind,
            at: jiff::Timestamp::now().to_string(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            migrations: self.migrations,
            to: self.to,
            backup,
            files: Vec::new(),
            error: None,
            undoes: self.undoes,
            reblessed_from: self.reblessed_from,
            undone_by: None,
            incomplete: false,
            settled: false,
        }
    }
}

/// Records a run that writes no file of the install (a repair): under the install's run lock,
/// with the ledger read again there and passed to `check` (another run may have written it
/// since it was read), then written durably.
pub fn record(
    root: &InstallRoot,
    head: RunHead,
    check: impl FnOnce(&Ledger) -> Result<(), Error>,
) -> Result<Run, Error> {
    let state = &root.state_dir;
    // The run lock alone: such a run writes no auth store, only the ledger.
    let _lock = lock::install_lock(state)?;
    let mut ledger = Ledger::read(state)?;
    check(&ledger)?;
    let run = head.entry(String::new());
    ledger.runs.push(run.clone());
    ledger.write(state, true)?;
    Ok(run)
}

/// The locks an install's commit holds: OpenClaw's lock on each auth store (kept fresh while
/// held, see `lock`) and the run lock, released in that order.
pub struct Locks {
    auth: lock::AuthLocks,
    _install: InstallLock,
}

impl Locks {
    /// Fails when an auth store's lock is no longer ours (taken over or removed by another
    /// process): its file must not be written.
    pub fn verify(&self) -> Result<(), Error> {
        self.auth.verify()
    }
}

/// Takes the install's run lock (refusing a second run) and OpenClaw's `proper-lockfile` lock on
/// every store among `stores` it has one on (waiting for a live gateway, taking over a stale lock,
/// clearing at once one left by a clawmigrate that died).
pub fn lock(state_dir: &Path, stores: &[&Store]) -> Result<Locks, Error> {
    let install = lock::install_lock(state_dir)?;
    // A store and the state beside it share one lock: taken once.
    let mut targets: Vec<PathBuf> = Vec::new();
    for t in stores.iter().filter_map(|s| s.openclaw_lock()) {
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    let auth = lock::auth_locks(state_dir, &targets, Duration::from_secs(10))?;
    Ok(Locks {
        auth,
        _install: install,
    })
}

/// An install ready to commit: locks held, backups and temp files written, run recorded as started.
pub struct OpenRun {
    locks: Locks,
    state_dir: PathBuf,
    staged: Vec<StagedChange>,
    ledger: Ledger,
    run: Run,
    undoes: Option<String>,
    /// The directories written in (the state dir, and each file's real one), for the barriers.
    pub dirs: Vec<PathBuf>,
}

/// A change waiting for its write (a file's replacement beside it, a cell's new value).
struct StagedChange {
    written: Written,
    /// Its backup when that is a hard link to its inode (removed unless sealed after the rename).
    link: Option<backup::LinkedBackup>,
    pending: Pending,
}

/// A change as written, with what puts it back: its backup copy, if something must be put back
/// before the install's run ends.
struct Written {
    store: Store,
    location: String,
    /// The sha256 it had before (`None`: it did not exist), which its backup copy holds.
    before: Option<String>,
    /// The sha256 of what was written (`None`: it was removed).
    after: Option<String>,
    /// Its backup copy in the run's set (`None`: it did not exist).
    copy: Option<PathBuf>,
    /// Its permission bits before.
    mode: Option<u32>,
}

impl Written {
    /// Puts its old bytes back from the run's backup copy (checked against its recorded hash),
    /// through the same checked write: only while it still holds what this run wrote.
    fn put_back(&self) -> Result<(), Error> {
        let bytes = match &self.copy {
            Some(c) => Some(restore::read_copy(c, self.before.as_deref())?),
            None => None,
        };
        let pending =
            self.store
                .route()
                .stage(bytes.as_deref(), self.mode, self.copy.as_deref())?;
        pending.write(self.after.as_deref(), &Transactions::default())
    }
}

/// Records one install's run as started, then writes its backups and temp files. The ledger is
/// read again here, under the run lock, so no other run's entry is lost; the entry comes first,
/// so whatever a crash leaves beside the install's files belongs to a run marked incomplete
/// (which the next run's recovery finds, see `recover`).
pub fn open_run(
    root: &InstallRoot,
    locks: Locks,
    head: RunHead,
    changes: &[Change],
) -> Result<OpenRun, Error> {
    let state = &root.state_dir;
    let mut ledger = Ledger::read(state)?;
    let set = backup::set_dir(state, &head.id);
    let undoes = head.undoes.clone();
    let mut run = head.entry(
        set.strip_prefix(state)
            .unwrap_or(&set)
            .display()
            .to_string(),
    );
    run.incomplete = true;
    // Recorded as started before anything is written: after a crash, recovery and rollback find
    // the backup set, and the temp files a crash left.
    ledger.runs.push(run.clone());
    ledger.write(state, false)?;
    match stage_all(state, &run.id, changes) {
        Ok((staged, dirs)) => Ok(OpenRun {
            locks,
            state_dir: state.clone(),
            staged,
            ledger,
            run,
            undoes,
            dirs,
        }),
        Err(e) => {
            // Nothing was renamed: close the entry (dropping what was staged removes it), with
            // nothing to undo.
            run.incomplete = false;
            run.settled = true;
            run.migrations.clear();
            run.to = None;
            run.error = Some(e.message.clone());
            if let Some(last) = ledger.runs.last_mut() {
                *last = run;
            }
            let _ = ledger.write(state, false);
            Err(e)
        }
    }
}

/// Writes the backup set and stages each change (a temp file beside each file to replace);
/// returns them (those that go first, first) and the directories written in, for the barriers.
fn stage_all(
    state: &Path,
    run_id: &str,
    changes: &[Change],
) -> Result<(Vec<StagedChange>, Vec<PathBuf>), Error> {
    let routes: Vec<Route> = changes.iter().map(|c| c.store.route()).collect();
    let items: Vec<Item> = changes
        .iter()
        .zip(&routes)
        .map(|(c, t)| Item {
            path: c.store.path(),
            location: &c.location,
            before: c.before,
            link_from: t.link_from(),
            sha256_before: c.expected.clone(),
            sha256_after: c.after.map(sha256_hex),
            mode: t.mode(),
        })
        .collect();
    let set = backup::create(state, run_id, &items).map_err(|e| {
        Error::io(
            &backup::set_dir(state, run_id),
            "cannot write the backup set",
            &e,
        )
    })?;
    let mut dirs = vec![state.to_path_buf()];
    dirs.extend(routes.iter().filter_map(Route::dir).map(Path::to_path_buf));
    let mut staged = Vec::new();
    for (((c, t), link), copy) in changes.iter().zip(routes).zip(set.links).zip(set.copies) {
        let written = Written {
            store: c.store.clone(),
            location: c.location.clone(),
            before: c.expected.clone(),
            after: c.after.map(sha256_hex),
            copy,
            mode: t.mode(),
        };
        staged.push(StagedChange {
            written,
            link,
            pending: t.stage(c.after, c.mode, c.xattrs_from.as_deref())?,
        });
    }
    // A write another writer can hold up (a cell's transaction) must stop the install before
    // any file is replaced.
    staged.sort_by_key(|f| !f.pending.goes_first());
    Ok((staged, dirs))
}

/// Writes the install as a unit: takes the write transaction of every database first (one held
/// by another writer stops the install with nothing written), writes every staged change, each
/// re-checked right before (cells in their transactions, then the renames), and commits the
/// transactions last. When something fails after a write, puts back what was written from the
/// run's backups before it reports; only what could not be put back stays written (kind
/// `partial`, naming each). Records in the run the locations that stay written.
fn write_all(p: &mut OpenRun) -> Result<(), Error> {
    let staged = std::mem::take(&mut p.staged);
    let held = Transactions::begin(staged.iter().map(|f| &f.pending))
        .map_err(|e| stopped(e, &[], &[], &p.run.id))?;
    let mut written: Vec<(Written, bool)> = Vec::new();
    let mut failed = None;
    // A file not renamed keeps its inode: dropping its linked backup unsealed removes it (as
    // the loop's remaining changes are dropped, with their temp files, when it stops).
    for f in staged {
        let cell = f.pending.goes_first();
        if let Err(e) = f.pending.write(f.written.before.as_deref(), &held) {
            failed = Some(e);
            break;
        }
        if let Some(link) = f.link {
            link.seal();
        }
        written.push((f.written, cell));
    }
    let e = match failed {
        None => match held.commit() {
            Ok(()) => {
                p.run.files = written.into_iter().map(|(w, _)| w.location).collect();
                return Ok(());
            }
            // The cells of the databases not committed are as they were.
            Err((committed, e)) => {
                written.retain(|(w, cell)| !cell || committed.iter().any(|d| d == w.store.path()));
                e
            }
        },
        Some(e) => {
            // Uncommitted, every cell is as it was.
            drop(held);
            written.retain(|(_, cell)| !cell);
            e
        }
    };
    let (mut back, mut left) = (Vec::new(), Vec::new());
    for (w, _) in written.into_iter().rev() {
        match w.put_back() {
            Ok(()) => back.push(w),
            Err(why) => left.push((w, why)),
        }
    }
    p.run.files = left.iter().map(|(w, _)| w.location.clone()).collect();
    Err(stopped(e, &back, &left, &p.run.id))
}

/// Why an install stopped, saying what became of what was written before: nothing was, it was
/// put back, or (kind `partial`) the documents that could not be put back, each with why.
fn stopped(e: Error, back: &[Written], left: &[(Written, Error)], run_id: &str) -> Error {
    let then = match e.kind {
        Kind::Changed => Some("run clawmigrate again to re-plan"),
        Kind::Locked => Some("run again when it is idle, or stop the gateway"),
        _ => None,
    };
    if !left.is_empty() {
        let names: Vec<String> = left
            .iter()
            .map(|(w, why)| format!("{} ({})", w.store.path().display(), why.message))
            .collect();
        return Error::new(
            Kind::Partial,
            format!(
                "{}; what this install's run wrote before it could not all be put back: still written: {}; put back: {}",
                e.message,
                names.join(", "),
                back.len()
            ),
        )
        .hinted(format!(
            "fix the cause, then `clawmigrate rollback {run_id}` restores them"
        ));
    }
    let e = if back.is_empty() {
        e.map_message(|m| format!("{m}; nothing of this install was written"))
    } else {
        e.map_message(|m| {
            format!(
                "{m}; the {} documents of this install written before it were put back from the run's backups, so nothing of it changed",
                back.len()
            )
        })
    };
    match then {
        Some(then) => e.hinted(then),
        None => e,
    }
}

/// One durability barrier: `syncfs` once per filesystem the batch touched. Fails naming the
/// directory whose filesystem could not be flushed (an I/O error there means written data may
/// be lost, so nothing may be reported as durable).
pub fn barrier(dirs: &[PathBuf]) -> Result<(), Error> {
    barrier_with(dirs, &|f| {
        // SAFETY: syncfs takes any open descriptor on the filesystem and only flushes it.
        let rc = unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(f)) };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    })
}

fn barrier_with(
    dirs: &[PathBuf],
    sync: &dyn Fn(&std::fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    let mut seen = std::collections::BTreeSet::new();
    for d in dirs {
        let fail = |e: std::io::Error| {
            Error::new(
                Kind::Io,
                format!(
                    "{}: cannot flush its filesystem to disk (syncfs: {e})",
                    d.display()
                ),
            )
            .hinted("check the disk and the kernel log, then run clawmigrate status")
        };
        let meta = std::fs::metadata(d).map_err(fail)?;
        if !seen.insert(meta.dev()) {
            continue;
        }
        let f = std::fs::File::open(d).map_err(fail)?;
        sync(&f).map_err(fail)?;
    }
    Ok(())
}

/// A pause between staging and renaming, for tests that write files during a run. With
/// `CLAWMIGRATE_TEST_RESUME_FILE` the pause ends as soon as that file exists (the pause is then
/// only its upper bound), so a test that acts on the staged run does not race a clock.
fn test_pause() {
    let Some(ms) = std::env::var("CLAWMIGRATE_TEST_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    else {
        return;
    };
    let until = std::time::Instant::now() + Duration::from_millis(ms);
    match std::env::var_os("CLAWMIGRATE_TEST_RESUME_FILE") {
        Some(resume) => {
            let resume = std::path::Path::new(&resume);
            while !resume.exists() && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        None => std::thread::sleep(Duration::from_millis(ms)),
    }
}

/// Stages every unit `stage` picks (in parallel), commits them with two barriers in all, and
/// hands each its result: the completed run, or why it was not staged or stopped.
pub fn commit_units<U: Send>(
    units: &mut [U],
    stage: &(dyn Fn(&mut U) -> Option<Result<OpenRun, Error>> + Sync),
    mut done: impl FnMut(&mut U, Result<Run, Error>),
) {
    use rayon::prelude::*;
    let staged: Vec<Option<Result<OpenRun, Error>>> = units.par_iter_mut().map(stage).collect();
    let mut failed = Vec::new();
    let open: Vec<Option<OpenRun>> = staged
        .into_iter()
        .enumerate()
        .map(|(i, s)| match s {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                failed.push((i, e));
                None
            }
            None => None,
        })
        .collect();
    for (i, e) in failed {
        done(&mut units[i], Err(e));
    }
    for (u, result) in units.iter_mut().zip(commit_batch(open)) {
        if let Some(result) = result {
            done(u, result);
        }
    }
}

/// Commits a batch of open runs with two barriers in all; per install, the completed run
/// or why it stopped.
fn commit_batch(open: Vec<Option<OpenRun>>) -> Vec<Option<Result<Run, Error>>> {
    use rayon::prelude::*;
    let mut dirs: Vec<PathBuf> = open.iter().flatten().flat_map(|p| p.dirs.clone()).collect();
    dirs.sort();
    dirs.dedup();
    if let Err(e) = barrier(&dirs) {
        // Nothing was renamed: dropping the open runs removes their temp files, links
        // and locks, each with its owner's rights (as they were made).
        return open
            .into_iter()
            .map(|p| {
                p.map(|p| {
                    let state = p.state_dir.clone();
                    crate::owner::as_owner(&state, || drop(p));
                    Err(e.clone())
                })
            })
            .collect();
    }
    test_pause();
    // Each install's renames and ledger with its owner's rights (see `owner`).
    let as_owner = |p: OpenRun| {
        let state = p.state_dir.clone();
        crate::owner::as_owner(&state, || finish(p))
    };
    let mut out: Vec<Option<Result<Run, Error>>> =
        open.into_par_iter().map(|p| p.map(as_owner)).collect();
    if let Err(e) = barrier(&dirs) {
        let why = e.map_message(|m| format!(
            "{m}; the files were replaced but may not survive a crash (`clawmigrate rollback` restores them)"
        ));
        for r in out.iter_mut().flatten() {
            if r.is_ok() {
                *r = Err(why.clone());
            }
        }
    }
    out
}

/// Renames one install's files and records the run as complete (in the same barrier as the
/// renames: if a crash keeps one and loses the other, every file is still old or new).
fn finish(mut p: OpenRun) -> Result<Run, Error> {
    // A lock no longer ours (another process took it over) protects nothing: no file is written.
    let stopped = match p.locks.verify() {
        Ok(()) => write_all(&mut p).err(),
        Err(e) => Some(
            e.map_message(|m| format!("{m}; nothing of this install was written"))
                .hinted("run clawmigrate again"),
        ),
    };
    if let Some(e) = &stopped {
        p.run.error = Some(e.message.clone());
        p.run.migrations.clear();
        p.run.to = None;
        // Nothing stays written: nothing to undo.
        p.run.settled = p.run.files.is_empty();
    }
    p.run.incomplete = false;
    let id = p.run.id.clone();
    if let Some(last) = p.ledger.runs.iter_mut().rev().find(|r| r.id == id) {
        *last = p.run.clone();
    }
    if stopped.is_none()
        && let Some(undone) = &p.undoes
        && let Some(r) = p.ledger.runs.iter_mut().find(|r| &r.id == undone)
    {
        r.undone_by = Some(id);
        // An interrupted run undone by the next run's recovery is no longer pending.
        r.incomplete = false;
    }
    p.ledger.write(&p.state_dir, false)?;
    match stopped {
        Some(e) => Err(e),
        None => Ok(p.run),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_flush_fails_the_barrier_naming_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = vec![dir.path().to_path_buf()];
        assert!(barrier(&dirs).is_ok());
        let e = barrier_with(&dirs, &|_| {
            Err(std::io::Error::from_raw_os_error(libc::EIO))
        })
        .unwrap_err();
        assert!(e.message.contains(&dir.path().display().to_string()), "{e}");
        assert!(
            e.message.contains("syncfs") && e.message.contains("Input/output error"),
            "{e}"
        );
    }

    #[test]
    fn record_writes_one_complete_run_under_the_run_lock_and_nothing_when_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = InstallRoot {
            state_dir: dir.path().to_path_buf(),
            config_path: dir.path().join("openclaw.json"),
            template: false,
        };
        let head = |id: &str| RunHead {
            id: id.into(),
            invocation: "inv".into(),
            kind: RunKind::Repair,
            migrations: Vec::new(),
            to: None,
            undoes: None,
            reblessed_from: Some("sha256:old".into()),
        };
        let refused = record(&root, head("r1"), |_| {
            Err(Error::new(Kind::Changed, "moved"))
        });
        assert_eq!(refused.unwrap_err().kind, Kind::Changed);
        assert!(Ledger::read(dir.path()).unwrap().runs.is_empty());
        {
            // Another run holds the install: nothing is recorded.
            let _held = lock::install_lock(dir.path()).unwrap();
            let e = record(&root, head("r2"), |_| Ok(())).unwrap_err();
            assert_eq!(e.kind, Kind::Locked, "{e}");
        }
        let run = record(&root, head("r3"), |l| {
            assert!(l.runs.is_empty());
            Ok(())
        })
        .unwrap();
        let runs = Ledger::read(dir.path()).unwrap().runs;
        assert_eq!(runs.len(), 1);
        assert_eq!((runs[0].id.as_str(), run.id.as_str()), ("r3", "r3"));
        assert_eq!(runs[0].reblessed_from.as_deref(), Some("sha256:old"));
        assert!(!runs[0].incomplete && runs[0].files.is_empty() && runs[0].backup.is_empty());
    }

    #[test]
    fn a_store_and_the_state_beside_it_take_one_lock() {
        let dir = tempfile::tempdir().unwrap();
        let agent = dir.path().join("agents/a/agent");
        std::fs::create_dir_all(&agent).unwrap();
        std::fs::write(agent.join("auth-profiles.json"), "{}").unwrap();
        let store = Store::File(agent.join("auth-profiles.json"));
        let state = store.state().unwrap();
        let started = std::time::Instant::now();
        let locks = lock(dir.path(), &[&store, &state]).unwrap();
        assert!(agent.join("auth-profiles.json.lock").is_dir());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "it waited on its own lock"
        );
        locks.verify().unwrap();
        drop(locks);
        assert!(!agent.join("auth-profiles.json.lock").exists());
    }

    #[test]
    fn a_vanished_directory_fails_the_barrier() {
        let e = barrier(&[PathBuf::from("/nonexistent/clawmigrate-test")]).unwrap_err();
        assert!(e.message.contains("/nonexistent/clawmigrate-test"), "{e}");
        assert_eq!(e.kind, Kind::Io);
    }
}
