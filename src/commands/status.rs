//! `clawmigrate status`: per install, what was applied, what is pending, and drift.
use crate::cli::StatusArgs;
use crate::migration::Registry;
use crate::ops;
use crate::pipeline;
use crate::plan::Inputs;
use crate::printer::{self, Mode, Printer, Verbosity};

pub fn run(args: StatusArgs, verbosity: Verbosity) -> Result<u8, crate::error::Error> {
    let reg = Registry::embedded();
    let scope = ops::scope(&reg, &[], args.to.as_deref())?;
    let all = scope.migrations;
    let inputs = Inputs {
        available: scope.available,
        opt_in: scope.opt_in,
        ..Inputs::default()
    };
    let out = super::output(args.format, verbosity, &args.target);
    let migrations = printer::migration_entries(all.iter().copied());
    let mut sink = Printer::start(out, Mode::Status, None, &migrations);
    let env = ops::process_env;
    pipeline::run_targets(&args.target.target(), &env, &all, &inputs, |chunk| {
        sink.push_all(chunk)
    });
    let counts = sink.finish();
    Ok(super::exit_code(&counts, super::Rule::Plain))
}
