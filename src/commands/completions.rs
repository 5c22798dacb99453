//! `clawmigrate completions SHELL`: the completion script, generated from the clap definition.
use crate::cli::{Cli, CompletionsArgs};
use clap::CommandFactory;

pub fn run(args: CompletionsArgs) -> Result<u8, crate::error::Error> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "clawmigrate", &mut out);
    super::write_stdout(&out)?;
    Ok(super::OK)
}
