//! `clawmigrate list`: the migrations built into this binary, in the order they run (upgrades
//! with the OpenClaw release and doctor ids they carry).
use crate::cli::{Format, ListArgs};
use crate::migration::Registry;
use crate::printer::{self, Mode, Output, Printer, Verbosity};

pub fn run(args: ListArgs) -> Result<u8, crate::error::Error> {
    let reg = Registry::embedded();
    let out = Output {
        json: args.format == Format::Json,
        verbosity: Verbosity::Normal,
        fleet: false,
    };
    if out.json {
        let migrations = printer::migration_entries(&reg.migrations);
        Printer::start(out, Mode::List, None, &migrations).finish();
    } else {
        printer::whole(&crate::render::list::human(&reg.migrations));
    }
    Ok(super::OK)
}
