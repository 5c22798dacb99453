//! Renders what the verbs report, for people (blocks, unified diffs) and for scripts (the typed
//! objects of the JSON document, and their JSON Schema): one file per report; the printer
//! decides where it goes.
pub mod diff;
pub mod list;
pub mod man;
pub mod repair;
pub mod report;
pub mod rollback;
pub mod schema;

pub use diff::diff;
