//! `repair --rebless MIGRATION --from CHECKSUM`: accepts a migration's changed checksum on the
//! installs where it was applied (Flyway's `repair`, narrowed to one migration and the exact old
//! value), after the operator has checked that the change is intended. It writes no file of the
//! install: the commit layer records a `repair` run naming the old and the new checksum.
use super::{Confirm, Done, Envelope, Writes};
use crate::commit::{self, RunHead};
use crate::discover::{InstallRoot, Target};
use crate::error::{Error, Kind};
use crate::ledger::{self, Applied, Ledger, RunKind};
use crate::migration::Only;
use crate::migration::{Migration, Registry};
use crate::outcome::Outcome;
use crate::pipeline::{self, Unit};
use crate::printer::{self, Counts, MigrationEntry, Mode, Output, Printer};
use std::sync::atomic::{AtomicU64, Ordering};

/// What `repair` is asked to do.
pub struct RepairOptions {
    pub target: Target,
    /// The migration whose changed checksum to accept.
    pub rebless: Only,
    /// The checksum (or a prefix of it) the installs record now.
    pub from: String,
    /// Shows what would be accepted (reads only).
    pub dry_run: bool,
    /// Records without asking.
    pub yes: bool,
    pub out: Output,
}

/// One install's repair: what it records for the migration, and what became of it.
pub struct RepairReport {
    pub root: InstallRoot,
    /// The checksum the install records for the migration, when it is applied there.
    pub recorded: Option<String>,
    /// Why there is nothing to accept, when that is so.
    pub why_none: Option<String>,
    /// The repair's own run, once written.
    pub run_id: Option<String>,
    pub outcome: Outcome,
}

impl Unit for RepairReport {
    fn failed(root: InstallRoot, e: Error) -> Self {
        RepairReport {
            root,
            recorded: None,
            why_none: None,
            run_id: None,
            outcome: Outcome::Failed(e),
        }
    }

    fn root(&self) -> &InstallRoot {
        &self.root
    }
}

/// What the operator asked to accept: the migration as this binary has it, and the old checksum.
struct Rebless<'a> {
    migration: &'a Migration,
    from: &'a str,
}

/// Reads an install's ledger and says whether the rebless applies there (reads only).
fn read_ledger(root: &InstallRoot, want: &Rebless) -> RepairReport {
    match Ledger::read(&root.state_dir) {
        Ok(ledger) => judge(root, &ledger, want),
        Err(e) => RepairReport::failed(root.clone(), e),
    }
}

/// Whether the rebless applies to an install with this ledger.
fn judge(root: &InstallRoot, ledger: &Ledger, want: &Rebless) -> RepairReport {
    let m = want.migration;
    let recorded = ledger
        .applied()
        .into_iter()
        .find(|a| a.version == m.def.version)
        .map(|a| a.checksum);
    let (outcome, why_none) = match recorded.as_deref() {
        None => (
            Outcome::UpToDate,
            Some(format!("{} is not applied here", m.id())),
        ),
        Some(c) if c == m.checksum => (
            Outcome::UpToDate,
            Some(format!("{} already records the current checksum", m.id())),
        ),
        Some(c) if c == want.from => (Outcome::Pending, None),
        Some(c) => (
            Outcome::Failed(Error::new(
                Kind::Refused,
                format!(
                    "{} records {c} for {}, not the --from {}; nothing was written",
                    root.state_dir.display(),
                    m.id(),
                    want.from
                ),
            )
            .hinted("check this install's history (`clawmigrate rollback --list`) before accepting its checksum")),
            None,
        ),
    };
    RepairReport {
        root: root.clone(),
        recorded,
        why_none,
        run_id: None,
        outcome,
    }
}

/// Records the repair through the commit layer, under the install's run lock, after checking
/// again that the ledger still records the old checksum.
fn record(r: &RepairReport, want: &Rebless, head: RunHead) -> Result<String, Error> {
    let run = commit::record(&r.root, head, |ledger| {
        match judge(&r.root, ledger, want).outcome {
            Outcome::Pending => Ok(()),
            Outcome::Failed(e) => Err(e),
            _ => Err(Error::new(
                Kind::Changed,
                "another run changed the ledger since it was read",
            )
            .hinted("run clawmigrate repair again")),
        }
    })?;
    Ok(run.id)
}

/// Records the repair on every pending install of a chunk, each with its owner's rights.
fn record_chunk(chunk: &mut [RepairReport], want: &Rebless, invocation: &str, seq: &AtomicU64) {
    use rayon::prelude::*;
    let m = want.migration;
    chunk
        .par_iter_mut()
        .filter(|r| r.outcome == Outcome::Pending)
        .for_each(|r| {
            let head = RunHead {
                id: ledger::run_id(invocation, seq.fetch_add(1, Ordering::Relaxed) + 1),
                invocation: invocation.to_string(),
                kind: RunKind::Repair,
                migrations: vec![Applied {
                    version: m.def.version,
                    id: m.id(),
                    checksum: m.checksum.clone(),
                }],
                to: None,
                undoes: None,
                reblessed_from: Some(want.from.to_string()),
            };
            let state = r.root.state_dir.clone();
            match crate::owner::as_owner(&state, || record(r, want, head)) {
                Ok(id) => {
                    r.outcome = Outcome::Changed;
                    r.run_id = Some(id);
                }
                Err(e) => r.outcome = Outcome::Failed(e),
            }
        });
}

/// The full checksum a `--from` prefix names: the one checksum of `m` the target installs record
/// that starts with it (as git resolves an abbreviated id). None recorded, or several, is an
/// error saying which.
fn resolve_from(prefix: &str, m: &Migration, target: &Target) -> Result<String, Error> {
    const FULL: usize = "sha256:".len() + 64;
    if prefix.len() == FULL {
        return Ok(prefix.to_string());
    }
    let probe = Rebless {
        migration: m,
        from: "",
    };
    let prep = |r: &InstallRoot| read_ledger(r, &probe);
    let mut found: Vec<String> = pipeline::collect(target, &super::process_env, &prep)
        .into_iter()
        .filter_map(|r| r.recorded)
        .filter(|c| c.starts_with(prefix))
        .collect();
    found.sort();
    found.dedup();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::new(
            Kind::NotFound,
            format!(
                "--from {prefix}: no target install records a checksum of {} starting with it",
                m.id()
            ),
        )
        .hinted("`clawmigrate status` shows the recorded ones")),
        many => Err(Error::new(
            Kind::Usage,
            format!(
                "--from {prefix} is ambiguous: the target installs record {} for {}; give more digits",
                many.join(", "),
                m.id()
            ),
        )),
    }
}

/// A repair in progress: the options, what to accept, and what its installs share.
struct Repair<'a> {
    opts: &'a RepairOptions,
    want: Rebless<'a>,
    migrations: Vec<MigrationEntry<'a>>,
    invocation: String,
    seq: AtomicU64,
}

impl Writes for Repair<'_> {
    type Reviewed = Vec<RepairReport>;
    const ASK_FIRST: bool = false;

    fn modes(&self) -> (Mode, Mode) {
        (Mode::Repair, Mode::RepairDryRun)
    }

    fn read(&self, shown: &mut Printer, review: bool) -> Vec<RepairReport> {
        let prep = |r: &InstallRoot| read_ledger(r, &self.want);
        super::read_units(&self.opts.target, &prep, shown, review, |_| ())
    }

    fn show(&self, reviewed: &mut Vec<RepairReport>, shown: &mut Printer) {
        shown.push_all(reviewed);
    }

    fn question(&self, counts: &Counts, _: &Vec<RepairReport>) -> Option<String> {
        let m = self.want.migration;
        (counts.pending > 0).then(|| {
            format!(
                "Accept {}'s checksum {} in place of {} on {}?",
                m.id(),
                m.checksum,
                self.want.from,
                printer::plural(counts.pending, "install")
            )
        })
    }

    fn write(&self, reviewed: Option<Vec<RepairReport>>, printer: &mut Printer) {
        let (want, inv, seq) = (&self.want, &*self.invocation, &self.seq);
        let prep = |r: &InstallRoot| read_ledger(r, want);
        super::write_units(&self.opts.target, &prep, reviewed, printer, |chunk| {
            record_chunk(chunk, want, inv, seq)
        });
    }

    fn how(&self) -> &str {
        "Preview with --dry-run, then re-run with --yes to record it."
    }

    fn nothing(&self) -> &str {
        "nothing was recorded"
    }

    fn envelope(&self) -> Envelope<'_> {
        Envelope {
            out: self.opts.out,
            migrations: &self.migrations,
            invocation: &self.invocation,
        }
    }
}

/// Shows what accepting the checksum means on every target install, or records it (asking first
/// unless `yes`).
pub fn run(opts: &RepairOptions) -> Result<Done, Error> {
    let reg = Registry::embedded();
    let migration = reg.select(std::slice::from_ref(&opts.rebless))?[0];
    let from = resolve_from(&opts.from, migration, &opts.target)?;
    if from == migration.checksum {
        return Err(Error::new(
            Kind::Usage,
            format!(
                "--from {from} is {}'s current checksum; give the old one an install records",
                migration.id()
            ),
        )
        .hinted("`clawmigrate status` shows it as \"recorded\""));
    }
    let op = Repair {
        opts,
        want: Rebless {
            migration,
            from: &from,
        },
        migrations: vec![MigrationEntry::from(migration)],
        invocation: ledger::new_invocation_id(),
        seq: AtomicU64::new(0),
    };
    if opts.dry_run {
        return Ok(Done::Ran(super::show(&op, Mode::RepairDryRun)));
    }
    let confirm = if opts.yes { Confirm::Yes } else { Confirm::Ask };
    super::show_ask_write(&op, confirm)
}
