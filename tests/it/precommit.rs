//! Issue 19: the hooks of `.pre-commit-hooks.yaml`, run by the real `pre-commit` (from PyPI,
//! pinned in `.ci/pre-commit-requirements.txt`, installed once into `target/pre-commit-venv` by
//! `.ci/install-pre-commit.sh`, which `.ci/run` calls too) in a temporary git repository holding
//! a legacy config template with an `$include` and comments. The repository's
//! `.pre-commit-config.yaml` is the README's three lines, pointed at a copy of this repository's
//! hook file: `pre-commit run --all-files` fails naming the template, passes once
//! `clawmigrate migrate --config` has upgraded it, and the comments are still there.
use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_clawmigrate");

/// pre-commit, from the virtualenv `.ci/install-pre-commit.sh` makes (once per test run).
fn pre_commit() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    let venv = VENV.get_or_init(|| ci_installed("install-pre-commit.sh", "pre-commit-venv"));
    let bin = venv.join("bin/pre-commit");
    assert!(
        bin.is_file(),
        "{} is missing: run .ci/install-pre-commit.sh target/pre-commit-venv",
        bin.display()
    );
    bin
}

/// A command run in `dir` with a clean environment: HOME is the sandbox (pre-commit's cache and
/// git's config live there), and clawmigrate (the binary under test) is on PATH.
fn command(sb: &Sandbox, program: &Path, dir: &Path) -> Command {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env_clear()
        .env("HOME", sb.path())
        .env("PRE_COMMIT_HOME", sb.path().join("pre-commit-cache"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("NO_COLOR", "1")
        .env("PRE_COMMIT_COLOR", "never")
        .env("LC_ALL", "C.UTF-8")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    c
}

/// Runs `program ARGS` in `dir`: its exit code and its output (stdout then stderr).
fn run(sb: &Sandbox, program: &Path, dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = command(sb, program, dir).args(args).output().unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    (out.status.code(), text)
}

fn git(sb: &Sandbox, dir: &Path, args: &[&str]) -> String {
    let (code, text) = run(sb, Path::new("git"), dir, args);
    assert_eq!(code, Some(0), "git {args:?}: {text}");
    text
}

/// The README's pre-commit block: the YAML block naming the `clawmigrate-check` hook.
fn readme_block() -> String {
    let readme = read(Path::new(ROOT).join("README.md"));
    let mut blocks = readme
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap());
    blocks
        .find(|b| b.contains("id: clawmigrate-check"))
        .expect("the README shows the pre-commit lines in a ```yaml block")
        .to_string()
}

/// The README's block with its `repo:` and `rev:` pointed at `repo` and `rev`; the rest (the
/// hook and its args) as written.
fn config_from_readme(repo: &Path, rev: &str) -> String {
    let block = readme_block();
    let lines: Vec<String> = block
        .lines()
        .map(|l| {
            let indent = &l[..l.len() - l.trim_start().len()];
            if l.trim_start().starts_with("- repo:") {
                format!("{indent}- repo: {}", repo.display())
            } else if l.trim_start().starts_with("rev:") {
                format!("{indent}rev: {rev}")
            } else {
                l.to_string()
            }
        })
        .collect();
    let config = lines.join("\n") + "\n";
    assert!(
        config.contains(&format!("repo: {}", repo.display())) && config.contains(rev),
        "the README block names no repo or rev: {block}"
    );
    config
}

/// A git repository holding a copy of this repository's hook file, as pre-commit clones a
/// hook repository; returns it and its commit.
fn hook_repo(sb: &Sandbox) -> (PathBuf, String) {
    let dir = sb.path().join("clawmigrate-hooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        Path::new(ROOT).join(".pre-commit-hooks.yaml"),
        dir.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(sb, &dir, &["init", "-q"]);
    git(sb, &dir, &["add", "-A"]);
    git(sb, &dir, &["commit", "-q", "-m", "hooks"]);
    let rev = git(sb, &dir, &["rev-parse", "HEAD"]).trim().to_string();
    (dir, rev)
}

const TEMPLATE: &str = "// Team template for every gateway host.\n{\n  gateway: {\n    port: 18789, // the default port\n    token: '${GATEWAY_TOKEN}',\n  },\n  // cron settings are shared\n  cron: { $include: \"./shared/cron.json5\" },\n}\n";
const CRON: &str = "// Shared cron settings.\n{\n  enabled: true,\n  webhook: 'https://example.com/hook', // retired by 2026.9\n}\n";

/// A project repository with the legacy template (`templates/openclaw.json5`, including
/// `templates/shared/cron.json5`), committed.
fn project(sb: &Sandbox, name: &str, config: &str) -> PathBuf {
    let dir = sb.path().join(name);
    write(dir.join("templates/openclaw.json5"), TEMPLATE);
    write(dir.join("templates/shared/cron.json5"), CRON);
    write(dir.join(".pre-commit-config.yaml"), config);
    git(sb, &dir, &["init", "-q"]);
    git(sb, &dir, &["add", "-A"]);
    git(sb, &dir, &["commit", "-q", "-m", "legacy template"]);
    dir
}

#[test]
fn the_readme_lines_make_pre_commit_fail_on_a_legacy_template_until_it_is_migrated() {
    let pc = pre_commit();
    let sb = Sandbox::new();
    let (hooks, rev) = hook_repo(&sb);
    let config = config_from_readme(&hooks, &rev);
    let dir = project(&sb, "project", &config);
    let template = dir.join("templates/openclaw.json5");

    let (code, text) = run(&sb, &pc, &dir, &["run", "--all-files"]);
    assert_eq!(code, Some(1), "pre-commit passed a legacy template: {text}");
    assert!(text.contains("Failed"), "{text}");
    assert!(
        text.contains(&format!("{} [pending]", template.display())),
        "the failure names the template: {text}"
    );
    assert!(
        text.contains("V0107__gateway_token_to_auth_token"),
        "{text}"
    );
    assert_eq!(read(&template), TEMPLATE, "the check writes nothing");
    assert_eq!(git(&sb, &dir, &["status", "--porcelain"]), "");

    let (code, text) = run(
        &sb,
        Path::new(BIN),
        &dir,
        &[
            "migrate",
            "--yes",
            "--to",
            "2026.9.6",
            "--config",
            "templates/openclaw.json5",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    git(&sb, &dir, &["add", "-A"]);
    let (code, text) = run(&sb, &pc, &dir, &["run", "--all-files"]);
    assert_eq!(
        code,
        Some(0),
        "pre-commit fails the migrated template: {text}"
    );
    assert!(text.contains("Passed"), "{text}");

    // Migrated, with every comment still there; only git knows the history.
    let (now, cron) = (
        read(&template),
        read(dir.join("templates/shared/cron.json5")),
    );
    for comment in [
        "// Team template for every gateway host.",
        "// the default port",
        "// cron settings are shared",
    ] {
        assert!(now.contains(comment), "{comment:?} lost: {now}");
    }
    assert!(cron.contains("// Shared cron settings."), "{cron}");
    assert!(!cron.contains("webhook"), "{cron}");
    assert!(now.contains("mode: \"token\""), "{now}");
    let status = git(&sb, &dir, &["status", "--porcelain"]);
    assert!(!status.contains(".clawmigrate"), "{status}");
    assert!(!dir.join("templates/.clawmigrate").exists());
}

#[test]
fn the_migrate_hook_upgrades_the_template_in_place_and_pre_commit_then_passes() {
    let pc = pre_commit();
    let sb = Sandbox::new();
    let (hooks, rev) = hook_repo(&sb);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks: [{{id: clawmigrate-migrate, args: [--to, '2026.9.6']}}]\n",
        hooks.display()
    );
    let dir = project(&sb, "project", &config);
    let template = dir.join("templates/openclaw.json5");
    // The included file alone is not a config: the hook's `files` pattern leaves it out.
    let (code, text) = run(&sb, &pc, &dir, &["run", "--all-files"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("files were modified by this hook"), "{text}");
    assert!(read(&template).contains("auth: {"), "{}", read(&template));
    assert!(read(&template).contains("// the default port"));
    let changed = git(&sb, &dir, &["status", "--porcelain"]);
    assert_eq!(
        changed, " M templates/openclaw.json5\n M templates/shared/cron.json5\n",
        "only the template and the file it includes change"
    );
    git(&sb, &dir, &["add", "-A"]);
    let (code, text) = run(&sb, &pc, &dir, &["run", "--all-files"]);
    assert_eq!(code, Some(0), "{text}");
}
