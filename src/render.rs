//! Renders reports: the human summary and unified diffs, and the versioned JSON document.
use crate::display::relative_path;
use crate::document::Document;
use crate::document::patch::Op;
use crate::outcome::Outcome;
use crate::pipeline::Report;
use crate::plan::{FindingKind, MigrationState};
use crate::printer::{self, BOLD, CYAN, DIM, GREEN, Mode, RED, Shown, YELLOW, escape, paint};
use crate::secrets::Redactor;
use anstyle::Style;
use serde_json::{Value, json};
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;
use std::path::Path;

/// The lines of a text as the diff splits them (after `\r\n`, `\n` or a lone `\r`).
fn lines(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let (mut out, mut start) = (Vec::new(), 0);
    // memchr jumps from line end to line end (every diffed file passes here twice).
    for i in memchr::memchr2_iter(b'\r', b'\n', b) {
        if i < start {
            continue; // the \n of a \r\n already taken
        }
        let end = if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            i + 2
        } else {
            i + 1
        };
        out.push(&text[start..end]);
        start = end;
    }
    if start < b.len() {
        out.push(&text[start..]);
    }
    out
}

/// A unified diff of one file, secrets masked, coloured with ANSI (stripped later if not wanted).
///
/// The diff is computed on the real bytes; each line shown is taken from the whole text with its
/// secrets masked, so a key is masked in any encoding the source gives it, even one split over
/// lines by a JSON5 line continuation.
pub fn diff(name: &str, before: Option<&str>, after: &str, redactor: &Redactor) -> String {
    let old = before.unwrap_or("");
    let (old_masked, new_masked) = (redactor.redact(old), redactor.redact(after));
    let (old_lines, new_lines) = (lines(&old_masked), lines(&new_masked));
    let (old_count, new_count) = (lines(old).len(), lines(after).len());
    let masked_line = |change: &similar::Change<&str>| -> String {
        let shown = match change.tag() {
            ChangeTag::Delete | ChangeTag::Equal if old_lines.len() == old_count => {
                change.old_index().and_then(|i| old_lines.get(i))
            }
            ChangeTag::Insert if new_lines.len() == new_count => {
                change.new_index().and_then(|i| new_lines.get(i))
            }
            _ => None,
        };
        // The masked texts keep their lines; line by line is only a fallback.
        shown.map_or_else(|| redactor.redact(change.value()), |l| l.to_string())
    };
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
            let line = masked_line(&change);
            let line = escape(line.trim_end_matches(['\n', '\r']));
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
        Outcome::UpToDate
        | Outcome::Changed
        | Outcome::RolledBack
        | Outcome::NothingToUndo
        | Outcome::RunsRecorded => GREEN,
        Outcome::Pending => YELLOW,
        Outcome::NeedsInput | Outcome::Failed(_) => RED,
        Outcome::Unsupported(_) => DIM,
    }
}

/// An install's first line: its path and its outcome.
fn title(r: &Report) -> String {
    format!(
        "{} {}\n",
        paint(&printer::path(&r.root.state_dir), BOLD),
        paint(
            &format!("[{}]", r.outcome.label()),
            outcome_style(&r.outcome)
        )
    )
}

fn header(r: &Report, out: &mut String) {
    out.push_str(&title(r));
    if let Some(i) = &r.install {
        let agents: Vec<String> = i
            .agents
            .iter()
            .map(|a| {
                let id = escape(&a.agent.id);
                if a.agent.id == i.default_agent {
                    format!("{id} (default)")
                } else {
                    id.into_owned()
                }
            })
            .collect();
        let cfg = relative_path(&r.root.state_dir, i.config().path());
        let cfg = if i.config().exists() {
            cfg
        } else {
            format!("{cfg} (absent)")
        };
        let _ = writeln!(out, "  config: {cfg}");
        if i.unsupported.is_none() {
            let _ = writeln!(out, "  era: {}", i.era.label());
        }
        if !agents.is_empty() {
            let _ = writeln!(out, "  agents: {}", agents.join(", "));
        }
        if !i.agents.is_empty() {
            let stores: Vec<String> = i
                .agents
                .iter()
                .map(|a| format!("{} → {}", escape(&a.agent.id), a.store))
                .collect();
            let _ = writeln!(out, "  stores: {}", stores.join(", "));
        }
    }
}

fn body(r: &Report, mode: Mode, detail: bool, out: &mut String) {
    match &r.outcome {
        Outcome::Failed(e) => {
            for (i, line) in escape(&e.message).lines().enumerate() {
                let _ = writeln!(out, "  {}{line}", if i == 0 { "error: " } else { "" });
            }
            return;
        }
        Outcome::Unsupported(why) => {
            let _ = writeln!(out, "  skipped: {}", escape(why));
            return;
        }
        _ => {}
    }
    let Some(plan) = &r.plan else { return };
    states(r, plan, mode, out);
    findings(plan, |k| detail || k != FindingKind::Note, out);
    if mode == Mode::Status {
        return;
    }
    if let Some((install, plan)) = r.planned() {
        diffs(r, install, plan, out);
    }
}

/// One line per migration: its state, how many operations, why it waits.
fn states(r: &Report, plan: &crate::plan::InstallPlan, mode: Mode, out: &mut String) {
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
            format!(" ({} op{})", m.ops, if m.ops == 1 { "" } else { "s" })
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
}

/// The findings of the kinds `shown` picks, each with its fix; secrets masked.
fn findings(
    plan: &crate::plan::InstallPlan,
    shown: impl Fn(FindingKind) -> bool,
    out: &mut String,
) {
    for f in plan.findings.iter().filter(|f| shown(f.kind)) {
        let (tag, style) = match f.kind {
            FindingKind::NeedsInput => ("needs input", RED),
            FindingKind::Conflict => ("conflict", RED),
            FindingKind::Note => ("note", DIM),
            FindingKind::ChecksumChanged => ("checksum changed", RED),
            FindingKind::Interrupted => ("interrupted", RED),
            FindingKind::UpgradeAvailable => ("upgrade available", YELLOW),
        };
        // Recovery's findings belong to no migration: no empty brackets for them.
        let of = if f.migration.is_empty() {
            String::new()
        } else {
            format!(" [{}]", f.migration)
        };
        let _ = writeln!(
            out,
            "  {}: {}{of}",
            paint(tag, style),
            escape(&plan.redactor.redact(&f.message)),
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "    fix: {}", escape(&plan.redactor.redact(fix)));
        }
    }
}

/// A unified diff per file (or cell) the plan changes, secrets masked.
fn diffs(
    r: &Report,
    install: &crate::load::Install,
    plan: &crate::plan::InstallPlan,
    out: &mut String,
) {
    for f in &plan.files {
        let doc: &Document = &install.docs[f.doc];
        let _ = writeln!(out);
        // A cell's value has no line end to speak of: shown as a one-line text.
        let (before, after) = if doc.store.one_line() {
            (
                doc.text.as_ref().map(|t| format!("{t}\n")),
                format!("{}\n", f.after),
            )
        } else {
            (doc.text.clone(), f.after.clone())
        };
        out.push_str(&diff(
            &doc.name(&r.root.state_dir),
            before.as_deref(),
            &after,
            &plan.redactor,
        ));
    }
}

/// One install's human block: header, migration states, findings and (except status) diffs.
pub fn install_human(r: &Report, mode: Mode, detail: bool) -> String {
    let mut out = String::new();
    header(r, &mut out);
    body(r, mode, detail, &mut out);
    out
}

impl Shown for Report {
    fn state_dir(&self) -> &Path {
        &self.root.state_dir
    }

    fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    fn human(&self, mode: Mode, detail: bool) -> String {
        install_human(self, mode, detail)
    }

    fn json(&self, mode: Mode) -> Value {
        install_json(self, mode != Mode::Status)
    }

    /// Quiet: an error, or the header and the findings that fail `--check` or an apply (a
    /// changed checksum, a block only the operator can lift), whatever the mode.
    fn quiet(&self, _mode: Mode) -> Option<String> {
        if let Outcome::Failed(e) = &self.outcome {
            return Some(printer::quiet_error(&self.root.state_dir, e));
        }
        let plan = self.plan.as_ref()?;
        let fails = |k: FindingKind| k == FindingKind::ChecksumChanged || k.blocks();
        if !plan.findings.iter().any(|f| fails(f.kind)) {
            return None;
        }
        let mut out = title(self);
        findings(plan, fails, &mut out);
        Some(out)
    }

    fn checksum_changed(&self) -> bool {
        self.plan.as_ref().is_some_and(|p| {
            p.findings
                .iter()
                .any(|f| f.kind == FindingKind::ChecksumChanged)
        })
    }

    fn work(&self) -> (usize, usize) {
        // A failed install wrote nothing (and a failed plan has nothing to count): what happened
        // is counted, not what was planned.
        if matches!(self.outcome, Outcome::Failed(_)) {
            return (0, 0);
        }
        self.plan.as_ref().map_or((0, 0), |p| {
            let ops = p.files.iter().flat_map(|f| &f.ops);
            (
                p.files.len(),
                ops.filter(|t| !matches!(t.op, Op::Test(_))).count(),
            )
        })
    }
}

fn install_json(r: &Report, with_patches: bool) -> Value {
    let mut v = json!({
        "state_dir": r.root.state_dir,
        "outcome": r.outcome.key(),
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
    v["config_path"] = json!(install.config().path());
    v["default_agent"] = json!(install.default_agent);
    v["agents"] = install
        .agents
        .iter()
        .map(|a| json!({"id": a.agent.id, "dir": a.agent.dir, "listed": a.agent.listed, "store": a.store}))
        .collect();
    if install.unsupported.is_none() {
        v["era"] = json!(install.era);
    }
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
                "path": doc.path(),
                "cell": doc.store.cell_key(),
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

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn lines_split_after_each_kind_of_line_end() {
        assert_eq!(lines("a\r\nb\rc\nd"), ["a\r\n", "b\r", "c\n", "d"]);
        assert_eq!(lines("\r\n\r\n\n\r"), ["\r\n", "\r\n", "\n", "\r"]);
        assert_eq!(lines("x\n"), ["x\n"]);
        assert!(lines("").is_empty());
        assert_eq!(lines("no end"), ["no end"]);
    }
}
