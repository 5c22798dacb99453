//! How an install came out of a command: the word every verb's report, the printer's counts and
//! the JSON `outcome` field share.
use serde::Serialize;

/// How an install came out of a command.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Outcome {
    /// Nothing to do.
    UpToDate,
    /// Changes are planned (dry run or check).
    Pending,
    /// Changes were applied in this run.
    Changed,
    /// Something only the operator has is missing (a key, a decision); nothing written.
    NeedsInput,
    /// Of an era this tool must not touch; nothing read beyond the config, nothing written.
    Unsupported(String),
    /// Could not be read, planned or written; other installs carried on.
    Failed(crate::error::Error),
    /// A rollback restored the files of a run.
    RolledBack,
    /// A rollback found no run to undo.
    NothingToUndo,
    /// `rollback --list`: the install has runs that can be undone.
    RunsRecorded,
}

impl Outcome {
    /// As the JSON output names it (`up-to-date`, `nothing-to-undo`).
    pub fn key(&self) -> String {
        self.label().replace(' ', "-")
    }

    pub fn label(&self) -> &'static str {
        match self {
            Outcome::UpToDate => "up to date",
            Outcome::Pending => "pending",
            Outcome::Changed => "changed",
            Outcome::NeedsInput => "needs input",
            Outcome::Unsupported(_) => "unsupported",
            Outcome::Failed(_) => "failed",
            Outcome::RolledBack => "rolled back",
            Outcome::NothingToUndo => "nothing to undo",
            Outcome::RunsRecorded => "runs recorded",
        }
    }
}
