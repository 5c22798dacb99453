//! Build script: embeds every file of `migrations/` into the binary as (file name, text) pairs.
use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new("migrations");
    println!("cargo:rerun-if-changed=migrations");
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("migrations/ must exist")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut out = String::from("pub static EMBEDDED: &[(&str, &str)] = &[\n");
    for n in &names {
        let abs = fs::canonicalize(dir.join(n)).unwrap();
        out.push_str(&format!(
            "    ({n:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
        println!("cargo:rerun-if-changed={}", abs.display());
    }
    out.push_str("];\n");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("embedded_migrations.rs"),
        out,
    )
    .unwrap();
}
