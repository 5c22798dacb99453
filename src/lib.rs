//! clawmigrate: versioned, previewable, reversible migrations for OpenClaw installs on disk.
pub mod apply;
pub mod backup;
pub mod cli;
pub mod commands;
pub mod discover;
pub mod document;
pub mod fsio;
pub mod ledger;
pub mod load;
pub mod lock;
pub mod migration;
pub mod patch;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod saved;
pub mod secrets;
mod steps;
