//! `clawmigrate status`: per install, what was applied, what is pending, and drift.
use crate::cli::{Format, StatusArgs};
use crate::migration::Registry;
use crate::pipeline;
use crate::plan::Inputs;
use crate::render::{Mode, Sink};

pub fn run(args: StatusArgs) -> Result<u8, String> {
    let reg = Registry::embedded();
    let all: Vec<_> = reg.migrations.iter().collect();
    let env = super::process_env;
    let mut sink = Sink::start(args.format == Format::Json, Mode::Status);
    pipeline::run_targets(
        &args.target.target(),
        &env,
        &all,
        &Inputs::default(),
        |chunk| sink.push_all(chunk),
    );
    let counts = sink.finish();
    Ok(if counts.failed > 0 {
        super::ERROR
    } else {
        super::OK
    })
}
