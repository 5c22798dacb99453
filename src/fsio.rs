//! Safe file writing: private dirs, atomic replace (temp file, fsync, rename) keeping mode and owner.
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The largest file clawmigrate reads (64 MiB, far above any real OpenClaw file; set with
/// `--max-file-bytes` or `CLAWMIGRATE_MAX_FILE_BYTES`).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;

static MAX_FILE_BYTES: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(DEFAULT_MAX_FILE_BYTES);

/// Sets the read cap for this process (from the command line).
pub fn set_max_file_bytes(n: u64) {
    MAX_FILE_BYTES.store(n, std::sync::atomic::Ordering::Relaxed);
}

pub fn max_file_bytes() -> u64 {
    MAX_FILE_BYTES.load(std::sync::atomic::Ordering::Relaxed)
}

/// Reads a whole file, bounded: only a regular file is read (a FIFO, device, socket or
/// directory is refused without blocking: see [`open_regular`]), and a file over the read cap is
/// refused. `Ok(None)` when it does not exist. Links are followed, as OpenClaw does; `nofollow`
/// refuses a link instead (this tool's own files).
pub fn read_regular(path: &Path, nofollow: bool) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let Some((f, len)) = open_regular(path, nofollow)? else {
        return Ok(None);
    };
    let cap = max_file_bytes();
    let mut bytes = Vec::with_capacity(len as usize);
    f.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_big(cap));
    }
    Ok(Some(bytes))
}

/// Opens a file to read, and its length: only a regular file within the read cap. The check is
/// made on the open file (opened non-blocking, so a FIFO or device never holds the open up), not
/// on the name, so nothing can be swapped in between. `Ok(None)` when it does not exist; links as
/// in [`read_regular`].
pub fn open_regular(path: &Path, nofollow: bool) -> std::io::Result<Option<(fs::File, u64)>> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if nofollow {
        flags |= libc::O_NOFOLLOW;
    }
    let f = match fs::File::options()
        .read(true)
        .custom_flags(flags)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) && nofollow => {
            return Err(std::io::Error::other(NotFollowed));
        }
        Err(e) => return Err(e),
    };
    let meta = f.metadata()?;
    if !meta.file_type().is_file() {
        return Err(not_regular(&meta.file_type()));
    }
    let cap = max_file_bytes();
    if meta.len() > cap {
        return Err(too_big(cap));
    }
    Ok(Some((f, meta.len())))
}

/// Why a file that is not a regular one is not read (kind `limit`, see `Kind::of_io`).
pub fn not_regular(t: &fs::FileType) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "is not a regular file (a {}); only regular files are read",
            kind_of(t)
        ),
    )
}

/// A link where this tool follows none (its own files): a confinement refusal.
#[derive(Debug)]
pub struct NotFollowed;

impl std::fmt::Display for NotFollowed {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("is a symbolic link, which clawmigrate does not follow for its own files; check the install for tampering")
    }
}

impl std::error::Error for NotFollowed {}

fn too_big(cap: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!(
            "is larger than the read cap of {cap} bytes; no OpenClaw file is this large, so check it (or raise the cap with --max-file-bytes)"
        ),
    )
}

/// What a non-regular file is, for messages.
fn kind_of(t: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

/// This tool's own folder below `base` (the state dir), e.g. `.clawmigrate/backups/<id>`: each
/// part is created 0700 when missing, and a part that is a symbolic link (or not a directory) is
/// refused, never followed, so a crafted link cannot send the tool's writes elsewhere.
pub fn own_dir(base: &Path, rel: &Path) -> std::io::Result<PathBuf> {
    let mut at = base.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(m) => {
                let what = if m.file_type().is_symlink() {
                    "a symbolic link"
                } else {
                    "not a directory"
                };
                return Err(std::io::Error::other(format!(
                    "{} is {what}; clawmigrate keeps its files only in a real folder of the install. Move it aside and run again",
                    at.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match fs::DirBuilder::new().mode(0o700).create(&at) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(at)
}

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
/// A builder of this tool's temp names (files here, a lock's staging dir in `lock`): the
/// one naming the recovery sweep looks for.
pub fn temp_names() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .rand_bytes(TEMP_RAND);
    b
}

pub fn stage(
    target: &Path,
    bytes: &[u8],
    keep: Option<Keep>,
    durable: bool,
) -> std::io::Result<Staged> {
    let dir = dir_of(target);
    private_dir(dir)?;
    let mut temp = temp_names()
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
    /// The temp file, open.
    pub fn file(&self) -> &fs::File {
        self.temp.as_file()
    }

    /// Renames the temp file over the target (atomic on POSIX). Its final mode is set only now
    /// (it is 0600 while it waits), and always: a POSIX ACL copied onto it has its mask set
    /// from the group bits this way, as the file had it.
    pub fn commit(self) -> std::io::Result<()> {
        self.temp
            .as_file()
            .set_permissions(fs::Permissions::from_mode(self.mode))?;
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

/// Copies the extended attributes of `from` (POSIX ACLs are among them:
/// `system.posix_acl_access`) onto an open file, so a replaced file keeps them. The `security.`
/// and `trusted.` namespaces belong to the system, not the file's owner: they are copied where
/// allowed and otherwise left to the system's policy.
pub fn copy_xattrs(from: &Path, to: &fs::File) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(from.as_os_str().as_bytes())?;
    let names = xattr_call(|buf, len| unsafe {
        // SAFETY: listxattr writes at most `len` bytes into `buf`.
        libc::listxattr(c.as_ptr(), buf as *mut libc::c_char, len)
    })?;
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let cname = std::ffi::CString::new(name)?;
        let value = xattr_call(|buf, len| unsafe {
            // SAFETY: getxattr writes at most `len` bytes into `buf`.
            libc::getxattr(c.as_ptr(), cname.as_ptr(), buf as *mut libc::c_void, len)
        })?;
        // SAFETY: fsetxattr reads `value.len()` bytes from a live buffer.
        let rc = unsafe {
            libc::fsetxattr(
                std::os::fd::AsRawFd::as_raw_fd(to),
                cname.as_ptr(),
                value.as_ptr() as *const libc::c_void,
                value.len(),
                0,
            )
        };
        let system = name.starts_with(b"security.") || name.starts_with(b"trusted.");
        if rc != 0 && !system {
            let e = std::io::Error::last_os_error();
            return Err(std::io::Error::other(format!(
                "cannot keep its extended attribute {}: {e}",
                String::from_utf8_lossy(name)
            )));
        }
    }
    Ok(())
}

/// Runs a size-then-fill xattr call; an unsupported filesystem has no attributes.
fn xattr_call(call: impl Fn(*mut u8, usize) -> isize) -> std::io::Result<Vec<u8>> {
    loop {
        let n = call(std::ptr::null_mut(), 0);
        if n < 0 {
            let e = std::io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENOTSUP) | Some(libc::ENODATA) => Ok(Vec::new()),
                _ => Err(e),
            };
        }
        let mut buf = vec![0u8; n as usize];
        let got = call(buf.as_mut_ptr(), buf.len());
        if got >= 0 {
            buf.truncate(got as usize);
            return Ok(buf);
        }
        // ERANGE: it grew between the calls; ask again.
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::ERANGE) {
            return Err(std::io::Error::last_os_error());
        }
    }
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
