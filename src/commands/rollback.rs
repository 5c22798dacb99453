//! `clawmigrate rollback`: the arguments as `ops::rollback`'s options; the exit code.
use crate::cli::RollbackArgs;
use crate::error::Error;
use crate::ops::rollback::{self, RollbackOptions};
use crate::printer::{self, Verbosity};

pub fn run(args: RollbackArgs, verbosity: Verbosity) -> Result<u8, Error> {
    let out = super::output(args.format, verbosity, &args.target);
    let opts = RollbackOptions {
        target: args.target.target(),
        run_id: args.run_id,
        list: args.list,
        dry_run: args.dry_run,
        force: args.force,
        yes: args.yes,
        out,
    };
    let done = rollback::run(&opts)?;
    if opts.dry_run {
        printer::notice(out, "dry run: nothing was restored");
    }
    Ok(super::exit_of(done, super::Rule::Plain))
}
