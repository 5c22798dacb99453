//! `clawmigrate rollback`: lists runs, or restores the exact bytes of a run's files.
use crate::backup::{self, Item};
use crate::cli::{Format, RollbackArgs};
use crate::discover::{self, InstallRoot};
use crate::document::sha256_hex;
use crate::fsio;
use crate::ledger::{Ledger, Run, RunKind};
use crate::lock;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

struct Target {
    root: InstallRoot,
    ledger: Ledger,
}

fn targets(args: &RollbackArgs) -> (Vec<Target>, Vec<String>) {
    let (roots, errs) = discover::discover(&args.target.target(), &super::process_env);
    let mut errors: Vec<String> = errs
        .into_iter()
        .map(|e| format!("{}: {}", e.target, e.message))
        .collect();
    let mut out = Vec::new();
    for root in roots {
        match Ledger::read(&root.state_dir) {
            Ok(ledger) => out.push(Target { root, ledger }),
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

fn list(ts: &[Target], format: Format) {
    match format {
        Format::Json => {
            let v = json!({
                "schema": crate::render::JSON_SCHEMA,
                "installs": ts.iter().map(|t| json!({"state_dir": t.root.state_dir, "runs": t.ledger.runs})).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap());
        }
        Format::Human => {
            for t in ts {
                println!("{}", t.root.state_dir.display());
                if t.ledger.runs.is_empty() {
                    println!("  no runs recorded");
                }
                for r in &t.ledger.runs {
                    let what = match r.kind {
                        RunKind::Migrate => r
                            .migrations
                            .iter()
                            .map(|m| m.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        RunKind::Rollback => {
                            format!("rollback of {}", r.undoes.as_deref().unwrap_or("?"))
                        }
                    };
                    let undone = r
                        .undone_by
                        .as_ref()
                        .map(|u| format!(" (undone by {u})"))
                        .unwrap_or_default();
                    let err = r
                        .error
                        .as_ref()
                        .map(|_| " (stopped by an error)")
                        .unwrap_or_default();
                    println!(
                        "  {}  {}  {} files  {what}{undone}{err}",
                        r.id,
                        r.at,
                        r.files.len()
                    );
                }
            }
        }
    }
}

/// What restoring one file means now.
enum Step {
    Restore {
        path: PathBuf,
        bytes: Vec<u8>,
        mode: Option<u32>,
    },
    Delete {
        path: PathBuf,
    },
}

/// A restore step and the file's current bytes (backed up before the restore).
type Planned = (Step, Option<Vec<u8>>);

/// Plans the restore of a run; refuses files changed since the run unless `force`.
fn plan_restore(root: &InstallRoot, run: &Run, force: bool) -> Result<Vec<Planned>, String> {
    let set = root.state_dir.join(&run.backup);
    let manifest = backup::read_manifest(&set)?;
    let mut steps = Vec::new();
    for e in &manifest.files {
        let path = PathBuf::from(&e.path);
        let now = std::fs::read(&path).ok();
        let now_sha = now.as_deref().map(sha256_hex);
        if now_sha == e.sha256_before {
            continue; // never written (a run stopped part way), or already restored
        }
        if now_sha.as_deref() != Some(e.sha256_after.as_str()) && !force {
            return Err(format!(
                "{} changed since run {}; nothing was restored. Check it, then re-run with --force to restore it anyway (its current bytes are backed up first)",
                path.display(),
                run.id
            ));
        }
        let step = match &e.backup {
            Some(name) => {
                let bytes = std::fs::read(set.join(name)).map_err(|err| {
                    format!(
                        "{}: cannot read the backup copy: {err}",
                        set.join(name).display()
                    )
                })?;
                if Some(sha256_hex(&bytes)) != e.sha256_before {
                    return Err(format!(
                        "{}: the backup copy does not match its recorded hash; restore by hand",
                        set.join(name).display()
                    ));
                }
                Step::Restore {
                    path,
                    bytes,
                    mode: e.mode,
                }
            }
            None => Step::Delete { path },
        };
        steps.push((step, now));
    }
    Ok(steps)
}

fn restore(
    root: &InstallRoot,
    ledger: &mut Ledger,
    run_id: &str,
    force: bool,
) -> Result<String, String> {
    let _lock = lock::install_lock(&root.state_dir)?;
    let run = ledger
        .run(run_id)
        .cloned()
        .ok_or_else(|| format!("no run {run_id} in {}", root.state_dir.display()))?;
    if run.kind != RunKind::Migrate {
        return Err(format!(
            "run {run_id} is itself a rollback; roll back a migrate run"
        ));
    }
    if let Some(by) = &run.undone_by {
        return Err(format!("run {run_id} was already undone by {by}"));
    }
    let steps = plan_restore(root, &run, force)?;
    let new_id = crate::ledger::new_run_id();
    let path_of = |s: &Step| match s {
        Step::Restore { path, .. } | Step::Delete { path } => path.clone(),
    };
    let items: Vec<Item> = steps
        .iter()
        .map(|(s, now)| {
            let after = match s {
                Step::Restore { bytes, .. } => sha256_hex(bytes),
                Step::Delete { .. } => String::new(),
            };
            let p = match s {
                Step::Restore { path, .. } | Step::Delete { path } => path.as_path(),
            };
            Item {
                path: p,
                before: now.as_deref(),
                link_from: None,
                sha256_before: now.as_deref().map(sha256_hex),
                sha256_after: after,
                mode: fsio::keep_of(p).map(|k| k.mode),
            }
        })
        .collect();
    let set = backup::create(&root.state_dir, &new_id, &items, true)
        .map_err(|e| format!("cannot back up the current files: {e}"))?
        .dir;
    let mut files = Vec::new();
    for (s, _) in &steps {
        match s {
            Step::Restore { path, bytes, mode } => {
                let target = fsio::real_path(path);
                // The recorded mode wins; owner comes from the file there now (if any).
                let keep = fsio::keep_of(&target).map(|k| fsio::Keep {
                    mode: mode.unwrap_or(k.mode),
                    ..k
                });
                let gone = keep.is_none();
                fsio::write_atomic(&target, bytes, keep)
                    .map_err(|e| format!("{}: cannot restore: {e}", path.display()))?;
                if let (true, Some(m)) = (gone, mode) {
                    let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(*m));
                }
            }
            Step::Delete { path } => {
                std::fs::remove_file(path).map_err(|e| {
                    format!(
                        "{}: cannot remove the file the run created: {e}",
                        path.display()
                    )
                })?;
                let _ = fsio::sync_dir(path.parent().unwrap_or(Path::new(".")));
            }
        }
        files.push(path_of(s).display().to_string());
    }
    ledger.runs.push(Run {
        id: new_id.clone(),
        kind: RunKind::Rollback,
        at: jiff::Timestamp::now().to_string(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        migrations: Vec::new(),
        backup: set
            .strip_prefix(&root.state_dir)
            .unwrap_or(&set)
            .display()
            .to_string(),
        files,
        error: None,
        undoes: Some(run_id.to_string()),
        undone_by: None,
        incomplete: false,
    });
    if let Some(r) = ledger.runs.iter_mut().find(|r| r.id == run_id) {
        r.undone_by = Some(new_id.clone());
    }
    ledger
        .write(&root.state_dir, true)
        .map_err(|e| format!("cannot write the ledger: {e}"))?;
    Ok(new_id)
}

pub fn run(args: RollbackArgs) -> Result<u8, String> {
    let (mut ts, errors) = targets(&args);
    for e in &errors {
        anstream::eprintln!("error: {e}");
    }
    if args.list {
        list(&ts, args.format);
        return Ok(if errors.is_empty() {
            super::OK
        } else {
            super::ERROR
        });
    }
    // Which run to undo in which install.
    let mut chosen: Vec<(usize, String)> = Vec::new();
    for (i, t) in ts.iter().enumerate() {
        let pick = match &args.run_id {
            Some(id) => t.ledger.run(id).map(|r| r.id.clone()),
            None => t
                .ledger
                .runs
                .iter()
                .rev()
                .find(|r| r.kind == RunKind::Migrate && r.undone_by.is_none())
                .map(|r| r.id.clone()),
        };
        if let Some(id) = pick {
            chosen.push((i, id));
        }
    }
    if chosen.is_empty() {
        let what = args
            .run_id
            .as_ref()
            .map(|id| {
                format!(
                    "no run {id} in the target installs; `clawmigrate rollback --list` shows them"
                )
            })
            .unwrap_or_else(|| "nothing to roll back".into());
        if args.run_id.is_some() {
            return Err(what);
        }
        println!("{what}");
        return Ok(if errors.is_empty() {
            super::OK
        } else {
            super::ERROR
        });
    }
    let question = format!(
        "Restore the files of {} in {} installs?",
        chosen
            .iter()
            .map(|c| c.1.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        chosen.len()
    );
    if !super::confirm(args.yes, &question, "Re-run with --yes to restore.")? {
        anstream::eprintln!("nothing was restored");
        return Ok(super::ERROR);
    }
    let mut failed = !errors.is_empty();
    let mut results = Vec::new();
    for (i, id) in chosen {
        let t = &mut ts[i];
        let res = restore(&t.root, &mut t.ledger, &id, args.force);
        match &res {
            Ok(new) => {
                if args.format == Format::Human {
                    println!(
                        "{}: restored the files of run {id} (recorded as run {new})",
                        t.root.state_dir.display()
                    );
                }
            }
            Err(e) => {
                failed = true;
                if args.format == Format::Human {
                    println!("{}: error: {e}", t.root.state_dir.display());
                }
            }
        }
        results.push(json!({"state_dir": t.root.state_dir, "run_id": id, "rollback_run_id": res.as_ref().ok(), "error": res.as_ref().err()}));
    }
    if args.format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"schema": crate::render::JSON_SCHEMA, "rollbacks": results})
            )
            .unwrap()
        );
    }
    Ok(if failed { super::ERROR } else { super::OK })
}
