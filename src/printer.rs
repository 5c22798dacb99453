//! The printer the install reports of migrate, status, rollback and repair (and every JSON
//! document but an error document) go through: stdout's product (human blocks or one
//! JSON document with the same envelope for every verb), what a fleet run shows, quiet and
//! verbose, colour, and the Ansible-style recap. `completions` and `man` print clap's own
//! generated text around it, and the terminal question is asked on stderr by `ops`.
//! `escape`, `path` and `plural` come from `display`.
pub use crate::display::{escape, path, plural};
use crate::error::Error;
use crate::outcome::Outcome;
use anstyle::{AnsiColor, Style};
use schemars::JsonSchema;
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;

/// The version of the JSON output format (documented in the README).
pub const JSON_SCHEMA: u32 = 3;

/// How much human output shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// The recap and errors only.
    Quiet,
    /// Every install on a single target; on a fleet, only those that change, need input or fail.
    Normal,
    /// Every install, every note.
    Verbose,
}

/// How a run prints, decided once from the command line and the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
    pub verbosity: Verbosity,
    /// Several installs (a `--fleet`, or more than one target): show the signal, not every install.
    pub fleet: bool,
}

/// The verb and its mode, as the JSON envelope names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    DryRun,
    Check,
    Apply,
    Status,
    List,
    Rollback,
    RollbackList,
    RollbackDryRun,
    Repair,
    RepairDryRun,
}

impl Mode {
    /// Every mode, in the order the README lists them.
    pub const ALL: [Mode; 10] = [
        Mode::DryRun,
        Mode::Check,
        Mode::Apply,
        Mode::Status,
        Mode::List,
        Mode::Rollback,
        Mode::RollbackList,
        Mode::RollbackDryRun,
        Mode::Repair,
        Mode::RepairDryRun,
    ];

    pub fn command(self) -> &'static str {
        match self {
            Mode::DryRun | Mode::Check | Mode::Apply => "migrate",
            Mode::Status => "status",
            Mode::List => "list",
            Mode::Rollback | Mode::RollbackList | Mode::RollbackDryRun => "rollback",
            Mode::Repair | Mode::RepairDryRun => "repair",
        }
    }
}

pub const RED: Style = AnsiColor::Red.on_default();
pub const GREEN: Style = AnsiColor::Green.on_default();
pub const CYAN: Style = AnsiColor::Cyan.on_default();
pub const YELLOW: Style = AnsiColor::Yellow.on_default();
pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();

pub fn paint(s: &str, style: Style) -> String {
    format!("{style}{s}{style:#}")
}

/// One install as a verb reports it: its outcome, its human block and its JSON object.
pub trait Shown: Sync {
    fn state_dir(&self) -> &std::path::Path;
    fn outcome(&self) -> &Outcome;
    /// The human block (header, states, findings, diffs); `detail` adds notes.
    fn human(&self, mode: Mode, detail: bool) -> String;
    /// The install's object in the JSON document's `installs`.
    type Json<'a>: Serialize
    where
        Self: 'a;
    fn json(&self, mode: Mode) -> Self::Json<'_>;
    /// Under `--quiet`: only what makes the exit code (an error, a finding that fails `--check`
    /// or an apply), or nothing.
    fn quiet(&self, _mode: Mode) -> Option<String> {
        match self.outcome() {
            Outcome::Failed(e) => Some(quiet_error(self.state_dir(), e)),
            _ => None,
        }
    }
    /// Whether a migration applied here changed since (its checksum): `--check` fails on it.
    fn checksum_changed(&self) -> bool {
        false
    }
    /// Files and RFC 6902 operations (not counting `test` guards) this install changes: planned
    /// in a preview, written in an apply (none when it failed).
    fn work(&self) -> (usize, usize) {
        (0, 0)
    }
}

/// Counts per outcome, for the recap and the JSON summary.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Counts {
    pub installs: usize,
    pub up_to_date: usize,
    pub pending: usize,
    pub changed: usize,
    pub needs_input: usize,
    pub unsupported: usize,
    pub failed: usize,
    pub rolled_back: usize,
    pub nothing_to_undo: usize,
    pub runs_recorded: usize,
    /// Installs where an applied migration's file changed since it was applied.
    pub checksum_changed: usize,
    pub files: usize,
    pub operations: usize,
    /// Errors of the whole run (not of one install, e.g. a run id no install holds): they fail
    /// the run as a failed install does. In the document's `errors`, not its summary.
    #[serde(skip)]
    pub run_errors: usize,
}

impl Counts {
    fn slot(&mut self, o: &Outcome) -> &mut usize {
        match o {
            Outcome::UpToDate => &mut self.up_to_date,
            Outcome::Pending => &mut self.pending,
            Outcome::Changed => &mut self.changed,
            Outcome::NeedsInput => &mut self.needs_input,
            Outcome::Unsupported(_) => &mut self.unsupported,
            Outcome::Failed(_) => &mut self.failed,
            Outcome::RolledBack => &mut self.rolled_back,
            Outcome::NothingToUndo => &mut self.nothing_to_undo,
            Outcome::RunsRecorded => &mut self.runs_recorded,
        }
    }
}

/// How many installs came out with one outcome.
type Tally = fn(&Counts) -> usize;

/// The outcomes the recap lists, in order (labelled as `Outcome::label` names them), whether it
/// names the installs of each, and their count.
const RECAP: [(&str, Style, bool, Tally); 9] = [
    ("up to date", GREEN, false, |c| c.up_to_date),
    ("nothing to undo", GREEN, false, |c| c.nothing_to_undo),
    ("changed", GREEN, false, |c| c.changed),
    ("rolled back", GREEN, false, |c| c.rolled_back),
    ("runs recorded", GREEN, false, |c| c.runs_recorded),
    ("pending", YELLOW, true, |c| c.pending),
    ("needs input", RED, true, |c| c.needs_input),
    ("unsupported", DIM, true, |c| c.unsupported),
    ("failed", RED, true, |c| c.failed),
];

/// Streams installs to stdout as they come (memory stays flat at any fleet size), then the recap
/// (human) or the summary that closes the one JSON document.
pub struct Printer {
    out: Output,
    mode: Mode,
    pub counts: Counts,
    /// The installs the recap names, per outcome label.
    named: Vec<(&'static str, String)>,
    first: bool,
    /// stdout (stderr for a preview before a question), with colour decided once.
    stream: Stream,
    /// The invocation that writes, and the exact command that undoes what it wrote.
    invocation: Option<String>,
    undo: Option<String>,
}

/// Where a printer writes, with colour decided once (terminal, `NO_COLOR`) rather than per write.
enum Stream {
    Out(anstream::AutoStream<std::io::Stdout>),
    Err(anstream::AutoStream<std::io::Stderr>),
    /// Nowhere: installs read before it is known whether they are shown (counted only).
    Sink,
}

impl Stream {
    fn write(&mut self, s: &str) {
        let _ = match self {
            Stream::Out(o) => o.write_all(s.as_bytes()),
            Stream::Err(e) => e.write_all(s.as_bytes()),
            Stream::Sink => Ok(()),
        };
    }

    /// Writes JSON text. serde_json escapes every control character but DEL, so a text without
    /// a DEL holds nothing the colour stream would strip, and goes straight to the stream under
    /// it (scanning a fleet's whole document for escapes was most of what printing it cost).
    fn write_json(&mut self, s: &str) {
        match self {
            Stream::Out(o) if memchr::memchr(0x7f, s.as_bytes()).is_none() => {
                let _ = o.as_inner().write_all(s.as_bytes());
            }
            _ => self.write(s),
        }
    }

    fn flush(&mut self) {
        let _ = match self {
            Stream::Out(o) => o.flush(),
            Stream::Err(e) => e.flush(),
            Stream::Sink => Ok(()),
        };
    }
}

/// This tool, as the envelope names it.
#[derive(Serialize, JsonSchema)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

const TOOL: Tool = Tool {
    name: "clawmigrate",
    version: env!("CARGO_PKG_VERSION"),
};

/// A migration as every verb's JSON envelope lists it.
#[derive(Serialize, JsonSchema)]
pub struct MigrationEntry<'a> {
    pub version: u32,
    pub id: String,
    pub summary: &'a str,
    pub description: &'a Option<String>,
    pub reference: &'a Option<String>,
    pub files: Vec<crate::document::FileKind>,
    pub checksum: &'a str,
    pub kind: crate::migration::MigrationKind,
    pub upstream: &'a Option<crate::migration::Upstream>,
}

impl<'a> From<&'a crate::migration::Migration> for MigrationEntry<'a> {
    fn from(m: &'a crate::migration::Migration) -> Self {
        MigrationEntry {
            version: m.def.version,
            id: m.id(),
            summary: &m.def.summary,
            description: &m.def.description,
            reference: &m.def.reference,
            files: m.files(),
            checksum: &m.checksum,
            kind: m.kind(),
            upstream: &m.def.upstream,
        }
    }
}

/// The migrations a verb runs with, as its envelope lists them.
pub fn migration_entries<'a>(
    ms: impl IntoIterator<Item = &'a crate::migration::Migration>,
) -> Vec<MigrationEntry<'a>> {
    ms.into_iter().map(MigrationEntry::from).collect()
}

/// The envelope's head: every verb's document starts the same way.
#[derive(Serialize, JsonSchema)]
struct Head<'a> {
    schema: u32,
    tool: Tool,
    command: &'static str,
    mode: Mode,
    invocation_id: Option<&'a str>,
    migrations: &'a [MigrationEntry<'a>],
}

/// A whole document, whose installs are `I`s: the one of a verb that stopped before any
/// install, and the model the JSON Schema is made from (the streamed one has the same fields,
/// written as installs come: see [`Printer`]).
#[derive(Serialize, JsonSchema)]
#[schemars(
    rename = "{I}Document",
    description = "One --format json document: the envelope every verb shares, with this verb's installs."
)]
pub struct Document<'a, I> {
    #[serde(flatten)]
    head: Head<'a>,
    installs: Vec<I>,
    summary: Counts,
    undo_command: Option<&'a str>,
    errors: Vec<&'a Error>,
}

/// The installs of a document that cannot have any (`list`, a verb that stopped before any):
/// no value, and the schema `false`.
#[derive(Serialize)]
pub enum NoInstall {}

impl JsonSchema for NoInstall {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NoInstall".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        false.into()
    }
}

/// A JSON formatter that leaves the outermost object open (the streamed document's head: its
/// installs, summary and errors follow as they come).
struct OpenEnd {
    depth: usize,
}

impl serde_json::ser::Formatter for OpenEnd {
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth -= 1;
        if self.depth == 0 {
            return Ok(());
        }
        w.write_all(b"}")
    }
}

/// The head of the streamed document, up to its `installs`.
fn head(mode: Mode, invocation: Option<&str>, migrations: &[MigrationEntry]) -> String {
    let head = Head {
        schema: JSON_SCHEMA,
        tool: TOOL,
        command: mode.command(),
        mode,
        invocation_id: invocation,
        migrations,
    };
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, OpenEnd { depth: 0 });
    head.serialize(&mut ser).expect("the head serialises");
    let s = String::from_utf8(bytes).expect("JSON is UTF-8");
    format!("{s},\n\"installs\": [")
}

impl Printer {
    /// Starts the output of a verb; `migrations` are the ones it runs with (JSON envelope).
    pub fn start(
        out: Output,
        mode: Mode,
        invocation: Option<&str>,
        migrations: &[MigrationEntry],
    ) -> Printer {
        let mut p = Printer {
            out,
            mode,
            counts: Counts::default(),
            named: Vec::new(),
            first: true,
            stream: Stream::Out(anstream::stdout()),
            invocation: invocation.map(str::to_string),
            undo: None,
        };
        if out.json {
            let h = head(mode, invocation, migrations);
            p.print(&h);
        }
        p
    }

    /// A human printer on stderr: the plan shown before a question when stdout carries JSON.
    pub fn preview_on_stderr(out: Output, mode: Mode) -> Printer {
        let out = Output { json: false, ..out };
        Printer {
            stream: Stream::Err(anstream::stderr()),
            ..Printer::start(out, mode, None, &[])
        }
    }

    /// A printer that shows nothing and counts: installs read before it is known whether they
    /// are shown.
    pub fn counting(out: Output, mode: Mode) -> Printer {
        let out = Output { json: false, ..out };
        Printer {
            stream: Stream::Sink,
            ..Printer::start(out, mode, None, &[])
        }
    }

    fn print(&mut self, s: &str) {
        match self.out.json {
            true => self.stream.write_json(s),
            false => self.stream.write(s),
        }
    }

    /// Whether an install's block is shown in human output (quiet output asks the install).
    fn shows(&self, o: &Outcome) -> bool {
        match self.out.verbosity {
            Verbosity::Quiet | Verbosity::Verbose => true,
            Verbosity::Normal => {
                !self.out.fleet || !matches!(o, Outcome::UpToDate | Outcome::NothingToUndo)
            }
        }
    }

    /// Renders a chunk in parallel, counts it and prints it in order.
    pub fn push_all<S: Shown>(&mut self, chunk: &[S]) {
        use rayon::prelude::*;
        let (mode, out) = (self.mode, self.out);
        let sink = matches!(self.stream, Stream::Sink);
        let texts: Vec<Option<String>> = chunk
            .par_iter()
            .map(|r| {
                if sink {
                    None
                } else if out.json {
                    Some(serde_json::to_string(&r.json(mode)).expect("a report serialises"))
                } else if out.verbosity == Verbosity::Quiet {
                    r.quiet(mode)
                } else if self.shows(r.outcome()) {
                    Some(r.human(mode, out.verbosity == Verbosity::Verbose || !out.fleet))
                } else {
                    None
                }
            })
            .collect();
        for (r, text) in chunk.iter().zip(texts) {
            self.count(r);
            let Some(text) = text else { continue };
            let sep = match (self.first, self.out.json, self.out.verbosity) {
                (true, true, _) => "\n",
                (false, true, _) => ",\n",
                (true, false, _) | (false, false, Verbosity::Quiet) => "",
                (false, false, _) => "\n",
            };
            self.first = false;
            self.print(sep);
            self.print(&text);
        }
    }

    fn count<S: Shown>(&mut self, r: &S) {
        let o = r.outcome();
        self.counts.installs += 1;
        *self.counts.slot(o) += 1;
        self.counts.checksum_changed += usize::from(r.checksum_changed());
        let (files, ops) = r.work();
        self.counts.files += files;
        self.counts.operations += ops;
        let label = o.label();
        if RECAP.iter().any(|(l, _, named, _)| *named && *l == label) {
            self.named.push((label, path(r.state_dir())));
        }
    }

    /// The exact command (shell-quoted) that undoes what this run wrote: it ends the recap and
    /// is the document's `undo_command`.
    pub fn undo_with(&mut self, command: String) {
        self.undo = Some(command);
    }

    /// Ends the output: the recap, or the JSON summary and errors that close the document.
    pub fn finish(self) -> Counts {
        self.finish_with(Vec::new())
    }

    /// Ends the output with errors of the whole run (not of one install), each with its kind:
    /// in the JSON document's `errors`, and on stderr for humans.
    pub fn finish_with(mut self, errors: Vec<Error>) -> Counts {
        self.counts.run_errors = errors.len();
        let end = if self.out.json {
            format!(
                "\n],\n\"summary\": {},\n\"undo_command\": {},\n\"errors\": {}}}\n",
                serde_json::to_string(&self.counts).expect("counts serialise"),
                serde_json::to_string(&self.undo).expect("a string serialises"),
                serde_json::to_string(&errors).expect("errors serialise")
            )
        } else {
            for e in &errors {
                anstream::eprint!("{}", error_lines(e));
            }
            self.recap()
        };
        self.print(&end);
        self.stream.flush();
        self.counts
    }

    /// The Ansible-style recap: a line per outcome that occurred, naming the installs that are
    /// not fine.
    fn recap(&self) -> String {
        let c = &self.counts;
        let mut out = String::new();
        if !self.first {
            out.push('\n');
        }
        let installs = plural(c.installs, "install");
        // What an apply did, or what a preview plans: never what was planned but not written.
        let (files, ops) = (plural(c.files, "file"), plural(c.operations, "operation"));
        let work = match self.mode {
            Mode::DryRun | Mode::Check => format!("; {files}, {ops} planned"),
            Mode::Apply => format!("; {files} written, {ops} applied"),
            _ => String::new(),
        };
        let _ = writeln!(out, "{}{work}", paint(&format!("Recap: {installs}"), BOLD));
        for (label, style, _, tally) in RECAP {
            let n = tally(c);
            if n == 0 {
                continue;
            }
            let _ = writeln!(out, "  {}{n}", paint(&format!("{label:<18}"), style));
            // Quiet: the counts alone (the lines above name every install that sets the code).
            let named = self
                .named
                .iter()
                .filter(|_| self.out.verbosity != Verbosity::Quiet);
            for (_, path) in named.filter(|(l, _)| *l == label) {
                let _ = writeln!(out, "    {path}");
            }
        }
        if let (Some(id), Some(undo)) = (&self.invocation, &self.undo) {
            let _ = writeln!(out, "Run {id}: undo with: {}", escape(undo));
        }
        out
    }
}

/// A word for a POSIX shell: as it is when it holds only characters no shell reads specially,
/// otherwise in single quotes (a quote inside as `'\''`), so a printed command pastes exactly.
pub fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A failed install under `--quiet`: its path and error, on as few lines as it takes.
pub fn quiet_error(state_dir: &std::path::Path, e: &Error) -> String {
    format!(
        "{}: error: {}\n{}",
        path(state_dir),
        escape(&e.message),
        hint_line(e, "  ")
    )
}

/// The one JSON document of a verb that stopped before any install: the same envelope, no
/// installs, and the error with its kind.
pub fn error_document(mode: Mode, e: &Error) -> String {
    let doc = Document::<NoInstall> {
        head: Head {
            schema: JSON_SCHEMA,
            tool: TOOL,
            command: mode.command(),
            mode,
            invocation_id: None,
            migrations: &[],
        },
        installs: Vec::new(),
        summary: Counts::default(),
        undo_command: None,
        errors: vec![e],
    };
    serde_json::to_string_pretty(&doc).expect("the document serialises")
}

/// An error of the whole run for stderr: `error: …`, then its hint on a line of its own.
pub fn error_lines(e: &Error) -> String {
    format!("error: {}\n{}", escape(&e.message), hint_line(e, ""))
}

/// An error's hint on a line of its own (`hint: …`, after `indent`), or nothing.
pub fn hint_line(e: &Error, indent: &str) -> String {
    match &e.hint {
        Some(hint) => format!("{indent}hint: {}\n", escape(hint)),
        None => String::new(),
    }
}

/// A note for the operator on stderr (`dry run: nothing was written`): not in JSON or quiet
/// output.
pub fn notice(out: Output, text: &str) {
    if !out.json && out.verbosity != Verbosity::Quiet {
        anstream::eprintln!("{text}");
    }
}

/// A verb's whole human product at once, on stdout (`list`: no installs, no recap).
pub fn whole(text: &str) {
    let mut o = anstream::stdout();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

/// A message for the operator on stderr, whatever the output (`plan saved to …`).
pub fn tell(text: &str) {
    anstream::eprintln!("{text}");
}

/// The operator answered no: nothing was written. Says so on stderr (`nothing`), and to a script
/// asking for JSON in its one document.
pub fn declined(json: bool, mode: Mode, nothing: &str) {
    anstream::eprintln!("{nothing}");
    if json {
        let why = Error::new(
            crate::error::Kind::Declined,
            format!("the operator declined; {nothing}"),
        );
        println!("{}", error_document(mode, &why));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    #[test]
    fn a_hint_is_its_own_line_and_its_own_json_field() {
        let e = Error::new(Kind::NotFound, "no run x").hinted("`clawmigrate rollback --list`");
        assert_eq!(
            error_lines(&e),
            "error: no run x\nhint: `clawmigrate rollback --list`\n"
        );
        assert_eq!(error_lines(&Error::new(Kind::Io, "disk")), "error: disk\n");
        let doc: serde_json::Value =
            serde_json::from_str(&error_document(Mode::Rollback, &e)).unwrap();
        assert_eq!(doc["schema"], JSON_SCHEMA);
        assert_eq!(doc["errors"][0]["message"], "no run x");
        assert_eq!(doc["errors"][0]["hint"], "`clawmigrate rollback --list`");
    }

    /// `Mode::ALL` holds every mode once (a mode added to the enum fails to compile here until
    /// it is given its place, and the test until `ALL` has it there).
    #[test]
    fn every_mode_is_listed_once() {
        let place = |m: Mode| match m {
            Mode::DryRun => 0,
            Mode::Check => 1,
            Mode::Apply => 2,
            Mode::Status => 3,
            Mode::List => 4,
            Mode::Rollback => 5,
            Mode::RollbackList => 6,
            Mode::RollbackDryRun => 7,
            Mode::Repair => 8,
            Mode::RepairDryRun => 9,
        };
        for (i, m) in Mode::ALL.iter().enumerate() {
            assert_eq!(place(*m), i, "{m:?}");
        }
        assert_eq!(Mode::ALL.len(), 10);
    }

    #[test]
    fn the_streamed_head_is_the_envelope_left_open() {
        let h = head(Mode::List, None, &[]);
        let closed = format!("{}]}}", h);
        let v: serde_json::Value = serde_json::from_str(&closed).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let want = [
            "schema",
            "tool",
            "command",
            "mode",
            "invocation_id",
            "migrations",
        ];
        assert_eq!(keys[..6], want);
        assert_eq!(keys[6], "installs");
    }
}
