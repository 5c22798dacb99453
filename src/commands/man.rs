//! `clawmigrate man [VERB] [--dir DIR]`: man pages (roff), generated from the clap definition.
use crate::cli::{Cli, ManArgs};
use crate::error::{Error, Kind};
use clap::CommandFactory;
use std::path::Path;

pub fn run(args: ManArgs) -> Result<u8, Error> {
    let mut root = Cli::command().disable_help_subcommand(true);
    // Propagates the global options to every verb, so each page lists them.
    root.build();
    if let Some(dir) = &args.dir {
        write_all(&root, dir)?;
        return Ok(super::OK);
    }
    let cmd = match &args.verb {
        None => root,
        Some(verb) => verbs(&root)
            .find(|c| c.get_name() == verb)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = verbs(&root).map(|c| c.get_name()).collect();
                let why = format!("no verb {verb:?}: pick one of {}", names.join(", "));
                Error::new(Kind::Usage, why)
            })?,
    };
    let mut out = Vec::new();
    page(cmd)
        .render(&mut out)
        .map_err(|e| Error::new(Kind::Io, format!("cannot render the man page: {e}")))?;
    super::write_stdout(&out)?;
    Ok(super::OK)
}

/// The verbs that get a page of their own.
fn verbs(root: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    root.get_subcommands().filter(|c| !c.is_hide_set())
}

/// One page, titled as man pages are (`CLAWMIGRATE`, `CLAWMIGRATE-MIGRATE`), section 1.
fn page(cmd: clap::Command) -> clap_mangen::Man {
    let title = cmd
        .get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_uppercase();
    clap_mangen::Man::new(cmd)
        .title(title)
        .section("1")
        // No date (pages stay reproducible); roff drops an empty argument of `.TH` and shifts
        // the source into its place, while a quoted blank holds it.
        .date(" ")
        .source(format!("clawmigrate {}", env!("CARGO_PKG_VERSION")))
        .manual("User Commands")
}

/// Writes the main page and one per verb into `dir` (created if missing), naming each on stdout.
fn write_all(root: &clap::Command, dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "cannot create", &e))?;
    let cmds = std::iter::once(root.clone()).chain(verbs(root).cloned());
    for cmd in cmds {
        let path = page(cmd)
            .generate_to(dir)
            .map_err(|e| Error::io(dir, "cannot write a man page into it", &e))?;
        println!("{}", path.display());
    }
    Ok(())
}
