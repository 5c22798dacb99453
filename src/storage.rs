//! Where a document lives: a file, or a JSON value in a cell of a SQLite database (OpenClaw
//! 2026.6+ keeps auth stores there). Reading, hashing, naming, the location the ledger records,
//! and how a change is staged and written (`write`) dispatch here, so apply, commit, restore and
//! recovery never ask which kind a document is. Its parts: SQLite `cell`s, and the `stores` each
//! era keeps its agents' auth profiles in.
use crate::discover::InstallRoot;
use crate::error::{Error, Kind};
use crate::hash::sha256_hex;
use crate::{fsio, location};
use cell::Cell;
use std::path::{Path, PathBuf};

pub mod cell;
pub mod stores;
mod write;
pub use write::{Pending, Route, Transactions};

/// Where a document's bytes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// A file (a symlink is read and written through, as OpenClaw does).
    File(PathBuf),
    /// A JSON value in a cell of the SQLite database at the path.
    Cell(PathBuf, Cell),
}

impl Store {
    /// The file, or the database that holds the cell.
    pub fn path(&self) -> &Path {
        match self {
            Store::File(p) | Store::Cell(p, _) => p,
        }
    }

    /// The cell's name (`None` for a file), as the JSON report names it.
    pub fn cell_key(&self) -> Option<&'static str> {
        match self {
            Store::File(_) => None,
            Store::Cell(_, c) => Some(c.label),
        }
    }

    /// Where the routing state (`order`, `lastGood`, `usageStats`) of this auth store lives:
    /// `auth-state.json` beside `auth-profiles.json` (2026.4.22+; before, the store file itself
    /// holds it), or the state cell beside a store cell.
    pub fn state(&self) -> Option<Store> {
        match self {
            Store::File(p) => Some(Store::File(p.with_file_name("auth-state.json"))),
            Store::Cell(db, c) => c.state_of().map(|s| Store::Cell(db.clone(), s)),
        }
    }

    /// Whether OpenClaw keeps the value on one line with no line end (`JSON.stringify` without
    /// indent), as it writes a cell; a file it writes indented, ending in a newline.
    pub fn one_line(&self) -> bool {
        self.cell_key().is_some()
    }

    /// As the operator knows it, relative to the state dir: a file's path, or
    /// `state/openclaw.sqlite: authProfiles.store` for a cell.
    pub fn name(&self, state_dir: &Path) -> String {
        let path = crate::display::relative_path(state_dir, self.path());
        match self.cell_key() {
            Some(key) => format!("{path}: {key}"),
            None => path,
        }
    }

    /// The file OpenClaw's gateway takes its `proper-lockfile` lock on before it writes this store
    /// (an existing `auth-profiles.json`, at its real path), if any; a SQLite cell has the
    /// database's own locking, in its transaction.
    /// `auth-state.json` is written under the same lock as the `auth-profiles.json` beside it.
    pub fn openclaw_lock(&self) -> Option<PathBuf> {
        match self {
            Store::File(p) if p.file_name().is_some_and(|n| n == "auth-profiles.json") => {
                p.exists().then(|| fsio::real_path(p))
            }
            Store::File(p) if p.file_name().is_some_and(|n| n == "auth-state.json") => {
                Store::File(p.with_file_name("auth-profiles.json")).openclaw_lock()
            }
            _ => None,
        }
    }

    /// Its bytes now (`None`: absent), read without writing a byte (see `cell`).
    pub fn read(&self) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Store::File(p) => read_file(p),
            Store::Cell(db, c) => Ok(cell::read(db, c)?.map(String::into_bytes)),
        }
    }

    /// The sha256 of its bytes now (`None`: absent).
    pub fn current_sha(&self) -> Result<Option<String>, Error> {
        Ok(self.read()?.as_deref().map(sha256_hex))
    }

    /// Its location as the ledger records it (see `location`): a file's, or its database's,
    /// `#` and the cell's key (`state/openclaw.sqlite#authProfiles.store`).
    pub fn record(&self, root: &InstallRoot, agent: Option<&str>) -> Result<String, Error> {
        let file = location::record(root, self.path(), agent)?;
        Ok(match self.cell_key() {
            Some(key) => format!("{file}#{key}"),
            None => file,
        })
    }

    /// The store a recorded location names, `file` resolving its file's (or database's) part;
    /// a cell this tool does not know is refused like any other tampering, before any path is
    /// resolved.
    pub fn resolve(
        root: &InstallRoot,
        loc: &str,
        file: impl FnOnce(&str) -> Result<PathBuf, Error>,
    ) -> Result<Store, Error> {
        let Some((db, key)) = loc.split_once('#') else {
            return file(loc).map(Store::File);
        };
        let name = db.rsplit('/').next().unwrap_or(db);
        match cell::known(name, key) {
            Some(c) => Ok(Store::Cell(file(db)?, c)),
            None => Err(Error::new(
                Kind::Confinement,
                format!(
                    "{}: the ledger records the cell {loc:?}, which is no auth store clawmigrate writes; check the install's .clawmigrate folder for tampering",
                    root.state_dir.display()
                ),
            )),
        }
    }
}

/// A file's bytes now (`None`: it does not exist).
fn read_file(p: &Path) -> Result<Option<Vec<u8>>, Error> {
    fsio::read_regular(p, false).map_err(|e| Error::io(p, "cannot read", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> InstallRoot {
        InstallRoot {
            state_dir: "/srv/st".into(),
            config_path: "/srv/st/openclaw.json".into(),
            template: false,
        }
    }

    #[test]
    fn a_cell_is_recorded_after_its_database_and_resolves_back() {
        let r = root();
        let db = PathBuf::from("/srv/st/state/openclaw.sqlite");
        let cell = Store::Cell(db.clone(), cell::SHARED_STORE);
        let loc = cell.record(&r, None).unwrap();
        assert_eq!(loc, "state/openclaw.sqlite#authProfiles.store");
        assert_eq!(
            cell.name(&r.state_dir),
            "state/openclaw.sqlite: authProfiles.store"
        );
        let back = Store::resolve(&r, &loc, |f| Ok(r.state_dir.join(f))).unwrap();
        assert_eq!(back, cell);
        let file = Store::File("/srv/st/agents/a/agent/models.json".into());
        let loc = file.record(&r, Some("a")).unwrap();
        assert_eq!(loc, "agents/a/agent/models.json");
        assert_eq!(
            Store::resolve(&r, &loc, |f| Ok(r.state_dir.join(f))).unwrap(),
            file
        );
    }

    #[test]
    fn the_state_beside_a_store_is_its_auth_state_json_or_state_cell_and_shares_its_lock() {
        let r = root();
        let json = Store::File("/srv/st/agents/a/agent/auth-profiles.json".into());
        assert_eq!(
            json.state(),
            Some(Store::File("/srv/st/agents/a/agent/auth-state.json".into()))
        );
        let db = PathBuf::from("/srv/st/agents/a/agent/openclaw-agent.sqlite");
        let state = Store::Cell(db.clone(), cell::AGENT_STORE).state().unwrap();
        assert_eq!(state, Store::Cell(db.clone(), cell::AGENT_STATE));
        let loc = state.record(&r, Some("a")).unwrap();
        assert_eq!(
            loc,
            "agents/a/agent/openclaw-agent.sqlite#auth_profile_state"
        );
        assert_eq!(
            state.name(&r.state_dir),
            "agents/a/agent/openclaw-agent.sqlite: auth_profile_state"
        );
        assert_eq!(
            Store::resolve(&r, &loc, |f| Ok(r.state_dir.join(f))).unwrap(),
            state
        );
        // auth-state.json is written under auth-profiles.json's lock, when that file exists.
        let dir = tempfile::tempdir().unwrap();
        let profiles = dir.path().join("auth-profiles.json");
        let state = Store::File(dir.path().join("auth-state.json"));
        assert_eq!(state.openclaw_lock(), None);
        std::fs::write(&profiles, "{}").unwrap();
        assert_eq!(
            state.openclaw_lock(),
            Some(crate::fsio::real_path(&profiles))
        );
    }

    #[test]
    fn an_unknown_cell_is_refused_before_its_path_is_resolved() {
        let r = root();
        for loc in [
            "state/openclaw.sqlite#auth.sharedStore",
            "state/openclaw.sqlite#primary",
            "agents/a/agent/auth-profiles.json#primary",
        ] {
            let e = Store::resolve(&r, loc, |_| panic!("resolved {loc}")).unwrap_err();
            assert_eq!(e.kind, Kind::Confinement, "{loc}: {e}");
        }
    }
}
