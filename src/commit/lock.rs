//! Locks: one clawmigrate run per install, and OpenClaw's own `proper-lockfile` lock on auth stores.
//!
//! A `proper-lockfile` lock is a directory `<file>.lock`, stale when its mtime is older than 30 s.
//! Like proper-lockfile itself, this process keeps every lock it holds fresh (one thread touches
//! each lock's mtime every `stale / 2`), checks before using a lock that its mtime is still the one
//! it set (otherwise another process took it over: the lock is compromised), and removes only a
//! lock that is still its own.
//!
//! A crash (`kill -9`) leaves the lock directories behind. So that the next run need not wait for
//! them to go stale, each install records the locks a run holds in `.clawmigrate/locks.json`: the
//! holder's pid and process start time, and the lock directory's identity (device, inode, and the
//! mtimes this process gives it). The next run clears a recorded lock at once when its holder is
//! no longer alive and the directory is still the very one it created. Nothing is put inside a lock
//! directory (OpenClaw removes it with `rmdir`).
use crate::error::{Error, Kind};
use crate::{fsio, ledger};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Held while a run writes an install; released on drop.
pub struct InstallLock {
    _file: File,
}

/// Takes the install's run lock without waiting; a second run on the same install is refused.
pub fn install_lock(state_dir: &Path) -> Result<InstallLock, Error> {
    let dir = fsio::own_dir(state_dir, Path::new(ledger::DIR))
        .map_err(|e| Error::io(&ledger::dir(state_dir), "cannot create", &e))?;
    let p = dir.join("lock");
    let mut opts = File::options();
    opts.create(true).truncate(false).write(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    // Never through a link: a crafted `lock` link must not make the tool create a file elsewhere.
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NOFOLLOW);
    let file = opts
        .open(&p)
        .map_err(|e| Error::io(&p, "cannot open the lock", &e))?;
    match file.try_lock() {
        Ok(()) => Ok(InstallLock { _file: file }),
        Err(_) => Err(Error::new(
            Kind::Locked,
            format!(
                "another clawmigrate run is working on {}; wait for it to finish and run again",
                state_dir.display()
            ),
        )),
    }
}

/// proper-lockfile's stale time: 30 s (`CLAWMIGRATE_TEST_LOCK_STALE_MS` shortens it for tests).
pub fn stale() -> Duration {
    std::env::var("CLAWMIGRATE_TEST_LOCK_STALE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&ms: &u64| ms >= 20)
        .map_or(Duration::from_secs(30), Duration::from_millis)
}

/// Nanoseconds since the epoch (mtimes are compared exactly, as proper-lockfile does).
fn ns(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    }
}

fn at_ns(n: i64) -> SystemTime {
    if n >= 0 {
        UNIX_EPOCH + Duration::from_nanos(n as u64)
    } else {
        UNIX_EPOCH - Duration::from_nanos(n.unsigned_abs())
    }
}

/// A lock directory's identity: where it is, and the mtime it has now.
fn identity(dir: &Path) -> Option<(u64, u64, i64)> {
    let m = std::fs::symlink_metadata(dir).ok()?;
    if !m.is_dir() {
        return None;
    }
    Some((m.dev(), m.ino(), ns(m.modified().ok()?)))
}

/// One held lock, shared with the refresher.
struct Held {
    dir: PathBuf,
    dev: u64,
    ino: u64,
    /// The mtime it got when created; every refresh sets it to `base + k * period`.
    base: i64,
    period: i64,
    stale: Duration,
    state: Mutex<HeldState>,
}

struct HeldState {
    /// The mtime as this process last set it (read back from the filesystem).
    mtime: i64,
    /// The last `k` set.
    k: i64,
    /// When it was last set: a refresh later than `stale` may have let another process in.
    touched: Instant,
    /// Why the lock is no longer ours, once that is known.
    compromised: Option<String>,
    released: bool,
}

impl Held {
    /// Whether the directory is still the one this process holds, with the mtime it set.
    fn check(&self, st: &mut HeldState) -> Result<(), Error> {
        if let Some(why) = &st.compromised {
            return Err(Error::new(Kind::Locked, why.clone()));
        }
        let why = match identity(&self.dir) {
            None => Some("was removed by another process"),
            Some((dev, ino, mtime)) if (dev, ino, mtime) != (self.dev, self.ino, st.mtime) => {
                Some("was taken over by another process")
            }
            _ if st.touched.elapsed() > self.stale => {
                Some("was not refreshed in time, so another process may have taken it over")
            }
            _ => None,
        };
        if let Some(why) = why {
            let msg = format!(
                "{}: OpenClaw's lock {why} while clawmigrate held it",
                self.dir.display()
            );
            st.compromised = Some(msg.clone());
            return Err(Error::new(Kind::Locked, msg));
        }
        Ok(())
    }

    /// Touches the mtime when a period has passed since the last touch (as proper-lockfile does
    /// every `stale / 2`), after checking the lock is still ours.
    fn refresh(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.released || self.check(&mut st).is_err() {
            return;
        }
        let k = (ns(SystemTime::now()) - self.base) / self.period;
        if k <= st.k {
            return;
        }
        let next = self.base + k * self.period;
        let touched = open_dir(&self.dir).and_then(|f| {
            f.set_modified(at_ns(next))?;
            f.metadata()
        });
        match touched.and_then(|m| m.modified()) {
            Ok(m) => {
                st.mtime = ns(m);
                st.k = k;
                st.touched = Instant::now();
            }
            Err(e) => {
                st.compromised = Some(format!(
                    "{}: cannot refresh OpenClaw's lock ({e}), so another process may take it over",
                    self.dir.display()
                ))
            }
        }
    }
}

/// Opens a lock directory itself (never through a symlink) to set its times.
fn open_dir(dir: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)
}

/// Every lock the process holds, for the refresher thread.
static HELD: Mutex<Vec<Weak<Held>>> = Mutex::new(Vec::new());

/// Registers a lock with the refresher, starting it on first use: one thread for all locks.
fn register(h: &Arc<Held>) {
    static STARTED: std::sync::Once = std::sync::Once::new();
    HELD.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Arc::downgrade(h));
    let tick = h.stale / 8;
    STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("clawmigrate-lock-refresh".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(tick);
                    let live: Vec<Arc<Held>> = {
                        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
                        held.retain(|w| w.strong_count() > 0);
                        held.iter().filter_map(Weak::upgrade).collect()
                    };
                    live.iter().for_each(|h| h.refresh());
                }
            })
            .expect("the lock refresher thread starts");
    });
}

/// proper-lockfile's lock on one file, held by this process and kept fresh until dropped.
pub struct FileLock {
    held: Arc<Held>,
}

impl FileLock {
    /// Fails when the lock is no longer this process's (removed, taken over, or not refreshed in
    /// time): a write under it would not be protected from OpenClaw's.
    pub fn verify(&self) -> Result<(), Error> {
        let mut st = self.held.state.lock().unwrap_or_else(|e| e.into_inner());
        self.held.check(&mut st)
    }

    pub fn dir(&self) -> &Path {
        &self.held.dir
    }
}

/// The lock directory of a file.
pub fn lock_dir_of(target: &Path) -> PathBuf {
    PathBuf::from(format!("{}.lock", target.display()))
}

/// Takes OpenClaw's lock on a file (as its gateway does around auth store writes), waiting up to
/// `wait` for a live holder and taking over a stale one.
pub fn file_lock(target: &Path, wait: Duration) -> Result<FileLock, Error> {
    file_lock_with(target, wait, &[], &mut |_| {})
}

fn file_lock_with(
    target: &Path,
    wait: Duration,
    recorded: &[Holder],
    before_taking: &mut dyn FnMut(&Holder),
) -> Result<FileLock, Error> {
    let dir = lock_dir_of(target);
    let stale = stale();
    let period = (stale / 2).as_nanos().max(1) as i64;
    let start = Instant::now();
    let fail = |e: std::io::Error| Error::io(&dir, "cannot take the lock", &e);
    loop {
        // The lock directory is made under one of this tool's temp names, recorded, then renamed
        // into place without replacing anything: a crash at any point leaves either no lock, or
        // a lock already recorded (and a stray temp dir, swept by the next run).
        let staging = fsio::temp_names()
            .tempdir_in(fsio::dir_of(&dir))
            .map_err(fail)?;
        let (dev, ino, base) = identity(staging.path())
            .ok_or_else(|| fail(std::io::Error::other("the new lock directory vanished")))?;
        let holder = Holder {
            dir: dir.display().to_string(),
            pid: std::process::id(),
            start: start_time(std::process::id()).unwrap_or(0),
            dev,
            ino,
            base,
            period,
        };
        before_taking(&holder);
        match rename_noreplace(staging.path(), &dir) {
            Ok(()) => {
                let _ = staging.keep();
                return Ok(hold(holder, dir, stale));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                drop(staging);
                if abandoned(&dir, recorded, stale) {
                    let _ = std::fs::remove_dir(&dir);
                    continue;
                }
                if start.elapsed() >= wait {
                    return Err(Error::new(
                        Kind::Locked,
                        format!(
                            "{} is locked by a running OpenClaw ({}); try again when it is idle, or stop the gateway",
                            target.display(),
                            dir.display()
                        ),
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(fail(e)),
        }
    }
}

/// A lock just taken: registered with the refresher, which keeps its mtime fresh.
fn hold(h: Holder, dir: PathBuf, stale: Duration) -> FileLock {
    let held = Arc::new(Held {
        dir,
        dev: h.dev,
        ino: h.ino,
        base: h.base,
        period: h.period,
        stale,
        state: Mutex::new(HeldState {
            mtime: h.base,
            k: 0,
            touched: Instant::now(),
            compromised: None,
            released: false,
        }),
    });
    register(&held);
    FileLock { held }
}

/// Whether a lock directory someone else made may be cleared: its recorded holder (a run of
/// this tool) is dead, or it is stale by proper-lockfile's rule (not refreshed for `stale`).
fn abandoned(dir: &Path, recorded: &[Holder], stale: Duration) -> bool {
    if left_by_the_dead(dir, recorded) {
        return true;
    }
    let age = std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok());
    age.is_some_and(|a| a > stale)
}

/// `rename(2)` that fails with `AlreadyExists` instead of replacing an (empty) directory.
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated paths; renameat2 only reads them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let mut st = self.held.state.lock().unwrap_or_else(|e| e.into_inner());
        st.released = true;
        // Only a lock still ours is removed: one taken over belongs to its new holder.
        if st.compromised.is_none()
            && identity(&self.held.dir) == Some((self.held.dev, self.held.ino, st.mtime))
        {
            let _ = std::fs::remove_dir(&self.held.dir);
        }
    }
}

/// A lock as recorded in `.clawmigrate/locks.json` (hostile input when read back: it only ever
/// confirms a lock directory this run computed itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Holder {
    dir: String,
    pid: u32,
    /// The holder's start time (`/proc/<pid>/stat` field 22), so a reused pid is not mistaken
    /// for it.
    start: u64,
    dev: u64,
    ino: u64,
    base: i64,
    period: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    locks: Vec<Holder>,
}

fn record_path(state_dir: &Path) -> PathBuf {
    ledger::dir(state_dir).join("locks.json")
}

/// Whether a run left a record of held locks (a crash, or a run holding them now).
pub fn recorded(state_dir: &Path) -> bool {
    std::fs::symlink_metadata(record_path(state_dir)).is_ok()
}

/// The recorded locks: hostile input like the ledger, so a regular file only, never through a
/// link, within the read cap (a FIFO planted there must not hang the run); unreadable is empty.
fn read_record(state_dir: &Path) -> Record {
    fsio::read_regular(&record_path(state_dir), true)
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_record(state_dir: &Path, r: &Record) {
    let p = record_path(state_dir);
    if r.locks.is_empty() {
        let _ = std::fs::remove_file(&p);
        return;
    }
    let mut bytes = serde_json::to_vec_pretty(r).expect("the lock record serialises");
    bytes.push(b'\n');
    if let Ok(s) = fsio::stage(&p, &bytes, None, false) {
        let _ = s.commit();
    }
}

/// A process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22).
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 2 (the command) may hold spaces and parentheses: the fields after it follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
        return None; // a zombie is dead
    }
    fields.get(22 - 3)?.parse().ok()
}

/// Whether the process that recorded a lock is still running (same pid, same start time).
fn alive(h: &Holder) -> bool {
    start_time(h.pid).is_some_and(|s| s == h.start)
}

/// Whether `dir` is a lock recorded by a clawmigrate that is no longer running, and still the very
/// directory it created (same inode, an mtime it set): then no one holds it, and it is cleared
/// without waiting for it to go stale.
fn left_by_the_dead(dir: &Path, recorded: &[Holder]) -> bool {
    let name = dir.display().to_string();
    let Some((dev, ino, mtime)) = identity(dir) else {
        return false;
    };
    recorded.iter().any(|h| {
        h.dir == name
            && !alive(h)
            && (h.dev, h.ino) == (dev, ino)
            && h.period > 0
            && mtime >= h.base
            && (mtime - h.base) % h.period == 0
    })
}

/// The auth store locks of one install's run, recorded in the install so that a crash leaves
/// nothing a next run must wait for. Call only under the install's run lock.
pub struct AuthLocks {
    state_dir: PathBuf,
    // Dropped before the record is updated (see Drop).
    locks: Vec<FileLock>,
}

impl AuthLocks {
    /// Fails naming the first lock that is no longer this process's.
    pub fn verify(&self) -> Result<(), Error> {
        self.locks.iter().try_for_each(FileLock::verify)
    }
}

/// Takes OpenClaw's lock on each of `targets` (auth stores, by their real paths), waiting up to
/// `wait` for a live holder; a lock left by a dead clawmigrate (recorded in this install) is
/// cleared at once. Call only under the install's run lock.
pub fn auth_locks(
    state_dir: &Path,
    targets: &[PathBuf],
    wait: Duration,
) -> Result<AuthLocks, Error> {
    let mut record = read_record(state_dir);
    let mut out = AuthLocks {
        state_dir: state_dir.to_path_buf(),
        locks: Vec::new(),
    };
    for t in targets {
        let seen = record.locks.clone();
        // Recorded before the lock is taken, so a crash never leaves an unrecorded lock.
        let lock = file_lock_with(t, wait, &seen, &mut |mine| {
            record.locks.retain(|h| h.dir != mine.dir);
            record.locks.push(mine.clone());
            write_record(state_dir, &record);
        })?;
        out.locks.push(lock);
    }
    Ok(out)
}

impl Drop for AuthLocks {
    fn drop(&mut self) {
        if self.locks.is_empty() {
            return;
        }
        let dirs: Vec<String> = self
            .locks
            .iter()
            .map(|l| l.dir().display().to_string())
            .collect();
        self.locks.clear();
        let mut record = read_record(&self.state_dir);
        let me = std::process::id();
        record
            .locks
            .retain(|h| !(h.pid == me && dirs.contains(&h.dir)));
        write_record(&self.state_dir, &record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_lock_is_waited_for_and_a_stale_one_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("auth-profiles.json");
        std::fs::write(&target, "{}").unwrap();
        let held = file_lock(&target, Duration::from_millis(10)).unwrap();
        let e = file_lock(&target, Duration::from_millis(100))
            .err()
            .unwrap();
        assert_eq!(e.kind, Kind::Locked);
        assert!(e.message.contains("locked by a running OpenClaw"), "{e}");
        drop(held);
        let lock_dir = dir.path().join("auth-profiles.json.lock");
        std::fs::create_dir(&lock_dir).unwrap();
        let old = SystemTime::now() - Duration::from_secs(60);
        File::open(&lock_dir).unwrap().set_modified(old).unwrap();
        let taken = file_lock(&target, Duration::from_millis(10));
        assert!(taken.is_ok(), "a stale lock was not taken over");
        drop(taken);
        assert!(!lock_dir.exists());
    }

    #[test]
    fn a_lock_taken_over_is_reported_and_left_to_its_new_holder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("auth-profiles.json");
        let held = file_lock(&target, Duration::from_millis(10)).unwrap();
        assert!(held.verify().is_ok());
        // Another process takes it over (as proper-lockfile does with a stale lock).
        let lock_dir = lock_dir_of(&target);
        std::fs::remove_dir(&lock_dir).unwrap();
        std::fs::create_dir(&lock_dir).unwrap();
        let old = SystemTime::now() - Duration::from_secs(1);
        File::open(&lock_dir).unwrap().set_modified(old).unwrap();
        let e = held.verify().unwrap_err();
        assert_eq!(e.kind, Kind::Locked);
        assert!(e.message.contains("taken over by another process"), "{e}");
        drop(held);
        assert!(lock_dir.is_dir(), "the new holder's lock was removed");
    }

    #[test]
    fn own_start_time_is_read_and_a_dead_pid_has_none() {
        assert!(start_time(std::process::id()).is_some());
        assert!(start_time(u32::MAX - 1).is_none());
    }

    #[test]
    fn a_lock_left_by_a_dead_holder_is_cleared_at_once_and_only_that_one() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path();
        std::fs::create_dir(ledger::dir(state)).unwrap();
        let target = state.join("auth-profiles.json");
        let locks = auth_locks(state, std::slice::from_ref(&target), Duration::ZERO).unwrap();
        // The process "dies": its record and lock directory stay, with a pid no longer running.
        let mut record = read_record(state);
        assert_eq!(record.locks.len(), 1);
        std::mem::forget(locks);
        record.locks[0].pid = u32::MAX - 1;
        write_record(state, &record);
        let start = Instant::now();
        let again = auth_locks(state, std::slice::from_ref(&target), Duration::from_secs(5));
        assert!(again.is_ok());
        assert!(start.elapsed() < Duration::from_secs(1));
        drop(again);
        assert!(!recorded(state));
        // A directory made since by someone else (another inode or mtime) is never cleared.
        let lock_dir = lock_dir_of(&target);
        std::fs::create_dir(&lock_dir).unwrap();
        record.locks[0].ino += 1;
        write_record(state, &record);
        let e = auth_locks(
            state,
            std::slice::from_ref(&target),
            Duration::from_millis(100),
        );
        assert!(e.is_err());
        assert!(lock_dir.is_dir());
    }
}
