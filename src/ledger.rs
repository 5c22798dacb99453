//! The per-install ledger (`.clawmigrate/ledger.json`): every run, what it applied, its backup set.
use crate::error::{Error, Kind};
use crate::fsio;
use crate::release::Release;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The folder inside a state dir that holds this tool's ledger, lock and backups.
pub const DIR: &str = ".clawmigrate";
pub const SCHEMA: u32 = 1;

pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join(DIR)
}

fn path(state_dir: &Path) -> PathBuf {
    dir(state_dir).join("ledger.json")
}

/// A migration as recorded when applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Applied {
    pub version: u32,
    pub id: String,
    pub checksum: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    Migrate,
    Rollback,
    /// `repair --rebless`: accepted a migration's new checksum; wrote no file.
    Repair,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Run {
    /// Unique among all runs: the invocation's id plus this install's place in it.
    pub id: String,
    /// The id of the whole command run (one per invocation, shared by every install it wrote),
    /// so `rollback ID` can undo that run across a fleet.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub invocation: String,
    pub kind: RunKind,
    pub at: String,
    pub tool_version: String,
    #[serde(default)]
    pub migrations: Vec<Applied>,
    /// For a migrate run with `--to`: the release it upgraded the install to, recorded when it
    /// ran every upgrade `--to` reaches (no `--only`, none blocked). With
    /// `meta.lastTouchedVersion` it is where the install's next upgrade starts (see
    /// [`Ledger::upgraded_to`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub to: Option<String>,
    /// The backup set, relative to the state dir.
    pub backup: String,
    /// The files the run wrote, as locations relative to the install (see `location`).
    pub files: Vec<String>,
    /// Set when a write failed part way; the backup still restores every file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub error: Option<String>,
    /// For a rollback run: the run it undid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub undoes: Option<String>,
    /// For a repair run: the checksum it replaced (with the one in `migrations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub reblessed_from: Option<String>,
    /// For a migrate run: the rollback run that undid it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub undone_by: Option<String>,
    /// Set from the start of a run until its renames are recorded; left set by a crash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("const" = true))]
    pub incomplete: bool,
    /// Set when the run left nothing to undo: it stopped before it wrote anything, or put back
    /// what it had written, or was interrupted before it replaced any file (settled so by the
    /// next run's recovery). `rollback` passes over it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("const" = true))]
    pub settled: bool,
}

impl Run {
    /// Whether undoing it could change anything: a migrate run not undone, and not settled. A
    /// run an older clawmigrate closed with an error before it wrote a file (no file recorded)
    /// counts as settled too.
    pub fn undoable(&self) -> bool {
        let wrote_nothing = !self.incomplete && self.error.is_some() && self.files.is_empty();
        self.kind == RunKind::Migrate && self.undone_by.is_none() && !self.settled && !wrote_nothing
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ledger {
    pub schema: u32,
    pub runs: Vec<Run>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            schema: SCHEMA,
            runs: Vec::new(),
        }
    }
}

impl Ledger {
    /// Reads the ledger; an install never migrated has an empty one.
    pub fn read(state_dir: &Path) -> Result<Ledger, Error> {
        let p = path(state_dir);
        match fsio::read_regular(&p, true) {
            Ok(Some(b)) => serde_json::from_slice(&b).map_err(|e| {
                Error::new(
                    Kind::Parse,
                    format!(
                        "{}: unreadable ledger ({}); restore it from a backup or move it aside",
                        p.display(),
                        crate::error::describe_json_error(&e)
                    ),
                )
            }),
            Ok(None) => Ok(Ledger::default()),
            Err(e) => Err(Error::io(&p, "cannot read the ledger", &e)),
        }
    }

    /// Writes the ledger atomically; `durable` fsyncs it now (batched runs sync at a barrier).
    pub fn write(&self, state_dir: &Path, durable: bool) -> Result<(), Error> {
        let p = path(state_dir);
        let write = || {
            fsio::own_dir(state_dir, Path::new(DIR))?;
            let mut bytes = serde_json::to_vec_pretty(self).expect("ledger serialises");
            bytes.push(b'\n');
            if durable {
                fsio::write_atomic(&p, &bytes, None)
            } else {
                fsio::stage(&p, &bytes, None, false)?.commit()
            }
        };
        write().map_err(|e| Error::io(&p, "cannot write the ledger", &e))
    }

    /// The migrations in force: those of migrate runs not undone, the latest record per version.
    pub fn applied(&self) -> Vec<Applied> {
        let mut out: Vec<Applied> = Vec::new();
        for run in self
            .runs
            .iter()
            .filter(|r| r.kind != RunKind::Rollback && r.undone_by.is_none() && !r.incomplete)
        {
            for m in &run.migrations {
                match run.kind {
                    // A repair changes the checksum of a migration applied before it, and only
                    // that (a migration rolled back since stays unapplied).
                    RunKind::Repair => out
                        .iter_mut()
                        .filter(|a| a.version == m.version)
                        .for_each(|a| a.checksum = m.checksum.clone()),
                    _ => {
                        out.retain(|a| a.version != m.version);
                        out.push(m.clone());
                    }
                }
            }
        }
        out.sort_by_key(|a| a.version);
        out
    }

    /// The newest release a run in force upgraded the install to (its `to`): a migrate run that
    /// completed without an error, and is neither undone nor settled. A `to` that names no
    /// release (a hand-edited ledger) counts for nothing.
    pub fn upgraded_to(&self) -> Option<Release> {
        self.runs
            .iter()
            .filter(|r| r.undoable() && !r.incomplete && r.error.is_none())
            .filter_map(|r| r.to.as_deref().and_then(Release::parse))
            .max()
    }

    pub fn run(&self, id: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.id == id)
    }
}

/// A new invocation id: UTC time to the second, then 48 random bits, so ids sort by time and two
/// invocations (on any host) do not share one. Every install's run gets `<invocation>.<n>`.
pub fn new_invocation_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = jiff::Timestamp::now();
    // RandomState is seeded from the OS's randomness once per process; mix in time and pid too.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i128(now.as_nanosecond());
    h.write_u32(std::process::id());
    format!(
        "{}-{:012x}",
        now.strftime("%Y%m%dT%H%M%SZ"),
        h.finish() & 0xffff_ffff_ffff
    )
}

/// The run id of the `n`th install an invocation writes.
pub fn run_id(invocation: &str, n: u64) -> String {
    format!("{invocation}.{n}")
}

/// Whether a recorded run id is safe to use as a folder name (ledgers are hostile input).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocation_ids_are_unique_and_valid() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| new_invocation_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|i| valid_id(i) && valid_id(&run_id(i, 999))));
        assert!(!valid_id("../x") && !valid_id("a/b") && !valid_id(".."));
    }

    fn migrate(id: &str, to: Option<&str>) -> Run {
        Run {
            id: id.into(),
            invocation: String::new(),
            kind: RunKind::Migrate,
            at: String::new(),
            tool_version: String::new(),
            migrations: Vec::new(),
            to: to.map(str::to_string),
            backup: String::new(),
            files: vec!["@config".into()],
            error: None,
            undoes: None,
            reblessed_from: None,
            undone_by: None,
            incomplete: false,
            settled: false,
        }
    }

    #[test]
    fn upgraded_to_is_the_newest_to_of_the_runs_in_force() {
        let release = |l: &Ledger| l.upgraded_to().map(|r| r.to_string());
        let mut ledger = Ledger::default();
        assert_eq!(release(&ledger), None, "no run: no release");
        ledger.runs.push(migrate("a", Some("2026.9.6")));
        ledger.runs.push(migrate("b", Some("2026.2.3")));
        ledger.runs.push(migrate("c", None));
        assert_eq!(
            release(&ledger).as_deref(),
            Some("2026.9.6"),
            "the newest, not the latest"
        );
        // Rolled back, settled, interrupted, failed, or not a release: it counts for nothing.
        ledger.runs[0].undone_by = Some("r".into());
        assert_eq!(release(&ledger).as_deref(), Some("2026.2.3"));
        for spoil in [
            |r: &mut Run| r.settled = true,
            |r: &mut Run| r.incomplete = true,
            |r: &mut Run| r.error = Some("write failed".into()),
            |r: &mut Run| r.to = Some("latest".into()),
            |r: &mut Run| r.kind = RunKind::Repair,
        ] {
            let mut l = ledger.clone();
            spoil(&mut l.runs[1]);
            assert_eq!(release(&l), None);
        }
    }

    #[test]
    fn to_is_optional_in_a_recorded_run() {
        let old = r#"{"id": "x.1", "kind": "migrate", "at": "t", "tool_version": "0", "backup": "b", "files": []}"#;
        let run: Run = serde_json::from_str(old).unwrap();
        assert_eq!(run.to, None);
        let json = serde_json::to_value(migrate("y.1", Some("2026.9.6"))).unwrap();
        assert_eq!(json["to"], "2026.9.6");
        assert!(
            serde_json::to_value(migrate("y.2", None))
                .unwrap()
                .get("to")
                .is_none()
        );
    }
}
