//! `clawmigrate status`: per install, what was applied, what is pending, and drift.
use crate::cli::{Format, StatusArgs};
use crate::migration::Registry;
use crate::pipeline;
use crate::plan::Inputs;
use crate::printer::{Mode, Output, Printer, Verbosity};

pub fn run(args: StatusArgs, verbosity: Verbosity) -> Result<u8, crate::error::Error> {
    let reg = Registry::embedded();
    let scope = super::scope(&reg, &[], args.to.as_deref())?;
    let all = scope.migrations;
    let inputs = Inputs {
        available: scope.available,
        ..Inputs::default()
    };
    let env = super::process_env;
    let out = Output {
        json: args.format == Format::Json,
        verbosity,
        fleet: args.target.fleet(),
    };
    let migrations = all.iter().map(|m| super::migration_json(m)).collect();
    let mut sink = Printer::start(out, Mode::Status, None, migrations);
    pipeline::run_targets(&args.target.target(), &env, &all, &inputs, |chunk| {
        sink.push_all(chunk)
    });
    let counts = sink.finish();
    Ok(super::exit_code(&counts, super::Rule::Plain))
}
