//! Safe file writing: private dirs, atomic replace (temp file, fsync, rename) keeping mode and owner.
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Creates a directory (and parents) with mode 0700 for what this tool creates.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Follows a symlink to the file it names, as OpenClaw does when it writes. A file that is not a
/// link is written where it is: one `lstat` instead of resolving every component of its path.
pub fn real_path(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_symlink() => path.to_path_buf(),
        _ => fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// The directory a file is in: a bare file name (`plan.json`, whose `parent()` is empty) is in `.`.
pub fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsyncs a directory so a rename in it is durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// The mode and owner of an existing file, to carry over to its replacement.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

pub fn keep_of(path: &Path) -> Option<Keep> {
    fs::metadata(path).ok().map(|m| Keep {
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
    })
}

/// Mode 0600 and the owner of the directory `path` would be created in: what a file this tool
/// creates takes (the install's owner, not root's).
pub fn owner_of_dir(path: &Path) -> Keep {
    let dir = path.parent().unwrap_or(Path::new("."));
    let m = fs::metadata(dir).ok();
    Keep {
        mode: 0o600,
        uid: m.as_ref().map_or(0, |m| m.uid()),
        gid: m.as_ref().map_or(0, |m| m.gid()),
    }
}

/// A written but not yet renamed temp file beside its target.
pub struct Staged {
    temp: tempfile::NamedTempFile,
    pub target: PathBuf,
    /// The mode it takes right before the rename (it stays 0600 until then).
    mode: u32,
}

/// How this tool names its temp files: `.clawmigrate-XXXXXX.tmp` (six random letters or digits).
const TEMP_PREFIX: &str = ".clawmigrate-";
const TEMP_SUFFIX: &str = ".tmp";
const TEMP_RAND: usize = 6;

/// Whether a file name is exactly one of this tool's temp file names (and nothing else).
pub fn is_temp_name(name: &std::ffi::OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|r| r.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|r| r.len() == TEMP_RAND && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Writes bytes to a temp file in the target's directory with the target's owner, and fsyncs it
/// when `durable`. The temp file is 0600 while it holds the new bytes (a crash may leave it
/// behind, and it can hold a key); it takes the target's mode (0600 for a new file) only in
/// [`Staged::commit`], right before the rename.
pub fn stage(
    target: &Path,
    bytes: &[u8],
    keep: Option<Keep>,
    durable: bool,
) -> std::io::Result<Staged> {
    let dir = dir_of(target);
    private_dir(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .rand_bytes(TEMP_RAND)
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    let mode = keep.map_or(0o600, |k| k.mode);
    if let Some(k) = keep {
        let meta = temp.as_file().metadata()?;
        if meta.uid() != k.uid || meta.gid() != k.gid {
            std::os::unix::fs::fchown(temp.as_file(), Some(k.uid), Some(k.gid))?;
        }
    }
    temp.write_all(bytes)?;
    if durable {
        temp.as_file().sync_all()?;
    }
    Ok(Staged {
        temp,
        target: target.to_path_buf(),
        mode,
    })
}

impl Staged {
    /// Renames the temp file over the target (atomic on POSIX).
    pub fn commit(self) -> std::io::Result<()> {
        if self.mode != 0o600 {
            self.temp
                .as_file()
                .set_permissions(fs::Permissions::from_mode(self.mode))?;
        }
        self.temp
            .persist(&self.target)
            .map(|_| ())
            .map_err(|e| e.error)
    }
}

/// Writes a whole file atomically and durably, then syncs its directory.
pub fn write_atomic(target: &Path, bytes: &[u8], keep: Option<Keep>) -> std::io::Result<()> {
    stage(target, bytes, keep, true)?.commit()?;
    sync_dir(dir_of(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_file_name_is_in_the_working_directory() {
        assert_eq!(dir_of(Path::new("plan.json")), Path::new("."));
        assert_eq!(dir_of(Path::new("out/plan.json")), Path::new("out"));
        assert_eq!(dir_of(Path::new("/plan.json")), Path::new("/"));
    }

    #[test]
    fn temp_files_are_private_until_renamed_and_named_as_swept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("models.json");
        let keep = Keep {
            mode: 0o644,
            uid: unsafe { libc::geteuid() },
            gid: unsafe { libc::getegid() },
        };
        let s = stage(&target, b"{}", Some(keep), false).unwrap();
        let temps: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(temps.len(), 1);
        assert!(
            is_temp_name(&temps[0].file_name()),
            "{:?}",
            temps[0].file_name()
        );
        assert_eq!(temps[0].metadata().unwrap().mode() & 0o777, 0o600);
        s.commit().unwrap();
        assert_eq!(fs::metadata(&target).unwrap().mode() & 0o777, 0o644);
        for other in [
            ".clawmigrate-abc.tmp",
            ".clawmigrate-abcdef.tmp.x",
            "clawmigrate-abcdef.tmp",
            ".clawmigrate-abc/ef.tmp",
            ".clawmigrate-abcde-.tmp",
        ] {
            assert!(!is_temp_name(std::ffi::OsStr::new(other)), "{other}");
        }
    }
}
