//! Unattended use (issue 8): nothing depends on the working directory, ids name one run, every
//! verb's JSON is one document with one envelope, and fleet output shows the signal.
use crate::support::*;
use serde_json::Value;
use std::path::Path;

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn what_is_recorded_does_not_depend_on_the_working_directory() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let before = tree(&st, false);
    // Applied with a relative --state-dir from the sandbox...
    let out = sb.run_in(sb.path(), &["migrate", "--yes", "--state-dir", "state"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // ...the ledger and manifest hold paths relative to the install, never to the caller.
    let ledger = json(st.join(".clawmigrate/ledger.json"));
    let files = strs(&ledger["runs"][0]["files"]);
    assert_eq!(files.len(), 5);
    assert!(
        files
            .iter()
            .all(|f| f == "openclaw.json" || f.starts_with("agents/")),
        "{files:?}"
    );
    let manifest = json(only_backup_set(&st).join("manifest.json"));
    for e in manifest["files"].as_array().unwrap() {
        let p = e["path"].as_str().unwrap();
        assert!(!p.starts_with('/') && !p.starts_with("state/"), "{p}");
    }
    // Rolled back from elsewhere, by absolute path: the install itself is restored and nothing
    // is written where the caller stands.
    let elsewhere = sb.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let abs = st.display().to_string();
    let out = sb.run_in(
        &elsewhere,
        &["rollback", "--yes", "--format", "json", "--state-dir", &abs],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(json_of(&out)["installs"][0]["outcome"], "rolled-back");
    assert_eq!(tree(&st, false), before);
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn run_ids_are_unique_and_an_invocation_is_undone_across_the_fleet() {
    let sb = Sandbox::new();
    let fleet = demo_fleet(&sb, 24);
    let before = tree(&fleet, false);
    let out = sb.run_in(
        sb.path(),
        &["migrate", "--yes", "--format", "json", "--fleet", "fleet"],
    );
    let v = json_of(&out);
    let invocation = v["invocation_id"].as_str().expect("an invocation id");
    let ids: Vec<&str> = v["installs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["run_id"].as_str().unwrap())
        .collect();
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (24, 24), "{ids:?}");
    assert!(ids.iter().all(|i| i.starts_with(invocation)));
    // One install's run id undoes that install only (from another working directory).
    let other = sb.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let abs = fleet.display().to_string();
    let rb = |id: &str| {
        let out = sb.run_in(
            &other,
            &["rollback", id, "--yes", "--format", "json", "--fleet", &abs],
        );
        (out.status.code(), json_of(&out))
    };
    let (code, v) = rb(ids[3]);
    assert_eq!(code, Some(0));
    assert_eq!(
        (
            &v["summary"]["rolled_back"],
            &v["summary"]["nothing_to_undo"]
        ),
        (&Value::from(1), &Value::from(23))
    );
    // The invocation id undoes the whole run; the install undone before is left as it is.
    let (code, v) = rb(invocation);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["summary"]["rolled_back"], 23);
    assert_eq!(tree(&fleet, false), before);
    // An id no install holds is an error, named in the document.
    let (code, v) = rb("20990101T000000Z-000000000000");
    assert_eq!(code, Some(2));
    assert_eq!(v["errors"][0]["kind"], "not-found");
}

/// The envelope the README documents (the JSON block after `<!-- json-envelope -->`).
fn documented_envelope() -> Value {
    let readme = read(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let at = readme
        .find("<!-- json-envelope -->")
        .expect("the README marks the envelope");
    let block = &readme[at..];
    let start = block.find("```json\n").unwrap() + 8;
    let end = block[start..].find("```").unwrap();
    serde_json::from_str(&block[start..start + end]).expect("the README's envelope is JSON")
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// Checks one verb's stdout: exactly one document, the README's envelope, key for key.
fn check_envelope(what: &str, out: &std::process::Output, command: &str, mode: &str) -> Value {
    let docs = json_documents(out);
    assert_eq!(docs.len(), 1, "{what}: {} documents", docs.len());
    let (doc, want) = (&docs[0], documented_envelope());
    assert_eq!(keys(doc), keys(&want), "{what}: the envelope");
    assert_eq!(
        keys(&doc["summary"]),
        keys(&want["summary"]),
        "{what}: summary"
    );
    assert_eq!(keys(&doc["tool"]), keys(&want["tool"]), "{what}: tool");
    assert_eq!(doc["schema"], want["schema"], "{what}");
    assert_eq!(doc["tool"]["name"], "clawmigrate", "{what}");
    assert_eq!(
        (doc["command"].as_str(), doc["mode"].as_str()),
        (Some(command), Some(mode)),
        "{what}"
    );
    assert!(
        doc["installs"].is_array() && doc["errors"].is_array() && doc["migrations"].is_array(),
        "{what}"
    );
    // The README's table of commands and modes has it.
    let readme = read(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let row = format!("| `{command}` |");
    assert!(
        readme
            .lines()
            .any(|l| l.starts_with(&row) && l.contains(&format!("`{mode}`"))),
        "{what}: {command} {mode} is not in the README's table"
    );
    for e in doc["errors"].as_array().unwrap() {
        assert_eq!(keys(e), ["kind", "message", "hint"], "{what}");
    }
    doc.clone()
}

/// `repair --rebless 1 --from FROM HOW --state-dir ST`.
fn repair_args<'a>(from: &'a str, how: &'a str, st: &'a str) -> Vec<&'a str> {
    vec![
        "repair",
        "--rebless",
        "1",
        "--from",
        from,
        how,
        "--state-dir",
        st,
    ]
}

#[test]
fn every_verb_prints_one_json_document_with_the_documented_envelope() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let s = st.to_str().unwrap();
    let run = |args: &[&str]| sb.cmd().args(args).output().unwrap();
    let j = ["--format", "json"];
    const OLD: &str = "sha256:abababababababababababababababababababababababababababababababab";
    let current = json_of(&run(&["list", "--format", "json"]))["migrations"][0]["checksum"]
        .as_str()
        .unwrap()
        .to_string();
    let cases: Vec<(&str, Vec<&str>, &str, &str)> = vec![
        ("list", vec!["list"], "list", "list"),
        (
            "status",
            vec!["status", "--state-dir", s],
            "status",
            "status",
        ),
        (
            "dry run",
            vec!["migrate", "--dry-run", "--state-dir", s],
            "migrate",
            "dry-run",
        ),
        (
            "check",
            vec!["migrate", "--check", "--state-dir", s],
            "migrate",
            "check",
        ),
        (
            "rollback, nothing to undo",
            vec!["rollback", "--yes", "--state-dir", s],
            "rollback",
            "rollback",
        ),
        (
            "apply",
            vec!["migrate", "--yes", "--state-dir", s],
            "migrate",
            "apply",
        ),
        (
            "rollback --list",
            vec!["rollback", "--list", "--state-dir", s],
            "rollback",
            "rollback-list",
        ),
        (
            "rollback --dry-run",
            vec!["rollback", "--dry-run", "--state-dir", s],
            "rollback",
            "rollback-dry-run",
        ),
        (
            "rollback",
            vec!["rollback", "--yes", "--state-dir", s],
            "rollback",
            "rollback",
        ),
        (
            "unknown run",
            vec!["rollback", "--yes", "nope", "--state-dir", s],
            "rollback",
            "rollback",
        ),
        (
            "unreadable plan",
            vec!["migrate", "--yes", "--plan", "/nonexistent/plan.json"],
            "migrate",
            "apply",
        ),
        (
            "flags clap refuses",
            vec![
                "--max-file-bytes",
                "9",
                "migrate",
                "--check",
                "--yes",
                "--state-dir",
                s,
            ],
            "migrate",
            "check",
        ),
        (
            "a malformed checksum",
            repair_args("sha256:xx", "--yes", s),
            "repair",
            "repair",
        ),
        (
            "repair, dry run",
            repair_args(OLD, "--dry-run", s),
            "repair",
            "repair-dry-run",
        ),
        ("repair", repair_args(OLD, "--yes", s), "repair", "repair"),
        (
            "repair of the current checksum",
            repair_args(&current, "--yes", s),
            "repair",
            "repair",
        ),
    ];
    for (what, args, command, mode) in cases {
        let out = run(&[&args[..], &j[..]].concat());
        let doc = check_envelope(what, &out, command, mode);
        let failed = out.status.code() == Some(2);
        assert_eq!(
            failed,
            !doc["errors"].as_array().unwrap().is_empty() || doc["summary"]["failed"] != 0,
            "{what}: {doc}"
        );
    }
    // The demo's 5 files carry 8 changes; the 5 `test` guards before them are not counted.
    let st2 = sb.demo("state2");
    let out = run(&[
        "migrate",
        "--dry-run",
        "--format",
        "json",
        "--state-dir",
        st2.to_str().unwrap(),
    ]);
    let v = json_of(&out);
    let ops: Vec<&Value> = v["installs"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["patch"].as_array().unwrap())
        .collect();
    let changes = ops.iter().filter(|o| o["op"] != "test").count();
    assert!(changes < ops.len());
    assert_eq!(v["summary"]["operations"], changes);
}

#[test]
fn an_interactive_json_run_prints_one_document() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let json_out = sb.path().join("out.json");
    let cmdline = format!(
        "{} migrate --format json --state-dir {} > {}",
        env!("CARGO_BIN_EXE_clawmigrate"),
        st.display(),
        json_out.display()
    );
    for answer in ["n\n", "y\n"] {
        let term = on_a_pty(&sb, &cmdline, &[("NO_COLOR", "1")], Some(answer));
        let terminal = stdout(&term);
        // The plan and the question go to the terminal; stdout holds one document.
        assert!(terminal.contains("+++ b/openclaw.json"), "{terminal}");
        let out = std::process::Output {
            status: term.status,
            stdout: std::fs::read(&json_out).unwrap(),
            stderr: Vec::new(),
        };
        let doc = check_envelope("interactive", &out, "migrate", "apply");
        if answer == "n\n" {
            assert_eq!(doc["errors"][0]["kind"], "declined");
        } else {
            assert_eq!(doc["summary"]["changed"], 1, "{doc}");
        }
    }
}

#[test]
fn declining_a_saved_plan_or_a_rollback_on_a_terminal_prints_one_document() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let plan = sb.path().join("plan.json");
    let p = plan.to_str().unwrap();
    sb.run(&["migrate", "--dry-run", "--plan-out", p], &st);
    let json_out = sb.path().join("out.json");
    let bin = env!("CARGO_BIN_EXE_clawmigrate");
    let cases = [
        (
            format!("{bin} migrate --plan {p} --format json"),
            "migrate",
            "apply",
        ),
        (
            format!("{bin} rollback --format json --state-dir {}", st.display()),
            "rollback",
            "rollback",
        ),
    ];
    for (i, (cmd, command, mode)) in cases.iter().enumerate() {
        if i == 1 {
            sb.cli(&["migrate", "--yes"], &st).success();
        }
        let before = tree(&st, false);
        let cmdline = format!("{cmd} > {}", json_out.display());
        let term = on_a_pty(&sb, &cmdline, &[("NO_COLOR", "1")], Some("n\n"));
        let out = std::process::Output {
            status: term.status,
            stdout: std::fs::read(&json_out).unwrap(),
            stderr: Vec::new(),
        };
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let doc = check_envelope(cmd, &out, command, mode);
        assert_eq!(doc["errors"][0]["kind"], "declined", "{cmd}: {doc}");
        assert_eq!(tree(&st, false), before, "{cmd} wrote after a no");
    }
}

/// A fleet of `broken` demo installs and `healthy` migrated ones, each healthy one with a
/// provider only its models.json defines (a harmless note on every run).
fn mixed_fleet(sb: &Sandbox, broken: usize, healthy: usize) -> std::path::PathBuf {
    let fleet = sb.path().join("fleet");
    let model = sb.demo("model");
    sb.cli(&["migrate", "--yes"], &model).success();
    let models = model.join("agents/main/agent/models.json");
    write(
        &models,
        r#"{"providers": {"local-llm": {"baseUrl": "http://127.0.0.1:8080"}}}"#,
    );
    for i in 0..healthy {
        copy_tree(&model, &fleet.join(format!("ok{i:03}")));
    }
    for i in 0..broken {
        copy_tree(Path::new(DEMO), &fleet.join(format!("zz{i:03}")));
    }
    fleet
}

/// The install headers a human run printed (`<path> [outcome]`).
fn blocks(text: &str, fleet: &Path) -> Vec<String> {
    let prefix = fleet.display().to_string();
    text.lines()
        .filter(|l| l.starts_with(&prefix) && l.ends_with(']'))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_fleet_shows_what_changes_then_a_recap() {
    let sb = Sandbox::new();
    let fleet = mixed_fleet(&sb, 3, 27);
    let f = fleet.to_str().unwrap();
    let run = |extra: &[&str]| {
        let out = sb
            .cmd()
            .args([&["migrate", "--dry-run", "--fleet", f][..], extra].concat())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let broken: Vec<String> = (0..3)
        .map(|i| format!("{} [pending]", fleet.join(format!("zz{i:03}")).display()))
        .collect();
    // Default: the three pending installs with their diffs, no notes, then the recap naming them.
    let text = run(&[]);
    assert_eq!(blocks(&text, &fleet), broken, "{text}");
    assert!(!text.contains("note:"), "{text}");
    assert!(text.contains("+++ b/openclaw.json"));
    let recap = &text[text.find("Recap: ").unwrap()..];
    let names: Vec<String> = (0..3)
        .map(|i| format!("    {}", fleet.join(format!("zz{i:03}")).display()))
        .collect();
    assert_eq!(
        recap.lines().collect::<Vec<_>>(),
        [
            &*"Recap: 30 installs; 15 files, 21 operations planned".to_string(),
            "  up to date        27",
            "  pending           3",
            &names[0],
            &names[1],
            &names[2],
        ]
    );
    // Quiet: the recap's counts alone (a dry run's pending installs set no exit code). Verbose:
    // every install and every note.
    assert_eq!(
        run(&["--quiet"]),
        "Recap: 30 installs; 15 files, 21 operations planned\n  up to date        27\n  pending           3\n"
    );
    let verbose = run(&["--verbose"]);
    assert_eq!(blocks(&verbose, &fleet).len(), 30);
    assert_eq!(
        verbose
            .matches("defines providers the config does not")
            .count(),
        27
    );
    // rollback --list on a fleet lists only installs with something to undo.
    let out = sb
        .cmd()
        .args(["rollback", "--list", "--fleet", f])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(!text.contains("no runs recorded"), "{text}");
    assert_eq!(blocks(&text, &fleet).len(), 27);
    assert!(text.contains("nothing to undo   3"), "{text}");
}

/// The kinds the README's error table lists (its first column), for checking a kind is one of them.
fn documented_kinds() -> Vec<String> {
    let readme = read(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let table = &readme[readme
        .find("| kind | where |")
        .expect("the README's kinds table")..];
    table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('`').nth(1).unwrap().to_string())
        .collect()
}

/// A run-level failure carries the kind of what went wrong (a missing plan file is `not-found`,
/// a plan that is not JSON is `parse`), not one `usage` for all; so does an install's failure
/// found while planning; and every kind is one the README lists.
#[test]
fn every_failure_carries_the_kind_of_what_went_wrong() {
    let sb = Sandbox::new();
    let st = sb.demo("st");
    let kinds = documented_kinds();
    let junk = sb.path().join("plan.json");
    write(&junk, "{ not json");
    let dir = sb.path().to_str().unwrap().to_string();
    let gone = sb.path().join("gone").to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "migrate".into(),
                "--plan".into(),
                gone.clone(),
                "--yes".into(),
            ],
            "not-found",
        ),
        (
            vec![
                "migrate".into(),
                "--plan".into(),
                junk.to_str().unwrap().into(),
                "--yes".into(),
            ],
            "parse",
        ),
        (
            vec![
                "migrate".into(),
                "--yes".into(),
                "--key-file".into(),
                format!("minimax-cn={gone}"),
                "--state-dir".into(),
                st.to_str().unwrap().into(),
            ],
            "not-found",
        ),
        (
            vec![
                "migrate".into(),
                "--yes".into(),
                "--key-file".into(),
                format!("minimax-cn={dir}"),
                "--state-dir".into(),
                st.to_str().unwrap().into(),
            ],
            "limit",
        ),
        (
            vec![
                "migrate".into(),
                "--dry-run".into(),
                "--only".into(),
                "99".into(),
                "--state-dir".into(),
                st.to_str().unwrap().into(),
            ],
            "usage",
        ),
        (
            vec![
                "migrate".into(),
                "--yes".into(),
                "--key-file".into(),
                "nokey".into(),
                "--state-dir".into(),
                st.to_str().unwrap().into(),
            ],
            "usage",
        ),
    ];
    for (args, kind) in cases {
        let out = sb
            .cmd()
            .args(&args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let docs = json_documents(&out);
        assert_eq!(docs.len(), 1, "{args:?}: {}", stdout(&out));
        let e = &docs[0]["errors"][0];
        assert_eq!(e["kind"], kind, "{args:?}: {e}");
        assert!(
            kinds.contains(&kind.to_string()),
            "{kind} is not in the README"
        );
        // The human form says the same, on stderr.
        let human = sb.cmd().args(&args).output().unwrap();
        assert!(
            stderr(&human).contains(e["message"].as_str().unwrap()),
            "{args:?}: {}",
            stderr(&human)
        );
    }
    // Install failures found while planning: a store OpenClaw would ignore (no "profiles"
    // object) is `parse`; migrations asked for out of order are `refused`. Nothing is written.
    let before = tree(&st, true);
    let store = st.join("agents/minimax-cn/agent/auth-profiles.json");
    write(&store, "{\"version\": 1, \"profiles\": \"none\"}\n");
    let broken = tree(&st, true);
    let out = sb.run(&["migrate", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2));
    let e = &json_of(&out)["installs"][0]["error"];
    assert_eq!(e["kind"], "parse", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("has no \"profiles\" object"),
        "{e}"
    );
    assert_eq!(tree(&st, true), broken);
    write(
        &store,
        &read(Path::new(DEMO).join("agents/minimax-cn/agent/auth-profiles.json")),
    );
    assert_eq!(tree(&st, true), before);
    let out = sb.run(
        &["migrate", "--yes", "--only", "2", "--format", "json"],
        &st,
    );
    assert_eq!(out.status.code(), Some(2));
    let e = &json_of(&out)["installs"][0]["error"];
    assert_eq!(e["kind"], "refused", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("out of order"),
        "{e}"
    );
    assert_eq!(tree(&st, true), before);
    for k in ["parse", "refused"] {
        assert!(kinds.contains(&k.to_string()), "{k} is not in the README");
    }
}

/// Quiet output is the recap and every finding that sets the exit code, nothing else: a changed
/// checksum is shown (by `migrate --check -q`, which exits 1 on it, and by `status -q`), and
/// pending installs are counted, not listed.
#[test]
fn quiet_shows_the_recap_and_every_finding_that_sets_the_exit_code() {
    let sb = Sandbox::new();
    let fleet = demo_fleet(&sb, 4);
    let drifted = fleet.join("c000");
    sb.cli(&["migrate", "--yes", "--quiet"], &drifted).success();
    let ledger = drifted.join(".clawmigrate/ledger.json");
    let mut l = json(&ledger);
    l["runs"][0]["migrations"][0]["checksum"] = format!("sha256:{}", "0".repeat(64)).into();
    write(&ledger, &serde_json::to_string_pretty(&l).unwrap());
    let run = |args: &[&str]| {
        let out = sb
            .cmd()
            .args(args)
            .arg("--fleet")
            .arg(&fleet)
            .output()
            .unwrap();
        (out.status.code(), stdout(&out))
    };
    let (code, text) = run(&["migrate", "--check", "-q"]);
    assert_eq!(code, Some(1), "{text}");
    let finding = "  checksum changed: ";
    let d = drifted.display().to_string();
    assert!(
        text.starts_with(&format!("{d} [up to date]\n{finding}")),
        "{text}"
    );
    assert!(
        text.contains("accept it: clawmigrate repair --rebless V0001"),
        "{text}"
    );
    let recap = &text[text.find("Recap: ").expect("a recap")..];
    assert_eq!(
        recap,
        "Recap: 4 installs; 15 files, 21 operations planned\n  up to date        1\n  pending           3\n"
    );
    // No pending install is listed (the count says it); nothing else is printed.
    assert!(!text.contains("c001") && !text.contains("+++"), "{text}");
    assert_eq!(text.lines().count(), 3 + 1 + 3, "{text}");
    // status -q: the same finding (status itself exits 0, as the README says).
    let (code, text) = run(&["status", "-q"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.starts_with(&format!("{d} [up to date]\n{finding}")),
        "{text}"
    );
    assert!(!text.contains("c001"), "{text}");
}

/// A writing run ends with its invocation id and the exact command that undoes it, with the
/// same targets, shell-quoted (human, `-q` and JSON `undo_command`); running that command
/// restores every byte. `rollback INVOCATION_ID` takes the id without the `.n` suffix.
#[test]
fn an_apply_ends_with_the_exact_command_that_undoes_it() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("the fleet's");
    for i in 0..3 {
        copy_tree(Path::new(DEMO), &fleet.join(format!("c{i}")));
    }
    let before = tree(&fleet, false);
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "-q", "--fleet-depth", "2", "--fleet"])
        .arg(&fleet)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let last = text.lines().last().unwrap();
    let ledger = json(fleet.join("c0/.clawmigrate/ledger.json"));
    let invocation = ledger["runs"][0]["invocation"]
        .as_str()
        .unwrap()
        .to_string();
    let quoted = format!("'{}'\\''s'", sb.path().join("the fleet").display());
    let command = format!("clawmigrate rollback {invocation} --fleet {quoted} --fleet-depth 2");
    assert_eq!(
        last,
        format!("Run {invocation}: undo with: {command}"),
        "{text}"
    );
    // Pasted into a shell (with --yes, there being no terminal to ask on), it undoes the run.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_clawmigrate"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("{command} --yes --format json")])
        .env_clear()
        .env("HOME", sb.path())
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_of(&out)["summary"]["rolled_back"], 3);
    assert_eq!(tree(&fleet, false), before);
    // JSON: the same command in `undo_command`; the default target is named by its state dir;
    // a run that wrote nothing has none.
    let home = sb.demo(".openclaw");
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--format", "json"])
        .output()
        .unwrap();
    let v = json_of(&out);
    let id = v["invocation_id"].as_str().unwrap();
    assert_eq!(
        v["undo_command"],
        format!("clawmigrate rollback {id} --state-dir {}", home.display()),
        "{v}"
    );
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json_of(&out)["undo_command"], Value::Null);
}
