//! A rollback as people and scripts read it: per install, the runs it lists, or what it would
//! restore or restored.
use crate::commit::restore::Restore;
use crate::error::Error;
use crate::ledger::{Ledger, Run, RunKind};
use crate::ops::rollback::RollbackReport;
use crate::outcome::{Outcome, OutcomeKey};
use crate::printer::{self, Mode, Shown};
use schemars::JsonSchema;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// An install's object in a rollback's JSON document: its runs (`--list`), or a rollback.
#[derive(Serialize)]
#[serde(untagged)]
pub enum RollbackJson<'a> {
    List(RunsJson<'a>),
    Undo(UndoJson<'a>),
}

/// An install's object in `rollback --list`'s JSON document: its runs.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "RollbackListInstall")]
pub struct RunsJson<'a> {
    state_dir: &'a Path,
    outcome: OutcomeKey,
    runs: &'a [Run],
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Error")]
    error: Option<&'a Error>,
}

/// An install's object in the JSON document of a rollback or its dry run: the run undone and
/// the files restored (or to restore).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "RollbackInstall")]
pub struct UndoJson<'a> {
    state_dir: &'a Path,
    outcome: OutcomeKey,
    run_id: Option<&'a str>,
    rollback_run_id: Option<&'a str>,
    files: Vec<FileJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Error")]
    error: Option<&'a Error>,
    /// Why there is nothing to undo (present, maybe null, only then).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    reason: Option<Option<&'a str>>,
}

/// A file a rollback restores or removes.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "RollbackFile")]
pub struct FileJson<'a> {
    path: &'a str,
    action: Action,
}

/// What undoing puts back: the old bytes, or no file (the run created it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "RollbackAction")]
pub enum Action {
    Restore,
    Remove,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Restore => "restore",
            Action::Remove => "remove",
        }
    }
}

fn action(x: &Restore) -> Action {
    if x.bytes.is_some() {
        Action::Restore
    } else {
        Action::Remove
    }
}

impl Shown for RollbackReport {
    fn state_dir(&self) -> &Path {
        &self.root.state_dir
    }

    fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    fn human(&self, mode: Mode, detail: bool) -> String {
        // A list labels an install by what it lists: its runs, and whether one can be undone.
        let label = match (&self.outcome, mode, self.ledger.runs.is_empty()) {
            (Outcome::NothingToUndo, Mode::RollbackList, true) => "no runs recorded",
            (Outcome::NothingToUndo, Mode::RollbackList, false) => "runs recorded, none to undo",
            (o, _, _) => o.label(),
        };
        let mut out = format!("{} [{label}]\n", printer::path(&self.root.state_dir));
        // A failed install shows its error, in a list too.
        if mode == Mode::RollbackList && !matches!(self.outcome, Outcome::Failed(_)) {
            list_runs(&self.ledger, &mut out);
            return out;
        }
        let run = self.run.as_deref().unwrap_or("?");
        let _ = match &self.outcome {
            Outcome::Failed(e) => write!(
                out,
                "  error: {}\n{}",
                printer::escape(&e.message),
                printer::hint_line(e, "  ")
            ),
            Outcome::NothingToUndo => writeln!(
                out,
                "  {}",
                printer::escape(self.why_none.as_deref().unwrap_or("no run to undo"))
            ),
            Outcome::Pending => writeln!(
                out,
                "  would restore {} of run {run}",
                printer::plural(self.restores.len(), "file")
            ),
            _ => writeln!(
                out,
                "  restored {} of run {run} (recorded as run {})",
                printer::plural(self.restores.len(), "file"),
                self.rollback_run.as_deref().unwrap_or("?")
            ),
        };
        if detail {
            for x in &self.restores {
                let _ = writeln!(
                    out,
                    "    {} {}",
                    action(x).as_str(),
                    printer::escape(&x.location)
                );
            }
        }
        out
    }

    type Json<'a> = RollbackJson<'a>;

    fn json(&self, mode: Mode) -> RollbackJson<'_> {
        let (state_dir, outcome) = (&*self.root.state_dir, self.outcome.key());
        let error = match &self.outcome {
            Outcome::Failed(e) => Some(e),
            _ => None,
        };
        if mode == Mode::RollbackList {
            return RollbackJson::List(RunsJson {
                state_dir,
                outcome,
                runs: &self.ledger.runs,
                error,
            });
        }
        RollbackJson::Undo(UndoJson {
            state_dir,
            outcome,
            run_id: self.run.as_deref(),
            rollback_run_id: self.rollback_run.as_deref(),
            files: self
                .restores
                .iter()
                .map(|x| FileJson {
                    path: &x.location,
                    action: action(x),
                })
                .collect(),
            error,
            reason: match self.outcome {
                Outcome::NothingToUndo => Some(self.why_none.as_deref()),
                _ => None,
            },
        })
    }

    fn work(&self) -> (usize, usize) {
        match self.outcome {
            Outcome::Failed(_) => (0, 0),
            _ => (self.restores.len(), 0),
        }
    }
}

/// The runs of a ledger, one line each.
fn list_runs(ledger: &Ledger, out: &mut String) {
    for r in &ledger.runs {
        let what = match r.kind {
            RunKind::Migrate => r
                .migrations
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            RunKind::Rollback => format!("rollback of {}", r.undoes.as_deref().unwrap_or("?")),
            RunKind::Repair => r
                .migrations
                .iter()
                .map(|m| {
                    let from = r.reblessed_from.as_deref().unwrap_or("?");
                    format!("repair: {} checksum {from} -> {}", m.id, m.checksum)
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        let undone = r
            .undone_by
            .as_ref()
            .map(|u| format!(" (undone by {u})"))
            .unwrap_or_default();
        let err = match (r.error.is_some(), r.settled) {
            (_, true) => " (settled: nothing to undo)",
            (true, false) => " (stopped by an error)",
            _ => "",
        };
        // The ledger is the install's own file: nothing of it reaches the terminal unescaped.
        let line = format!(
            "  {}  {}  {}  {what}{undone}{err}",
            r.id,
            r.at,
            printer::plural(r.files.len(), "file")
        );
        let _ = writeln!(out, "{}", printer::escape(&line));
    }
}
