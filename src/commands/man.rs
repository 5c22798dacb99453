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
    super::write_stdout(&render(&page(cmd))?)?;
    Ok(super::OK)
}

/// The exit codes, as the README's "Exit codes" states them.
const EXIT_STATUS: [(&str, &str); 3] = [
    ("0", "Success, or nothing to do."),
    (
        "1",
        "Changes pending, needs input or a changed checksum (only with migrate --check).",
    ),
    (
        "2",
        "Any error: a target or install that failed (the others carry on), a refused command line, an install that needs input during migrate, or the operator declined.",
    ),
];

/// Every variable the binary reads (the README's Environment table).
const ENVIRONMENT: [(&str, &str); 8] = [
    (
        "OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH, OPENCLAW_HOME",
        "The default target, as OpenClaw reads them (OPENCLAW_HOME stands for ~).",
    ),
    (
        "CLAWDBOT_STATE_DIR, CLAWDBOT_CONFIG_PATH",
        "The legacy names of the two above, also read by OpenClaw.",
    ),
    (
        "CLAWMIGRATE_MAX_FILE_BYTES",
        "The read cap, as --max-file-bytes (default 64 MiB).",
    ),
    (
        "CLAWMIGRATE_KEY_FILE_TIMEOUT",
        "Seconds stdin or a FIFO given to --key-file may take (default 10).",
    ),
    (
        "CLAWMIGRATE_SQLITE_BUSY_MS",
        "How long a write waits for a SQLite database another writer holds (default 5000).",
    ),
    (
        "CLAWMIGRATE_PROGRESS_AFTER_MS",
        "After how long a run on a terminal shows its progress bar (default 400).",
    ),
    (
        "CLAWMIGRATE_TEST_PAUSE_MS, CLAWMIGRATE_TEST_RESUME_FILE, CLAWMIGRATE_TEST_LOCK_STALE_MS",
        "For the test suite only.",
    ),
    (
        "NO_COLOR",
        "No colour, even on a terminal, unless --color always.",
    ),
];

/// A page as roff: clap_mangen's sections, then EXIT STATUS and ENVIRONMENT (which clap cannot
/// describe), every page alike.
fn render(man: &clap_mangen::Man) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    man.render(&mut out)
        .map_err(|e| Error::new(Kind::Io, format!("cannot render the man page: {e}")))?;
    let mut section = |name: &str, items: &[(&str, &str)]| {
        out.extend_from_slice(format!(".SH \"{name}\"\n").as_bytes());
        for (term, text) in items {
            let line = format!(".TP\n\\fB{}\\fR\n{}\n", roff(term), roff(text));
            out.extend_from_slice(line.as_bytes());
        }
    };
    section("EXIT STATUS", &EXIT_STATUS);
    section("ENVIRONMENT", &ENVIRONMENT);
    Ok(out)
}

/// Text for a roff line: hyphens as `\-` (so `--color` stays copyable), a leading dot or quote
/// escaped, backslashes doubled.
fn roff(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with(['.', '\'']) {
        format!("\\&{s}")
    } else {
        s
    }
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
        let man = page(cmd);
        let path = dir.join(man.get_filename());
        std::fs::write(&path, render(&man)?)
            .map_err(|e| Error::io(&path, "cannot write the man page", &e))?;
        println!("{}", path.display());
    }
    Ok(())
}
