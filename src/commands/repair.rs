//! `clawmigrate repair --rebless MIGRATION --from CHECKSUM`: accepts a migration's changed
//! checksum on the installs where it was applied (Flyway's `repair`, narrowed to one migration and
//! the exact old value), after the operator has checked that the change is intended. It writes no
//! file of the install: the ledger gains a `repair` run naming the old and the new checksum.
use crate::cli::{Format, RepairArgs};
use crate::discover::InstallRoot;
use crate::error::{Error, Kind};
use crate::ledger::{self, Applied, Ledger, Run, RunKind};
use crate::migration::{Migration, Registry};
use crate::outcome::Outcome;
use crate::pipeline::{self, Unit};
use crate::printer::{self, Mode, Output, Printer, Shown, Verbosity};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// One install's repair: what it records for the migration, and what became of it.
pub struct RepairReport {
    root: InstallRoot,
    /// The checksum the install records for the migration, when it is applied there.
    recorded: Option<String>,
    /// Why there is nothing to accept, when that is so.
    why_none: Option<String>,
    /// The repair's own run, once written.
    run_id: Option<String>,
    outcome: Outcome,
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
                    "{} records {c} for {}, not the --from {}; nothing was written. Check this install's history (`clawmigrate rollback --list`) before accepting its checksum",
                    root.state_dir.display(),
                    m.id(),
                    want.from
                ),
            )),
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

/// Records the repair in the install's ledger, under its run lock, after checking again that the
/// ledger still records the old checksum.
fn record(r: &RepairReport, want: &Rebless, run_id: String, invocation: &str) -> Result<(), Error> {
    let state = &r.root.state_dir;
    // The run lock alone: a repair writes no auth store, only the ledger.
    let _lock = crate::commit::lock::install_lock(state)?;
    let mut ledger = Ledger::read(state)?;
    let fresh = judge(&r.root, &ledger, want);
    if fresh.outcome != Outcome::Pending {
        return Err(match fresh.outcome {
            Outcome::Failed(e) => e,
            _ => Error::new(
                Kind::Changed,
                "another run changed the ledger since it was read; run clawmigrate repair again",
            ),
        });
    }
    let m = want.migration;
    ledger.runs.push(Run {
        id: run_id,
        invocation: invocation.to_string(),
        kind: RunKind::Repair,
        at: jiff::Timestamp::now().to_string(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        migrations: vec![Applied {
            version: m.def.version,
            id: m.id(),
            checksum: m.checksum.clone(),
        }],
        backup: String::new(),
        files: Vec::new(),
        error: None,
        undoes: None,
        reblessed_from: Some(want.from.to_string()),
        undone_by: None,
        incomplete: false,
        settled: false,
    });
    ledger.write(state, true)
}

/// Records the repair on every pending install of a chunk, each with its owner's rights.
fn record_chunk(chunk: &mut [RepairReport], want: &Rebless, invocation: &str, seq: &AtomicU64) {
    use rayon::prelude::*;
    chunk
        .par_iter_mut()
        .filter(|r| r.outcome == Outcome::Pending)
        .for_each(|r| {
            let id = ledger::run_id(invocation, seq.fetch_add(1, Ordering::Relaxed) + 1);
            let state = r.root.state_dir.clone();
            match crate::owner::as_owner(&state, || record(r, want, id.clone(), invocation)) {
                Ok(()) => {
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
fn resolve_from(
    prefix: &str,
    m: &Migration,
    target: &crate::discover::Target,
) -> Result<String, Error> {
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
                "--from {prefix}: no target install records a checksum of {} starting with it; `clawmigrate status` shows the recorded ones",
                m.id()
            ),
        )),
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

pub fn run(mut args: RepairArgs, verbosity: Verbosity) -> Result<u8, Error> {
    let reg = Registry::embedded();
    let migration = reg.select(std::slice::from_ref(&args.rebless))?[0];
    args.from = resolve_from(&args.from, migration, &args.target.target())?;
    if args.from == migration.checksum {
        return Err(Error::new(
            Kind::Usage,
            format!(
                "--from {} is {}'s current checksum; give the old one an install records (`clawmigrate status` shows it as \"recorded\")",
                args.from,
                migration.id()
            ),
        ));
    }
    let want = Rebless {
        migration,
        from: &args.from,
    };
    let env = super::process_env;
    let out = Output {
        json: args.format == Format::Json,
        verbosity,
        fleet: args.target.fleet(),
    };
    let migrations = json!([super::migration_json(migration)]);
    let target = args.target.target();
    let prep = |r: &InstallRoot| read_ledger(r, &want);
    if args.dry_run {
        let mut printer = Printer::start(out, Mode::RepairDryRun, None, migrations);
        pipeline::for_each_install(&target, &env, &prep, |chunk| printer.push_all(chunk));
        let counts = printer.finish();
        if !out.json && verbosity != Verbosity::Quiet {
            anstream::eprintln!("dry run: nothing was recorded");
        }
        return Ok(super::exit_code(&counts, super::Rule::Plain));
    }
    let invocation = ledger::new_invocation_id();
    let seq = AtomicU64::new(0);
    if !args.yes {
        // Asking first: read every install, show what would be accepted, then record that.
        let mut planned = pipeline::collect(&target, &env, &prep);
        let question = |pending| {
            let m = want.migration;
            let (id, now) = (m.id(), &m.checksum);
            format!(
                "Accept {id}'s checksum {now} in place of {} on {}?",
                want.from,
                printer::plural(pending, "install")
            )
        };
        let how = "Preview with --dry-run, then re-run with --yes to record it.";
        if !super::show_and_ask(&planned, out, Mode::RepairDryRun, how, question)? {
            return Ok(super::declined(
                out.json,
                Mode::Repair,
                "nothing was recorded",
            ));
        }
        let mut printer = Printer::start(out, Mode::Repair, Some(&invocation), migrations);
        for chunk in planned.chunks_mut(pipeline::CHUNK) {
            record_chunk(chunk, &want, &invocation, &seq);
            printer.push_all(chunk);
        }
        return Ok(super::exit_code(&printer.finish(), super::Rule::Plain));
    }
    let mut printer = Printer::start(out, Mode::Repair, Some(&invocation), migrations);
    pipeline::for_each_install(&target, &env, &prep, |chunk| {
        record_chunk(chunk, &want, &invocation, &seq);
        printer.push_all(chunk);
    });
    Ok(super::exit_code(&printer.finish(), super::Rule::Plain))
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
        out
    }

    fn json(&self, _mode: Mode) -> Value {
        let mut v = json!({
            "state_dir": self.root.state_dir,
            "outcome": self.outcome.key(),
            "recorded": self.recorded,
            "run_id": self.run_id,
        });
        match &self.outcome {
            Outcome::Failed(e) => v["error"] = json!(e),
            Outcome::UpToDate => v["reason"] = json!(self.why_none),
            _ => {}
        }
        v
    }
}
