//! A repair as people and scripts read it: per install, the checksum it records and what
//! became of it.
use crate::error::Error;
use crate::ops::repair::RepairReport;
use crate::outcome::{Outcome, OutcomeKey};
use crate::printer::{self, Mode, Shown};
use schemars::JsonSchema;
use serde::Serialize;
use std::path::Path;

/// An install's object in a repair's JSON document.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "RepairInstall")]
pub struct RepairJson<'a> {
    state_dir: &'a Path,
    outcome: OutcomeKey,
    /// The checksum the install records for the migration, if it is applied there.
    recorded: Option<&'a str>,
    /// The repair's own run, once recorded.
    run_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Error")]
    error: Option<&'a Error>,
    /// Why there is nothing to accept (present, maybe null, only then).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    reason: Option<Option<&'a str>>,
}

impl Shown for RepairReport {
    fn state_dir(&self) -> &Path {
        &self.root.state_dir
    }

    fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    fn human(&self, _mode: Mode, _detail: bool) -> String {
        let mut out = format!(
            "{} [{}]\n",
            printer::path(&self.root.state_dir),
            self.outcome.label()
        );
        let recorded = self.recorded.as_deref().unwrap_or("?");
        let line = match &self.outcome {
            Outcome::Failed(e) => format!("error: {}", e.message),
            Outcome::Pending => format!("would accept the current checksum in place of {recorded}"),
            Outcome::Changed => format!(
                "accepted the current checksum in place of {recorded} (recorded as run {})",
                self.run_id.as_deref().unwrap_or("?")
            ),
            _ => self.why_none.clone().unwrap_or_default(),
        };
        out.push_str(&format!("  {}\n", printer::escape(&line)));
        if let Outcome::Failed(e) = &self.outcome {
            out.push_str(&printer::hint_line(e, "  "));
        }
        out
    }

    type Json<'a> = RepairJson<'a>;

    fn json(&self, _mode: Mode) -> RepairJson<'_> {
        RepairJson {
            state_dir: &self.root.state_dir,
            outcome: self.outcome.key(),
            recorded: self.recorded.as_deref(),
            run_id: self.run_id.as_deref(),
            error: match &self.outcome {
                Outcome::Failed(e) => Some(e),
                _ => None,
            },
            reason: match self.outcome {
                Outcome::UpToDate => Some(self.why_none.as_deref()),
                _ => None,
            },
        }
    }
}
