//! Backup sets: the exact bytes of every file a run changes, with a manifest, kept in the install.
use crate::fsio;
use crate::ledger;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The file's path as it was planned.
    pub path: String,
    /// The backup copy's name inside the set; `None` when the run created the file.
    pub backup: Option<String>,
    pub sha256_before: Option<String>,
    pub sha256_after: String,
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
    pub before: Option<&'a [u8]>,
    pub sha256_before: Option<String>,
    pub sha256_after: String,
    pub mode: Option<u32>,
}

/// Writes the set: every copy mode 0600 in a 0700 dir, then the manifest, all fsynced when `durable`.
pub fn create(
    state_dir: &Path,
    run_id: &str,
    items: &[Item],
    durable: bool,
) -> std::io::Result<PathBuf> {
    let dir = set_dir(state_dir, run_id);
    fsio::private_dir(&dir)?;
    let mut files = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let backup = match item.before {
            Some(bytes) => {
                let name = format!(
                    "{:04}-{}",
                    i + 1,
                    item.path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                );
                fsio::stage(&dir.join(&name), bytes, None, durable)?.commit()?;
                Some(name)
            }
            None => None,
        };
        files.push(Entry {
            path: item.path.display().to_string(),
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
    fsio::stage(&dir.join("manifest.json"), &bytes, None, durable)?.commit()?;
    if durable {
        fsio::sync_dir(&dir)?;
        fsio::sync_dir(dir.parent().unwrap())?;
    }
    Ok(dir)
}

pub fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let p = dir.join("manifest.json");
    let bytes = std::fs::read(&p)
        .map_err(|e| format!("{}: cannot read the backup manifest: {e}", p.display()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: unreadable backup manifest: {e}", p.display()))
}
