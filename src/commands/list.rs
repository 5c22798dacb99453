//! `clawmigrate list`: the migrations built into this binary.
use crate::cli::{Format, ListArgs};
use crate::migration::Registry;
use serde_json::json;

pub fn run(args: ListArgs) -> Result<u8, String> {
    let reg = Registry::embedded();
    match args.format {
        Format::Json => {
            let v = json!({
                "schema": crate::render::JSON_SCHEMA,
                "migrations": reg.migrations.iter().map(|m| json!({
                    "version": m.def.version,
                    "id": m.id(),
                    "summary": m.def.summary,
                    "description": m.def.description,
                    "reference": m.def.reference,
                    "files": m.files(),
                    "checksum": m.checksum,
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap());
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
            }
        }
    }
    Ok(super::OK)
}
