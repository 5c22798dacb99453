//! `clawmigrate migrate`: plan every target install, show it, and apply on confirmation.
use crate::apply::{self, ApplyBatch};
use crate::cli::{Format, MigrateArgs};
use crate::discover::{self, Found, InstallRoot, Target};
use crate::error::{Error, Kind};
use crate::migration::{Migration, Registry};
use crate::pipeline;
use crate::plan::Inputs;
use crate::plan::saved::SavedPlan;
use crate::printer::{self, Counts, Mode, Output, Printer, Verbosity, plural};
use crate::progress::Progress;

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
    target: Target,
    /// The installs of a saved plan (instead of resolving the targets); those not on this host
    /// as errors naming them.
    roots: Option<Vec<Found>>,
    home: std::path::PathBuf,
    migrations: Vec<&'a Migration>,
    inputs: Inputs,
    out: Output,
    /// This invocation's id (every install's run id derives from it).
    invocation: String,
    /// The release `--to` names (recorded in a saved plan).
    to: Option<String>,
}

impl Job<'_> {
    /// Plans every install, chunk by chunk, handing each chunk to `each`. With `recover` (when
    /// applying), an install an interrupted run left behind is first recovered (see `recover`).
    fn each(&self, recover: bool, each: impl FnMut(&mut [pipeline::Report]) + Send) {
        let prep = |r: &InstallRoot| {
            let notes = if recover {
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
            None => pipeline::for_each_install(&self.target, &super::process_env, &prep, each),
        }
    }

    /// Plans everything and prints it; returns the counts and, when `keep`, the plan as reviewed
    /// (otherwise nothing is kept, so memory stays flat at any fleet size).
    fn preview(&self, mode: Mode, keep: bool) -> (Counts, SavedPlan) {
        self.preview_to(self.printer(mode, None), keep, false)
    }

    fn printer(&self, mode: Mode, invocation: Option<&str>) -> Printer {
        let migrations = serde_json::to_value(
            self.migrations
                .iter()
                .map(|m| super::migration_json(m))
                .collect::<Vec<_>>(),
        )
        .expect("migrations serialise");
        Printer::start(self.out, mode, invocation, migrations)
    }

    /// [`Job::preview`] into `sink`; with `recover`, installs an interrupted run left behind are
    /// recovered first (before a review, so the plan shown is the plan applied).
    fn preview_to(&self, mut sink: Printer, keep: bool, recover: bool) -> (Counts, SavedPlan) {
        let mut saved = SavedPlan::new(&self.migrations, self.to.clone());
        self.each(recover, |chunk| {
            if keep {
                for r in chunk.iter() {
                    if let Some((install, plan)) = r.planned() {
                        saved.add(&r.root.state_dir, install, plan);
                    }
                }
            }
            sink.push_all(chunk);
        });
        (sink.finish(), saved)
    }

    fn apply(&self, expected: Option<&SavedPlan>) -> Counts {
        let seq = std::sync::atomic::AtomicU64::new(0);
        let ctx = ApplyBatch {
            invocation: &self.invocation,
            seq: &seq,
            migrations: &self.migrations,
            inputs: &self.inputs,
            home: &self.home,
            expected,
        };
        let mut sink = self.printer(Mode::Apply, Some(&self.invocation));
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
        sink.finish()
    }

    /// The exact command that undoes this run: `rollback` with the invocation id and the same
    /// targets, shell-quoted; the installs written by name when the targets were the default
    /// (which depends on the environment) or a saved plan.
    fn undo_command(&self, written: &[std::path::PathBuf]) -> String {
        let t = &self.target;
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

/// Refuses plan flags that would silently do less than asked.
fn check_plan_flags(args: &MigrateArgs) -> Result<(), Error> {
    if let Some(out) = &args.plan_out
        && !(args.dry_run || args.check)
    {
        return Err(usage(format!(
            "--plan-out {} saves a plan for review and needs --dry-run or --check; nothing was written. Review with: clawmigrate migrate --dry-run --plan-out {}, then apply with: clawmigrate migrate --plan {} --yes",
            out.display(),
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

pub fn run(args: MigrateArgs, verbosity: Verbosity) -> Result<u8, Error> {
    check_plan_flags(&args)?;
    let reg = Registry::embedded();
    let saved = match &args.plan {
        Some(f) => Some(SavedPlan::read(f)?),
        None => None,
    };
    // A saved plan applies with the --to it was made with.
    let to = match &saved {
        Some(p) => p.to.clone(),
        None => args.to.clone(),
    };
    let scope = super::scope(&reg, &args.only, to.as_deref())?;
    let reach = super::scope(&reg, &[], to.as_deref())?.migrations;
    let migrations = scope.migrations;
    if let (Some(p), Some(f)) = (&saved, &args.plan) {
        p.check_migrations(f, &migrations)?;
    }
    let mut inputs = read_keys(&args.key_files, &reg.operator_providers())?;
    inputs.skipped = skipped_before(&reach, &migrations);
    inputs.available = scope.available;
    let env = super::process_env;
    let roots = saved.as_ref().map(saved_installs);
    let job = Job {
        target: args.target.target(),
        roots,
        home: discover::home_dir(&env),
        migrations,
        inputs,
        out: Output {
            json: args.format == Format::Json,
            verbosity,
            fleet: args.target.fleet() || args.plan.is_some(),
        },
        invocation: crate::ledger::new_invocation_id(),
        to: scope.to.map(|r| r.to_string()),
    };
    if args.dry_run || args.check {
        return preview(&job, &args, verbosity);
    }
    let reviewed;
    let expected = match (&saved, args.yes) {
        (Some(p), yes) => {
            let file = args
                .plan
                .as_deref()
                .expect("a saved plan comes from --plan");
            if !confirm_saved(file, yes, p)? {
                return Ok(super::declined(
                    job.out.json,
                    Mode::Apply,
                    "nothing was written",
                ));
            }
            Some(p)
        }
        (None, true) => None,
        (None, false) => match review(&job)? {
            Ok(plan) => {
                reviewed = plan;
                Some(&reviewed)
            }
            Err(code) => return Ok(code),
        },
    };
    Ok(super::exit_code(&job.apply(expected), super::Rule::Apply))
}

/// `--dry-run` and `--check`: shows the plan (and saves it with `--plan-out`); writes nothing.
fn preview(job: &Job, args: &MigrateArgs, verbosity: Verbosity) -> Result<u8, Error> {
    let mode = if args.check {
        Mode::Check
    } else {
        Mode::DryRun
    };
    let (counts, plan) = job.preview(mode, args.plan_out.is_some());
    if let Some(out) = &args.plan_out {
        plan.write(out)?;
        anstream::eprintln!(
            "plan saved to {} ({}); apply it with: clawmigrate migrate --plan {} --yes",
            out.display(),
            plural(plan.installs.len(), "install"),
            out.display()
        );
    }
    if !job.out.json && verbosity != Verbosity::Quiet {
        anstream::eprintln!("dry run: nothing was written");
    }
    let rule = if args.check {
        super::Rule::Check
    } else {
        super::Rule::Plain
    };
    Ok(super::exit_code(&counts, rule))
}

/// On a terminal without `--yes`: shows the plan and asks. The plan as reviewed, or the exit
/// code when there is nothing to apply or the operator said no.
fn review(job: &Job) -> Result<Result<SavedPlan, u8>, Error> {
    super::confirm_possible("Preview with --dry-run, then re-run with --yes to apply.")?;
    // The plan is shown on stderr when stdout carries the one JSON document.
    let shown = if job.out.json {
        Printer::preview_on_stderr(job.out, Mode::DryRun)
    } else {
        job.printer(Mode::DryRun, None)
    };
    // The operator means to write: an install an interrupted run left half-written is recovered
    // now (as the apply would), so the plan reviewed is the one that will be applied.
    let (counts, plan) = job.preview_to(shown, true, true);
    if counts.files == 0 && !job.out.json {
        return Ok(Err(super::exit_code(&counts, super::Rule::Apply)));
    }
    let question = format!(
        "Apply these changes to {} in {}?",
        plural(counts.files, "file"),
        plural(plan.installs.len(), "install")
    );
    if counts.files > 0 && !super::confirm(false, &question, "")? {
        return Ok(Err(super::declined(
            job.out.json,
            Mode::Apply,
            "nothing was written",
        )));
    }
    Ok(Ok(plan))
}
