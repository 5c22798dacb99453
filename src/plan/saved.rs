//! Saved plans (`--plan-out`, `--plan`): what was reviewed, as file hashes and masked patches, so
//! apply can prove it writes exactly those bytes and refuse any file that moved since.
use crate::document::FileKind;
use crate::error::{Error, Kind};
use crate::load::Install;
use crate::migration::Migration;
use crate::plan::InstallPlan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const KIND: &str = "clawmigrate-plan";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedFile {
    pub path: PathBuf,
    pub kind: FileKind,
    pub sha256_before: Option<String>,
    pub sha256_after: String,
    /// The RFC 6902 operations with credential values masked (for review only).
    pub patch: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedInstall {
    pub state_dir: PathBuf,
    pub files: Vec<SavedFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedMigration {
    pub id: String,
    pub checksum: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    pub schema: u32,
    pub kind: String,
    pub tool_version: String,
    pub created_at: String,
    pub migrations: Vec<SavedMigration>,
    /// The release `--to` named (none: repairs only); applying the plan uses it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub installs: Vec<SavedInstall>,
}

impl SavedPlan {
    pub fn new(migrations: &[&Migration], to: Option<String>) -> SavedPlan {
        SavedPlan {
            schema: 1,
            kind: KIND.into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            created_at: jiff::Timestamp::now().to_string(),
            migrations: migrations
                .iter()
                .map(|m| SavedMigration {
                    id: m.id(),
                    checksum: m.checksum.clone(),
                })
                .collect(),
            to,
            installs: Vec::new(),
        }
    }

    /// Records an install's planned files (installs with nothing to do are left out). An install
    /// blocked on a later migration is kept with the changes of the migrations before it.
    pub fn add(&mut self, state_dir: &Path, install: &Install, plan: &InstallPlan) {
        if plan.files.is_empty() {
            return;
        }
        let files = plan
            .files
            .iter()
            .map(|f| {
                let doc = &install.docs[f.doc];
                SavedFile {
                    path: doc.path().to_path_buf(),
                    kind: doc.kind,
                    sha256_before: doc.sha256(),
                    sha256_after: f.sha_after.clone(),
                    patch: serde_json::to_value(plan.masked_patch(f))
                        .expect("operations serialise"),
                }
            })
            .collect();
        self.installs.push(SavedInstall {
            state_dir: state_dir.to_path_buf(),
            files,
        });
    }

    /// Refuses a destination whose directory does not exist (kind `not-found`): a plan is saved
    /// where the operator said, never into directories made up on the way.
    pub fn check_destination(path: &Path) -> Result<(), Error> {
        let dir = path.parent().unwrap_or(Path::new("/"));
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(Error::new(
                Kind::NotFound,
                format!(
                    "{}: cannot save the plan there: {} is not a directory",
                    path.display(),
                    dir.display()
                ),
            )),
            Err(e) => Err(Error::io(
                dir,
                &format!(
                    "cannot save the plan {} in it (create the directory first, or pick another)",
                    path.display()
                ),
                &e,
            )),
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), Error> {
        SavedPlan::check_destination(path)?;
        let mut bytes = serde_json::to_vec_pretty(self).unwrap();
        bytes.push(b'\n');
        crate::fsio::write_atomic(path, &bytes, None)
            .map_err(|e| Error::io(path, "cannot write the plan", &e))
    }

    pub fn read(path: &Path) -> Result<SavedPlan, Error> {
        let bytes = crate::fsio::read_regular(path, false)
            .and_then(|b| b.ok_or_else(|| std::io::ErrorKind::NotFound.into()))
            .map_err(|e| Error::io(path, "cannot read the plan", &e))?;
        let plan: SavedPlan = serde_json::from_slice(&bytes).map_err(|e| {
            let why = crate::error::describe_json_error(&e);
            Error::new(
                Kind::Parse,
                format!("{}: not a clawmigrate plan: {why}", path.display()),
            )
        })?;
        if plan.kind != KIND || plan.schema != 1 {
            let why = format!("{}: not a clawmigrate plan (schema 1)", path.display());
            return Err(Error::new(Kind::Parse, why));
        }
        plan.check_absolute(path)?;
        Ok(plan)
    }

    /// Refuses a plan made with other migrations (another binary, `--only` or `--to`).
    pub fn check_migrations(&self, path: &Path, migrations: &[&Migration]) -> Result<(), Error> {
        let plan = self;
        let now: Vec<(String, String)> = migrations
            .iter()
            .map(|m| (m.id(), m.checksum.clone()))
            .collect();
        let then: Vec<(String, String)> = plan
            .migrations
            .iter()
            .map(|m| (m.id.clone(), m.checksum.clone()))
            .collect();
        if now != then {
            return Err(Error::new(
                Kind::Usage,
                format!(
                    "{}: made with other migrations than this binary runs (or another --only); make a new plan",
                    path.display()
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a plan naming a relative path: it would depend on the working directory.
    fn check_absolute(&self, file: &Path) -> Result<(), Error> {
        let paths = self
            .installs
            .iter()
            .flat_map(|i| std::iter::once(&i.state_dir).chain(i.files.iter().map(|f| &f.path)));
        match paths.into_iter().find(|p| !p.is_absolute()) {
            Some(p) => Err(Error::new(
                Kind::Usage,
                format!(
                    "{}: names {} relative to some working directory (an older clawmigrate made it); make a new plan",
                    file.display(),
                    p.display()
                ),
            )),
            None => Ok(()),
        }
    }

    /// Checks that an install's fresh plan is exactly the saved one: same files, each with the
    /// same bytes before and after. Names the first file that differs.
    pub fn check(
        &self,
        state_dir: &Path,
        install: &Install,
        plan: &InstallPlan,
    ) -> Result<(), Error> {
        let saved: BTreeMap<&Path, &SavedFile> = self
            .installs
            .iter()
            .filter(|i| i.state_dir == state_dir)
            .flat_map(|i| &i.files)
            .map(|f| (f.path.as_path(), f))
            .collect();
        for f in &plan.files {
            let doc = &install.docs[f.doc];
            let Some(s) = saved.get(doc.path()) else {
                return Err(changed(format!(
                    "{} would change, but the reviewed plan does not change it; make a new plan",
                    doc.path().display()
                )));
            };
            if s.sha256_before != doc.sha256() {
                return Err(changed(format!(
                    "{} changed since the plan was made; nothing of this install was written. Make a new plan",
                    doc.path().display()
                )));
            }
            if s.sha256_after != f.sha_after {
                return Err(changed(format!(
                    "{} would now be written differently than the reviewed plan says; make a new plan",
                    doc.path().display()
                )));
            }
        }
        if let Some(missing) = saved
            .keys()
            .find(|p| !plan.files.iter().any(|f| install.docs[f.doc].path() == **p))
        {
            // Its bytes as this run loaded them (a cell's value, not its database's bytes).
            let moved = match install.docs.iter().find(|d| d.path() == *missing) {
                Some(doc) => doc.sha256(),
                None => crate::fsio::read_regular(missing, false)
                    .ok()
                    .flatten()
                    .map(|b| crate::hash::sha256_hex(&b)),
            };
            let why = if moved != saved[missing].sha256_before {
                "changed since the plan was made"
            } else {
                "no longer needs the planned change"
            };
            return Err(changed(format!(
                "{} {why}; nothing of this install was written. Make a new plan",
                missing.display()
            )));
        }
        Ok(())
    }
}

/// A saved plan that no longer matches the install (kind `changed`): nothing was written.
fn changed(message: String) -> Error {
    Error::new(Kind::Changed, message)
}
