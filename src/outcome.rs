//! How an install came out of a command: the word every verb's report, the printer's counts and
//! the JSON `outcome` field share.
use schemars::JsonSchema;
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

/// An outcome as the JSON output names it (an install's `outcome`): its label, kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKey {
    UpToDate,
    Pending,
    Changed,
    NeedsInput,
    Unsupported,
    Failed,
    RolledBack,
    NothingToUndo,
    RunsRecorded,
}

impl Outcome {
    /// As the JSON output names it (`up-to-date`, `nothing-to-undo`).
    pub fn key(&self) -> OutcomeKey {
        match self {
            Outcome::UpToDate => OutcomeKey::UpToDate,
            Outcome::Pending => OutcomeKey::Pending,
            Outcome::Changed => OutcomeKey::Changed,
            Outcome::NeedsInput => OutcomeKey::NeedsInput,
            Outcome::Unsupported(_) => OutcomeKey::Unsupported,
            Outcome::Failed(_) => OutcomeKey::Failed,
            Outcome::RolledBack => OutcomeKey::RolledBack,
            Outcome::NothingToUndo => OutcomeKey::NothingToUndo,
            Outcome::RunsRecorded => OutcomeKey::RunsRecorded,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON key is the label, kebab-case, for every outcome.
    #[test]
    fn the_key_is_the_label_in_kebab_case() {
        let e = crate::error::Error::new(crate::error::Kind::Io, "x");
        let all = [
            Outcome::UpToDate,
            Outcome::Pending,
            Outcome::Changed,
            Outcome::NeedsInput,
            Outcome::Unsupported(String::new()),
            Outcome::Failed(e),
            Outcome::RolledBack,
            Outcome::NothingToUndo,
            Outcome::RunsRecorded,
        ];
        for o in all {
            let key = serde_json::to_value(o.key()).unwrap();
            assert_eq!(key, o.label().replace(' ', "-"), "{o:?}");
        }
    }
}
