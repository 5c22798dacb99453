//! `rollback`: lists an install's runs, or restores the exact bytes a run replaced, through the
//! same commit layer as migrate (locks, backups, barriers, checked renames, ledger).
use super::{Confirm, Done, Envelope, Writes};
use crate::commit::restore::{self, Restore};
use crate::commit::{self, Change, OpenRun, RunHead};
use crate::discover::{self, InstallRoot, Target};
use crate::error::{Error, Kind};
use crate::ledger::{self, Ledger, Run, RunKind};
use crate::migration::Registry;
use crate::outcome::Outcome;
use crate::pipeline::Unit;
use crate::printer::{self, MigrationEntry, Mode, Output, Printer};
use crate::storage::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What `rollback` is asked to do.
pub struct RollbackOptions {
    pub target: Target,
    /// The run (or invocation) to undo; without it, each install's latest undoable run.
    pub run_id: Option<String>,
    /// Lists the runs instead (reads only).
    pub list: bool,
    /// Shows what would be restored (reads only).
    pub dry_run: bool,
    /// Restores a file that changed since the run wrote it.
    pub force: bool,
    /// Restores without asking.
    pub yes: bool,
    pub out: Output,
}

impl RollbackOptions {
    /// The mode the envelope names.
    pub fn mode(&self) -> Mode {
        if self.list {
            Mode::RollbackList
        } else if self.dry_run {
            Mode::RollbackDryRun
        } else {
            Mode::Rollback
        }
    }
}

/// One install's rollback, from the choice of run to its outcome.
pub struct RollbackReport {
    pub root: InstallRoot,
    pub ledger: Ledger,
    /// The run to undo here, if any.
    pub run: Option<String>,
    /// Why there is nothing to undo, when that is so.
    pub why_none: Option<String>,
    pub restores: Vec<Restore>,
    /// The rollback's own run, once written.
    pub rollback_run: Option<String>,
    pub outcome: Outcome,
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
        return Err(Error::new(Kind::Usage, format!("run {} is {what}", run.id))
            .hinted("roll back a migrate run (`clawmigrate rollback --list` shows them)"));
    }
    Ok(Some(run))
}

/// Reads an install's ledger and plans what undoing the chosen run means (reads only).
fn read_ledger(root: &InstallRoot, home: &Path, args: &RollbackOptions) -> RollbackReport {
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
    args: &'a RollbackOptions,
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
                "another run changed the install since it was planned",
            )
            .hinted("run clawmigrate rollback again"),
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
        to: None,
        undoes: Some(run_id),
        reblessed_from: None,
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

/// A rollback in progress: the options, and what its installs share.
struct Rollback<'a> {
    opts: &'a RollbackOptions,
    home: PathBuf,
    migrations: Vec<MigrationEntry<'a>>,
    invocation: String,
    seq: AtomicU64,
    /// How many installs hold the run to undo (a named run that none holds is an error).
    found: AtomicU64,
}

impl Rollback<'_> {
    fn ctx(&self) -> RollbackBatch<'_> {
        RollbackBatch {
            home: &self.home,
            args: self.opts,
            invocation: &self.invocation,
            seq: &self.seq,
        }
    }

    fn read_one(&self, r: &InstallRoot) -> RollbackReport {
        read_ledger(r, &self.home, self.opts)
    }

    /// Counts the installs of a chunk that hold the run to undo.
    fn note(&self, chunk: &[RollbackReport]) {
        let n = chunk.iter().filter(|r| r.run.is_some()).count();
        self.found.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl Writes for Rollback<'_> {
    type Reviewed = Vec<RollbackReport>;
    const ASK_FIRST: bool = false;

    fn modes(&self) -> (Mode, Mode) {
        (self.opts.mode(), self.opts.mode())
    }

    fn read(&self, shown: &mut Printer, review: bool) -> Vec<RollbackReport> {
        // The list and the dry run read each install's ledger and backups and write nothing; the
        // dry run's plan is the one --yes checks again under the lock before it restores.
        let prep = |r: &InstallRoot| self.read_one(r);
        super::read_units(&self.opts.target, &prep, shown, review, |c| self.note(c))
    }

    fn show(&self, reviewed: &mut Vec<RollbackReport>, shown: &mut Printer) {
        shown.push_all(reviewed);
    }

    fn question(&self, counts: &printer::Counts, _: &Vec<RollbackReport>) -> Option<String> {
        (counts.pending > 0).then(|| {
            format!(
                "Restore the files of {}?",
                printer::plural(counts.pending, "install")
            )
        })
    }

    fn write(&self, reviewed: Option<Vec<RollbackReport>>, printer: &mut Printer) {
        let ctx = self.ctx();
        let prep = |r: &InstallRoot| self.read_one(r);
        super::write_units(&self.opts.target, &prep, reviewed, printer, |chunk| {
            self.note(chunk);
            commit_chunk(chunk, &ctx);
        });
    }

    fn how(&self) -> &str {
        "Re-run with --yes to restore."
    }

    fn nothing(&self) -> &str {
        "nothing was restored"
    }

    fn envelope(&self) -> Envelope<'_> {
        Envelope {
            out: self.opts.out,
            migrations: &self.migrations,
            invocation: &self.invocation,
        }
    }

    /// A named run that no install holds is an error, not "nothing to undo".
    fn run_errors(&self) -> Vec<Error> {
        match &self.opts.run_id {
            Some(id) if !self.opts.list && self.found.load(Ordering::Relaxed) == 0 => {
                vec![
                    Error::new(Kind::NotFound, format!("no target install holds run {id}"))
                        .hinted("`clawmigrate rollback --list` shows the runs"),
                ]
            }
            _ => Vec::new(),
        }
    }
}

/// Lists the runs, shows what undoing one would restore, or restores it (asking first unless
/// `yes`).
pub fn run(opts: &RollbackOptions) -> Result<Done, Error> {
    let reg = Registry::embedded();
    let op = Rollback {
        opts,
        home: discover::home_dir(&super::process_env),
        migrations: printer::migration_entries(&reg.migrations),
        invocation: ledger::new_invocation_id(),
        seq: AtomicU64::new(0),
        found: AtomicU64::new(0),
    };
    if opts.list || opts.dry_run {
        return Ok(Done::Ran(super::show(&op, opts.mode())));
    }
    let confirm = if opts.yes { Confirm::Yes } else { Confirm::Ask };
    super::show_ask_write(&op, confirm)
}
