//! How a change reaches its store, for the commit layer: a file is replaced by renaming a temp
//! file over it (or removed) after a last check of its bytes; a cell is written in one
//! transaction that checks its old value first.
use super::{Store, read_file};
use crate::error::{Error, Kind};
use crate::fsio::{self, Keep, Staged};
use crate::hash::sha256_hex;
use crate::storage::cell::{self, Cell};
use std::path::{Path, PathBuf};

/// How a change to a store will be written, known before its backup (which it shapes).
pub enum Route {
    /// A file, renamed over at its real path (a symlink's target, as OpenClaw writes through
    /// it); `keep` is the mode and owner it has, which its replacement keeps.
    Rename {
        path: PathBuf,
        real: PathBuf,
        keep: Option<Keep>,
    },
    /// A cell of the database at the path, written in place in a transaction.
    Transaction(PathBuf, Cell),
}

impl Store {
    /// How a change to it will be written.
    pub fn route(&self) -> Route {
        match self {
            Store::File(path) => {
                let real = fsio::real_path(path);
                let keep = fsio::keep_of(&real);
                Route::Rename {
                    path: path.clone(),
                    real,
                    keep,
                }
            }
            Store::Cell(db, c) => Route::Transaction(db.clone(), c.clone()),
        }
    }
}

impl Route {
    /// The file whose inode may stand in for a backup copy (see `backup::create`): a file is
    /// renamed over (or removed) only after a check of its bytes, so its old inode keeps them. A
    /// cell's old value is copied.
    pub fn link_from(&self) -> Option<&Path> {
        match self {
            Route::Rename { real, .. } => Some(real),
            Route::Transaction(..) => None,
        }
    }

    /// The mode it has now, recorded for rollback.
    pub fn mode(&self) -> Option<u32> {
        match self {
            Route::Rename { keep, .. } => keep.map(|k| k.mode),
            Route::Transaction(..) => None,
        }
    }

    /// The directory a rename happens in, which the commit's barriers flush; SQLite writes a
    /// cell in its own transaction.
    pub fn dir(&self) -> Option<&Path> {
        self.link_from().and_then(Path::parent)
    }

    /// Stages the new bytes (`None`: the change removes the file, or the cell's row). A file's
    /// go to a temp file beside it, with its mode and owner (or `mode`, a rollback's recorded
    /// one) and the extended attributes of `xattrs_from` (by default its own).
    pub fn stage(
        self,
        after: Option<&[u8]>,
        mode: Option<u32>,
        xattrs_from: Option<&Path>,
    ) -> Result<Pending, Error> {
        let (path, real, keep) = match self {
            Route::Transaction(db, cell) => {
                let new = after.map(|b| String::from_utf8_lossy(b).into_owned());
                return Ok(Pending::Transaction(db, cell, new));
            }
            Route::Rename { path, real, keep } => (path, real, keep),
        };
        let keep = match (keep, mode) {
            (Some(k), Some(m)) => Some(Keep { mode: m, ..k }),
            (Some(k), None) => Some(k),
            (None, Some(m)) => Some(Keep {
                mode: m,
                ..fsio::owner_of_dir(&real)
            }),
            (None, None) => None,
        };
        let Some(bytes) = after else {
            return Ok(Pending::Rename {
                path,
                real,
                temp: None,
            });
        };
        let t = fsio::stage(&real, bytes, keep, false)
            .map_err(|e| Error::io(&path, "cannot write", &e))?;
        let from = xattrs_from.unwrap_or(&real);
        if from.exists() {
            // The final mode, set at the rename, also sets the ACL's mask (a backup sealed 0600
            // carries a narrowed one).
            fsio::copy_xattrs(from, t.file()).map_err(|e| {
                let how = format!("{}: {e}", path.display());
                Error::new(Kind::of_io(&e), how)
            })?;
        }
        Ok(Pending::Rename {
            path,
            real,
            temp: Some(t),
        })
    }
}

/// A change staged, waiting for its write.
pub enum Pending {
    /// A file's temp file beside its real path (`None`: the file is removed).
    Rename {
        path: PathBuf,
        real: PathBuf,
        temp: Option<Staged>,
    },
    /// A cell's new value (`None`: its row is removed).
    Transaction(PathBuf, Cell, Option<String>),
}

impl Pending {
    /// Whether it is written before the renames: a cell is written in its database's
    /// transaction, held from before the first write (see [`Transactions`]).
    pub fn goes_first(&self) -> bool {
        matches!(self, Pending::Transaction(..))
    }

    /// Writes it if its store still holds the bytes whose sha256 is `expected` (`None`: absent);
    /// stops, naming it, otherwise. A cell is written in its database's transaction among `held`
    /// (kept only once they are committed), or in one of its own when `held` has none.
    pub fn write(self, expected: Option<&str>, held: &Transactions) -> Result<(), Error> {
        let (path, real, temp) = match self {
            Pending::Transaction(db, cell, new) => {
                let written = match held.0.iter().find(|t| t.db() == db) {
                    Some(t) => t.write(&cell, expected, new.as_deref()),
                    None => cell::write(&db, &cell, expected, new.as_deref()),
                };
                return written.map_err(Error::from);
            }
            Pending::Rename { path, real, temp } => (path, real, temp),
        };
        if read_file(&path)?.as_deref().map(sha256_hex).as_deref() != expected {
            return Err(Error::new(
                Kind::Changed,
                format!(
                    "{} changed since it was planned (another writer), so it was not written",
                    path.display(),
                ),
            ));
        }
        match temp {
            Some(t) => t.commit(),
            None => std::fs::remove_file(&real),
        }
        .map_err(|e| Error::io(&path, "cannot replace", &e))
    }
}

/// The write transactions of the databases an install's cells are written in: all taken before
/// its first write, so a database another writer holds stops the install with nothing written,
/// and committed after its last, so a failure before leaves every cell as it was.
#[derive(Default)]
pub struct Transactions(Vec<cell::Txn>);

impl Transactions {
    /// Takes the write transaction of every database a cell among `pending` is in, waiting up to
    /// the busy timeout for each.
    pub fn begin<'a>(pending: impl IntoIterator<Item = &'a Pending>) -> Result<Self, Error> {
        let mut held = Transactions::default();
        for p in pending {
            if let Pending::Transaction(db, ..) = p
                && !held.0.iter().any(|t| t.db() == db)
            {
                held.0.push(cell::begin(db)?);
            }
        }
        Ok(held)
    }

    /// Commits them in order; on a failure, the databases committed before it (whose cells are
    /// written) and why.
    pub fn commit(self) -> Result<(), (Vec<PathBuf>, Error)> {
        let mut done = Vec::new();
        for t in self.0 {
            let db = t.db().to_path_buf();
            t.commit().map_err(|e| (done.clone(), e.into()))?;
            done.push(db);
        }
        Ok(())
    }
}
