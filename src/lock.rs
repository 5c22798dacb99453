//! Locks: one clawmigrate run per install, and OpenClaw's own `proper-lockfile` lock on auth stores.
use crate::{fsio, ledger};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Held while a run writes an install; released on drop.
pub struct InstallLock {
    _file: File,
}

/// Takes the install's run lock without waiting; a second run on the same install is refused.
pub fn install_lock(state_dir: &Path) -> Result<InstallLock, String> {
    let dir = fsio::own_dir(state_dir, Path::new(ledger::DIR))
        .map_err(|e| format!("{}: cannot create: {e}", ledger::dir(state_dir).display()))?;
    let p = dir.join("lock");
    let mut opts = File::options();
    opts.create(true).truncate(false).write(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    // Never through a link: a crafted `lock` link must not make the tool create a file elsewhere.
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NOFOLLOW);
    let file = opts
        .open(&p)
        .map_err(|e| format!("{}: cannot open the lock: {e}", p.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(InstallLock { _file: file }),
        Err(_) => Err(format!(
            "another clawmigrate run is working on {}; wait for it to finish and run again",
            state_dir.display()
        )),
    }
}

/// proper-lockfile's lock: a directory `<file>.lock`, stale when its mtime is older than 30 s.
pub struct FileLock {
    dir: PathBuf,
}

const STALE: Duration = Duration::from_secs(30);

/// Takes OpenClaw's lock on a file (as its gateway does around auth store writes), waiting up to
/// `wait` for a live holder and taking over a stale one.
pub fn file_lock(target: &Path, wait: Duration) -> Result<FileLock, String> {
    let dir = PathBuf::from(format!("{}.lock", target.display()));
    let start = std::time::Instant::now();
    loop {
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(FileLock { dir }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let age = std::fs::metadata(&dir)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                if age.is_some_and(|a| a > STALE) {
                    let _ = std::fs::remove_dir(&dir);
                    continue;
                }
                if start.elapsed() >= wait {
                    return Err(format!(
                        "{} is locked by a running OpenClaw ({}); try again when it is idle, or stop the gateway",
                        target.display(),
                        dir.display()
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("{}: cannot take the lock: {e}", dir.display())),
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
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
        assert!(e.contains("locked by a running OpenClaw"), "{e}");
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
}
