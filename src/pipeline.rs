//! Discover → load → plan for every target install, in parallel, with output in a stable order.
use crate::discover::{self, Found, InstallRoot, Target, TargetError};
use crate::error::Error;
use crate::ledger::{Ledger, Run};
use crate::load::{self, Install};
use crate::migration::Migration;
use crate::outcome::Outcome;
use crate::plan::{self, Inputs, InstallPlan};
use crate::progress::Progress;
use rayon::prelude::*;

/// What of an install a command read: nothing (it failed first), its layout only (one this tool
/// does not touch), or its documents and their plan.
pub enum Loaded {
    Nothing,
    Unsupported(Install),
    Planned(Install, InstallPlan),
}

/// One install's journey through a command.
pub struct Report {
    pub root: InstallRoot,
    pub loaded: Loaded,
    pub outcome: Outcome,
    /// The run id when this command wrote the install (and recorded it: a template's write is
    /// recorded nowhere, see [`Report::wrote`]).
    pub run_id: Option<String>,
    /// Whether this command wrote the install.
    pub wrote: bool,
}

impl Report {
    /// The loaded install and its plan (an install that failed or is of an unsupported layout
    /// has no plan).
    pub fn planned(&self) -> Option<(&Install, &InstallPlan)> {
        match &self.loaded {
            Loaded::Planned(i, p) => Some((i, p)),
            _ => None,
        }
    }

    /// The loaded install, planned or not.
    pub fn install(&self) -> Option<&Install> {
        match &self.loaded {
            Loaded::Nothing => None,
            Loaded::Unsupported(i) | Loaded::Planned(i, _) => Some(i),
        }
    }

    pub fn plan(&self) -> Option<&InstallPlan> {
        self.planned().map(|(_, p)| p)
    }

    pub fn plan_mut(&mut self) -> Option<&mut InstallPlan> {
        match &mut self.loaded {
            Loaded::Planned(_, p) => Some(p),
            _ => None,
        }
    }

    /// Adds findings about this tool's own runs (interrupted ones, recovery) to the plan.
    pub fn add_interrupted(&mut self, messages: impl IntoIterator<Item = String>) {
        if let Some(plan) = self.plan_mut() {
            plan.findings
                .extend(messages.into_iter().map(|message| plan::Finding {
                    migration: String::new(),
                    kind: plan::FindingKind::Interrupted,
                    agent: None,
                    message,
                    fix: None,
                }));
        }
    }

    pub fn failed(root: InstallRoot, e: impl Into<Error>) -> Report {
        Report {
            root,
            loaded: Loaded::Nothing,
            outcome: Outcome::Failed(e.into()),
            run_id: None,
            wrote: false,
        }
    }
}

/// Loads one install and plans it: the per-install step of every verb that plans.
pub fn load_and_plan(
    root: &InstallRoot,
    home: &std::path::Path,
    migrations: &[&Migration],
    inputs: &Inputs,
) -> Report {
    let install = match load::load(root, home) {
        Ok(i) => i,
        Err(e) => {
            // Nothing of the install could be collected; at least the operator's keys are masked.
            let mut r = crate::secrets::Redactor::default();
            inputs.keys.values().for_each(|k| r.add(k));
            let e = Error::from(e);
            return Report::failed(root.clone(), e.map_message(|m| r.redact(m)));
        }
    };
    if let Some(why) = &install.unsupported {
        let why = why.clone();
        return Report {
            root: root.clone(),
            loaded: Loaded::Unsupported(install),
            outcome: Outcome::Unsupported(why),
            run_id: None,
            wrote: false,
        };
    }
    // A template keeps no ledger: nothing was ever applied to it, as far as this tool knows.
    let ledger = match root.template {
        true => Ok(Ledger::default()),
        false => Ledger::read(&root.state_dir),
    };
    let ledger = match ledger {
        Ok(l) => l,
        Err(e) => {
            let r = plan::redactor_for(&install, inputs);
            return Report::failed(root.clone(), e.map_message(|m| r.redact(m)));
        }
    };
    let applied = ledger.applied();
    let upgraded_to = ledger.upgraded_to();
    let upgraded_to = upgraded_to.as_ref();
    let planned = plan::refuse_out_of_order(&install, migrations, &applied, upgraded_to, inputs)
        .and_then(|()| plan::plan(&install, migrations, &applied, upgraded_to, inputs));
    match planned {
        Ok(p) => {
            let outcome = if p.blocked() {
                Outcome::NeedsInput
            } else if p.files.is_empty() {
                Outcome::UpToDate
            } else {
                Outcome::Pending
            };
            let interrupted: Vec<String> = ledger
                .runs
                .iter()
                .filter(|r| r.incomplete)
                .map(interrupted_finding)
                .collect();
            let mut r = Report {
                root: root.clone(),
                loaded: Loaded::Planned(install, p),
                outcome,
                run_id: None,
                wrote: false,
            };
            r.add_interrupted(interrupted);
            r
        }
        Err(e) => {
            // A plan that cannot be written safely (refused edits, unknown shapes).
            let r = plan::redactor_for(&install, inputs);
            Report::failed(root.clone(), Error::from(e).map_message(|m| r.redact(m)))
        }
    }
}

/// How many installs are loaded, planned (and applied) at once; two chunks are in flight (one
/// planned while the other is printed or applied), which bounds memory at any fleet size.
/// Measured with tests/bench/fleet.sh: 16 runs as fast as 32 or 96 with half the peak memory.
pub const CHUNK: usize = 16;

/// What the pipeline carries per install: whatever a command reads of it, or a failure.
pub trait Unit: Send {
    fn failed(root: InstallRoot, e: Error) -> Self;
    fn root(&self) -> &InstallRoot;
}

impl Unit for Report {
    fn failed(root: InstallRoot, e: Error) -> Self {
        Report::failed(root, e)
    }

    fn root(&self) -> &InstallRoot {
        &self.root
    }
}

/// The message `status` gives for a run left incomplete.
fn interrupted_finding(run: &Run) -> String {
    format!(
        "run {} did not complete (interrupted, or still running): the next migrate rolls back what it wrote",
        run.id
    )
}

/// Reads every install (with `read_one`) and keeps them all, for a verb that shows everything
/// and asks before it writes (memory then grows with the fleet; `--yes` streams instead).
pub fn collect<T: Unit>(
    target: &Target,
    env: discover::Env,
    read_one: &(dyn Fn(&InstallRoot) -> T + Sync),
) -> Vec<T> {
    let mut all = Vec::new();
    for_each_install(target, env, read_one, |chunk: &mut [T]| {
        all.extend(chunk.iter_mut().map(|u| {
            let placeholder = T::failed(u.root().clone(), Error::new(crate::error::Kind::Io, ""));
            std::mem::replace(u, placeholder)
        }))
    });
    all
}

/// A target that is not an install, or a part of a fleet that could not be read, as a failed
/// unit naming it.
pub fn failed_target<T: Unit>(
    TargetError {
        target,
        kind,
        message,
    }: TargetError,
) -> T {
    let p = std::path::PathBuf::from(&target);
    T::failed(
        InstallRoot {
            state_dir: p.clone(),
            config_path: p,
            template: false,
        },
        Error::new(kind, message),
    )
}

/// Plans every target install chunk by chunk, handing each chunk (in a stable order) to `each`.
pub fn run_targets(
    target: &Target,
    env: discover::Env,
    migrations: &[&Migration],
    inputs: &Inputs,
    each: impl FnMut(&mut [Report]) + Send,
) {
    let home = discover::home_dir(env);
    for_each_install(
        target,
        env,
        &|r: &InstallRoot| load_and_plan(r, &home, migrations, inputs),
        each,
    )
}

/// Reads every target install with `read_one` (loads and plans it, or reads its ledger), chunk
/// by chunk, handing each chunk (in a stable order) to `each`. A fleet is walked on its own
/// thread, so work starts with the first installs found. Target and walk errors come as failed
/// units, in the order met. Memory stays flat at any fleet size.
pub fn for_each_install<T: Unit>(
    target: &Target,
    env: discover::Env,
    read_one: &(dyn Fn(&InstallRoot) -> T + Sync),
    each: impl FnMut(&mut [T]) + Send,
) {
    let (eager, errors) = discover::direct_installs(target, env);
    let eager: Vec<Found> = errors
        .into_iter()
        .map(Err)
        .chain(eager.into_iter().map(Ok))
        .collect();
    let mut keep = discover::dedup();
    let progress = Progress::new(!target.fleets.is_empty(), None);
    eager.iter().for_each(|_| progress.found_one());
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Found>(4 * CHUNK);
        let (fleets, depth, progress) = (&target.fleets, target.fleet_depth, &progress);
        scope.spawn(move || {
            for f in fleets {
                let mut seen = false;
                discover::fleet_walk(f, depth, &mut |r| {
                    seen = true;
                    progress.found_one();
                    drop(tx.send(r))
                });
                if !seen && !target.allow_empty {
                    drop(tx.send(Err(discover::empty_fleet(f, depth))));
                }
            }
            progress.walk_done();
        });
        let roots = eager
            .into_iter()
            .chain(rx)
            .filter(move |r| r.as_ref().map_or(true, &mut keep));
        drive_with(roots, progress, read_one, each);
    });
}

/// Reads installs (`read_one`) chunk by chunk, in parallel within a chunk, handing each chunk (in
/// input order) to `each`, and tells `progress`.
///
/// Chunks are pipelined: while `each` handles (prints, applies, frees) one chunk, the next one is
/// loaded and planned, so neither the serial printing nor apply's waits for the disk leave a core
/// idle. At most two chunks are held at once, so memory stays flat at any fleet size.
pub fn drive_with<T: Unit>(
    mut roots: impl Iterator<Item = Found> + Send,
    progress: &Progress,
    read_one: &(dyn Fn(&InstallRoot) -> T + Sync),
    mut each: impl FnMut(&mut [T]) + Send,
) {
    let mut planned: Vec<T> = Vec::new();
    loop {
        let mut done = std::mem::take(&mut planned);
        (planned, ()) = rayon::join(
            || {
                // Taken here, so a slow walk for the next installs never holds up the output.
                let chunk: Vec<Found> = roots.by_ref().take(CHUNK).collect();
                chunk
                    .into_par_iter()
                    .map(|r| match r {
                        // Read with the install owner's rights (see `owner`).
                        Ok(r) => crate::owner::as_owner(&r.state_dir, || read_one(&r)),
                        Err(e) => failed_target(e),
                    })
                    .collect()
            },
            || {
                if !done.is_empty() {
                    progress.suspend(|| each(&mut done));
                    progress.advance(done.len() as u64);
                    // Freeing a chunk's trees is real work too: spread it over the cores.
                    done.into_par_iter().for_each(drop);
                }
            },
        );
        if planned.is_empty() {
            break;
        }
    }
    progress.finish();
}
