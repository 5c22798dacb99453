//! The parse floor of the fleet benchmark: reads every `*.json` file under a fleet on the
//! machine's threads and parses it, JSON with serde_json and a JSON5 config with clawmigrate's
//! own reader, and does nothing else. Any tool that must read what these files say (before it
//! plans, diffs or writes a byte) pays at least this; `tests/bench/fleet.sh` times it beside the
//! `cat` floors.
//!
//! `cargo run --release --example parse_floor -- FLEET [--strict]` prints the files and bytes it
//! parsed. A file that parses as neither is an error (exit 1), so the floor never skips work.
//! With `--strict` it parses with serde_json alone and skips (and counts) what that refuses, the
//! JSON5 configs: a lower floor still, which no JSON5 reader enters into.
use clawmigrate::document::json5;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Parses one file the way its format asks: JSON first (all but the configs), JSON5 otherwise,
/// or not at all when `strict`. The bytes parsed, or `None` for a file skipped.
fn parse(path: &Path, strict: bool) -> Result<Option<usize>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if serde_json::from_slice::<serde_json::Value>(&bytes).is_ok() {
        return Ok(Some(bytes.len()));
    }
    if strict {
        return Ok(None);
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    json5::parse(text)
        .map(|_| Some(bytes.len()))
        .map_err(|e| format!("{}: neither JSON nor JSON5: {e}", path.display()))
}

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let strict = args.iter().any(|a| a == "--strict");
    let [fleet] = &args.iter().filter(|a| *a != "--strict").collect::<Vec<_>>()[..] else {
        eprintln!("usage: parse_floor FLEET [--strict]");
        return ExitCode::from(2);
    };
    let files: Vec<PathBuf> = walkdir::WalkDir::new(fleet)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "json"))
        .map(walkdir::DirEntry::into_path)
        .collect();
    match files
        .par_iter()
        .map(|p| parse(p, strict))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(sizes) => {
            let parsed: Vec<usize> = sizes.iter().flatten().copied().collect();
            println!(
                "{} files, {} bytes parsed; {} skipped (not JSON, --strict)",
                parsed.len(),
                parsed.iter().sum::<usize>(),
                sizes.len() - parsed.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("parse_floor: {e}");
            ExitCode::FAILURE
        }
    }
}
