//! Does an install's file work with its owner's rights. Run as root over installs others own,
//! each worker thread takes the state dir owner's filesystem uid, gid and groups for the length
//! of one install's work, so the kernel itself refuses whatever the owner could not read or
//! write (a link or `agentDir` into another user's files, a root-only file), and every file and
//! folder the tool creates belongs to the owner.
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// Whose rights an install's work runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    uid: libc::uid_t,
    gid: libc::gid_t,
    groups: Vec<libc::gid_t>,
}

/// Runs `f` with the rights of the owner of `state_dir` when this process is root and someone
/// else owns it; otherwise (not root, or a root-owned install) as the process itself.
pub fn as_owner<R>(state_dir: &Path, f: impl FnOnce() -> R) -> R {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return f();
    }
    let Ok(meta) = std::fs::metadata(state_dir) else {
        return f(); // nothing to act on: the work itself reports the missing dir
    };
    let uid = std::os::unix::fs::MetadataExt::uid(&meta);
    if uid == 0 {
        return f();
    }
    let gid = std::os::unix::fs::MetadataExt::gid(&meta);
    let owner = Owner {
        uid,
        gid,
        groups: groups_of(uid, gid),
    };
    let _back = Switched::to(&owner);
    f()
}

/// The thread's identity switched to an owner's; switched back to what it was when dropped (also
/// when the work panics). What it was need not be root: rayon runs other installs' work on a
/// thread that waits inside one install's (a nested switch), and the outer owner must then come
/// back, not root.
struct Switched {
    uid: libc::uid_t,
    gid: libc::gid_t,
    groups: Vec<libc::gid_t>,
}

/// This thread's filesystem uid and gid (set to an invalid id, which changes nothing and returns
/// the current one).
fn thread_fs_ids() -> (libc::uid_t, libc::gid_t) {
    // SAFETY: plain system calls; -1 is rejected, so nothing changes.
    unsafe {
        (
            libc::syscall(libc::SYS_setfsuid, -1i32) as libc::uid_t,
            libc::syscall(libc::SYS_setfsgid, -1i32) as libc::gid_t,
        )
    }
}

impl Switched {
    fn to(o: &Owner) -> Switched {
        let groups = thread_groups();
        let (uid, gid) = thread_fs_ids();
        // Raw system calls on purpose: glibc's wrappers for setgroups change every thread of
        // the process; the system calls change only this one. The order matters: groups and gid
        // while the thread still has its capabilities, the uid last.
        // SAFETY: plain system calls on this thread's credentials, with a valid buffer.
        unsafe {
            libc::syscall(libc::SYS_setgroups, o.groups.len(), o.groups.as_ptr());
            libc::syscall(libc::SYS_setfsgid, o.gid);
            libc::syscall(libc::SYS_setfsuid, o.uid);
        }
        Switched { uid, gid, groups }
    }
}

impl Drop for Switched {
    fn drop(&mut self) {
        // SAFETY: as above; fsuid 0 first, which gives back the capabilities needed for the rest,
        // then the groups and ids the thread had.
        unsafe {
            libc::syscall(libc::SYS_setfsuid, 0);
            libc::syscall(libc::SYS_setfsgid, self.gid);
            libc::syscall(libc::SYS_setgroups, self.groups.len(), self.groups.as_ptr());
            libc::syscall(libc::SYS_setfsuid, self.uid);
        }
    }
}

/// This thread's supplementary groups.
fn thread_groups() -> Vec<libc::gid_t> {
    let mut buf = vec![0 as libc::gid_t; 256];
    // SAFETY: getgroups writes at most `len` entries into the buffer.
    let n = unsafe { libc::getgroups(buf.len() as libc::c_int, buf.as_mut_ptr()) };
    buf.truncate(n.max(0) as usize);
    buf
}

/// The groups a user is in (its primary group alone when it has no passwd entry), cached.
fn groups_of(uid: libc::uid_t, gid: libc::gid_t) -> Vec<libc::gid_t> {
    type Groups = HashMap<(u32, u32), Vec<libc::gid_t>>;
    static CACHE: OnceLock<Mutex<Groups>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(g) = cache.lock().expect("not poisoned").get(&(uid, gid)) {
        return g.clone();
    }
    let groups = lookup_groups(uid, gid).unwrap_or_else(|| vec![gid]);
    cache
        .lock()
        .expect("not poisoned")
        .insert((uid, gid), groups.clone());
    groups
}

/// This process's user's home directory, from passwd (for when HOME is not set).
pub fn own_home() -> Option<std::path::PathBuf> {
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r fills `pw` with pointers into `buf`, both alive for this function; the
    // home is copied out before they go.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::geteuid(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    if rc != 0 || found.is_null() || pw.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir is a NUL-terminated string inside `buf`.
    let dir = unsafe { std::ffi::CStr::from_ptr(pw.pw_dir) };
    use std::os::unix::ffi::OsStrExt;
    Some(std::ffi::OsStr::from_bytes(dir.to_bytes()).into())
}

fn lookup_groups(uid: libc::uid_t, gid: libc::gid_t) -> Option<Vec<libc::gid_t>> {
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r fills `pw` with pointers into `buf`, both alive for this function.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() {
        return None;
    }
    let mut n: libc::c_int = 64;
    let mut groups = vec![0 as libc::gid_t; n as usize];
    // SAFETY: pw_name points into `buf`; getgrouplist writes at most `n` entries.
    let rc = unsafe { libc::getgrouplist(pw.pw_name, gid, groups.as_mut_ptr(), &mut n) };
    if rc < 0 {
        groups.resize(n.max(0) as usize, 0);
        // SAFETY: as above, with the size it asked for.
        let rc = unsafe { libc::getgrouplist(pw.pw_name, gid, groups.as_mut_ptr(), &mut n) };
        if rc < 0 {
            return None;
        }
    }
    groups.truncate(n.max(0) as usize);
    Some(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_switch_inside_another_gives_back_the_outer_owner_not_root() {
        if unsafe { libc::geteuid() } != 0 {
            return; // the switch only happens as root; CI runs as root
        }
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for (d, uid) in [(&a, 4242), (&b, 4343)] {
            std::fs::create_dir(d).unwrap();
            std::os::unix::fs::chown(d, Some(uid), Some(uid)).unwrap();
        }
        let seen = as_owner(&a, || {
            let inner = as_owner(&b, thread_fs_ids);
            (inner, thread_fs_ids())
        });
        assert_eq!(seen, ((4343, 4343), (4242, 4242)));
        assert_eq!(thread_fs_ids(), (0, 0));
    }

    #[test]
    fn work_for_another_owner_creates_their_files_and_cannot_touch_roots() {
        if unsafe { libc::geteuid() } != 0 {
            return; // the switch only happens as root; CI runs as root
        }
        let dir = tempfile::tempdir().unwrap();
        let st = dir.path().join("st");
        std::fs::create_dir(&st).unwrap();
        std::os::unix::fs::chown(&st, Some(4242), Some(4243)).unwrap();
        let root_only = dir.path().join("root-only");
        std::fs::write(&root_only, "x").unwrap();
        std::fs::set_permissions(
            &root_only,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let (made, read) = as_owner(&st, || {
            let made = std::fs::write(st.join("new"), "y");
            (made, std::fs::read(&root_only))
        });
        made.unwrap();
        let m = std::fs::metadata(st.join("new")).unwrap();
        assert_eq!((m.uid(), m.gid()), (4242, 4243));
        assert_eq!(
            read.unwrap_err().kind(),
            std::io::ErrorKind::PermissionDenied
        );
        // Back to root afterwards.
        assert!(std::fs::read(&root_only).is_ok());
        std::fs::write(dir.path().join("as-root"), "z").unwrap();
        assert_eq!(
            std::fs::metadata(dir.path().join("as-root")).unwrap().uid(),
            0
        );
    }
}
