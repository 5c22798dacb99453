//! The command line: verbs, targets and options (a contract: tests outside the project drive it).
use crate::error::{Error, Kind};
use crate::migration::Only;
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use std::path::PathBuf;

/// Repairs and upgrades OpenClaw installations with versioned, previewable, reversible migrations.
#[derive(Debug, Parser)]
#[command(name = "clawmigrate", version, about, long_about = None, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 success or nothing to do; 1 changes pending (only with --check); 2 any error.\nFirst time? Preview with: clawmigrate migrate --dry-run"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    // The global options come after each verb's own (display_order), wherever verbs are added.
    /// Print only the recap and errors
    #[arg(
        long,
        short = 'q',
        global = true,
        conflicts_with = "verbose",
        display_order = 100
    )]
    pub quiet: bool,
    /// Print every install and every note (a fleet run shows only what changes, needs input or fails)
    #[arg(long, short = 'v', global = true, display_order = 101)]
    pub verbose: bool,
    /// Refuse to read any file or store cell larger than N bytes (no OpenClaw file comes near the default)
    #[arg(long, global = true, value_name = "N", env = "CLAWMIGRATE_MAX_FILE_BYTES", display_order = 102,
          default_value_t = crate::fsio::DEFAULT_MAX_FILE_BYTES, hide_env_values = true)]
    pub max_file_bytes: u64,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, or never; overrides NO_COLOR
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = Color::Auto,
        display_order = 103
    )]
    pub color: Color,
}

/// When human output is coloured (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    // On a terminal, unless `NO_COLOR` is set (no doc comment: clap would print long help).
    Auto,
    Always,
    Never,
}

impl Color {
    /// The choice every stream this process writes makes (decided once, before any output).
    pub fn apply(self) {
        let choice = match self {
            Color::Auto => anstream::ColorChoice::Auto,
            Color::Always => anstream::ColorChoice::Always,
            Color::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
    }
}

impl Cli {
    pub fn verbosity(&self) -> crate::printer::Verbosity {
        use crate::printer::Verbosity;
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        }
    }

    /// The JSON mode a failure is reported under, when `--format json` was asked.
    pub fn json_mode(&self) -> Option<crate::printer::Mode> {
        let none = Flags::default();
        let (verb, format, flags) = match &self.command {
            Command::Migrate(a) => {
                let (check, dry_run) = (a.check, a.dry_run);
                (
                    "migrate",
                    a.format,
                    Flags {
                        check,
                        dry_run,
                        ..none
                    },
                )
            }
            Command::Status(a) => ("status", a.format, none),
            Command::List(a) => ("list", a.format, none),
            Command::Rollback(a) => (
                "rollback",
                a.format,
                Flags {
                    list: a.list,
                    dry_run: a.dry_run,
                    ..none
                },
            ),
            Command::Repair(a) => (
                "repair",
                a.format,
                Flags {
                    dry_run: a.dry_run,
                    ..none
                },
            ),
            _ => return None,
        };
        (format == Format::Json).then(|| mode_of(verb, flags))?
    }
}

/// The flags that choose a verb's mode.
#[derive(Clone, Copy, Default)]
struct Flags {
    check: bool,
    dry_run: bool,
    list: bool,
}

/// A verb's JSON mode, given its mode flags.
fn mode_of(verb: &str, f: Flags) -> Option<crate::printer::Mode> {
    use crate::printer::Mode;
    Some(match verb {
        "migrate" if f.check => Mode::Check,
        "migrate" if f.dry_run => Mode::DryRun,
        "migrate" => Mode::Apply,
        "status" => Mode::Status,
        "list" => Mode::List,
        "rollback" if f.list => Mode::RollbackList,
        "rollback" if f.dry_run => Mode::RollbackDryRun,
        "rollback" => Mode::Rollback,
        "repair" if f.dry_run => Mode::RepairDryRun,
        "repair" => Mode::Repair,
        _ => return None,
    })
}

/// For a command line clap refused: the JSON mode to report it under when its words ask for
/// `--format json` (so a script still gets one document), read from the raw words.
pub fn json_mode_of_words(words: &[std::ffi::OsString]) -> Option<crate::printer::Mode> {
    let words: Vec<&str> = words.iter().skip(1).filter_map(|w| w.to_str()).collect();
    let json =
        words.windows(2).any(|w| w == ["--format", "json"]) || words.contains(&"--format=json");
    let has = |flag: &str| words.contains(&flag);
    let flags = Flags {
        check: has("--check"),
        dry_run: has("--dry-run"),
        list: has("--list"),
    };
    // The verb is the first word that names one (a global option's value may come before it).
    json.then(|| words.iter().find_map(|w| mode_of(w, flags)))?
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan and apply pending migrations (preview with --dry-run)
    Migrate(MigrateArgs),
    /// Show per install what was applied, what is pending, and drift
    Status(StatusArgs),
    /// List the migrations built into this binary
    List(ListArgs),
    /// Restore the exact bytes a run changed
    Rollback(RollbackArgs),
    /// Accept a migration's changed checksum where it was applied (after checking the change)
    Repair(RepairArgs),
    /// Print the JSON Schema (draft 2020-12) of every --format json document
    Schema(SchemaArgs),
    /// Print the shell completion script for SHELL (e.g. `clawmigrate completions bash`)
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write every page with --dir
    Man(ManArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Which installs to work on. Repeatable and combinable; with none, the install OpenClaw itself
/// would use (OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH, ~/.openclaw, legacy dirs).
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// One OpenClaw state dir (repeatable)
    #[arg(long = "state-dir", value_name = "DIR", help_heading = "Targets", value_hint = ValueHint::DirPath, value_parser = absolute_path)]
    pub state_dirs: Vec<PathBuf>,
    /// A tree holding many installs: every directory below it with an openclaw.json (or legacy config) is one (repeatable)
    #[arg(long = "fleet", value_name = "DIR", help_heading = "Targets", value_hint = ValueHint::DirPath, value_parser = absolute_path)]
    pub fleets: Vec<PathBuf>,
    /// How many levels below a --fleet DIR to look for installs
    #[arg(
        long = "fleet-depth",
        value_name = "N",
        default_value_t = crate::discover::DEFAULT_FLEET_DEPTH,
        help_heading = "Targets"
    )]
    pub fleet_depth: usize,
    /// Accept a --fleet DIR that holds no install (otherwise an error, kind not-found)
    #[arg(long = "allow-empty", help_heading = "Targets")]
    pub allow_empty: bool,
    /// Use OpenClaw's profile NAME (state dir ~/.openclaw-NAME) for the default target
    #[arg(long, value_name = "NAME", help_heading = "Targets")]
    pub profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Print the plan (summary and a unified diff per file) and write nothing
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,
    /// Like --dry-run, but exit 1 when anything is pending or needs input (for CI and monitors)
    #[arg(long, conflicts_with = "yes")]
    pub check: bool,
    /// Apply without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Run only this migration (repeatable): 1, 0001, V0001 or its full id as `list` prints it
    #[arg(long = "only", value_name = "VERSION", value_parser = parse_only)]
    pub only: Vec<Only>,
    /// Upgrade to what OpenClaw RELEASE's doctor makes of the config: the carried doctor migrations of releases newer than the install's meta.lastTouchedVersion (or the release its ledger records an earlier --to run upgraded it to), up to RELEASE
    #[arg(long = "to", value_name = "RELEASE", conflicts_with = "plan")]
    pub to: Option<String>,
    /// Read the key for PROVIDER from FILE ('-' for stdin) when the install has none; keys never go on the command line
    #[arg(long = "key-file", value_name = "PROVIDER=FILE")]
    pub key_files: Vec<String>,
    /// With --dry-run or --check: also save the plan (file hashes, masked patches) to FILE for review
    #[arg(long = "plan-out", value_name = "FILE", value_hint = ValueHint::FilePath, value_parser = absolute_path)]
    pub plan_out: Option<PathBuf>,
    /// Apply exactly the plan saved in FILE: refuses any file whose bytes changed since (targets come from the plan)
    #[arg(
        long = "plan",
        value_name = "FILE",
        value_hint = ValueHint::FilePath,
        value_parser = absolute_path,
        conflicts_with_all = ["dry_run", "check", "plan_out", "state_dirs", "fleets", "profile"]
    )]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Migrate config files in place, as templates (say, kept in git): each is the openclaw.json of an install with no agents, its $includes followed; nothing is kept in .clawmigrate (no ledger, no backups: git holds the history)
    #[arg(
        long = "config",
        value_name = "FILE",
        num_args = 0..,
        help_heading = "Targets",
        value_hint = ValueHint::FilePath,
        value_parser = absolute_path,
        conflicts_with_all = ["state_dirs", "fleets", "fleet_depth", "allow_empty", "profile", "plan", "plan_out", "key_files"]
    )]
    pub configs: Option<Vec<PathBuf>>,
    /// With --config: more config files (pre-commit appends the files it checks after the hook's args)
    #[arg(
        value_name = "FILE",
        requires = "configs",
        help_heading = "Targets",
        value_hint = ValueHint::FilePath,
        value_parser = absolute_path
    )]
    pub files: Vec<PathBuf>,
}

impl MigrateArgs {
    /// The templates named with `--config` (its values and the FILEs after it), or `None`
    /// without `--config`; refuses `--config` that names no file.
    pub fn templates(&self) -> Result<Option<Vec<PathBuf>>, Error> {
        let Some(named) = &self.configs else {
            return Ok(None);
        };
        let all: Vec<PathBuf> = named.iter().chain(&self.files).cloned().collect();
        if all.is_empty() {
            return Err(Error::new(
                Kind::Usage,
                "--config names no file: give the config files to migrate (clawmigrate migrate --check --config openclaw.json)",
            ));
        }
        Ok(Some(all))
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Show where the install stands against OpenClaw RELEASE's doctor migrations too (see migrate --to)
    #[arg(long = "to", value_name = "RELEASE")]
    pub to: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The run to undo (default: the latest run not yet undone, per install); scripts give it
    /// after `--`
    #[arg(value_parser = parse_run_id)]
    pub run_id: Option<String>,
    /// List the runs instead
    #[arg(long, conflicts_with = "dry_run")]
    pub list: bool,
    /// Show per install what --yes would restore, or refuse, and write nothing
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Restore without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Restore even files changed since the run (their current bytes are backed up first)
    #[arg(long)]
    pub force: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// The applied migration whose checksum changed: 1, V0001 or its full id
    #[arg(long, value_name = "MIGRATION", value_parser = parse_only)]
    pub rebless: Only,
    /// The checksum recorded for it now (`status` shows it), or a unique prefix of it (as `list` prints it); installs recording any other are refused
    #[arg(long, value_name = "CHECKSUM", value_parser = parse_checksum)]
    pub from: String,
    /// Show what would be accepted and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Record without asking
    #[arg(long, short = 'y', conflicts_with = "dry_run")]
    pub yes: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The verb whose page to print (`clawmigrate-VERB`); none for the main page
    #[arg(value_name = "VERB", conflicts_with = "dir")]
    pub verb: Option<String>,
    /// Write the main page and one per verb (clawmigrate.1, clawmigrate-migrate.1, ...) into DIR
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath, value_parser = absolute_path)]
    pub dir: Option<PathBuf>,
}

/// Resolves a path the user gives against the working directory, once, here at the edge, so
/// nothing downstream (reports, ledgers, saved plans) depends on where the command ran.
fn absolute_path(s: &str) -> Result<PathBuf, Error> {
    if s.is_empty() {
        return Err(Error::new(Kind::Usage, "an empty path"));
    }
    std::path::absolute(s).map_err(|e| {
        let why = format!("cannot resolve {s:?} against the working directory: {e}");
        Error::new(Kind::Usage, why)
    })
}

fn parse_only(s: &str) -> Result<Only, Error> {
    let (head, name) = match s.split_once("__") {
        Some((h, n)) => (h, Some(n.to_string())),
        None => (s, None),
    };
    let digits = head
        .strip_prefix('V')
        .or_else(|| head.strip_prefix('v'))
        .unwrap_or(head);
    let version = digits.parse().map_err(|_| {
        let why =
            format!("{s:?} is not a migration (like 1, V0001 or V0001__minimax_cn_china_base_url)");
        Error::new(Kind::Usage, why)
    })?;
    Ok(Only { version, name })
}

/// A run id as `rollback --list` prints it (an invocation id, or one install's `<invocation>.<n>`):
/// letters, digits, `-`, `.` and `_`, starting with a letter or digit, so that no option
/// (`--force`, `--fleet=DIR`) passes for one.
fn parse_run_id(s: &str) -> Result<String, Error> {
    if crate::ledger::valid_id(s) && s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Ok(s.to_string());
    }
    Err(Error::new(
        Kind::Usage,
        format!(
            "{s:?} is not a run id (like 20261129T154818Z-3f9a1c2e7b10 or 20261129T154818Z-3f9a1c2e7b10.1; `clawmigrate rollback --list` shows them)"
        ),
    ))
}

/// The shortest checksum prefix taken, in hex digits (as git takes abbreviated ids).
pub const MIN_CHECKSUM_PREFIX: usize = 4;

/// A migration checksum as recorded (`sha256:` and 64 hex digits), or a prefix of one with at
/// least [`MIN_CHECKSUM_PREFIX`] hex digits, `sha256:` optional; given back as `sha256:` and the
/// lower-case digits (`repair` resolves a prefix against what the installs record).
fn parse_checksum(s: &str) -> Result<String, Error> {
    let hex = s.strip_prefix("sha256:").unwrap_or(s).to_ascii_lowercase();
    if (MIN_CHECKSUM_PREFIX..=64).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Ok(format!("sha256:{hex}"));
    }
    Err(Error::new(
        Kind::Usage,
        format!(
            "{s:?} is not a checksum: give it as recorded (sha256: and 64 hex digits) or a unique prefix of at least {MIN_CHECKSUM_PREFIX} hex digits, as `clawmigrate status` and `list` show it"
        ),
    ))
}

impl TargetArgs {
    /// Whether these targets name several installs: the output shows the signal, not each one.
    pub fn fleet(&self) -> bool {
        !self.fleets.is_empty() || self.state_dirs.len() > 1
    }

    pub fn target(&self) -> crate::discover::Target {
        crate::discover::Target {
            state_dirs: self.state_dirs.clone(),
            fleets: self.fleets.clone(),
            fleet_depth: self.fleet_depth,
            profile: self.profile.clone(),
            allow_empty: self.allow_empty,
            configs: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks on the whole definition (conflicts, names, hints, orders).
    #[test]
    fn definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
