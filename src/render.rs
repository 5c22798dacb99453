//! Renders reports: the human summary and unified diffs, and the versioned JSON document.
use crate::document::Document;
use crate::pipeline::{Outcome, Report};
use crate::plan::{FindingKind, MigrationState};
use crate::secrets::Redactor;
use anstyle::{AnsiColor, Style};
use serde_json::{Value, json};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;
use std::path::Path;

/// The version of the JSON output format (documented in the README).
pub const JSON_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Check,
    Apply,
    Status,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::DryRun => "dry-run",
            Mode::Check => "check",
            Mode::Apply => "apply",
            Mode::Status => "status",
        }
    }
}

const RED: Style = AnsiColor::Red.on_default();
const GREEN: Style = AnsiColor::Green.on_default();
const CYAN: Style = AnsiColor::Cyan.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn paint(s: &str, style: Style) -> String {
    format!("{style}{s}{style:#}")
}

/// A path as the operator knows it: relative to the state dir when inside it.
pub fn display_path(state_dir: &Path, path: &Path) -> String {
    path.strip_prefix(state_dir)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// A unified diff of one file, secrets masked, coloured with ANSI (stripped later if not wanted).
pub fn diff(name: &str, before: Option<&str>, after: &str, redactor: &Redactor) -> String {
    let old = before.unwrap_or("");
    let d = TextDiff::configure()
        .algorithm(similar::Algorithm::Histogram)
        .diff_lines(old, after);
    let mut out = String::new();
    let from = if before.is_some() {
        format!("a/{name}")
    } else {
        "/dev/null".into()
    };
    let _ = writeln!(out, "{}", paint(&format!("--- {from}"), BOLD));
    let _ = writeln!(out, "{}", paint(&format!("+++ b/{name}"), BOLD));
    for hunk in d.unified_diff().context_radius(3).iter_hunks() {
        let _ = writeln!(out, "{}", paint(&hunk.header().to_string(), CYAN));
        for change in hunk.iter_changes() {
            let (sign, style) = match change.tag() {
                ChangeTag::Delete => ("-", RED),
                ChangeTag::Insert => ("+", GREEN),
                ChangeTag::Equal => (" ", Style::new()),
            };
            let line = redactor.redact(change.value().trim_end_matches(['\n', '\r']));
            let _ = writeln!(out, "{}", paint(&format!("{sign}{line}"), style));
            if change.missing_newline() {
                let _ = writeln!(out, "\\ No newline at end of file");
            }
        }
    }
    out
}

fn state_label(state: MigrationState) -> (&'static str, Style) {
    match state {
        MigrationState::Applied => ("applied", GREEN),
        MigrationState::Pending => ("pending", YELLOW),
        MigrationState::Drift => ("drift", RED),
        MigrationState::NotNeeded => ("not needed", DIM),
        MigrationState::Blocked => ("blocked", RED),
    }
}

fn outcome_style(o: &Outcome) -> Style {
    match o {
        Outcome::UpToDate | Outcome::Changed => GREEN,
        Outcome::Pending => YELLOW,
        Outcome::NeedsInput | Outcome::Failed(_) => RED,
        Outcome::Unsupported(_) => DIM,
    }
}

fn header(r: &Report, out: &mut String) {
    let _ = writeln!(
        out,
        "{} {}",
        paint(&r.root.state_dir.display().to_string(), BOLD),
        paint(
            &format!("[{}]", r.outcome.label()),
            outcome_style(&r.outcome)
        )
    );
    if let Some(i) = &r.install {
        let agents: Vec<String> = i
            .agents
            .iter()
            .map(|a| {
                if a.agent.id == i.default_agent {
                    format!("{} (default)", a.agent.id)
                } else {
                    a.agent.id.clone()
                }
            })
            .collect();
        let cfg = display_path(&r.root.state_dir, &i.config().path);
        let cfg = if i.config().exists() {
            cfg
        } else {
            format!("{cfg} (absent)")
        };
        let _ = writeln!(out, "  config: {cfg}");
        if !agents.is_empty() {
            let _ = writeln!(out, "  agents: {}", agents.join(", "));
        }
    }
}

fn body(r: &Report, mode: Mode, out: &mut String) {
    match &r.outcome {
        Outcome::Failed(e) => {
            for (i, line) in e.lines().enumerate() {
                let _ = writeln!(out, "  {}{line}", if i == 0 { "error: " } else { "" });
            }
            return;
        }
        Outcome::Unsupported(why) => {
            let _ = writeln!(out, "  skipped: {why}");
            return;
        }
        _ => {}
    }
    let Some(plan) = &r.plan else { return };
    let width = plan
        .migrations
        .iter()
        .map(|m| m.id.len())
        .max()
        .unwrap_or(0);
    for m in &plan.migrations {
        let (label, style) = state_label(m.state);
        let label = if mode == Mode::Apply
            && r.run_id.is_some()
            && m.blocked_by.is_none()
            && matches!(m.state, MigrationState::Pending | MigrationState::Drift)
        {
            "applied now"
        } else {
            label
        };
        let ops = if m.ops > 0 {
            format!(" ({} ops)", m.ops)
        } else {
            String::new()
        };
        let changed = if m.checksum_changed {
            " (its file changed since it was applied)"
        } else {
            ""
        };
        let waits = m
            .blocked_by
            .as_ref()
            .map(|b| format!(" (not planned: waits for {b}, which is blocked)"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:width$}  {}{ops}{changed}{waits}",
            m.id,
            paint(label, style)
        );
    }
    for f in &plan.findings {
        let (tag, style) = match f.kind {
            FindingKind::NeedsInput => ("needs input", RED),
            FindingKind::Conflict => ("conflict", RED),
            FindingKind::Note => ("note", DIM),
            FindingKind::ChecksumChanged => ("checksum changed", RED),
        };
        let _ = writeln!(
            out,
            "  {}: {} [{}]",
            paint(tag, style),
            plan.redactor.redact(&f.message),
            f.migration
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "    fix: {fix}");
        }
    }
    if mode == Mode::Status {
        return;
    }
    let install = r.install.as_ref().expect("a planned install was loaded");
    for f in &plan.files {
        let doc: &Document = &install.docs[f.doc];
        let _ = writeln!(out);
        out.push_str(&diff(
            &display_path(&r.root.state_dir, &doc.path),
            doc.text.as_deref(),
            &f.after,
            &plan.redactor,
        ));
    }
}

/// Counts per outcome, for the recap line and the JSON summary.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub installs: usize,
    pub up_to_date: usize,
    pub changed: usize,
    pub pending: usize,
    pub needs_input: usize,
    pub unsupported: usize,
    pub failed: usize,
    pub files: usize,
    pub operations: usize,
    /// Installs where an applied migration's checksum changed since (fails `--check`).
    pub checksum_changed: usize,
}

impl Counts {
    pub fn add(&mut self, r: &Report) {
        self.installs += 1;
        match &r.outcome {
            Outcome::UpToDate => self.up_to_date += 1,
            Outcome::Changed => self.changed += 1,
            Outcome::Pending => self.pending += 1,
            Outcome::NeedsInput => self.needs_input += 1,
            Outcome::Unsupported(_) => self.unsupported += 1,
            Outcome::Failed(_) => self.failed += 1,
        }
        if let Some(p) = &r.plan {
            if p.findings
                .iter()
                .any(|f| f.kind == crate::plan::FindingKind::ChecksumChanged)
            {
                self.checksum_changed += 1;
            }
            self.files += p.files.len();
            self.operations += p.files.iter().map(|f| f.ops.len()).sum::<usize>();
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "installs": self.installs,
            "up_to_date": self.up_to_date,
            "changed": self.changed,
            "pending": self.pending,
            "needs_input": self.needs_input,
            "unsupported": self.unsupported,
            "failed": self.failed,
            "files": self.files,
            "operations": self.operations,
        })
    }

    /// The recap line that ends human output.
    pub fn line(&self, mode: Mode) -> String {
        let mut parts = vec![format!("{} up to date", self.up_to_date)];
        if mode == Mode::Apply {
            parts.push(format!("{} changed", self.changed));
        }
        if mode != Mode::Apply || self.pending > 0 {
            parts.push(format!("{} pending", self.pending));
        }
        parts.extend([
            format!("{} need input", self.needs_input),
            format!("{} unsupported", self.unsupported),
            format!("{} failed", self.failed),
        ]);
        let installs = if self.installs == 1 {
            "1 install".to_string()
        } else {
            format!("{} installs", self.installs)
        };
        let files = match mode {
            Mode::Status => String::new(),
            _ => format!("; {} files, {} operations", self.files, self.operations),
        };
        format!("{}: {}{files}", paint(&installs, BOLD), parts.join(", "))
    }
}

/// One install's human block: header, migration states, findings and (except status) diffs.
pub fn install_human(r: &Report, mode: Mode) -> String {
    let mut out = String::new();
    header(r, &mut out);
    body(r, mode, &mut out);
    out
}

/// Streams reports to stdout as they come, so memory stays flat at any fleet size.
pub struct Sink {
    json: bool,
    mode: Mode,
    pub counts: Counts,
    /// stdout, with colour decided once (terminal, `NO_COLOR`) rather than per write.
    out: anstream::AutoStream<std::io::Stdout>,
}

impl Sink {
    pub fn start(json: bool, mode: Mode) -> Sink {
        let mut sink = Sink {
            json,
            mode,
            counts: Counts::default(),
            out: anstream::stdout(),
        };
        if json {
            let head = json!({"schema": JSON_SCHEMA, "tool": {"name": "clawmigrate", "version": env!("CARGO_PKG_VERSION")}, "mode": mode.name()});
            let head = serde_json::to_string(&head).unwrap();
            sink.print(&format!("{},\n\"installs\": [", &head[..head.len() - 1]));
        }
        sink
    }

    fn print(&mut self, s: &str) {
        use std::io::Write as _;
        let _ = self.out.write_all(s.as_bytes());
    }

    /// Renders one install (pure, so a chunk can be rendered in parallel).
    fn render(&self, r: &Report) -> String {
        if self.json {
            serde_json::to_string(&install_json(r, self.mode != Mode::Status)).unwrap()
        } else {
            install_human(r, self.mode)
        }
    }

    /// Renders a chunk in parallel, counts it and prints it in order.
    pub fn push_all(&mut self, chunk: &[Report]) {
        use rayon::prelude::*;
        let texts: Vec<String> = chunk.par_iter().map(|r| self.render(r)).collect();
        for (r, text) in chunk.iter().zip(&texts) {
            let first = self.counts.installs == 0;
            self.counts.add(r);
            let sep = match (first, self.json) {
                (true, true) => "\n",
                (false, true) => ",\n",
                (true, false) => "",
                (false, false) => "\n",
            };
            self.print(sep);
            self.print(text);
        }
    }

    pub fn finish(mut self) -> Counts {
        let end = if self.json {
            format!("\n],\n\"summary\": {}}}\n", self.counts.json())
        } else {
            format!("\n{}\n", self.counts.line(self.mode))
        };
        self.print(&end);
        let _ = std::io::Write::flush(&mut self.out);
        self.counts
    }
}

fn install_json(r: &Report, with_patches: bool) -> Value {
    let mut v = json!({
        "state_dir": r.root.state_dir,
        "outcome": r.outcome.label().replace(' ', "-"),
    });
    match &r.outcome {
        Outcome::Failed(e) => v["error"] = json!(e),
        Outcome::Unsupported(why) => v["reason"] = json!(why),
        _ => {}
    }
    if let Some(id) = &r.run_id {
        v["run_id"] = json!(id);
    }
    let Some(install) = &r.install else { return v };
    v["config_path"] = json!(install.config().path);
    v["default_agent"] = json!(install.default_agent);
    v["agents"] = install
        .agents
        .iter()
        .map(|a| json!({"id": a.agent.id, "dir": a.agent.dir, "listed": a.agent.listed}))
        .collect();
    let Some(plan) = &r.plan else { return v };
    v["migrations"] = serde_json::to_value(&plan.migrations).unwrap();
    v["findings"] = plan
        .redactor
        .redact_value(&serde_json::to_value(&plan.findings).unwrap());
    v["files"] = plan
        .files
        .iter()
        .map(|f| {
            let doc = &install.docs[f.doc];
            let mut fv = json!({
                "path": doc.path,
                "kind": doc.kind,
                "agent": doc.agent,
                "created": !doc.exists(),
                "sha256_before": doc.sha256(),
                "sha256_after": f.sha_after,
            });
            if with_patches {
                fv["patch"] = plan.masked_patch(f);
            }
            fv
        })
        .collect();
    v
}
