//! A release's tool catalog as its tool policies read it: what each profile grants, what each
//! `group:` stands for, the legacy names of tools and which tools are the release's own. It is
//! data of the migrations that need it (so their checksum covers it), evaluated by the step kinds.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCatalog {
    /// Profile id -> the tool names it grants, in the release's order (`*`: every tool).
    pub profiles: BTreeMap<String, Vec<String>>,
    /// `group:<id>` -> the tools it stands for, in order.
    pub groups: BTreeMap<String, Vec<String>>,
    /// A legacy tool name (lower-case) -> the tool it names now (`bash` -> `exec`).
    pub aliases: BTreeMap<String, String>,
    /// The release's own tools; any other name is a plugin's.
    pub core_tools: Vec<String>,
}

/// The grants a configured section of a tools scope implies (`tools.exec` an object: `exec` and
/// `process`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionGrants {
    pub key: String,
    pub grants: Vec<String>,
}
