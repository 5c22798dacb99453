//! A JSON value inside a SQLite cell, as a document like any file: where OpenClaw 2026.6+ keeps
//! auth stores (`reference/openclaw-eras.md`, `tests/oracle/ERAS.md`). Read without writing a
//! byte or creating a side file; written in one `BEGIN IMMEDIATE` transaction that first checks
//! the cell still holds the planned old value. A database is a file like any other: only a
//! regular one is opened (SQLite's own opens included), and neither it nor a cell over the read
//! cap is read.
use crate::error::Kind;
use crate::fsio;
use crate::hash::sha256_hex;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use std::ffi::{CStr, c_char, c_int};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a database (or a cell in it) could not be read or written: the database, then what.
#[derive(Debug, thiserror::Error)]
#[error("{}: {what}", db.display())]
pub struct CellError {
    pub db: PathBuf,
    pub what: Failure,
}

/// What went wrong with a database; [`Failure::kind`] says which kind of failure it is.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("cannot open the database: {reason}")]
    Open { reason: String, kind: Kind },
    /// Not SQLite, or a schema without the table OpenClaw keeps this in.
    #[error("{0}")]
    UnknownLayout(String),
    /// A cell over the read cap (`--max-file-bytes`), refused before its value is fetched.
    #[error(
        "the cell {key} holds {len} bytes, over the read cap of {cap} bytes; no OpenClaw auth store is this large, so check it (or raise the cap with --max-file-bytes)"
    )]
    TooBig {
        key: &'static str,
        len: u64,
        cap: u64,
    },
    #[error("cannot read {key}: {reason}")]
    Read {
        key: &'static str,
        reason: String,
        locked: bool,
    },
    #[error("{0} changed since it was planned (another writer)")]
    Changed(&'static str),
    #[error(
        "the database is locked by another writer (a running OpenClaw gateway?) past the timeout"
    )]
    Locked,
    #[error("cannot write {key}: {reason}")]
    Write { key: &'static str, reason: String },
    #[error("integrity check: {0}")]
    Integrity(String),
}

impl Failure {
    pub fn kind(&self) -> Kind {
        match self {
            Failure::Open { kind, .. } => *kind,
            Failure::UnknownLayout(_) => Kind::Unsupported,
            Failure::Read { locked: true, .. } | Failure::Locked => Kind::Locked,
            Failure::Changed(_) => Kind::Changed,
            Failure::TooBig { .. } => Kind::Limit,
            Failure::Read { .. } | Failure::Write { .. } | Failure::Integrity(_) => Kind::Io,
        }
    }
}

impl From<CellError> for crate::error::Error {
    fn from(e: CellError) -> crate::error::Error {
        crate::error::Error::new(e.what.kind(), e.to_string())
    }
}

fn fail<T>(db: &Path, what: Failure) -> Result<T, CellError> {
    Err(CellError {
        db: db.to_path_buf(),
        what,
    })
}

/// Whether SQLite gave up waiting for another writer.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Which cell: table, key column, key, value column and the column stamped on a write (ms), and
/// the name it goes by in reports and the ledger (unique within its database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub table: &'static str,
    pub key_column: &'static str,
    pub value_column: &'static str,
    pub stamp_column: &'static str,
    pub key: &'static str,
    pub label: &'static str,
}

/// The shared auth store of `state/openclaw.sqlite` (2026.8+), read by the default agent.
pub const SHARED_STORE: Cell = Cell {
    table: "config_machine_state",
    key_column: "state_key",
    value_column: "value_json",
    stamp_column: "updated_at_ms",
    key: "authProfiles.store",
    label: "authProfiles.store",
};

/// An agent's own store in `agents/<id>/agent/openclaw-agent.sqlite` (2026.6+).
pub const AGENT_STORE: Cell = Cell {
    table: "auth_profile_store",
    key_column: "store_key",
    value_column: "store_json",
    stamp_column: "updated_at",
    key: "primary",
    label: "primary",
};

/// The routing state (`order`, `lastGood`, `usageStats`) beside the shared store (2026.8+).
pub const SHARED_STATE: Cell = Cell {
    key: "authProfiles.state",
    label: "authProfiles.state",
    ..SHARED_STORE
};

/// An agent's own routing state in its `openclaw-agent.sqlite` (2026.6+); its row is keyed
/// `primary` like the store's, so it goes by the table's name.
pub const AGENT_STATE: Cell = Cell {
    table: "auth_profile_state",
    key_column: "state_key",
    value_column: "state_json",
    stamp_column: "updated_at",
    key: "primary",
    label: "auth_profile_state",
};

/// The marker row saying the shared store lives in the state database.
const SHARED_MARKER: &str = "auth.sharedStore";

pub const SHARED_DB: &str = "state/openclaw.sqlite";
pub const AGENT_DB: &str = "openclaw-agent.sqlite";

/// The cells this tool knows, by the database file name and the label recorded for them.
pub fn known(db_file_name: &str, label: &str) -> Option<Cell> {
    [SHARED_STORE, AGENT_STORE, SHARED_STATE, AGENT_STATE]
        .into_iter()
        .find(|c| c.label == label && db_file_name == db_file_of(c))
}

impl Cell {
    /// The routing-state cell kept beside an auth store cell (`None` for any other cell).
    pub fn state_of(&self) -> Option<Cell> {
        if *self == SHARED_STORE {
            Some(SHARED_STATE)
        } else if *self == AGENT_STORE {
            Some(AGENT_STATE)
        } else {
            None
        }
    }

    /// Whether it holds routing state, whose table an older database may not have yet (read
    /// as an absent row then: there is no state to change).
    pub fn is_state(&self) -> bool {
        *self == SHARED_STATE || *self == AGENT_STATE
    }
}

fn db_file_of(c: &Cell) -> &'static str {
    if c.table == SHARED_STORE.table {
        "openclaw.sqlite"
    } else {
        AGENT_DB
    }
}

/// How long a write waits for another writer (OpenClaw's gateway) to let go of the database;
/// `CLAWMIGRATE_SQLITE_BUSY_MS` changes it (tests).
fn busy_timeout() -> Duration {
    std::env::var("CLAWMIGRATE_SQLITE_BUSY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(5), Duration::from_millis)
}

/// Opens a database to read it without changing a byte or creating a file: `immutable` when no
/// write-ahead log holds anything (the database file is then the whole truth), read-only
/// otherwise (a live log has its `-shm` already).
fn open_read(db: &Path) -> Result<Connection, CellError> {
    let wal = db.with_file_name(format!(
        "{}-wal",
        db.file_name().unwrap_or_default().to_string_lossy()
    ));
    let live_log = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
    let mut uri = url_path(db);
    uri.push_str(if live_log {
        "?mode=ro"
    } else {
        "?mode=ro&immutable=1"
    });
    open_checked(
        db,
        &uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// Opens a database (`name`: its path, or a `file:` URI of it), only when it is a regular file
/// within the read cap, as every file this tool reads. SQLite opens files by name; the file is
/// checked first (for a message saying what it is), and every open SQLite then makes is checked
/// in the same step as the open ([`checked_open`]), so a FIFO swapped in after the check fails
/// the open instead of blocking it.
fn open_checked(
    db: &Path,
    name: impl AsRef<Path>,
    flags: OpenFlags,
) -> Result<Connection, CellError> {
    guard_opens();
    let why = || match fsio::open_regular(db, false) {
        Ok(Some(_)) => None,
        Ok(None) => Some(("it does not exist".to_string(), Kind::NotFound)),
        Err(e) => Some((e.to_string(), Kind::of_io(&e))),
    };
    let refuse = |(reason, kind)| fail(db, Failure::Open { reason, kind });
    if let Some(why) = why() {
        return refuse(why);
    }
    // Its journal, write-ahead log and index are database files too (SQLite opens them by name).
    for side in ["-journal", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(side);
        let side = PathBuf::from(name);
        match std::fs::metadata(&side) {
            Ok(m) if !m.file_type().is_file() => {
                let e = fsio::not_regular(&m.file_type());
                let file = side.file_name().unwrap_or_default().to_string_lossy();
                return refuse((format!("its {file} {e}"), Kind::of_io(&e)));
            }
            _ => {}
        }
    }
    // SQLite says only that it cannot open the file; the file, checked again, may say why.
    Connection::open_with_flags(name, flags)
        .or_else(|e| refuse(why().unwrap_or((e.to_string(), Kind::Io))))
}

/// Routes every file SQLite opens (a database, its journal and write-ahead log, their folder)
/// through [`checked_open`]: set once, before this process's first connection.
fn guard_opens() {
    static GUARD: std::sync::Once = std::sync::Once::new();
    GUARD.call_once(|| {
        type Open = unsafe extern "C" fn(*const c_char, c_int, c_int) -> c_int;
        // SAFETY: the default VFS (SQLite's "unix") lives as long as the process, and its
        // `xSetSystemCall` replaces its `open` with a function of the same signature
        // (`int (*)(const char*, int, int)`), passed as SQLite's generic system-call pointer.
        let rc = unsafe {
            let vfs = rusqlite::ffi::sqlite3_vfs_find(std::ptr::null());
            assert!(!vfs.is_null(), "SQLite has a default VFS");
            let set = (*vfs)
                .xSetSystemCall
                .expect("SQLite's unix VFS lets its system calls be replaced");
            set(
                vfs,
                c"open".as_ptr(),
                Some(std::mem::transmute::<Open, unsafe extern "C" fn()>(
                    checked_open,
                )),
            )
        };
        assert_eq!(
            rc,
            rusqlite::ffi::SQLITE_OK,
            "SQLite's VFS has an open call"
        );
    });
}

/// SQLite's `open(2)`, with the check in the same step: the file is opened non-blocking (a FIFO
/// or device never holds the open up) and kept only when it is a regular file, a directory
/// (SQLite opens a database's folder to flush it) or a device SQLite itself reads
/// (`/dev/urandom`, `/dev/null`); anything else is closed and the open fails (`EINVAL`), which
/// SQLite reports as a file it cannot open.
unsafe extern "C" fn checked_open(path: *const c_char, flags: c_int, mode: c_int) -> c_int {
    // SAFETY: SQLite passes a NUL-terminated path; `fd` is this function's until returned.
    unsafe {
        let fd = libc::open(path, flags | libc::O_NONBLOCK, mode as libc::c_uint);
        if fd < 0 {
            return fd;
        }
        let mut st: libc::stat = std::mem::zeroed();
        let allowed = libc::fstat(fd, &mut st) == 0
            && match st.st_mode & libc::S_IFMT {
                libc::S_IFREG | libc::S_IFDIR => true,
                libc::S_IFCHR => matches!(
                    CStr::from_ptr(path).to_bytes(),
                    b"/dev/urandom" | b"/dev/null"
                ),
                _ => false,
            };
        if !allowed {
            libc::close(fd);
            *libc::__errno_location() = libc::EINVAL;
            return -1;
        }
        if flags & libc::O_NONBLOCK == 0 {
            let now = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, now & !libc::O_NONBLOCK);
        }
        fd
    }
}

/// `file:` URI of a path, percent-encoding what a URI cannot hold.
fn url_path(p: &Path) -> String {
    let mut s = String::from("file:");
    for b in p.as_os_str().as_encoded_bytes() {
        match b {
            b'%' | b'?' | b'#' | 0..=0x20 | 0x7f.. => s.push_str(&format!("%{b:02X}")),
            _ => s.push(*b as char),
        }
    }
    s
}

/// Whether a table exists (an unknown schema is reported, never guessed at).
fn has_table(c: &Connection, table: &str) -> Result<bool, rusqlite::Error> {
    c.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// Reads a cell's text; `Ok(None)` when the row is absent. An unknown schema is an error.
pub fn read(db: &Path, cell: &Cell) -> Result<Option<String>, CellError> {
    Databases::default().read(db, cell)
}

/// The databases one install's load reads, each opened once (as [`open_read`] opens it): the
/// state database is asked whether it holds the shared store, then read for it.
#[derive(Default)]
pub struct Databases(Vec<(PathBuf, Connection)>);

impl Databases {
    fn open(&mut self, db: &Path) -> Result<&Connection, CellError> {
        let i = match self.0.iter().position(|(p, _)| p == db) {
            Some(i) => i,
            None => {
                self.0.push((db.to_path_buf(), open_read(db)?));
                self.0.len() - 1
            }
        };
        Ok(&self.0[i].1)
    }

    /// [`read`], on the database opened once.
    pub fn read(&mut self, db: &Path, cell: &Cell) -> Result<Option<String>, CellError> {
        read_on(db, self.open(db)?, cell)
    }

    /// Whether the state database declares the shared auth store (`auth.sharedStore` =
    /// `{"location":"state-db"}`), or at least holds one. `Err` when it is no database this tool
    /// knows (not SQLite, or without the `config_machine_state` table).
    pub fn has_shared_store(&mut self, db: &Path) -> Result<bool, CellError> {
        let c = self.open(db)?;
        let known = match has_table(c, SHARED_STORE.table) {
            Ok(known) => known,
            Err(e) if is_busy(&e) => {
                let reason = e.to_string();
                let key = SHARED_STORE.key;
                return fail(
                    db,
                    Failure::Read {
                        key,
                        reason,
                        locked: true,
                    },
                );
            }
            Err(e) => {
                return fail(
                    db,
                    Failure::UnknownLayout(format!(
                        "not a database clawmigrate can read ({e}), so OpenClaw keeps its state in a layout clawmigrate does not know; nothing of this install is touched"
                    )),
                );
            }
        };
        if !known {
            return fail(
                db,
                Failure::UnknownLayout(format!(
                    "has no {} table: OpenClaw keeps its state in a layout clawmigrate does not know, so nothing of this install is touched",
                    SHARED_STORE.table
                )),
            );
        }
        let marker = read_on(
            db,
            c,
            &Cell {
                key: SHARED_MARKER,
                label: SHARED_MARKER,
                ..SHARED_STORE
            },
        )?;
        let declared = marker
            .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
            .is_some_and(|v| v["location"] == "state-db");
        Ok(declared || read_on(db, c, &SHARED_STORE)?.is_some())
    }
}

fn read_on(db: &Path, c: &Connection, cell: &Cell) -> Result<Option<String>, CellError> {
    let read_failed = |e: rusqlite::Error| CellError {
        db: db.to_path_buf(),
        what: Failure::Read {
            key: cell.label,
            locked: is_busy(&e),
            reason: e.to_string(),
        },
    };
    if !has_table(c, cell.table).map_err(read_failed)? {
        if cell.is_state() {
            return Ok(None);
        }
        return fail(
            db,
            Failure::UnknownLayout(format!(
                "has no table {}; this OpenClaw keeps its auth profiles in a layout clawmigrate does not know",
                cell.table
            )),
        );
    }
    // The value's length comes from its record header (`octet_length` of a column reads no
    // content), so a value over the cap is never fetched; one statement, one snapshot.
    let (v, t, k) = (cell.value_column, cell.table, cell.key_column);
    let sql = format!(
        "SELECT octet_length({v}), CASE WHEN octet_length({v}) <= ?2 THEN {v} END FROM {t} WHERE {k} = ?1"
    );
    let cap = fsio::max_file_bytes();
    let limit = i64::try_from(cap).unwrap_or(i64::MAX);
    let fetch = |r: &rusqlite::Row| match r.get::<_, Option<i64>>(0)? {
        Some(len) if len > limit => Ok(Err(len as u64)),
        _ => r.get::<_, String>(1).map(Ok),
    };
    let row = c
        .query_row(&sql, rusqlite::params![cell.key, limit], fetch)
        .optional()
        .map_err(read_failed)?;
    match row {
        Some(Err(len)) => fail(
            db,
            Failure::TooBig {
                key: cell.label,
                len,
                cap,
            },
        ),
        Some(Ok(text)) => Ok(Some(text)),
        None => Ok(None),
    }
}

/// Writes a cell in one transaction (`BEGIN IMMEDIATE`, waiting up to the busy timeout for
/// another writer) that first checks it still holds the bytes whose sha256 is `expected`
/// (`None`: the row must be absent); `new = None` deletes the row. Stamps the row in ms.
pub fn write(
    db: &Path,
    cell: &Cell,
    expected: Option<&str>,
    new: Option<&str>,
) -> Result<(), CellError> {
    write_within(db, cell, expected, new, busy_timeout())
}

/// [`write`], waiting at most `busy` for another writer.
fn write_within(
    db: &Path,
    cell: &Cell,
    expected: Option<&str>,
    new: Option<&str>,
    busy: Duration,
) -> Result<(), CellError> {
    let t = begin_within(db, busy)?;
    t.write(cell, expected, new)?;
    t.commit()
}

/// Takes the write transaction of a database (`BEGIN IMMEDIATE`, waiting up to the busy timeout
/// for another writer), to write its cells in and commit after an install's last write.
pub fn begin(db: &Path) -> Result<Txn, CellError> {
    begin_within(db, busy_timeout())
}

fn begin_within(db: &Path, busy: Duration) -> Result<Txn, CellError> {
    let other = |e| write_failed(db, "the database", e);
    let conn = open_checked(
        db,
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy).map_err(other)?;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(other)?;
    Ok(Txn {
        db: db.to_path_buf(),
        conn,
    })
}

/// A failed write: the database held past the busy timeout, or what SQLite said.
fn write_failed(db: &Path, key: &'static str, e: rusqlite::Error) -> CellError {
    CellError {
        db: db.to_path_buf(),
        what: if is_busy(&e) {
            Failure::Locked
        } else {
            Failure::Write {
                key,
                reason: e.to_string(),
            }
        },
    }
}

/// A database held in its write transaction: no other writer gets in, and what is written in it
/// is kept only once [`Txn::commit`]ted (dropped before, SQLite rolls it back).
pub struct Txn {
    db: PathBuf,
    conn: Connection,
}

impl Txn {
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// Writes a cell in the transaction after checking it still holds the bytes whose sha256 is
    /// `expected` (`None`: the row must be absent); `new = None` deletes the row. Stamps the row
    /// in ms.
    pub fn write(
        &self,
        cell: &Cell,
        expected: Option<&str>,
        new: Option<&str>,
    ) -> Result<(), CellError> {
        let db = &self.db;
        let now = read_on(db, &self.conn, cell)?;
        if now.as_deref().map(|t| sha256_hex(t.as_bytes())).as_deref() != expected {
            return fail(db, Failure::Changed(cell.label));
        }
        let stamp = jiff::Timestamp::now().as_millisecond();
        match (now.is_some(), new) {
            (true, Some(v)) => self.conn.execute(
                &format!(
                    "UPDATE {} SET {} = ?1, {} = ?2 WHERE {} = ?3",
                    cell.table, cell.value_column, cell.stamp_column, cell.key_column
                ),
                rusqlite::params![v, stamp, cell.key],
            ),
            (false, Some(v)) => self.conn.execute(
                &format!(
                    "INSERT INTO {} ({}, {}, {}) VALUES (?1, ?2, ?3)",
                    cell.table, cell.key_column, cell.value_column, cell.stamp_column
                ),
                rusqlite::params![cell.key, v, stamp],
            ),
            (true, None) => self.conn.execute(
                &format!("DELETE FROM {} WHERE {} = ?1", cell.table, cell.key_column),
                [cell.key],
            ),
            (false, None) => Ok(0),
        }
        .map(drop)
        .map_err(|e| write_failed(db, cell.label, e))
    }

    /// Commits what was written in it.
    pub fn commit(self) -> Result<(), CellError> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| write_failed(&self.db, "the database", e))
    }
}

/// `PRAGMA integrity_check` of a database: `Ok` when it says `ok`.
pub fn integrity(db: &Path) -> Result<(), CellError> {
    let c = open_read(db)?;
    let r: String = match c.query_row("PRAGMA integrity_check", [], |r| r.get(0)) {
        Ok(r) => r,
        Err(e) => e.to_string(),
    };
    if r == "ok" {
        Ok(())
    } else {
        fail(db, Failure::Integrity(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared_db(dir: &Path) -> std::path::PathBuf {
        shared_db_in(dir, "WAL")
    }

    /// The shared store's database, in journal mode `mode`.
    fn shared_db_in(dir: &Path, mode: &str) -> std::path::PathBuf {
        guard_opens(); // before this process's first connection, as in the tool
        let db = dir.join("openclaw.sqlite");
        let c = Connection::open(&db).unwrap();
        c.execute_batch(&format!("PRAGMA journal_mode={mode};"))
            .unwrap();
        c.execute_batch(
            "
             CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY,
               value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;
             INSERT INTO config_machine_state VALUES ('auth.sharedStore', '{\"location\":\"state-db\"}', 1);
             INSERT INTO config_machine_state VALUES ('authProfiles.store', '{\"version\":1,\"profiles\":{}}', 1);",
        )
        .unwrap();
        drop(c);
        db
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn reading_changes_nothing_and_creates_no_side_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = shared_db(dir.path());
        let (before, listed) = (std::fs::read(&db).unwrap(), files(dir.path()));
        assert_eq!(
            read(&db, &SHARED_STORE).unwrap().as_deref(),
            Some("{\"version\":1,\"profiles\":{}}")
        );
        assert!(Databases::default().has_shared_store(&db).unwrap());
        assert_eq!(std::fs::read(&db).unwrap(), before);
        assert_eq!(files(dir.path()), listed);
    }

    #[test]
    fn a_state_cell_without_its_table_reads_as_absent_a_store_cell_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("openclaw-agent.sqlite");
        guard_opens();
        Connection::open(&db)
            .unwrap()
            .execute_batch(
                "CREATE TABLE auth_profile_store (store_key TEXT PRIMARY KEY, store_json TEXT, updated_at INTEGER);",
            )
            .unwrap();
        assert_eq!(read(&db, &AGENT_STATE).unwrap(), None);
        Connection::open(&db)
            .unwrap()
            .execute_batch(
                "DROP TABLE auth_profile_store;
                 CREATE TABLE auth_profile_state (state_key TEXT PRIMARY KEY, state_json TEXT, updated_at INTEGER);
                 INSERT INTO auth_profile_state VALUES ('primary', '{\"version\":1}', 1);",
            )
            .unwrap();
        assert_eq!(
            read(&db, &AGENT_STATE).unwrap().as_deref(),
            Some("{\"version\":1}")
        );
        let e = read(&db, &AGENT_STORE).unwrap_err();
        assert_eq!(e.what.kind(), Kind::Unsupported, "{e}");
    }

    #[test]
    fn each_store_cell_has_its_state_cell_and_every_cell_a_name_of_its_own() {
        assert_eq!(SHARED_STORE.state_of(), Some(SHARED_STATE));
        assert_eq!(AGENT_STORE.state_of(), Some(AGENT_STATE));
        assert_eq!(AGENT_STATE.state_of(), None);
        for (db, c) in [
            ("openclaw.sqlite", SHARED_STORE),
            ("openclaw.sqlite", SHARED_STATE),
            (AGENT_DB, AGENT_STORE),
            (AGENT_DB, AGENT_STATE),
        ] {
            assert_eq!(known(db, c.label), Some(c.clone()), "{}", c.label);
        }
        assert_eq!(known(AGENT_DB, "authProfiles.state"), None);
        assert_eq!(known("openclaw.sqlite", "auth_profile_state"), None);
    }

    #[test]
    fn a_load_opens_each_database_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = shared_db(dir.path());
        let mut dbs = Databases::default();
        assert!(dbs.has_shared_store(&db).unwrap());
        assert!(dbs.read(&db, &SHARED_STORE).unwrap().is_some());
        assert_eq!(dbs.0.len(), 1);
    }

    #[test]
    fn a_write_checks_the_old_value_first() {
        let dir = tempfile::tempdir().unwrap();
        let db = shared_db(dir.path());
        let old = "{\"version\":1,\"profiles\":{}}";
        let wrong = sha256_hex(b"something else");
        assert!(matches!(
            write(&db, &SHARED_STORE, Some(&wrong), Some("{}")),
            Err(CellError {
                what: Failure::Changed(_),
                ..
            })
        ));
        write(
            &db,
            &SHARED_STORE,
            Some(&sha256_hex(old.as_bytes())),
            Some("{\"v\":2}"),
        )
        .unwrap();
        assert_eq!(
            read(&db, &SHARED_STORE).unwrap().as_deref(),
            Some("{\"v\":2}")
        );
        integrity(&db).unwrap();
    }

    #[test]
    fn an_unknown_database_is_unsupported_and_an_unreadable_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.sqlite");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x);")
            .unwrap();
        let e = Databases::default().has_shared_store(&other).unwrap_err();
        assert_eq!(e.what.kind(), Kind::Unsupported, "{e}");
        let junk = dir.path().join("junk.sqlite");
        std::fs::write(&junk, b"not a database, just text long enough to be read").unwrap();
        assert_eq!(
            Databases::default()
                .has_shared_store(&junk)
                .unwrap_err()
                .what
                .kind(),
            Kind::Unsupported
        );
        let gone = dir.path().join("gone").join("openclaw.sqlite");
        let e = read(&gone, &SHARED_STORE).unwrap_err();
        assert_eq!(e.what.kind(), Kind::NotFound, "{e}");
        assert!(
            e.to_string().starts_with(&gone.display().to_string()),
            "{e}"
        );
    }

    fn mkfifo(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo with a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }

    #[test]
    fn a_write_works_with_a_rollback_journal_as_with_a_log() {
        for mode in ["DELETE", "WAL"] {
            let dir = tempfile::tempdir().unwrap();
            let db = shared_db_in(dir.path(), mode);
            let old = sha256_hex(b"{\"version\":1,\"profiles\":{}}");
            write(&db, &SHARED_STORE, Some(&old), Some("{\"v\":2}")).unwrap();
            assert_eq!(
                read(&db, &SHARED_STORE).unwrap().as_deref(),
                Some("{\"v\":2}"),
                "{mode}"
            );
            integrity(&db).unwrap();
        }
    }

    #[test]
    fn a_fifo_as_a_database_or_its_journal_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("openclaw.sqlite");
        mkfifo(&db);
        let e = Databases::default().has_shared_store(&db).unwrap_err();
        assert_eq!(e.what.kind(), Kind::Limit, "{e}");
        assert!(e.to_string().contains("not a regular file (a FIFO)"), "{e}");
        let e = write(&db, &SHARED_STORE, None, Some("{}")).unwrap_err();
        assert_eq!(e.what.kind(), Kind::Limit, "{e}");
        let other = tempfile::tempdir().unwrap();
        let db = shared_db(other.path());
        mkfifo(&other.path().join("openclaw.sqlite-journal"));
        let e = write(&db, &SHARED_STORE, None, Some("{}")).unwrap_err();
        assert!(
            e.to_string()
                .contains("openclaw.sqlite-journal is not a regular file"),
            "{e}"
        );
    }

    /// A FIFO swapped in after the check: SQLite's own open of it fails at once, never blocks.
    #[test]
    fn sqlite_itself_never_opens_a_fifo() {
        guard_opens();
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("swapped.sqlite");
        mkfifo(&fifo);
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let flags = [
                OpenFlags::SQLITE_OPEN_READ_ONLY,
                OpenFlags::SQLITE_OPEN_READ_WRITE,
            ];
            let opened: Vec<bool> = flags
                .into_iter()
                .map(|f| {
                    Connection::open_with_flags(&path, f | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                        .and_then(|c| c.query_row("PRAGMA schema_version", [], |_| Ok(())))
                        .is_ok()
                })
                .collect();
            tx.send(opened).unwrap();
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(opened) => assert_eq!(opened, [false, false]),
            Err(_) => {
                // Let the blocked open go, then fail.
                let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
                panic!("SQLite blocked opening a FIFO");
            }
        }
    }

    #[test]
    fn a_database_held_by_another_writer_is_reported_locked() {
        let dir = tempfile::tempdir().unwrap();
        let db = shared_db(dir.path());
        let holder = Connection::open(&db).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let old = sha256_hex(b"{\"version\":1,\"profiles\":{}}");
        let busy = Duration::from_millis(200);
        assert!(matches!(
            write_within(&db, &SHARED_STORE, Some(&old), Some("{}"), busy),
            Err(CellError {
                what: Failure::Locked,
                ..
            })
        ));
        holder.execute_batch("ROLLBACK").unwrap();
    }
}
