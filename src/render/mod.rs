//! Renders what the verbs report, for people (blocks, unified diffs) and for scripts (the typed
//! objects of the JSON document): one file per report; the printer decides where it goes.
pub mod diff;
pub mod list;
pub mod repair;
pub mod report;
pub mod rollback;

use crate::printer;
use std::path::Path;

pub use diff::diff;

/// A path as the operator knows it: relative to the state dir when inside it.
pub fn display_path(state_dir: &Path, path: &Path) -> String {
    printer::path(path.strip_prefix(state_dir).unwrap_or(path))
}
