//! Which auth store each agent's OpenClaw reads, by era (`reference/openclaw-eras.md`,
//! `tests/oracle/ERAS.md`): a JSON file up to 2026.5, an agent's own SQLite database from 2026.6,
//! the shared state database for the default agent from 2026.8.
use crate::discover::{Agent, InstallRoot};
use crate::storage::Store;
use crate::storage::cell;
use serde::Serialize;
use std::path::PathBuf;

/// The storage era of an install, as far as its auth stores tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Era {
    /// ≤ 2026.4.21: `auth-profiles.json` holds profiles and routing state.
    Json,
    /// 2026.4.22+: `auth-profiles.json` beside `auth-state.json`.
    JsonWithState,
    /// 2026.6+: each agent's `openclaw-agent.sqlite`.
    SqliteAgent,
    /// 2026.8+: the default agent's store in the shared `state/openclaw.sqlite`.
    SqliteShared,
}

impl Era {
    pub fn label(self) -> &'static str {
        match self {
            Era::Json => "JSON auth stores (OpenClaw up to 2026.4.21)",
            Era::JsonWithState => "auth-profiles.json + auth-state.json (OpenClaw 2026.4.22+)",
            Era::SqliteAgent => "per-agent SQLite stores (OpenClaw 2026.6+)",
            Era::SqliteShared => "shared SQLite store (OpenClaw 2026.8+)",
        }
    }

    /// Whether OpenClaw of this era writes keys back into `models.json` (2026.2 did; the SQLite
    /// releases do not), so a key there that equals the store's is what OpenClaw regenerates.
    pub fn regenerates_models_keys(self) -> bool {
        matches!(self, Era::Json | Era::JsonWithState)
    }
}

/// An install's era and, per agent (in order), its store; or why the layout is unknown.
pub struct Layout {
    pub era: Era,
    pub stores: Vec<Store>,
}

fn shared_db(root: &InstallRoot) -> PathBuf {
    root.state_dir.join(cell::SHARED_DB)
}

/// Resolves every agent's store as OpenClaw 2026.9.6 does: an agent with its own database reads
/// it; the default agent reads the shared store once the state database declares one; an agent
/// still holding a live `auth-profiles.json` reads that; any other agent of a shared-store
/// install reads the shared store. Archived stores (`*.migrated-*`, `*.bak`) are never stores.
/// `Err` when the state database cannot be read, or is of a layout this tool does not know
/// (kind `unsupported`). The state database stays open in `dbs`, for the load to read its store.
pub fn layout(
    root: &InstallRoot,
    agents: &[Agent],
    default: &str,
    dbs: &mut cell::Databases,
) -> Result<Layout, cell::CellError> {
    let db = shared_db(root);
    let shared = db.exists() && dbs.has_shared_store(&db)?;
    let mut era = if shared { Era::SqliteShared } else { Era::Json };
    let mut stores = Vec::new();
    for a in agents {
        let own = a.dir.join(cell::AGENT_DB);
        let json = a.dir.join("auth-profiles.json");
        let store = if own.exists() {
            era = era.max(Era::SqliteAgent);
            Store::Cell(own, cell::AGENT_STORE)
        } else if shared && (a.id == default || !json.exists()) {
            Store::Cell(db.clone(), cell::SHARED_STORE)
        } else {
            if a.dir.join("auth-state.json").exists() {
                era = era.max(Era::JsonWithState);
            }
            Store::File(json)
        };
        stores.push(store);
    }
    Ok(Layout { era, stores })
}
