//! The verbs, one file each: translate clap's arguments into an operation's options (`ops`),
//! run it, and pick the exit code. The work is in `ops`, the output in `render` and `printer`.
pub mod completions;
pub mod list;
pub mod man;
pub mod migrate;
pub mod repair;
pub mod rollback;
pub mod schema;
pub mod status;

use crate::cli::{Format, TargetArgs};
use crate::error::{Error, Kind};
use crate::ops::Done;
use crate::printer::{Output, Verbosity};
use std::io::Write;

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
        _ if c.failed > 0 || c.run_errors > 0 => ERROR,
        Rule::Apply if c.needs_input > 0 => ERROR,
        Rule::Check if waiting > 0 => PENDING,
        _ => OK,
    }
}

/// The exit code of an operation: its counts under `rule`, or 2 when the operator said no.
pub fn exit_of(done: Done, rule: Rule) -> u8 {
    match done {
        Done::Ran(counts) => exit_code(&counts, rule),
        Done::Declined => ERROR,
    }
}

/// How a verb prints: JSON or human, at the command line's verbosity, as a fleet or not.
pub fn output(format: Format, verbosity: Verbosity, target: &TargetArgs) -> Output {
    Output {
        json: format == Format::Json,
        verbosity,
        fleet: target.fleet(),
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
