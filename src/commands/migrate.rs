//! `clawmigrate migrate`: plan every target install, show it, and apply on confirmation.
use crate::apply;
use crate::cli::{Format, MigrateArgs};
use crate::migration::Registry;
use crate::pipeline::{self, Outcome};
use crate::plan::Inputs;
use crate::render::Mode;
use rayon::prelude::*;
use std::io::Read;

/// Reads `--key-file PROVIDER=FILE` values; the key itself never appears on the command line.
fn read_keys(specs: &[String]) -> Result<Inputs, String> {
    let mut inputs = Inputs::default();
    for spec in specs {
        let (provider, file) = spec.split_once('=').ok_or_else(|| {
            format!(
                "--key-file {spec:?}: expected PROVIDER=FILE, e.g. minimax-cn=/run/secrets/minimax"
            )
        })?;
        let text = if file == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("--key-file {provider}=-: cannot read stdin: {e}"))?;
            s
        } else {
            std::fs::read_to_string(file)
                .map_err(|e| format!("--key-file {provider}={file}: cannot read: {e}"))?
        };
        let key = text.trim();
        if key.is_empty() || !crate::secrets::is_literal_secret(key) {
            return Err(format!(
                "--key-file {provider}={file}: the file holds no key (empty, an env var name or a ${{VAR}} reference)"
            ));
        }
        inputs.keys.insert(provider.to_string(), key.to_string());
    }
    Ok(inputs)
}

pub fn run(args: MigrateArgs) -> Result<u8, String> {
    let reg = Registry::embedded();
    let selected = reg.select(&args.only)?;
    let inputs = read_keys(&args.key_files)?;
    let mut reports = pipeline::prepare(
        &args.target.target(),
        &super::process_env,
        &selected,
        &inputs,
    );
    let failed =
        |rs: &[pipeline::Report]| rs.iter().any(|r| matches!(r.outcome, Outcome::Failed(_)));
    let blocked = |rs: &[pipeline::Report]| rs.iter().any(|r| r.outcome == Outcome::NeedsInput);
    if args.dry_run || args.check {
        let mode = if args.check {
            Mode::Check
        } else {
            Mode::DryRun
        };
        super::print_reports(&reports, mode, args.format);
        if args.format == Format::Human {
            anstream::eprintln!("dry run: nothing was written");
        }
        return Ok(if failed(&reports) {
            super::ERROR
        } else if args.check
            && reports
                .iter()
                .any(|r| matches!(r.outcome, Outcome::Pending | Outcome::NeedsInput))
        {
            super::PENDING
        } else {
            super::OK
        });
    }
    let pending = reports
        .iter()
        .filter(|r| r.outcome == Outcome::Pending)
        .count();
    if pending > 0 && !args.yes {
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            super::print_reports(&reports, Mode::DryRun, Format::Human);
        }
        let files: usize = reports
            .iter()
            .filter(|r| r.outcome == Outcome::Pending)
            .filter_map(|r| r.plan.as_ref())
            .map(|p| p.files.len())
            .sum();
        let question = format!("Apply these changes to {files} files in {pending} installs?");
        if !super::confirm(
            false,
            &question,
            "Preview with --dry-run, then re-run with --yes to apply.",
        )? {
            anstream::eprintln!("nothing was written");
            return Ok(super::ERROR);
        }
    }
    reports
        .par_iter_mut()
        .filter(|r| r.outcome == Outcome::Pending)
        .for_each(|r| {
            let (install, plan) = (r.install.as_ref().unwrap(), r.plan.as_ref().unwrap());
            match apply::apply(install, plan, &mut r.ledger) {
                Ok(run) => {
                    r.outcome = Outcome::Changed;
                    r.run_id = Some(run.id);
                }
                Err(e) => r.outcome = Outcome::Failed(plan.redactor.redact(&e)),
            }
        });
    super::print_reports(&reports, Mode::Apply, args.format);
    Ok(if failed(&reports) || blocked(&reports) {
        super::ERROR
    } else {
        super::OK
    })
}
