//! `clawmigrate status`: per install, what was applied, what is pending, and drift.
use crate::cli::StatusArgs;
use crate::migration::Registry;
use crate::pipeline::{self, Outcome};
use crate::plan::Inputs;
use crate::render::Mode;

pub fn run(args: StatusArgs) -> Result<u8, String> {
    let reg = Registry::embedded();
    let all: Vec<_> = reg.migrations.iter().collect();
    let reports = pipeline::prepare(
        &args.target.target(),
        &super::process_env,
        &all,
        &Inputs::default(),
    );
    super::print_reports(&reports, Mode::Status, args.format);
    Ok(
        if reports
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed(_)))
        {
            super::ERROR
        } else {
            super::OK
        },
    )
}
