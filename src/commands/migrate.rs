//! `clawmigrate migrate`: the arguments as `ops::migrate`'s options; the exit code.
use super::Rule;
use crate::cli::MigrateArgs;
use crate::error::Error;
use crate::ops::migrate::{self, MigrateOptions};
use crate::printer::{self, Verbosity};

pub fn run(args: MigrateArgs, verbosity: Verbosity) -> Result<u8, Error> {
    let templates = args.templates()?;
    let mut out = super::output(args.format, verbosity, &args.target);
    // A saved plan's installs are shown as a fleet's, and so are several templates.
    out.fleet |= args.plan.is_some() || templates.as_ref().is_some_and(|t| t.len() > 1);
    let mut target = args.target.target();
    target.configs = templates.unwrap_or_default();
    let opts = MigrateOptions {
        target,
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
    } else if !opts.target.configs.is_empty()
        && matches!(&done, crate::ops::Done::Ran(c) if c.files > 0)
    {
        printer::notice(
            out,
            "templates are written in place with nothing kept in .clawmigrate (no ledger, no backups): git holds their history (`git diff` shows the change, `git checkout -- FILE` undoes it)",
        );
    }
    Ok(super::exit_of(done, rule))
}
