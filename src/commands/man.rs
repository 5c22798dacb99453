//! `clawmigrate man [VERB] [--dir DIR]`: man pages (roff), generated from the clap definition.
use crate::cli::{Cli, ManArgs};
use crate::error::{Error, Kind};
use crate::render::man::{page, render};
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
    super::write_stdout(&render(&page(cmd))?)?;
    Ok(super::OK)
}

/// The verbs that get a page of their own.
fn verbs(root: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    root.get_subcommands().filter(|c| !c.is_hide_set())
}

/// Writes the main page and one per verb into `dir` (created if missing), naming each on stdout.
fn write_all(root: &clap::Command, dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "cannot create", &e))?;
    let cmds = std::iter::once(root.clone()).chain(verbs(root).cloned());
    for cmd in cmds {
        let man = page(cmd);
        let path = dir.join(man.get_filename());
        std::fs::write(&path, render(&man)?)
            .map_err(|e| Error::io(&path, "cannot write the man page", &e))?;
        println!("{}", path.display());
    }
    Ok(())
}
