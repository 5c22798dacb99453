//! `clawmigrate list`: the migrations built into this binary, in the order they run (upgrades
//! with the OpenClaw release and doctor ids they carry).
use crate::cli::{Format, ListArgs};
use crate::migration::Registry;
use crate::printer::{Mode, Output, Printer, Verbosity};

pub fn run(args: ListArgs) -> Result<u8, crate::error::Error> {
    let reg = Registry::embedded();
    match args.format {
        Format::Json => {
            let out = Output {
                json: true,
                verbosity: Verbosity::Normal,
                fleet: false,
            };
            let migrations = reg.migrations.iter().map(super::migration_json).collect();
            Printer::start(out, Mode::List, None, migrations).finish();
        }
        Format::Human => {
            for m in &reg.migrations {
                let files: Vec<&str> = m.files().iter().map(|f| f.as_str()).collect();
                println!("{}  {}", m.id(), m.def.summary);
                println!(
                    "    changes: {}; checksum {}",
                    files.join(", "),
                    &m.checksum[..15]
                );
                match &m.def.upstream {
                    Some(u) => println!(
                        "    upgrade to OpenClaw {} (with --to): doctor's {}",
                        u.openclaw,
                        u.ids.join(", ")
                    ),
                    None => println!("    repair: runs whatever the release"),
                }
            }
        }
    }
    Ok(super::OK)
}
