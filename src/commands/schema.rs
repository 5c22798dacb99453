//! `clawmigrate schema`: the JSON Schema of every `--format json` document, made from the types
//! the documents are serialised from.
use crate::cli::SchemaArgs;

pub fn run(_args: SchemaArgs) -> Result<u8, crate::error::Error> {
    super::write_stdout(crate::render::schema::text().as_bytes())?;
    Ok(super::OK)
}
