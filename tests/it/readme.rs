//! The README's examples, run exactly as written: every `sh` block, line by line, in a sandbox
//! whose HOME holds what the examples assume (a demo install at ~/.openclaw, a fleet at
//! ~/fleet, a key file), with `clawmigrate` on PATH. A `# exit N` comment gives the exit code a
//! line expects; every other line must exit 0.
use crate::support::*;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The lines of every ```sh block of the README.
fn examples() -> Vec<String> {
    let readme = read(Path::new(ROOT).join("README.md"));
    let mut out = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        match (inside, line.trim_start()) {
            (false, "```sh") => inside = true,
            (true, "```") => inside = false,
            (true, l) if !l.is_empty() => out.push(l.to_string()),
            _ => {}
        }
    }
    out
}

/// The exit code a line expects (`# exit N`), 0 when it says nothing.
fn expected_exit(line: &str) -> i32 {
    line.split_once("# exit ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn every_readme_example_runs_as_written() {
    let lines = examples();
    assert!(lines.len() >= 10, "{lines:?}");
    let sb = Sandbox::new();
    let home = sb.path();
    copy_tree(Path::new(DEMO), &home.join(".openclaw"));
    // The default install holds no China key, so the key examples have something to do.
    let models = home.join(".openclaw/agents/minimax-cn/agent/models.json");
    write(&models, "{\"providers\": {}}\n");
    write(
        home.join(".secrets/minimax-cn"),
        "sk-cp-operator-0011223344556677\n",
    );
    demo_fleet(&sb, 3);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_clawmigrate"))
        .parent()
        .unwrap();
    for line in &lines {
        // `cargo test` is the command running this very test; `cargo run` builds and runs the
        // binary from the checkout (read only: the dry run writes nothing).
        if line == "cargo test" {
            continue;
        }
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["-o", "pipefail", "-c", line]);
        if line.starts_with("cargo ") {
            // Cargo needs the caller's toolchain environment; it runs in the checkout.
            cmd.current_dir(ROOT);
        } else {
            cmd.current_dir(home).env_clear().env("HOME", home);
        }
        let out = cmd
            .env("NO_COLOR", "1")
            .env("KEY", "sk-cp-operator-0011223344556677")
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(expected_exit(line)),
            "README example `{line}`:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        // No example ever shows a key.
        for key in [
            "sk-cp-operator-0011223344556677",
            "sk-cp-demo-china-fedcba9876543210",
        ] {
            assert!(
                !stdout(&out).contains(key) && !stderr(&out).contains(key),
                "`{line}` showed a key"
            );
        }
    }
    // The examples leave the default install migrated with the operator's key.
    let cfg = read(home.join(".openclaw/openclaw.json"));
    assert!(cfg.contains("https://api.minimaxi.com/anthropic"));
}

/// Every environment variable the binary reads is in the README's Environment table.
#[test]
fn every_environment_variable_read_is_documented() {
    let readme = read(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let table = &readme[readme
        .find("### Environment")
        .expect("an Environment section")..];
    let table = &table[..table[4..].find("\n#").map_or(table.len(), |i| i + 4)];
    let mut names = std::collections::BTreeSet::new();
    for e in walkdir::WalkDir::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")) {
        let e = e.unwrap();
        if e.path().extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = read(e.path());
        for prefix in ["\"CLAWMIGRATE_", "\"OPENCLAW_", "\"CLAWDBOT_"] {
            for (i, _) in text.match_indices(prefix) {
                let name: String = text[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                names.insert(name);
            }
        }
    }
    assert!(names.len() >= 8, "{names:?}");
    for n in &names {
        assert!(
            table.contains(&format!("`{n}`")),
            "{n} is not in the README's Environment table"
        );
    }
}
