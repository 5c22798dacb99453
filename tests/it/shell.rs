//! The binary in an operator's shell: completion scripts and man pages, generated from the clap
//! definition, name every verb and option, and pass the shells' own syntax checks.
use crate::support::*;
use std::process::Command;

const VERBS: [&str; 8] = [
    "migrate",
    "status",
    "list",
    "rollback",
    "repair",
    "schema",
    "completions",
    "man",
];

fn ok_stdout(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.cmd().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Checks `script` with `program ARGS FILE` when that shell is installed.
fn syntax_check(sb: &Sandbox, program: &str, args: &[&str], script: &str) {
    if !have(program) {
        eprintln!("{program} not installed: its completion script is not syntax-checked");
        return;
    }
    let file = sb.path().join(format!("completion.{program}"));
    write(&file, script);
    let out = Command::new(program)
        .args(args)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} rejects its completion script: {}",
        stderr(&out)
    );
}

#[test]
fn every_shell_gets_a_completion_script_naming_verbs_and_options() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = ok_stdout(&sb, &["completions", shell]);
        assert!(script.len() > 500, "{shell}: {script}");
        for word in VERBS
            .iter()
            .chain(&["--state-dir", "--fleet", "--dry-run", "--key-file"])
        {
            // fish writes long options without their dashes (`-l state-dir`).
            let word = if shell == "fish" {
                word.trim_start_matches('-')
            } else {
                word
            };
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
}

#[test]
fn completion_scripts_pass_the_shells_syntax_checks() {
    let sb = Sandbox::new();
    let bash = ok_stdout(&sb, &["completions", "bash"]);
    assert!(have("bash"), "bash is needed to check the bash script");
    syntax_check(&sb, "bash", &["-n"], &bash);
    syntax_check(
        &sb,
        "zsh",
        &["-n"],
        &ok_stdout(&sb, &["completions", "zsh"]),
    );
    syntax_check(
        &sb,
        "fish",
        &["--no-execute"],
        &ok_stdout(&sb, &["completions", "fish"]),
    );
}

#[test]
fn bash_completion_completes_verbs_and_options() {
    let sb = Sandbox::new();
    let script = sb.path().join("clawmigrate.bash");
    write(&script, &ok_stdout(&sb, &["completions", "bash"]));
    // Sources the script and asks its function, as bash would on TAB.
    let complete = |words: &str| {
        let cmd = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); \
             _clawmigrate clawmigrate \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash").args(["-c", &cmd]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let verbs = complete("clawmigrate ''");
    for v in VERBS {
        assert!(verbs.lines().any(|l| l == v), "{v} not offered: {verbs}");
    }
    let opts = complete("clawmigrate migrate --st");
    assert_eq!(opts.trim(), "--state-dir");
    let shells = complete("clawmigrate completions ''");
    for s in ["bash", "zsh", "fish"] {
        assert!(shells.lines().any(|l| l == s), "{s} not offered: {shells}");
    }
}

#[test]
fn unknown_shell_is_refused() {
    let sb = Sandbox::new();
    let out = sb.cmd().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
}

#[test]
fn man_page_lists_verbs_options_and_exit_codes() {
    let sb = Sandbox::new();
    let page = ok_stdout(&sb, &["man"]);
    assert!(page.contains(".TH CLAWMIGRATE 1 "), "{page}");
    for word in [
        r"\-\-quiet",
        r"\-\-verbose",
        r"\-\-max\-file\-bytes",
        "Exit codes",
    ] {
        assert!(page.contains(word), "no {word}");
    }
    for v in VERBS {
        assert!(page.contains(&format!(r"clawmigrate\-{v}(1)")), "no {v}");
    }
    // A verb's page holds its own options, the targets and the global options.
    let migrate = ok_stdout(&sb, &["man", "migrate"]);
    assert!(migrate.contains(".TH CLAWMIGRATE-MIGRATE 1 "), "{migrate}");
    for word in [
        r"\-\-dry\-run",
        r"\-\-check",
        r"\-\-state\-dir",
        r"\-\-fleet\-depth",
        r"\-\-key\-file",
        r"\-\-quiet",
    ] {
        assert!(migrate.contains(word), "migrate page: no {word}");
    }
    let out = sb.cmd().args(["man", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("migrate, status"), "{}", stderr(&out));
}

#[test]
fn man_dir_writes_one_page_per_verb() {
    let sb = Sandbox::new();
    let dir = sb.path().join("man/man1");
    let listed = ok_stdout(&sb, &["man", "--dir", dir.to_str().unwrap()]);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = VERBS
        .iter()
        .map(|v| format!("clawmigrate-{v}.1"))
        .chain(["clawmigrate.1".to_string()])
        .collect();
    want.sort();
    assert_eq!(names, want);
    assert_eq!(listed.lines().count(), want.len(), "{listed}");
    let main = read(dir.join("clawmigrate.1"));
    assert_eq!(main, ok_stdout(&sb, &["man"]));
    assert_eq!(
        read(dir.join("clawmigrate-rollback.1")),
        ok_stdout(&sb, &["man", "rollback"])
    );
}

/// The page renders without warnings where a man formatter is installed.
#[test]
fn man_page_renders() {
    let sb = Sandbox::new();
    if !have("groff") {
        eprintln!("groff not installed: the page is not rendered");
        return;
    }
    let file = sb.path().join("clawmigrate.1");
    write(&file, &ok_stdout(&sb, &["man"]));
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}
