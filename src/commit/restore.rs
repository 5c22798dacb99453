//! What undoing a run means now, for `rollback` and for crash recovery alike: per file (or
//! SQLite cell) the run wrote, its bytes now and the exact bytes to put back from the run's
//! backup set. Reads only; every recorded location is confined to the install, every backup
//! copy is checked against its recorded hash.
use crate::commit::Change;
use crate::commit::backup;
use crate::discover::{self, InstallRoot};
use crate::error::{Error, Kind};
use crate::hash::sha256_hex;
use crate::ledger::Run;
use crate::storage::Store;
use crate::{fsio, location};
use std::path::{Path, PathBuf};

/// One file (or cell) to put back.
pub struct Restore {
    pub store: Store,
    pub location: String,
    /// Its bytes now (backed up before they are replaced); `None` when it is gone.
    pub now: Option<Vec<u8>>,
    /// `None`: the run created it, so undoing the run removes it.
    pub bytes: Option<Vec<u8>>,
    /// Permission bits to give it back (never setuid, setgid or sticky).
    pub mode: Option<u32>,
    /// The backup copy, whose extended attributes (ACLs) the restored file takes back.
    pub copy: Option<PathBuf>,
}

impl Restore {
    /// The change the commit layer makes for it.
    pub fn change(&self) -> Change<'_> {
        Change {
            store: &self.store,
            location: self.location.clone(),
            expected: self.now.as_deref().map(sha256_hex),
            before: self.now.as_deref(),
            after: self.bytes.as_deref(),
            mode: self.mode,
            xattrs_from: self.copy.clone(),
        }
    }
}

/// What to do about a file another writer changed since the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// Refuse the whole restore, naming it (`rollback`).
    Refuse,
    /// Restore it anyway; its current bytes are backed up first (`rollback --force`).
    Restore,
    /// Leave it as the other writer left it and name it (crash recovery).
    Keep,
}

/// The restores that undo `run`, and the files kept because another writer changed them.
pub fn of_run(
    root: &InstallRoot,
    home: &Path,
    run: &Run,
    changed: Changed,
) -> Result<(Vec<Restore>, Vec<String>), Error> {
    let (set, manifest) = backup::read_manifest(&root.state_dir, &run.id)?;
    let mut agent_dir = agent_dirs(root, home);
    let (mut out, mut kept) = (Vec::new(), Vec::new());
    for e in &manifest.files {
        let store = Store::resolve(root, &e.path, |file| {
            legacy_inside(root, file)
                .map_or_else(|| location::resolve(root, file, &mut agent_dir), Ok)
        })?;
        let path = store.path();
        let now = store.read()?;
        let now_sha = now.as_deref().map(sha256_hex);
        if now_sha == e.sha256_before {
            continue; // never written (a run stopped part way), or already restored
        }
        if now_sha != e.sha256_after {
            match changed {
                Changed::Refuse => {
                    return Err(Error::new(
                        Kind::Changed,
                        format!(
                            "{} changed since run {}; nothing was restored. Check it, then re-run with --force to restore it anyway (its current bytes are backed up first)",
                            path.display(),
                            run.id
                        ),
                    ));
                }
                Changed::Keep => {
                    kept.push(path.display().to_string());
                    continue;
                }
                Changed::Restore => {}
            }
        }
        let copy = e.backup.as_ref().map(|name| set.join(name));
        let bytes = match &copy {
            Some(c) => Some(read_copy(c, e.sha256_before.as_deref())?),
            // The run created it: undoing the run removes it.
            None if e.sha256_before.is_none() => None,
            // It existed, yet the set holds no copy: never remove it on that word.
            None => {
                return Err(Error::new(
                    Kind::Confinement,
                    format!(
                        "{}: run {} has no backup of it, yet it existed before; restore by hand, and check the install's .clawmigrate folder for tampering",
                        path.display(),
                        run.id
                    ),
                ));
            }
        };
        out.push(Restore {
            location: store.record(root, None).unwrap_or_else(|_| e.path.clone()),
            store,
            now,
            bytes,
            mode: e.mode.map(|m| m & 0o777),
            copy,
        });
    }
    Ok((out, kept))
}

/// An absolute path recorded by an older clawmigrate, accepted only when it lies inside the
/// install as a plain path.
fn legacy_inside(root: &InstallRoot, recorded: &str) -> Option<PathBuf> {
    let rel = Path::new(recorded).strip_prefix(&root.state_dir).ok()?;
    location::resolve(root, rel.to_str()?, &mut |_| None).ok()
}

/// Reads a backup copy and checks it against the hash the manifest recorded.
pub fn read_copy(copy: &Path, sha: Option<&str>) -> Result<Vec<u8>, Error> {
    let bytes = fsio::read_regular(copy, true)
        .and_then(|b| b.ok_or_else(|| std::io::ErrorKind::NotFound.into()))
        .map_err(|e| Error::io(copy, "cannot read the backup copy", &e))?;
    if Some(sha256_hex(&bytes).as_str()) != sha {
        return Err(Error::new(
            Kind::Confinement,
            format!(
                "{}: the backup copy does not match its recorded hash; restore by hand",
                copy.display()
            ),
        ));
    }
    Ok(bytes)
}

/// An agent-dir finder over the install's current config, loaded on first use.
fn agent_dirs(root: &InstallRoot, home: &Path) -> impl FnMut(&str) -> Option<PathBuf> {
    let root = root.clone();
    let home = home.to_path_buf();
    let mut agents: Option<Vec<discover::Agent>> = None;
    move |id| {
        let list = agents.get_or_insert_with(|| {
            crate::document::include::read_config(&root.config_path)
                .map(|c| discover::agents(&root, &c, &home).0)
                .unwrap_or_default()
        });
        list.iter().find(|a| a.id == id).map(|a| a.dir.clone())
    }
}
