//! The verbs, one file each: gather input, call the stages, print, pick the exit code; and what
//! they share (the question, the reach of `--to`/`--only`, exit codes). Not every file is thin:
//! `rollback.rs` and `repair.rs` also hold their ledger logic, report types and renderings.
pub mod completions;
pub mod list;
pub mod man;
pub mod migrate;
pub mod repair;
pub mod rollback;
pub mod status;

use crate::error::{Error, Kind};
use std::io::{BufRead, IsTerminal, Write};

pub const OK: u8 = 0;
pub const PENDING: u8 = 1;
pub const ERROR: u8 = 2;

/// What a verb's exit code says beyond "an install failed" (always 2).
#[derive(Clone, Copy)]
pub enum Rule {
    /// Reading, dry runs, rollback, repair: 0 unless something failed.
    Plain,
    /// `migrate` that writes: an install that needs input is an error too (nothing of it was
    /// written past the blocked migration).
    Apply,
    /// `migrate --check`: 1 when anything is pending, needs input or changed its checksum.
    Check,
}

/// The one mapping from a verb's counts to its exit code (README: "Exit codes").
pub fn exit_code(c: &crate::printer::Counts, rule: Rule) -> u8 {
    let waiting = c.pending + c.needs_input + c.checksum_changed;
    match rule {
        _ if c.failed > 0 => ERROR,
        Rule::Apply if c.needs_input > 0 => ERROR,
        Rule::Check if waiting > 0 => PENDING,
        _ => OK,
    }
}

/// Writes a generated text to stdout; a reader that stops early (`| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::new(Kind::Io, format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Reads the process environment (the seam discovery takes).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Refuses (exit 2) when there is no terminal to ask on.
pub fn confirm_possible(how: &str) -> Result<(), Error> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::new(
            Kind::Usage,
            format!("refusing to write without confirmation: no terminal to ask on. {how}"),
        ));
    }
    Ok(())
}

/// The confirmation rule: `--yes` proceeds; on a terminal ask; without one refuse (exit 2).
pub fn confirm(yes: bool, question: &str, how: &str) -> Result<bool, Error> {
    if yes {
        return Ok(true);
    }
    confirm_possible(how)?;
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::new(Kind::Io, format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Before a verb writes what it planned on every install: shows the planned installs (on stderr
/// when stdout carries the one JSON document) and asks the question for the `n` pending ones;
/// `true` when none is pending (nothing to ask about). Without a terminal it refuses, saying
/// `how` to proceed.
pub fn show_and_ask<S: crate::printer::Shown>(
    planned: &[S],
    out: crate::printer::Output,
    mode: crate::printer::Mode,
    how: &str,
    question: impl FnOnce(usize) -> String,
) -> Result<bool, Error> {
    use crate::printer::Printer;
    let pending = planned
        .iter()
        .filter(|r| *r.outcome() == crate::outcome::Outcome::Pending)
        .count();
    if pending == 0 {
        return Ok(true);
    }
    confirm_possible(how)?;
    let mut shown = if out.json {
        Printer::preview_on_stderr(out, mode)
    } else {
        Printer::start(out, mode, None, serde_json::Value::Null)
    };
    shown.push_all(planned);
    shown.finish();
    confirm(false, &question(pending), "")
}

/// What a run's `--to` selects: the migrations to run (narrowed by `--only`), the release
/// itself, and, without `--to`, the upgrades to report as available (never applied).
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
    Ok(Scope {
        migrations,
        to,
        available,
    })
}

/// See [`scope`].
pub struct Scope<'r> {
    pub migrations: Vec<&'r crate::migration::Migration>,
    pub to: Option<crate::release::Release>,
    pub available: Vec<crate::migration::Migration>,
}

/// A migration as every verb's JSON envelope lists it.
pub fn migration_json(m: &crate::migration::Migration) -> serde_json::Value {
    serde_json::json!({
        "version": m.def.version,
        "id": m.id(),
        "summary": m.def.summary,
        "description": m.def.description,
        "reference": m.def.reference,
        "files": m.files(),
        "checksum": m.checksum,
        "kind": m.kind(),
        "upstream": m.def.upstream,
    })
}

/// The operator answered no: nothing was written. Says so on stderr, and to a script asking for
/// JSON in its one document; exit 2.
pub fn declined(json: bool, mode: crate::printer::Mode, nothing: &str) -> u8 {
    anstream::eprintln!("{nothing}");
    if json {
        let why = Error::new(Kind::Declined, format!("the operator declined; {nothing}"));
        println!("{}", crate::printer::error_document(mode, &why));
    }
    ERROR
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::Counts;

    #[test]
    fn exit_codes_follow_the_readme() {
        let c = |f: fn(&mut Counts)| {
            let mut c = Counts::default();
            f(&mut c);
            c
        };
        let failed = c(|c| c.failed = 1);
        let needs = c(|c| c.needs_input = 1);
        let pending = c(|c| c.pending = 1);
        let drifted = c(|c| c.checksum_changed = 1);
        let fine = c(|c| c.up_to_date = 3);
        for rule in [Rule::Plain, Rule::Apply, Rule::Check] {
            assert_eq!(exit_code(&failed, rule), ERROR);
            assert_eq!(exit_code(&fine, rule), OK);
        }
        assert_eq!(exit_code(&needs, Rule::Apply), ERROR);
        assert_eq!(exit_code(&needs, Rule::Plain), OK);
        for waiting in [&needs, &pending, &drifted] {
            assert_eq!(exit_code(waiting, Rule::Check), PENDING);
        }
        assert_eq!(exit_code(&pending, Rule::Plain), OK);
    }
}
