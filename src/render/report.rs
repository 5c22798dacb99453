//! An install's report as `migrate` and `status` show it: its header, migration states,
//! findings and diffs for people, and its typed object in the JSON document.
use crate::display::relative_path;
use crate::document::Document;
use crate::document::patch::Op;
use crate::outcome::Outcome;
use crate::pipeline::Report;
use crate::plan::{FindingKind, MigrationState};
use crate::printer::{self, BOLD, DIM, GREEN, Mode, RED, Shown, YELLOW, escape, paint};
use anstyle::Style;
use schemars::JsonSchema;
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;

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

/// An install's first line: its path (a template's file) and its outcome.
fn title(r: &Report) -> String {
    format!(
        "{} {}\n",
        paint(&printer::path(r.root.shown_path()), BOLD),
        paint(
            &format!("[{}]", r.outcome.label()),
            outcome_style(&r.outcome)
        )
    )
}

/// What a template's header says instead of its install's layout (it has none).
const TEMPLATE_LINE: &str = "  template: no agents; nothing kept in .clawmigrate (no ledger, no backups: git holds its history)\n";

fn header(r: &Report, out: &mut String) {
    out.push_str(&title(r));
    if r.root.template && r.install().is_some() {
        out.push_str(TEMPLATE_LINE);
        return;
    }
    if let Some(i) = r.install() {
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
            out.push_str(&printer::hint_line(e, "  "));
            return;
        }
        Outcome::Unsupported(why) => {
            let _ = writeln!(out, "  skipped: {}", escape(why));
            return;
        }
        _ => {}
    }
    let Some(plan) = r.plan() else { return };
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
            && r.wrote
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
            FindingKind::OptInAvailable => ("opt-in available", YELLOW),
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
        out.push_str(&super::diff(
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
        self.root.shown_path()
    }

    fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    fn human(&self, mode: Mode, detail: bool) -> String {
        install_human(self, mode, detail)
    }

    type Json<'a> = InstallJson<'a>;

    fn json(&self, mode: Mode) -> InstallJson<'_> {
        install_json(self, mode != Mode::Status)
    }

    /// Quiet: an error, or the header and the findings that fail `--check` or an apply (a
    /// changed checksum, a block only the operator can lift), whatever the mode.
    fn quiet(&self, _mode: Mode) -> Option<String> {
        if let Outcome::Failed(e) = &self.outcome {
            return Some(printer::quiet_error(self.root.shown_path(), e));
        }
        let plan = self.plan()?;
        let fails = |k: FindingKind| k == FindingKind::ChecksumChanged || k.blocks();
        if !plan.findings.iter().any(|f| fails(f.kind)) {
            return None;
        }
        let mut out = title(self);
        findings(plan, fails, &mut out);
        Some(out)
    }

    fn checksum_changed(&self) -> bool {
        self.plan().is_some_and(|p| {
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
        self.plan().map_or((0, 0), |p| {
            let ops = p.files.iter().flat_map(|f| &f.ops);
            (
                p.files.len(),
                ops.filter(|t| !matches!(t.op, Op::Test(_))).count(),
            )
        })
    }
}

/// An install's object in the JSON document of `migrate` and `status` (`status` leaves out the
/// patches).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Install", transform = together)]
pub struct InstallJson<'a> {
    state_dir: &'a Path,
    /// A template's file (`migrate --config`): its state dir is the folder it is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a Path>,
    outcome: crate::outcome::OutcomeKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "crate::error::Error")]
    error: Option<&'a crate::error::Error>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    run_id: Option<&'a str>,
    #[serde(flatten)]
    install: Option<LoadedJson<'a>>,
}

/// `Install`'s flattened groups (what was read, and its plan) are optional, yet a member of one
/// brings the rest of its group, and a plan's members what was read: `dependentRequired`, from
/// the groups' own required members.
fn together(schema: &mut schemars::Schema) {
    let loaded = required_of::<LoadedJson<'static>>();
    let plan = required_of::<PlanJson<'static>>();
    let mut deps = serde_json::Map::new();
    for (member, brings) in loaded
        .iter()
        .map(|m| (m, &loaded[..]))
        .chain(plan.iter().map(|m| (m, &plan[..])))
    {
        let others: Vec<&String> = loaded
            .iter()
            .chain(brings)
            .filter(|o| *o != member)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        deps.insert(member.clone(), serde_json::json!(others));
    }
    schema.insert("dependentRequired".into(), deps.into());
}

/// The members a type's schema requires.
fn required_of<T: JsonSchema>() -> Vec<String> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>();
    let required = schema.get("required").and_then(|r| r.as_array());
    required
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(String::from))
        .collect()
}

/// What was read of the install: its layout, and its plan when it has one.
#[derive(Serialize, JsonSchema)]
struct LoadedJson<'a> {
    config_path: &'a Path,
    default_agent: &'a str,
    agents: Vec<AgentJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "crate::storage::stores::Era")]
    era: Option<&'a crate::storage::stores::Era>,
    #[serde(flatten)]
    plan: Option<PlanJson<'a>>,
}

/// An agent of the install and the auth store its OpenClaw reads.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Agent")]
struct AgentJson<'a> {
    id: &'a str,
    dir: &'a Path,
    listed: bool,
    store: &'a str,
}

/// The install's plan: where each migration stands, what the operator should know, the files.
#[derive(Serialize, JsonSchema)]
struct PlanJson<'a> {
    migrations: &'a [crate::plan::MigrationStatus],
    /// The findings, secrets masked.
    findings: Vec<crate::plan::Finding>,
    files: Vec<FileJson<'a>>,
}

/// A file (or cell) the plan changes.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "PlanFile")]
struct FileJson<'a> {
    path: &'a Path,
    cell: Option<&'static str>,
    kind: crate::document::FileKind,
    agent: &'a Option<String>,
    created: bool,
    sha256_before: Option<String>,
    sha256_after: &'a str,
    /// The RFC 6902 operations, secrets masked (not in `status`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<crate::plan::masked::MaskedOp>")]
    patch: Option<Vec<crate::plan::masked::MaskedOp>>,
}

/// The plan's part of an install's object.
fn plan_json<'a>(
    install: &'a crate::load::Install,
    plan: &'a crate::plan::InstallPlan,
    with_patches: bool,
) -> PlanJson<'a> {
    let file = |f: &'a crate::plan::FilePlan| {
        let doc = &install.docs[f.doc];
        FileJson {
            path: doc.path(),
            cell: doc.store.cell_key(),
            kind: doc.kind,
            agent: &doc.agent,
            created: !doc.exists(),
            sha256_before: doc.sha256(),
            sha256_after: &f.sha_after,
            patch: with_patches.then(|| plan.masked_patch(f)),
        }
    };
    PlanJson {
        migrations: &plan.migrations,
        findings: plan.masked_findings(),
        files: plan.files.iter().map(file).collect(),
    }
}

fn install_json(r: &Report, with_patches: bool) -> InstallJson<'_> {
    let (error, reason) = match &r.outcome {
        Outcome::Failed(e) => (Some(e), None),
        Outcome::Unsupported(why) => (None, Some(why.as_str())),
        _ => (None, None),
    };
    let install = r.install().map(|install| LoadedJson {
        config_path: install.config().path(),
        default_agent: &install.default_agent,
        agents: install
            .agents
            .iter()
            .map(|a| AgentJson {
                id: &a.agent.id,
                dir: &a.agent.dir,
                listed: a.agent.listed,
                store: &a.store,
            })
            .collect(),
        era: (install.unsupported.is_none() && !r.root.template).then_some(&install.era),
        plan: r.plan().map(|p| plan_json(install, p, with_patches)),
    });
    InstallJson {
        state_dir: &r.root.state_dir,
        template: r.root.template.then_some(r.root.config_path.as_path()),
        outcome: r.outcome.key(),
        error,
        reason,
        run_id: r.run_id.as_deref(),
        install,
    }
}
