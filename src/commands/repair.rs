//! `clawmigrate repair --rebless MIGRATION --from CHECKSUM`: the arguments as `ops::repair`'s
//! options; the exit code.
use crate::cli::RepairArgs;
use crate::error::Error;
use crate::ops::repair::{self, RepairOptions};
use crate::printer::{self, Verbosity};

pub fn run(args: RepairArgs, verbosity: Verbosity) -> Result<u8, Error> {
    let out = super::output(args.format, verbosity, &args.target);
    let opts = RepairOptions {
        target: args.target.target(),
        rebless: args.rebless,
        from: args.from,
        dry_run: args.dry_run,
        yes: args.yes,
        out,
    };
    let done = repair::run(&opts)?;
    if opts.dry_run {
        printer::notice(out, "dry run: nothing was recorded");
    }
    Ok(super::exit_of(done, super::Rule::Plain))
}
