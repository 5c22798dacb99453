//! clawmigrate: parses the command line and hands off to one command; maps the result to an exit code.
use clap::Parser;
use clawmigrate::cli::{Cli, Command};
use clawmigrate::commands;
use clawmigrate::error::{Error, Kind};
use clawmigrate::printer;
use std::process::ExitCode;

// Planning builds and drops many small trees; mimalloc halves the time glibc's malloc takes.
// It is built without transparent huge pages (`no_thp`): with them its heaps became resident in
// 2 MiB pieces, and the `--to` dry run of 1,000 installs peaked at 55 MB instead of 33 MB, in
// the same time (tests/bench/fleet.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let words: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&words) {
        Ok(cli) => cli,
        Err(e) => return refused(e, &words),
    };
    let (verbosity, json_mode) = (cli.verbosity(), cli.json_mode());
    clawmigrate::fsio::set_max_file_bytes(cli.max_file_bytes);
    cli.color.apply();
    let result = match cli.command {
        Command::Migrate(a) => commands::migrate::run(a, verbosity),
        Command::Status(a) => commands::status::run(a, verbosity),
        Command::List(a) => commands::list::run(a),
        Command::Rollback(a) => commands::rollback::run(a, verbosity),
        Command::Repair(a) => commands::repair::run(a, verbosity),
        Command::Schema(a) => commands::schema::run(a),
        Command::Completions(a) => commands::completions::run(a),
        Command::Man(a) => commands::man::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            anstream::eprint!("{}", printer::error_lines(&e));
            // A script asked for JSON: it still gets one document, naming the error and its kind.
            if let Some(mode) = json_mode {
                println!("{}", printer::error_document(mode, &e));
            }
            ExitCode::from(2)
        }
    }
}

/// A command line clap refused: its own message (or help and version, which are no error) on
/// stderr, and for `--format json` the one document naming the error, kind `usage`; exit 2.
fn refused(e: clap::Error, words: &[std::ffi::OsString]) -> ExitCode {
    use clap::error::ErrorKind as K;
    if matches!(
        e.kind(),
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    if let Some(mode) = clawmigrate::cli::json_mode_of_words(words) {
        let text = e.render().to_string();
        let first = text.lines().next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first);
        println!(
            "{}",
            printer::error_document(mode, &Error::new(Kind::Usage, message))
        );
    }
    let _ = e.print();
    ExitCode::from(2)
}
