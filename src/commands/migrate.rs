//! `clawmigrate migrate`: the arguments as `ops::migrate`'s options; the exit code.
use super::Rule;
use crate::cli::MigrateArgs;
use crate::error::Error;
use crate::ops::migrate::{self, MigrateOptions};
use crate::printer::{self, Verbosity};

pub fn run(args: MigrateArgs, verbosity: Verbosity) -> Result<u8, Error> {
    let mut out = super::output(args.format, verbosity, &args.target);
    // A saved plan's installs are shown as a fleet's.
    out.fleet |= args.plan.is_some();
    let opts = MigrateOptions {
        target: args.target.target(),
        dry_run: args.dry_run,
        check: args.check,
        yes: args.yes,
        only: args.only,
        to: args.to,
        key_files: args.key_files,
        plan_out: args.plan_out,
        plan: args.plan,
        out,
    };
    let done = migrate::run(&opts)?;
    let rule = match (opts.check, opts.dry_run) {
        (true, _) => Rule::Check,
        (false, true) => Rule::Plain,
        _ => Rule::Apply,
    };
    if opts.dry_run || opts.check {
        printer::notice(out, "dry run: nothing was written");
    }
    Ok(super::exit_of(done, rule))
}
