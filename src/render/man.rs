//! Man pages as roff: clap_mangen's page of a command, with the EXIT STATUS and ENVIRONMENT
//! sections clap cannot describe.
use crate::error::{Error, Kind};

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
pub fn render(man: &clap_mangen::Man) -> Result<Vec<u8>, Error> {
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

/// One page, titled as man pages are (`CLAWMIGRATE`, `CLAWMIGRATE-MIGRATE`), section 1.
pub fn page(cmd: clap::Command) -> clap_mangen::Man {
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
