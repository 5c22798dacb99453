//! The operations under the verbs (cargo's `ops`): each takes an options struct, not clap's
//! arguments, reads through the pipeline, writes through the commit layer and prints through
//! the printer. Here, what they share: the reach of a run and the one "show, ask, write" driver.
pub mod migrate;
pub mod repair;
pub mod rollback;

use crate::discover::{InstallRoot, Target};
use crate::error::{Error, Kind};
use crate::pipeline::{self, Unit};
use crate::printer::{Counts, MigrationEntry, Mode, Output, Printer, Shown};
use std::io::{BufRead, IsTerminal, Write};

/// Reads the process environment (the seam discovery takes).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// What a run's `--to` selects: the migrations to run (narrowed by `--only`), the release
/// itself, and, without `--to`, the upgrades to report as available (never applied), and the
/// opt-in migrations `--only` does not name (reported as available too).
pub fn scope<'r>(
    reg: &'r crate::migration::Registry,
    only: &[crate::migration::Only],
    to: Option<&str>,
) -> Result<Scope<'r>, Error> {
    let to = to.map(|t| reg.target(t)).transpose()?;
    let migrations = reg.select_to(only, to.as_ref())?;
    let available = match to {
        Some(_) => Vec::new(),
        None => reg.upgrades().into_iter().cloned().collect(),
    };
    let opt_in = reg
        .opt_ins_left_out(&migrations)
        .into_iter()
        .cloned()
        .collect();
    Ok(Scope {
        migrations,
        to,
        available,
        opt_in,
    })
}

/// See [`scope`].
pub struct Scope<'r> {
    pub migrations: Vec<&'r crate::migration::Migration>,
    pub to: Option<crate::release::Release>,
    pub available: Vec<crate::migration::Migration>,
    /// The opt-in migrations the selection leaves out, to report as available (never applied).
    pub opt_in: Vec<crate::migration::Migration>,
}

/// How an operation that writes gets the operator's go-ahead.
pub enum Confirm<R> {
    /// `--yes`: every install is read and written in one pass (memory stays flat).
    Yes,
    /// On a terminal: show what would be written, ask, then write exactly that.
    Ask,
    /// Reviewed and confirmed already (a saved plan): write it.
    Reviewed(R),
}

/// How an operation ended.
pub enum Done {
    /// It ran: what came of the installs.
    Ran(Counts),
    /// The operator answered no; nothing was written (and the printer said so).
    Declined,
}

/// An operation that writes what it read, through the one driver [`show_ask_write`].
pub trait Writes: Sync {
    /// What a review keeps, so that the write writes exactly what was shown.
    type Reviewed;
    /// Whether asking needs a terminal before anything is read (`migrate`: it refuses at once)
    /// or only once something is to be written (`rollback` and `repair` read first, and need no
    /// terminal when there is nothing to write).
    const ASK_FIRST: bool;
    /// The envelope's fields: the verb's mode when it writes, and the one it shows a preview in.
    fn modes(&self) -> (Mode, Mode);
    /// Reads every install, each chunk pushed to `shown`; keeps what the write needs when
    /// `review`, else nothing (a dry run: memory stays flat).
    fn read(&self, shown: &mut Printer, review: bool) -> Self::Reviewed;
    /// Shows what a review kept: called for an operation that reads before it asks (one that
    /// asks first showed every install as it read it).
    fn show(&self, _reviewed: &mut Self::Reviewed, _shown: &mut Printer) {}
    /// The question before writing what a review kept; `None` when there is nothing to write.
    fn question(&self, counts: &Counts, reviewed: &Self::Reviewed) -> Option<String>;
    /// Writes what a review kept, or (`None`) reads and writes every install in one pass.
    fn write(&self, reviewed: Option<Self::Reviewed>, printer: &mut Printer);
    /// How to go ahead without a terminal to ask on.
    fn how(&self) -> &str;
    /// What the operator is told when they answer no ("nothing was written").
    fn nothing(&self) -> &str;
    /// How it prints, and what its JSON envelope names.
    fn envelope(&self) -> Envelope<'_>;
    /// Errors of the whole run (not of one install), once it is over.
    fn run_errors(&self) -> Vec<Error> {
        Vec::new()
    }
}

/// How an operation prints, and what its JSON envelope names.
pub struct Envelope<'a> {
    pub out: Output,
    /// The migrations it runs with.
    pub migrations: &'a [MigrationEntry<'a>],
    /// Its invocation id (named in the envelope when it writes).
    pub invocation: &'a str,
}

/// The printer of an operation in `mode` (naming its invocation when it `writes`).
pub fn printer<W: Writes>(w: &W, mode: Mode, writes: bool) -> Printer {
    let e = w.envelope();
    Printer::start(e.out, mode, writes.then_some(e.invocation), e.migrations)
}

/// Reads every target install with `prep`, each chunk told to `note` and pushed to `shown`: kept
/// for a review, otherwise streamed (memory stays flat).
pub fn read_units<T: Unit + Shown>(
    target: &Target,
    prep: &(dyn Fn(&InstallRoot) -> T + Sync),
    shown: &mut Printer,
    review: bool,
    note: impl Fn(&[T]) + Sync,
) -> Vec<T> {
    if review {
        let planned = pipeline::collect(target, &process_env, prep);
        note(&planned);
        shown.push_all(&planned);
        return planned;
    }
    pipeline::for_each_install(target, &process_env, prep, |chunk| {
        note(chunk);
        shown.push_all(chunk);
    });
    Vec::new()
}

/// Writes chunk by chunk with `write`, then prints each chunk: what a review kept, or every
/// target install read afresh with `prep` (`--yes`: one pass, memory stays flat).
pub fn write_units<T: Unit + Shown>(
    target: &Target,
    prep: &(dyn Fn(&InstallRoot) -> T + Sync),
    reviewed: Option<Vec<T>>,
    printer: &mut Printer,
    write: impl Fn(&mut [T]) + Sync,
) {
    let mut each = |chunk: &mut [T]| {
        write(chunk);
        printer.push_all(chunk);
    };
    match reviewed {
        Some(mut planned) => planned.chunks_mut(pipeline::CHUNK).for_each(each),
        None => pipeline::for_each_install(target, &process_env, prep, &mut each),
    }
}

/// Reads every install and shows it, writing nothing (a dry run, a check, a list).
pub fn show<W: Writes>(w: &W, mode: Mode) -> Counts {
    let mut printer = printer(w, mode, false);
    w.read(&mut printer, false);
    printer.finish_with(w.run_errors())
}

/// The one "show, ask, write" every verb that writes goes through: `--yes` reads and writes in
/// one pass; on a terminal it shows what would be written (on stderr when stdout carries the
/// one JSON document), asks, and writes exactly that; without a terminal it refuses, saying how
/// to go ahead.
pub fn show_ask_write<W: Writes>(w: &W, confirm: Confirm<W::Reviewed>) -> Result<Done, Error> {
    let (mode, preview) = w.modes();
    let out = w.envelope().out;
    let reviewed = match confirm {
        Confirm::Yes => None,
        Confirm::Reviewed(r) => Some(r),
        Confirm::Ask => {
            if W::ASK_FIRST {
                confirm_possible(w.how())?;
            }
            let mut shown = match (W::ASK_FIRST, out.json) {
                (false, _) => Printer::counting(out, preview),
                (true, true) => Printer::preview_on_stderr(out, preview),
                (true, false) => printer(w, preview, false),
            };
            let mut reviewed = w.read(&mut shown, true);
            let question = w.question(&shown.counts, &reviewed);
            match question {
                // Shown already, and nothing to write: the preview was the output.
                None if W::ASK_FIRST && !out.json => {
                    return Ok(Done::Ran(shown.finish_with(w.run_errors())));
                }
                None => drop(shown.finish()),
                Some(question) => {
                    shown.finish();
                    if !W::ASK_FIRST {
                        confirm_possible(w.how())?;
                        let mut shown = if out.json {
                            Printer::preview_on_stderr(out, preview)
                        } else {
                            printer(w, preview, false)
                        };
                        w.show(&mut reviewed, &mut shown);
                        shown.finish();
                    }
                    if !ask(&question)? {
                        crate::printer::declined(out.json, mode, w.nothing());
                        return Ok(Done::Declined);
                    }
                }
            }
            Some(reviewed)
        }
    };
    let mut p = printer(w, mode, true);
    w.write(reviewed, &mut p);
    Ok(Done::Ran(p.finish_with(w.run_errors())))
}

/// Refuses (kind `usage`) when there is no terminal to ask on; `how` says how to go ahead.
pub fn confirm_possible(how: &str) -> Result<(), Error> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::new(
            Kind::Usage,
            "refusing to write without confirmation: no terminal to ask on",
        )
        .hinted(how));
    }
    Ok(())
}

/// The confirmation rule: `--yes` proceeds; on a terminal ask; without one refuse.
pub fn confirm(yes: bool, question: &str, how: &str) -> Result<bool, Error> {
    if yes {
        return Ok(true);
    }
    confirm_possible(how)?;
    ask(question)
}

/// Asks on the terminal; only a yes goes ahead.
fn ask(question: &str) -> Result<bool, Error> {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::new(Kind::Io, format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
