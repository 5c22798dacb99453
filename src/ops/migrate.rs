//! `migrate`: plans every target install, shows it, and applies it on confirmation (or saves the
//! plan for review, or applies a saved one).
use super::{Confirm, Done, Envelope, Writes};
use crate::apply::{self, ApplyBatch};
use crate::discover::{self, Found, InstallRoot, Target};
use crate::error::{Error, Kind};
use crate::migration::Only;
use crate::migration::{Migration, Registry};
use crate::pipeline;
use crate::plan::Inputs;
use crate::plan::saved::SavedPlan;
use crate::printer::{self, Counts, MigrationEntry, Mode, Output, Printer, plural};
use crate::progress::Progress;
use std::path::PathBuf;

/// What `migrate` is asked to do.
pub struct MigrateOptions {
    pub target: Target,
    /// Shows the plan and writes nothing.
    pub dry_run: bool,
    /// As `dry_run`, and the exit code says whether anything waits.
    pub check: bool,
    /// Applies without asking.
    pub yes: bool,
    /// Narrows the run to these migrations (and those they need).
    pub only: Vec<Only>,
    /// The OpenClaw release to upgrade to (without it, repairs only).
    pub to: Option<String>,
    /// `PROVIDER=FILE`: where an operator's key is read from.
    pub key_files: Vec<String>,
    /// Saves the plan shown by a dry run or check there.
    pub plan_out: Option<PathBuf>,
    /// Applies the plan saved there, on the installs it names.
    pub plan: Option<PathBuf>,
    pub out: Output,
}

/// Reads `--key-file PROVIDER=FILE` values; the key itself never appears on the command line.
/// A file is read only when regular; stdin and a FIFO are bounded in size and time, and a file
/// that holds more than the key on one line is refused (`keyfile`).
/// Only providers some migration can take an operator's key for are accepted, so a misspelt
/// one is refused instead of silently ignored.
fn read_keys(specs: &[String], providers: &[&str]) -> Result<Inputs, Error> {
    let mut inputs = Inputs::default();
    for spec in specs {
        let (provider, file) = spec.split_once('=').ok_or_else(|| {
            // Not echoed: a key pasted here by mistake must not reach the logs too.
            usage("--key-file takes PROVIDER=FILE (e.g. minimax-cn=/run/secrets/minimax), and the value given has no '='; put the key in a file and name the file".to_string())
        })?;
        if !providers.contains(&provider) {
            return Err(usage(format!(
                "--key-file {provider}=...: no migration takes a key for provider {provider:?}; keys can be supplied for: {}",
                providers.join(", ")
            )));
        }
        let key = crate::keyfile::read_key(&format!("--key-file {provider}={file}"), file)?;
        inputs.keys.insert(provider.to_string(), key);
    }
    Ok(inputs)
}

/// A command line that asks for what cannot be done (kind `usage`): nothing was written.
fn usage(message: String) -> Error {
    Error::new(Kind::Usage, message)
}

/// The migrations a `--only` selection leaves out before its last one (none without `--only`),
/// of those the run's `--to` reaches (`reach`).
fn skipped_before(reach: &[&Migration], selected: &[&Migration]) -> Vec<Migration> {
    let last = selected.iter().map(|m| m.def.version).max().unwrap_or(0);
    reach
        .iter()
        .copied()
        .filter(|m| m.def.version < last)
        .filter(|m| !selected.iter().any(|s| s.def.version == m.def.version))
        .cloned()
        .collect()
}

struct Job<'a> {
    opts: &'a MigrateOptions,
    target: &'a Target,
    /// The installs of a saved plan (instead of resolving the targets); those not on this host
    /// as errors naming them.
    roots: Option<Vec<Found>>,
    home: std::path::PathBuf,
    migrations: Vec<&'a Migration>,
    entries: Vec<MigrationEntry<'a>>,
    inputs: Inputs,
    out: Output,
    /// This invocation's id (every install's run id derives from it).
    invocation: String,
    /// The release `--to` names (recorded in a saved plan).
    to: Option<String>,
    /// The release each install's run records as upgraded to: `to`, when the run selects every
    /// migration it reaches (with `--only` some may be left, so none is recorded).
    upgrade_to: Option<String>,
}

impl Job<'_> {
    /// Plans every install, chunk by chunk, handing each chunk to `each`. With `recover` (when
    /// applying), an install an interrupted run left behind is first recovered (see `recover`).
    fn each(&self, recover: bool, each: impl FnMut(&mut [pipeline::Report]) + Send) {
        let prep = |r: &InstallRoot| {
            // A template has no runs to recover (nothing of it is recorded).
            let notes = if recover && !r.template {
                match crate::commit::recover::recover(r, &self.home) {
                    Ok(done) => done.notes,
                    Err(e) => return pipeline::Report::failed(r.clone(), e),
                }
            } else {
                Vec::new()
            };
            let mut report = pipeline::load_and_plan(r, &self.home, &self.migrations, &self.inputs);
            report.add_interrupted(notes);
            report
        };
        match &self.roots {
            Some(roots) => pipeline::drive_with(
                roots.iter().cloned(),
                &Progress::new(roots.len() > 1, Some(roots.len() as u64)),
                &prep,
                each,
            ),
            None => pipeline::for_each_install(self.target, &super::process_env, &prep, each),
        }
    }

    /// Plans everything and prints it; returns the counts and, when `keep`, the plan as reviewed
    /// (otherwise nothing is kept, so memory stays flat at any fleet size).
    /// Plans everything and pushes it to `sink`; returns, when `keep`, the plan as shown
    /// (otherwise nothing is kept, so memory stays flat at any fleet size). With `recover`,
    /// installs an interrupted run left behind are recovered first (before a review, so the plan
    /// shown is the plan applied).
    fn preview_to(&self, sink: &mut Printer, keep: bool, recover: bool) -> SavedPlan {
        let mut saved = SavedPlan::new(&self.migrations, self.to.clone());
        self.each(recover, |chunk| {
            if keep {
                for r in chunk.iter() {
                    if let Some((install, plan)) = r.planned() {
                        saved.add(r.root.shown_path(), install, plan);
                    }
                }
            }
            sink.push_all(chunk);
        });
        saved
    }

    fn apply(&self, expected: Option<&SavedPlan>, sink: &mut Printer) {
        let seq = std::sync::atomic::AtomicU64::new(0);
        let ctx = ApplyBatch {
            invocation: &self.invocation,
            seq: &seq,
            migrations: &self.migrations,
            inputs: &self.inputs,
            home: &self.home,
            to: self.upgrade_to.as_deref(),
            expected,
        };
        // The installs written, when the undo command has to name them (see `undo_command`).
        let by_name = self.roots.is_some() || self.target.is_default();
        let mut written = Vec::new();
        // apply_batch checks each install against `expected` before it touches anything.
        self.each(true, |chunk| {
            apply::apply_batch(chunk, &ctx);
            let wrote = chunk.iter().filter(|r| r.run_id.is_some());
            written.extend(wrote.map(|r| (by_name, r.root.state_dir.clone())));
            sink.push_all(chunk);
        });
        if !written.is_empty() {
            let dirs: Vec<_> = written.into_iter().filter(|w| w.0).map(|w| w.1).collect();
            sink.undo_with(self.undo_command(&dirs));
        }
    }

    /// The exact command that undoes this run: `rollback` with the invocation id and the same
    /// targets, shell-quoted; the installs written by name when the targets were the default
    /// (which depends on the environment) or a saved plan.
    fn undo_command(&self, written: &[std::path::PathBuf]) -> String {
        let t = self.target;
        let mut words = vec!["clawmigrate".to_string(), "rollback".into()];
        words.push(self.invocation.clone());
        let mut flag = |name: &str, value: &std::path::Path| {
            words.push(name.to_string());
            words.push(printer::shell_word(&value.to_string_lossy()));
        };
        if self.roots.is_some() || t.is_default() {
            written.iter().for_each(|d| flag("--state-dir", d));
        } else {
            t.state_dirs.iter().for_each(|d| flag("--state-dir", d));
            t.fleets.iter().for_each(|d| flag("--fleet", d));
            if !t.fleets.is_empty() && t.fleet_depth != discover::DEFAULT_FLEET_DEPTH {
                words.extend(["--fleet-depth".into(), t.fleet_depth.to_string()]);
            }
        }
        words.join(" ")
    }
}

/// The installs a saved plan names, each checked to be an install on this host.
fn saved_installs(plan: &SavedPlan) -> Vec<Found> {
    let hint = "the saved plan names an install that is not on this host: apply the plan where it was made, or make a new one here";
    plan.installs
        .iter()
        .map(|i| InstallRoot::at(&i.state_dir, hint))
        .collect()
}

/// Refuses, for templates (`--config`), what needs an install: another target, a saved plan
/// (applied through an install's ledger), an operator's key (a template has no agents).
fn check_template_flags(args: &MigrateOptions) -> Result<(), Error> {
    let t = &args.target;
    if t.configs.is_empty() {
        return Ok(());
    }
    let other = [
        (!t.state_dirs.is_empty(), "--state-dir"),
        (!t.fleets.is_empty(), "--fleet"),
        (t.profile.is_some(), "--profile"),
        (args.plan.is_some(), "--plan"),
        (args.plan_out.is_some(), "--plan-out"),
        (!args.key_files.is_empty(), "--key-file"),
    ];
    match other.iter().find(|(given, _)| *given) {
        Some((_, flag)) => Err(usage(format!(
            "--config cannot be combined with {flag}: a template is migrated on its own, with no agents, ledger or saved plan; nothing was written"
        ))),
        None => Ok(()),
    }
}

/// Refuses plan flags that would silently do less than asked.
fn check_plan_flags(args: &MigrateOptions) -> Result<(), Error> {
    check_template_flags(args)?;
    if let Some(out) = &args.plan_out
        && !(args.dry_run || args.check)
    {
        return Err(usage(format!(
            "--plan-out {} saves a plan for review and needs --dry-run or --check; nothing was written",
            out.display(),
        ))
        .hinted(format!(
            "review with: clawmigrate migrate --dry-run --plan-out {}, then apply with: clawmigrate migrate --plan {} --yes",
            out.display(),
            out.display()
        )));
    }
    // Before planning: a plan that cannot be saved is refused before the preview, not after.
    args.plan_out
        .as_deref()
        .map_or(Ok(()), SavedPlan::check_destination)
}

/// The confirmation before applying a saved plan: `--yes`, or an answer on a terminal; without
/// either it refuses, as a plain `migrate` does.
fn confirm_saved(file: &std::path::Path, yes: bool, plan: &SavedPlan) -> Result<bool, Error> {
    let file = file.display();
    let files: usize = plan.installs.iter().map(|i| i.files.len()).sum();
    super::confirm(
        yes,
        &format!(
            "Apply the plan saved in {file} ({} in {})?",
            plural(files, "file"),
            plural(plan.installs.len(), "install")
        ),
        &format!(
            "Review the plan, then re-run with --yes to apply it: clawmigrate migrate --plan {file} --yes"
        ),
    )
}

impl Writes for Job<'_> {
    type Reviewed = SavedPlan;
    const ASK_FIRST: bool = true;

    fn modes(&self) -> (Mode, Mode) {
        (Mode::Apply, Mode::DryRun)
    }

    /// A review recovers first (as the apply would), so the plan reviewed is the one applied.
    fn read(&self, shown: &mut Printer, review: bool) -> SavedPlan {
        let keep = review || self.opts.plan_out.is_some();
        self.preview_to(shown, keep, review)
    }

    fn question(&self, counts: &Counts, plan: &SavedPlan) -> Option<String> {
        (counts.files > 0).then(|| {
            format!(
                "Apply these changes to {} in {}?",
                plural(counts.files, "file"),
                plural(plan.installs.len(), "install")
            )
        })
    }

    /// Checks each install against the plan reviewed (if any) before it touches anything.
    fn write(&self, reviewed: Option<SavedPlan>, printer: &mut Printer) {
        self.apply(reviewed.as_ref(), printer)
    }

    fn how(&self) -> &str {
        "Preview with --dry-run, then re-run with --yes to apply."
    }

    fn nothing(&self) -> &str {
        "nothing was written"
    }

    fn envelope(&self) -> Envelope<'_> {
        Envelope {
            out: self.out,
            migrations: &self.entries,
            invocation: &self.invocation,
        }
    }
}

/// Plans every target install and shows it (saving it with `plan_out`); with neither `dry_run`
/// nor `check`, applies it on confirmation.
pub fn run(opts: &MigrateOptions) -> Result<Done, Error> {
    check_plan_flags(opts)?;
    let reg = Registry::embedded();
    let saved = match &opts.plan {
        Some(f) => Some(SavedPlan::read(f)?),
        None => None,
    };
    // A saved plan applies with the --to it was made with.
    let to = match &saved {
        Some(p) => p.to.clone(),
        None => opts.to.clone(),
    };
    let scope = super::scope(&reg, &opts.only, to.as_deref())?;
    let reach = super::scope(&reg, &[], to.as_deref())?.migrations;
    let migrations = scope.migrations;
    let release = scope.to.map(|r| r.to_string());
    let upgrade_to = release.clone().filter(|_| {
        reach
            .iter()
            .all(|r| migrations.iter().any(|m| m.def.version == r.def.version))
    });
    if let (Some(p), Some(f)) = (&saved, &opts.plan) {
        p.check_migrations(f, &migrations)?;
    }
    let mut inputs = read_keys(&opts.key_files, &reg.operator_providers())?;
    inputs.skipped = skipped_before(&reach, &migrations);
    inputs.available = scope.available;
    inputs.opt_in = scope.opt_in;
    let env = super::process_env;
    let job = Job {
        opts,
        target: &opts.target,
        roots: saved.as_ref().map(saved_installs),
        home: discover::home_dir(&env),
        entries: migrations
            .iter()
            .map(|m| MigrationEntry::from(*m))
            .collect(),
        migrations,
        inputs,
        out: opts.out,
        invocation: crate::ledger::new_invocation_id(),
        to: release,
        upgrade_to,
    };
    if opts.dry_run || opts.check {
        return preview(&job);
    }
    let confirm = match (saved, &opts.plan) {
        (Some(p), Some(file)) => {
            if !confirm_saved(file, opts.yes, &p)? {
                printer::declined(job.out.json, Mode::Apply, job.nothing());
                return Ok(Done::Declined);
            }
            Confirm::Reviewed(p)
        }
        _ if opts.yes => Confirm::Yes,
        _ => Confirm::Ask,
    };
    super::show_ask_write(&job, confirm)
}

/// `--dry-run` and `--check`: shows the plan (and saves it with `--plan-out`); writes nothing.
fn preview(job: &Job) -> Result<Done, Error> {
    let mode = if job.opts.check {
        Mode::Check
    } else {
        Mode::DryRun
    };
    let mut sink = super::printer(job, mode, false);
    let plan = job.read(&mut sink, false);
    let counts = sink.finish();
    if let Some(out) = &job.opts.plan_out {
        plan.write(out)?;
        printer::tell(&format!(
            "plan saved to {} ({}); apply it with: clawmigrate migrate --plan {} --yes",
            out.display(),
            plural(plan.installs.len(), "install"),
            out.display()
        ));
    }
    Ok(Done::Ran(counts))
}
