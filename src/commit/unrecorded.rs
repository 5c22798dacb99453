//! Writing a template (a config kept in git, `migrate --config`): the commit layer's staged temp
//! files, last byte check and atomic rename (mode, owner and ACLs kept), with none of what
//! `.clawmigrate/` holds for an install (no run lock, backup set or ledger): git holds its history.
use super::{Change, barrier};
use crate::error::{Error, Kind};
use crate::hash::sha256_hex;
use crate::storage::{Pending, Transactions};
use std::path::PathBuf;

/// Writes `changes` as a unit: every new text staged beside its file and flushed (one barrier),
/// then each renamed over its file only while the file still holds the bytes planned on (as
/// every run writes), then one barrier. When a write fails after others, those are put back from
/// the bytes planned on, through the same checked write; the error says what became of them.
/// Returns the locations written.
pub fn write(changes: &[Change]) -> Result<Vec<String>, Error> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut staged: Vec<(&Change, Pending)> = Vec::new();
    for c in changes {
        let route = c.store.route();
        dirs.extend(route.dir().map(std::path::Path::to_path_buf));
        staged.push((c, route.stage(c.after, c.mode, c.xattrs_from.as_deref())?));
    }
    dirs.sort();
    dirs.dedup();
    // The new bytes are on disk before any rename: after a crash, each file is old or new.
    barrier(&dirs)?;
    let none = Transactions::default();
    let mut written: Vec<&Change> = Vec::new();
    // The changes not reached when one fails are dropped with their temp files.
    for (c, pending) in staged {
        if let Err(e) = pending.write(c.expected.as_deref(), &none) {
            return Err(put_back(e, &written));
        }
        written.push(c);
    }
    barrier(&dirs)?;
    Ok(written.into_iter().map(|c| c.location.clone()).collect())
}

/// Puts back what was written before `e` stopped the write, newest first, each only while it
/// still holds what was written; says so in the error, naming any file that stays written.
fn put_back(e: Error, written: &[&Change]) -> Error {
    let mut left = Vec::new();
    for c in written.iter().rev() {
        let back =
            c.store.route().stage(c.before, None, None).and_then(|p| {
                p.write(c.after.map(sha256_hex).as_deref(), &Transactions::default())
            });
        if let Err(why) = back {
            left.push(format!("{} ({})", c.store.path().display(), why.message));
        }
    }
    if written.is_empty() {
        return e.map_message(|m| format!("{m}; nothing was written"));
    }
    if left.is_empty() {
        return e.map_message(|m| {
            format!(
                "{m}; the {} files written before it were put back, so nothing changed",
                written.len()
            )
        });
    }
    Error::new(
        Kind::Partial,
        format!(
            "{}; what was written before it could not all be put back: still written: {}",
            e.message,
            left.join(", ")
        ),
    )
    .hinted("check the files with `git diff` and restore them with `git checkout -- FILE`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Store;
    use std::os::unix::fs::PermissionsExt;

    fn change<'a>(store: &'a Store, before: &'a str, after: &'a str) -> Change<'a> {
        Change {
            store,
            location: store.path().file_name().unwrap().to_string_lossy().into(),
            expected: Some(sha256_hex(before.as_bytes())),
            before: Some(before.as_bytes()),
            after: Some(after.as_bytes()),
            mode: None,
            xattrs_from: None,
        }
    }

    #[test]
    fn writes_in_place_keeping_the_mode_and_leaving_nothing_beside() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("base.json5");
        std::fs::write(&p, "{a: 1}\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let store = Store::File(p.clone());
        let done = write(&[change(&store, "{a: 1}\n", "{a: 2}\n")]).unwrap();
        assert_eq!(done, ["base.json5"]);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{a: 2}\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp file, no .clawmigrate: {names:?}");
    }

    #[test]
    fn a_file_changed_since_it_was_planned_stops_the_write_and_the_others_are_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json5"), dir.path().join("b.json5"));
        std::fs::write(&a, "{a: 1}\n").unwrap();
        // b was planned on other bytes than it holds now (another writer).
        std::fs::write(&b, "{b: 'edited'}\n").unwrap();
        let (sa, sb) = (Store::File(a.clone()), Store::File(b.clone()));
        let e = write(&[
            change(&sa, "{a: 1}\n", "{a: 2}\n"),
            change(&sb, "{b: 1}\n", "{b: 2}\n"),
        ])
        .unwrap_err();
        assert_eq!(e.kind, Kind::Changed, "{e}");
        assert!(
            e.message.contains("b.json5") && e.message.contains("put back"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "{a: 1}\n");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "{b: 'edited'}\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2, "no temp file left: {names:?}");
    }
}
