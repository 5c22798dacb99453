//! clawmigrate: parses the command line and hands off to one command; maps the result to an exit code.
use clap::Parser;
use clawmigrate::cli::{Cli, Command};
use clawmigrate::commands;
use std::process::ExitCode;

// Planning builds and drops many small trees; mimalloc halves the time glibc's malloc takes.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Migrate(a) => commands::migrate::run(a),
        Command::Status(a) => commands::status::run(a),
        Command::List(a) => commands::list::run(a),
        Command::Rollback(a) => commands::rollback::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            anstream::eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
