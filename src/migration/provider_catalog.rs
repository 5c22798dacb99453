//! The part of a release's bundled provider catalog that config migrations read: per provider,
//! the catalog rows of each model that carry `compat` capabilities, with the route (`api`,
//! `baseUrl`) each row is served on. It is data of the migrations that need it (so their
//! checksum covers it), evaluated by the step kinds.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderCatalog {
    /// Provider id (lower-case) -> model key (lower-case, without the `provider/` prefix) ->
    /// the catalog's rows of that key. Only keys with a row carrying `compat` are listed.
    pub providers: BTreeMap<String, BTreeMap<String, Vec<CatalogRow>>>,
    /// Providers whose rows come only through another provider's alias: a catalog read
    /// without a provider filter (a blank provider key in the config) does not list them.
    #[serde(default)]
    pub alias_providers: Vec<String>,
}

/// One catalog row: the route it is served on and its capabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    #[serde(default, rename = "baseUrl", skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default)]
    pub compat: Map<String, Value>,
}
