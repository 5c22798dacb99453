//! Backup sets: the exact bytes of every file a run changes, with a manifest, kept in the install.
use crate::error::{Error, Kind};
use crate::fsio;
use crate::ledger;
use serde::{Deserialize, Serialize};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The file's location relative to the install (see `location`), never an absolute path.
    pub path: String,
    /// The backup copy's name inside the set; `None` when the run created the file.
    pub backup: Option<String>,
    pub sha256_before: Option<String>,
    /// `None` when the run removed the file.
    pub sha256_after: Option<String>,
    /// The file's mode before the run (octal), when it existed.
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: u32,
    pub run_id: String,
    pub files: Vec<Entry>,
}

/// `<state>/.clawmigrate/backups/<run-id>`: outside OpenClaw's `.bak` ring, which it prunes.
pub fn set_dir(state_dir: &Path, run_id: &str) -> PathBuf {
    ledger::dir(state_dir).join("backups").join(run_id)
}

/// What to save of one file: its path, the bytes before (if it existed) and the hash after.
pub struct Item<'a> {
    pub path: &'a Path,
    /// Where the file is, as recorded (relative to the install).
    pub location: &'a str,
    pub before: Option<&'a [u8]>,
    /// The file (a symlink's target) whose inode may stand in for a copy of `before`: set only
    /// by a caller that replaces the file by rename and checks its bytes right before, so the
    /// old inode keeps exactly `before` (see [`create`]).
    pub link_from: Option<&'a Path>,
    pub sha256_before: Option<String>,
    pub sha256_after: Option<String>,
    pub mode: Option<u32>,
}

/// Writes the set in a 0700 dir, then the manifest; made durable by the commit's first barrier.
///
/// A file with `link_from` is saved as a hard link to its own inode: no bytes are written and no
/// inode is allocated, which halves what a fleet run creates. This is exact because the file is
/// then replaced by a rename (never written in place), after a check that its bytes are still
/// `before`; the old inode, now reachable only from the set, keeps those bytes. Where a link is not
/// possible (another filesystem, `protected_hardlinks`) the bytes are copied, mode 0600. Rollback
/// checks every copy against `sha256_before` before it restores it.
pub fn create(state_dir: &Path, run_id: &str, items: &[Item]) -> std::io::Result<Set> {
    let dir = fsio::own_dir(
        state_dir,
        &Path::new(ledger::DIR).join("backups").join(run_id),
    )?;
    let mut files = Vec::new();
    let (mut links, mut copies) = (Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        let backup = match item.before {
            Some(bytes) => {
                // Named after the location's last part: `models.json`, or
                // `openclaw.sqlite#authProfiles.store` for a cell.
                let name = format!(
                    "{:04}-{}",
                    i + 1,
                    item.location.rsplit('/').next().unwrap_or_default()
                );
                let copy = dir.join(&name);
                let linked = item
                    .link_from
                    .is_some_and(|from| std::fs::hard_link(from, &copy).is_ok());
                if linked {
                    links.push(Some(LinkedBackup(Some(copy.clone()))));
                } else {
                    let staged = fsio::stage(&copy, bytes, None, false)?;
                    // A copy keeps the file's extended attributes (ACLs), for rollback.
                    if let Some(from) = item.link_from {
                        fsio::copy_xattrs(from, staged.file())?;
                    }
                    staged.commit()?;
                    links.push(None);
                }
                copies.push(Some(copy));
                Some(name)
            }
            None => {
                links.push(None);
                copies.push(None);
                None
            }
        };
        files.push(Entry {
            path: item.location.to_string(),
            backup,
            sha256_before: item.sha256_before.clone(),
            sha256_after: item.sha256_after.clone(),
            mode: item.mode,
        });
    }
    let manifest = Manifest {
        schema: 1,
        run_id: run_id.to_string(),
        files,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    bytes.push(b'\n');
    fsio::stage(&dir.join("manifest.json"), &bytes, None, false)?.commit()?;
    Ok(Set { links, copies })
}

/// A written backup set.
pub struct Set {
    /// Per item, the copy that is a hard link to the file's inode (see [`create`]).
    pub links: Vec<Option<LinkedBackup>>,
    /// Per item, its copy (linked or written; `None` when the file did not exist).
    pub copies: Vec<Option<PathBuf>>,
}

/// A backup that is a hard link to a live file's inode. Sealed once the file was renamed over
/// (it is then the old inode's only name). Dropped unsealed (the file was not renamed, whatever
/// the reason), it is removed, so the set never changes with the live file; the manifest still
/// records the file's hash.
pub struct LinkedBackup(Option<PathBuf>);

impl LinkedBackup {
    /// Makes the copy private like a written one: 0600.
    pub fn seal(mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
        }
    }
}

impl Drop for LinkedBackup {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Reads the manifest of run `run_id`'s set. The set is found from the run id alone (never from
/// a recorded path), and every copy it names must be a plain file name inside it.
pub fn read_manifest(state_dir: &Path, run_id: &str) -> Result<(PathBuf, Manifest), Error> {
    if !ledger::valid_id(run_id) {
        return Err(Error::new(
            Kind::Confinement,
            format!(
                "{}: the ledger records a run id {run_id:?} that is not a valid id; check the install's .clawmigrate folder for tampering",
                state_dir.display()
            ),
        ));
    }
    let dir = set_dir(state_dir, run_id);
    let p = dir.join("manifest.json");
    let bytes = fsio::read_regular(&p, true)
        .and_then(|b| b.ok_or_else(|| std::io::ErrorKind::NotFound.into()))
        .map_err(|e| Error::io(&p, "cannot read the backup manifest", &e))?;
    let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        Error::new(
            Kind::Parse,
            format!(
                "{}: unreadable backup manifest: {}",
                p.display(),
                crate::error::describe_json_error(&e)
            ),
        )
    })?;
    let bad_copy = m
        .files
        .iter()
        .filter_map(|e| e.backup.as_deref())
        .find(|b| !crate::location::plain_name(b));
    if m.run_id != run_id || bad_copy.is_some() {
        return Err(Error::new(
            Kind::Confinement,
            format!(
                "{}: the manifest does not belong to run {run_id} or names a copy outside its set; check the install's .clawmigrate folder for tampering",
                p.display()
            ),
        ));
    }
    Ok((dir, m))
}
