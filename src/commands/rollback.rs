//! `clawmigrate rollback`: lists runs, or restores the exact bytes a run replaced, through the
//! same commit layer as migrate (locks, backups, barriers, checked renames, ledger).
use crate::cli::{Format, RollbackArgs};
use crate::commit::restore::{self, Restore};
use crate::commit::{self, Change, OpenRun, RunHead};
use crate::discover::{self, InstallRoot};
use crate::error::{Error, Kind};
use crate::ledger::{self, Ledger, Run, RunKind};
use crate::migration::Registry;
use crate::outcome::Outcome;
use crate::pipeline::{self, Unit};
use crate::printer::{self, Mode, Output, Printer, Shown, Verbosity};
use crate::storage::Store;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// One install's rollback, from the choice of run to its outcome.
pub struct RollbackReport {
    root: InstallRoot,
    ledger: Ledger,
    /// The run to undo here, if any.
    run: Option<String>,
    /// Why there is nothing to undo, when that is so.
    why_none: Option<String>,
    restores: Vec<Restore>,
    /// The rollback's own run, once written.
    rollback_run: Option<String>,
    outcome: Outcome,
}

impl Unit for RollbackReport {
    fn failed(root: InstallRoot, message: Error) -> Self {
        RollbackReport {
            root,
            ledger: Ledger::default(),
            run: None,
            why_none: None,
            restores: Vec::new(),
            rollback_run: None,
            outcome: Outcome::Failed(message),
        }
    }

    fn root(&self) -> &InstallRoot {
        &self.root
    }
}

/// Whether `run` is the one `id` names: its own id, or the id of the invocation that wrote it.
fn names(run: &Run, id: &str) -> bool {
    run.id == id || (!run.invocation.is_empty() && run.invocation == id)
}

/// Picks the run to undo: the one named, or the latest migrate run with something to undo (not
/// undone, not settled: see [`Run::undoable`]).
fn choose<'l>(ledger: &'l Ledger, id: Option<&str>) -> Result<Option<&'l Run>, Error> {
    let Some(id) = id else {
        return Ok(ledger.runs.iter().rev().find(|r| r.undoable()));
    };
    let Some(run) = ledger.runs.iter().rev().find(|r| names(r, id)) else {
        return Ok(None);
    };
    if run.kind != RunKind::Migrate {
        let what = match run.kind {
            RunKind::Repair => "a repair (it wrote no file; its checksum stays accepted)",
            _ => "itself a rollback",
        };
        return Err(Error::new(
            Kind::Usage,
            format!(
                "run {} is {what}; roll back a migrate run (`clawmigrate rollback --list` shows them)",
                run.id
            ),
        ));
    }
    Ok(Some(run))
}

/// Reads an install's ledger and plans what undoing the chosen run means (reads only).
fn read_ledger(root: &InstallRoot, home: &Path, args: &RollbackArgs) -> RollbackReport {
    let mut r = RollbackReport::failed(root.clone(), Error::new(Kind::Io, ""));
    r.ledger = match Ledger::read(&root.state_dir) {
        Ok(l) => l,
        Err(e) => return RollbackReport::failed(root.clone(), e),
    };
    if args.list {
        let undoable = r.ledger.runs.iter().any(Run::undoable);
        r.outcome = if r.ledger.runs.is_empty() {
            Outcome::NothingToUndo
        } else if undoable {
            Outcome::RunsRecorded
        } else {
            Outcome::NothingToUndo
        };
        return r;
    }
    let run = match choose(&r.ledger, args.run_id.as_deref()) {
        Ok(Some(run)) => run.clone(),
        Ok(None) => {
            r.why_none = Some(match &args.run_id {
                Some(id) => format!("no run {id} here"),
                None => "no run to undo".into(),
            });
            r.outcome = Outcome::NothingToUndo;
            return r;
        }
        Err(e) => {
            // The install holds the run named (one that cannot be undone): that is the one error,
            // not also "no install holds it".
            let mut failed = RollbackReport::failed(root.clone(), e);
            failed.run = args.run_id.clone();
            return failed;
        }
    };
    r.run = Some(run.id.clone());
    if let Some(by) = &run.undone_by {
        r.why_none = Some(format!("run {} was already undone by {by}", run.id));
        r.outcome = Outcome::NothingToUndo;
        return r;
    }
    if !run.undoable() {
        r.why_none = Some(format!(
            "run {} is settled: it left nothing to undo (it stopped before it wrote a file, or what it wrote was put back)",
            run.id
        ));
        r.outcome = Outcome::NothingToUndo;
        return r;
    }
    let changed = if args.force {
        restore::Changed::Restore
    } else {
        restore::Changed::Refuse
    };
    match restore::of_run(root, home, &run, changed) {
        Ok((restores, _)) => {
            r.restores = restores;
            r.outcome = Outcome::Pending;
        }
        Err(e) => r.outcome = Outcome::Failed(e),
    }
    r
}

/// What the commit step needs besides the reports.
struct RollbackBatch<'a> {
    home: &'a Path,
    args: &'a RollbackArgs,
    invocation: &'a str,
    seq: &'a AtomicU64,
}

/// Locks an install, plans its restore again under the lock (another run may have written since),
/// and stages it with the commit layer.
fn stage(r: &mut RollbackReport, ctx: &RollbackBatch) -> Result<OpenRun, Error> {
    let stores: Vec<&Store> = r.restores.iter().map(|x| &x.store).collect();
    let locks = commit::lock(&r.root.state_dir, &stores)?;
    let fresh = read_ledger(&r.root, ctx.home, ctx.args);
    if fresh.run != r.run || fresh.outcome != Outcome::Pending {
        let why = match fresh.outcome {
            Outcome::Failed(e) => e,
            _ => Error::new(
                Kind::Changed,
                "another run changed the install since it was planned; run clawmigrate rollback again",
            ),
        };
        return Err(why);
    }
    *r = fresh;
    let run_id = r.run.clone().expect("a pending rollback has a run");
    let changes: Vec<Change> = r.restores.iter().map(Restore::change).collect();
    let head = RunHead {
        id: ledger::run_id(ctx.invocation, ctx.seq.fetch_add(1, Ordering::Relaxed) + 1),
        invocation: ctx.invocation.to_string(),
        kind: RunKind::Rollback,
        migrations: Vec::new(),
        undoes: Some(run_id),
    };
    commit::open_run(&r.root, locks, head, &changes)
}

/// Restores every pending install of a chunk: staged in parallel, two barriers in all.
fn commit_chunk(chunk: &mut [RollbackReport], ctx: &RollbackBatch) {
    let stage = |r: &mut RollbackReport| {
        if matches!(r.outcome, Outcome::Failed(_)) {
            return None;
        }
        let state = r.root.state_dir.clone();
        crate::owner::as_owner(&state, || {
            // An install an interrupted run left behind is recovered first, also when there is
            // nothing else to undo (a run killed after its ledger entry, before its locks went);
            // when the run to undo is that interrupted one, recovery has already rolled it back.
            match crate::commit::recover::recover(&r.root, ctx.home) {
                Err(e) => return Some(Err(e)),
                Ok(done) => {
                    if let Some((_, by)) = done
                        .closed
                        .into_iter()
                        .find(|(id, _)| Some(id) == r.run.as_ref())
                    {
                        r.outcome = Outcome::RolledBack;
                        r.rollback_run = by;
                        return None;
                    }
                }
            }
            (r.outcome == Outcome::Pending).then(|| stage(r, ctx))
        })
    };
    commit::commit_units(chunk, &stage, |r, result| match result {
        Ok(run) => {
            r.outcome = Outcome::RolledBack;
            r.rollback_run = Some(run.id);
        }
        Err(e) => r.outcome = Outcome::Failed(e),
    });
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
            Outcome::Failed(e) => writeln!(out, "  error: {}", printer::escape(&e.message)),
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
                let what = if x.bytes.is_some() {
                    "restore"
                } else {
                    "remove"
                };
                let _ = writeln!(out, "    {what} {}", printer::escape(&x.location));
            }
        }
        out
    }

    fn json(&self, mode: Mode) -> Value {
        let mut v = json!({
            "state_dir": self.root.state_dir,
            "outcome": self.outcome.key(),
        });
        if mode == Mode::RollbackList {
            v["runs"] = serde_json::to_value(&self.ledger.runs).expect("runs serialise");
            if let Outcome::Failed(e) = &self.outcome {
                v["error"] = json!(e);
            }
            return v;
        }
        v["run_id"] = json!(self.run);
        v["rollback_run_id"] = json!(self.rollback_run);
        v["files"] = self
            .restores
            .iter()
            .map(|x| json!({"path": x.location, "action": if x.bytes.is_some() { "restore" } else { "remove" }}))
            .collect();
        match &self.outcome {
            Outcome::Failed(e) => v["error"] = json!(e),
            Outcome::NothingToUndo => v["reason"] = json!(self.why_none),
            _ => {}
        }
        v
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

pub fn run(args: RollbackArgs, verbosity: Verbosity) -> Result<u8, Error> {
    let env = super::process_env;
    let home = discover::home_dir(&env);
    let out = Output {
        json: args.format == Format::Json,
        verbosity,
        fleet: args.target.fleet(),
    };
    let reg = Registry::embedded();
    let migrations = reg.migrations.iter().map(super::migration_json).collect();
    let target = args.target.target();
    let prep = |r: &InstallRoot| read_ledger(r, &home, &args);
    let mode = if args.list {
        Mode::RollbackList
    } else if args.dry_run {
        Mode::RollbackDryRun
    } else {
        Mode::Rollback
    };
    let invocation = ledger::new_invocation_id();
    let seq = AtomicU64::new(0);
    let ctx = RollbackBatch {
        home: &home,
        args: &args,
        invocation: &invocation,
        seq: &seq,
    };
    // A named run that no install holds is an error, not "nothing to undo".
    let found = AtomicU64::new(0);
    let note = |chunk: &[RollbackReport]| {
        let n = chunk.iter().filter(|r| r.run.is_some()).count();
        found.fetch_add(n as u64, Ordering::Relaxed);
    };
    let missing = |found: &AtomicU64| match &args.run_id {
        Some(id) if !args.list && found.load(Ordering::Relaxed) == 0 => vec![Error::new(
            Kind::NotFound,
            format!(
                "no target install holds run {id}; `clawmigrate rollback --list` shows the runs"
            ),
        )],
        _ => Vec::new(),
    };
    let printer = if args.list || args.dry_run || args.yes {
        // The list and the dry run read each install's ledger and backups and write nothing; the
        // dry run's plan is the one --yes checks again under the lock before it restores.
        let writes = args.yes && !args.list && !args.dry_run;
        let start = writes.then_some(&*invocation);
        let mut printer = Printer::start(out, mode, start, migrations);
        pipeline::for_each_install(&target, &env, &prep, |chunk| {
            note(chunk);
            if writes {
                commit_chunk(chunk, &ctx);
            }
            printer.push_all(chunk);
        });
        printer
    } else {
        // Asking first: plan every install, show it, then restore exactly that.
        let mut planned = pipeline::collect(&target, &env, &prep);
        note(&planned);
        let how = "Re-run with --yes to restore.";
        let question = |n| format!("Restore the files of {}?", printer::plural(n, "install"));
        if !super::show_and_ask(&planned, out, mode, how, question)? {
            return Ok(super::declined(out.json, mode, "nothing was restored"));
        }
        let mut printer = Printer::start(out, mode, Some(&invocation), migrations);
        for chunk in planned.chunks_mut(pipeline::CHUNK) {
            commit_chunk(chunk, &ctx);
            printer.push_all(chunk);
        }
        printer
    };
    let missing = missing(&found);
    let failed_run = !missing.is_empty();
    let counts = printer.finish_with(missing);
    if args.dry_run && !out.json && verbosity != Verbosity::Quiet {
        anstream::eprintln!("dry run: nothing was restored");
    }
    Ok(match super::exit_code(&counts, super::Rule::Plain) {
        super::OK if failed_run => super::ERROR,
        code => code,
    })
}
