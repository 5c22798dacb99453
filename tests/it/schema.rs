//! The published JSON Schema (`schema/clawmigrate.schema.json`): it is what `clawmigrate schema`
//! prints, a valid draft 2020-12 schema, and every document every verb prints (in every mode,
//! failures included) and every JSON example of the README validate against it, while a
//! document with a member added or taken away does not. After a deliberate change of the
//! output, `CLAWMIGRATE_UPDATE_SCHEMA=1 cargo test --test it schema::` rewrites the copy.
use crate::fixtures::{self, KeyAt, Spec};
use crate::support::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

const COMMITTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schema/clawmigrate.schema.json"
);
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
/// Set (to anything) to rewrite the committed copy from the binary instead of comparing.
const UPDATE: &str = "CLAWMIGRATE_UPDATE_SCHEMA";

/// What `clawmigrate schema` prints.
fn printed(sb: &Sandbox) -> String {
    let out = sb.cmd().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

/// The committed schema.
fn schema() -> Value {
    serde_json::from_str(&read(COMMITTED)).expect("the committed schema is JSON")
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::new(schema).expect("the schema compiles")
}

/// Why `doc` does not validate (nothing when it does), each reason with where it is.
fn problems(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let why = problems(v, doc);
    assert!(why.is_empty(), "{what}: {why:#?}\n{doc:#}");
}

/// The schema of one of the definitions (`#/$defs/NAME`), against the same definitions.
fn definition(schema: &Value, name: &str) -> Value {
    assert!(schema["$defs"][name].is_object(), "no definition {name}");
    json!({
        "$schema": schema["$schema"],
        "$ref": format!("#/$defs/{name}"),
        "$defs": schema["$defs"],
    })
}

/// The values a definition that is an enumeration allows (`enum`, or a `oneOf` of `const`s).
fn enumeration(schema: &Value, name: &str) -> BTreeSet<String> {
    let d = &schema["$defs"][name];
    let values: Vec<&Value> = match d["enum"].as_array() {
        Some(e) => e.iter().collect(),
        None => d["oneOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is no enumeration: {d}"))
            .iter()
            .map(|c| &c["const"])
            .collect(),
    };
    values
        .into_iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_committed_schema_is_what_the_binary_prints() {
    let sb = Sandbox::new();
    let now = printed(&sb);
    if std::env::var_os(UPDATE).is_some() {
        std::fs::create_dir_all(Path::new(COMMITTED).parent().unwrap()).unwrap();
        write(COMMITTED, &now);
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    if committed != now {
        let diff = similar::TextDiff::from_lines(&committed, &now)
            .unified_diff()
            .header("schema/clawmigrate.schema.json", "clawmigrate schema")
            .to_string();
        panic!(
            "the committed schema is not what the binary prints; if the output changed on \
             purpose, run `{UPDATE}=1 cargo test --test it schema::` and commit the file (and \
             bump the schema number if a script could notice):\n{diff}"
        );
    }
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema_of_every_mode() {
    let s = schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    if let Err(e) = jsonschema::meta::validate(&s) {
        panic!("not a valid schema: {e} at {}", e.instance_path());
    }
    // One variant per verb: every mode in exactly one, under its own command.
    let mut modes = Vec::new();
    for v in s["oneOf"].as_array().unwrap() {
        for m in v["properties"]["mode"]["enum"].as_array().unwrap() {
            modes.push(m.as_str().unwrap().to_string());
        }
    }
    let all = enumeration(&s, "Mode");
    assert_eq!(modes.len(), all.len(), "{modes:?}");
    assert_eq!(modes.into_iter().collect::<BTreeSet<_>>(), all);
    // `schema` is this binary's format number.
    let sb = Sandbox::new();
    let list = sb.list_json();
    assert_eq!(s["properties"]["schema"]["const"], list["schema"]);
}

/// What the documents of a run showed, to prove that the cases cover every mode and outcome.
#[derive(Default)]
struct Seen {
    modes: BTreeSet<String>,
    outcomes: BTreeSet<String>,
    errors: BTreeSet<String>,
    findings: BTreeSet<String>,
    ops: BTreeSet<String>,
}

impl Seen {
    fn record(&mut self, doc: &Value) {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        self.modes.insert(s(&doc["mode"]));
        for e in doc["errors"].as_array().unwrap() {
            self.errors.insert(s(&e["kind"]));
        }
        for i in doc["installs"].as_array().unwrap() {
            self.outcomes.insert(s(&i["outcome"]));
            if i["error"].is_object() {
                self.errors.insert(s(&i["error"]["kind"]));
            }
            for f in i["findings"].as_array().into_iter().flatten() {
                self.findings.insert(s(&f["kind"]));
            }
            for f in i["files"].as_array().into_iter().flatten() {
                for op in f["patch"].as_array().into_iter().flatten() {
                    self.ops.insert(s(&op["op"]));
                }
            }
        }
    }
}

/// The cases below, run with `--format json`: each prints one document that validates.
struct Cases<'a> {
    sb: &'a Sandbox,
    validator: jsonschema::Validator,
    seen: Seen,
}

impl Cases<'_> {
    /// Runs `ARGS --format json`, expecting exit `code`; returns its one document.
    fn run(&mut self, what: &str, args: &[&str], code: i32) -> Value {
        let out = self
            .sb
            .cmd()
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let docs = json_documents(&out);
        let tail = |d: &Value| format!("{} {}", d["summary"], d["errors"]);
        let shown: Vec<String> = docs.iter().map(tail).collect();
        assert_eq!(out.status.code(), Some(code), "{what}: {shown:?}");
        assert_eq!(docs.len(), 1, "{what}: {} documents", docs.len());
        self.check(what, &docs[0]);
        docs[0].clone()
    }

    fn check(&mut self, what: &str, doc: &Value) {
        assert_valid(&self.validator, doc, what);
        self.seen.record(doc);
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_verb_in_every_mode_prints_documents_the_schema_accepts_failures_included() {
    use crate::repair::{OLD, OTHER, record_v0001_as};
    let sb = Sandbox::new();
    let mut c = Cases {
        sb: &sb,
        validator: validator(&schema()),
        seen: Seen::default(),
    };
    let fleet = sb.path().join("fleet");
    let demo = |name: &str| {
        let st = fleet.join(name);
        copy_tree(Path::new(DEMO), &st);
        st
    };

    // The migrations, and an install from preview to apply and back.
    c.run("list", &["list"], 0);
    let a = demo("a");
    c.run("status", &["status", "--state-dir", s(&a)], 0);
    c.run(
        "status --to",
        &["status", "--to", "2026.9.6", "--state-dir", s(&a)],
        0,
    );
    c.run(
        "dry run",
        &["migrate", "--dry-run", "--state-dir", s(&a)],
        0,
    );
    c.run("check", &["migrate", "--check", "--state-dir", s(&a)], 1);
    let to = ["migrate", "--dry-run", "--to", "2026.9.6", "--state-dir"];
    c.run("dry run --to", &[&to[..], &[s(&a)]].concat(), 0);
    let plan = sb.path().join("plan.json");
    let save = [
        "migrate",
        "--dry-run",
        "--plan-out",
        s(&plan),
        "--state-dir",
    ];
    c.run("dry run --plan-out", &[&save[..], &[s(&a)]].concat(), 0);
    let applied = c.run(
        "apply a saved plan",
        &["migrate", "--plan", s(&plan), "--yes"],
        0,
    );
    assert!(applied["undo_command"].is_string(), "{applied}");
    c.run(
        "apply, up to date",
        &["migrate", "--yes", "--state-dir", s(&a)],
        0,
    );
    c.run(
        "rollback --list",
        &["rollback", "--list", "--state-dir", s(&a)],
        0,
    );
    c.run(
        "rollback --dry-run",
        &["rollback", "--dry-run", "--state-dir", s(&a)],
        0,
    );
    c.run("rollback", &["rollback", "--yes", "--state-dir", s(&a)], 0);
    c.run(
        "rollback again",
        &["rollback", "--yes", "--state-dir", s(&a)],
        0,
    );
    c.run(
        "rollback --list, none",
        &["rollback", "--list", "--state-dir", s(&a)],
        0,
    );
    let unknown = [
        "rollback",
        "20990101T000000Z-000000000000",
        "--yes",
        "--state-dir",
    ];
    c.run(
        "rollback of an unknown run",
        &[&unknown[..], &[s(&a)]].concat(),
        2,
    );

    // A rollback refused: a file the run wrote changed since.
    let b = demo("b");
    c.run("apply", &["migrate", "--yes", "--state-dir", s(&b)], 0);
    let cfg = b.join("openclaw.json");
    write(&cfg, &format!("{}\n", read(&cfg)));
    let refused = c.run(
        "rollback refused",
        &["rollback", "--yes", "--state-dir", s(&b)],
        2,
    );
    assert_eq!(
        refused["installs"][0]["error"]["kind"], "changed",
        "{refused}"
    );
    c.run(
        "rollback --dry-run refused",
        &["rollback", "--dry-run", "--state-dir", s(&b)],
        2,
    );

    // A changed checksum: reported, failing --check, and repaired.
    let r = demo("r");
    sb.cli(&["migrate", "--yes", "--quiet"], &r).success();
    record_v0001_as(&r, OLD);
    c.run("checksum changed", &["status", "--state-dir", s(&r)], 0);
    c.run(
        "check, checksum changed",
        &["migrate", "--check", "--state-dir", s(&r)],
        1,
    );
    let repair = |from: &'static str, how: &'static str| {
        vec![
            "repair",
            "--rebless",
            "1",
            "--from",
            from,
            how,
            "--state-dir",
            s(&r),
        ]
    };
    c.run("repair refused", &repair(OTHER, "--yes"), 2);
    c.run("repair --dry-run", &repair(OLD, "--dry-run"), 0);
    c.run("repair", &repair(OLD, "--yes"), 0);
    c.run("repair, up to date", &repair(OLD, "--yes"), 0);
    c.run(
        "repair, a malformed checksum",
        &repair("sha256:xx", "--yes"),
        2,
    );

    // Installs that fail, are of an unknown layout, need input or hold a conflict.
    let empty = fleet.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    c.run("not an install", &["status", "--state-dir", s(&empty)], 2);
    c.run(
        "not an install, rollback --list",
        &["rollback", "--list", "--state-dir", s(&empty)],
        2,
    );
    let broken = demo("broken");
    write(broken.join("openclaw.json"), "{ broken");
    c.run(
        "a bad config",
        &["migrate", "--dry-run", "--state-dir", s(&broken)],
        2,
    );
    let unknown_layout = demo("unsupported");
    write(unknown_layout.join("state/openclaw.sqlite"), "x");
    c.run(
        "unsupported",
        &["migrate", "--dry-run", "--state-dir", s(&unknown_layout)],
        0,
    );
    let keyless = Spec {
        key_at: KeyAt::Nowhere,
        ..Spec::default()
    };
    let n = fixtures::build(&fleet.join("needs-input"), &keyless);
    c.run(
        "needs input",
        &["migrate", "--dry-run", "--state-dir", s(&n)],
        0,
    );
    let blocked = c.run("blocked", &["migrate", "--yes", "--state-dir", s(&n)], 2);
    assert!(
        blocked["installs"][0]["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["blocked_by"].is_string()),
        "{blocked}"
    );
    let both = Spec {
        key_at: KeyAt::CnModelsBoth,
        ..Spec::default()
    };
    let k = fixtures::build(&fleet.join("conflict"), &both);
    let models = k.join("agents/minimax-cn/agent/models.json");
    write(
        &models,
        &read(&models).replacen(&both.key, "sk-cp-OTHERKEY-aabbccddeeff0011", 1),
    );
    c.run(
        "conflict",
        &["migrate", "--dry-run", "--state-dir", s(&k)],
        0,
    );

    // The whole fleet at once, every outcome side by side.
    let f = ["--fleet", s(&fleet)];
    c.run("fleet status", &[&["status"][..], &f].concat(), 2);
    c.run(
        "fleet dry run",
        &[&["migrate", "--dry-run"][..], &f].concat(),
        2,
    );
    c.run(
        "fleet rollback --list",
        &[&["rollback", "--list"][..], &f].concat(),
        0,
    );

    // Runs refused before any install: the command line, its files, an empty fleet.
    c.run(
        "usage (clap)",
        &["migrate", "--check", "--yes", "--state-dir", s(&a)],
        2,
    );
    c.run(
        "usage (--to)",
        &[
            "migrate",
            "--dry-run",
            "--to",
            "1999.1.1",
            "--state-dir",
            s(&a),
        ],
        2,
    );
    let key = [
        "migrate",
        "--dry-run",
        "--key-file",
        "minimax-cn=/nonexistent/key",
    ];
    c.run(
        "a missing key file",
        &[&key[..], &["--state-dir", s(&a)]].concat(),
        2,
    );
    c.run(
        "a missing plan",
        &["migrate", "--yes", "--plan", "/nonexistent/plan.json"],
        2,
    );
    let nothing = sb.path().join("nothing");
    std::fs::create_dir(&nothing).unwrap();
    c.run("an empty fleet", &["status", "--fleet", s(&nothing)], 2);
    c.run(
        "repair, no target",
        &[
            "repair",
            "--rebless",
            "1",
            "--from",
            OLD,
            "--yes",
            "--fleet",
            s(&nothing),
        ],
        2,
    );

    // The operator says no on a terminal: the document says so.
    let out_file = sb.path().join("out.json");
    let d = demo("declined");
    let cmdline = format!(
        "{} migrate --format json --state-dir {} > {}",
        env!("CARGO_BIN_EXE_clawmigrate"),
        d.display(),
        out_file.display()
    );
    let term = on_a_pty(&sb, &cmdline, &[("NO_COLOR", "1")], Some("n\n"));
    assert_eq!(term.status.code(), Some(2), "{}", stdout(&term));
    let doc: Value = serde_json::from_str(&read(&out_file)).unwrap();
    c.check("declined", &doc);

    let seen = &c.seen;
    let s = schema();
    assert_eq!(seen.modes, enumeration(&s, "Mode"), "modes");
    assert_eq!(seen.outcomes, enumeration(&s, "OutcomeKey"), "outcomes");
    let kinds = [
        "changed",
        "declined",
        "not-found",
        "parse",
        "refused",
        "usage",
    ];
    assert!(
        kinds.iter().all(|k| seen.errors.contains(*k)),
        "{:?}",
        seen.errors
    );
    let findings = [
        "checksum-changed",
        "conflict",
        "needs-input",
        "note",
        "upgrade-available",
    ];
    assert!(
        findings.iter().all(|k| seen.findings.contains(*k)),
        "{:?}",
        seen.findings
    );
    assert!(
        ["add", "remove", "replace", "test"]
            .iter()
            .all(|k| seen.ops.contains(*k)),
        "{:?}",
        seen.ops
    );
}

/// The `## JSON output` section of the README.
fn json_section() -> String {
    let readme = read(README);
    let at = readme
        .find("\n## JSON output")
        .expect("the README has a JSON output section");
    let rest = &readme[at + 1..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_string()
}

/// Every ```json block of the section, with the definition its `<!-- schema: NAME -->` line
/// names (none: the whole document).
fn examples(section: &str) -> Vec<(Option<String>, Value)> {
    let mut out = Vec::new();
    let mut rest = section;
    while let Some(at) = rest.find("```json\n") {
        let before = rest[..at].trim_end();
        let marker = before.lines().last().unwrap_or_default().trim();
        let def = marker
            .strip_prefix("<!-- schema: ")
            .and_then(|m| m.strip_suffix(" -->"))
            .map(String::from);
        let body = &rest[at + 8..];
        let end = body.find("```").expect("a closed block");
        let v = serde_json::from_str(&body[..end])
            .unwrap_or_else(|e| panic!("a README example is not JSON ({e}):\n{}", &body[..end]));
        out.push((def, v));
        rest = &body[end + 3..];
    }
    out
}

#[test]
fn every_json_example_in_the_readme_validates() {
    let s = schema();
    let examples = examples(&json_section());
    let named: Vec<&str> = examples.iter().filter_map(|(d, _)| d.as_deref()).collect();
    // The envelope, and an install of each kind.
    for def in [
        "Install",
        "RollbackInstall",
        "RollbackListInstall",
        "RepairInstall",
    ] {
        assert!(
            named.contains(&def),
            "no README example of {def}: {named:?}"
        );
    }
    assert!(
        examples.iter().any(|(d, _)| d.is_none()),
        "no whole document"
    );
    for (def, example) in &examples {
        let v = match def {
            Some(name) => validator(&definition(&s, name)),
            None => validator(&s),
        };
        assert_valid(&v, example, &format!("README example of {def:?}"));
    }
}

/// The README's table of commands and modes is the schema's: one row per variant.
#[test]
fn the_readme_lists_the_schemas_commands_and_modes() {
    let section = json_section();
    let rows: BTreeSet<(String, String)> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let command = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let modes: Vec<&str> = cells.get(2)?.split(", ").collect();
            Some(modes.into_iter().map(move |m| {
                let m = m.trim_matches('`');
                (command.to_string(), m.to_string())
            }))
        })
        .flatten()
        .filter(|(c, _)| ["migrate", "status", "list", "rollback", "repair"].contains(&c.as_str()))
        .collect();
    let mut want = BTreeSet::new();
    for v in schema()["oneOf"].as_array().unwrap() {
        let command = v["properties"]["command"]["const"].as_str().unwrap();
        for m in v["properties"]["mode"]["enum"].as_array().unwrap() {
            want.insert((command.to_string(), m.as_str().unwrap().to_string()));
        }
    }
    assert_eq!(rows, want);
}

/// A document with a member added, taken away or of another value fails: the schema is closed
/// and requires what the output always has.
#[test]
fn a_document_with_a_member_added_or_taken_away_fails() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let out = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    let doc = json_of(&out);
    let refused = sb
        .cmd()
        .args(["migrate", "--check", "--yes", "--format", "json"])
        .output()
        .unwrap();
    let error_doc = json_of(&refused);
    let v = validator(&schema());
    assert_valid(&v, &doc, "the dry run");
    assert_valid(&v, &error_doc, "the refused command line");
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: &[Mutation] = &[
        ("a member added to the envelope", |d| {
            d["colour"] = json!("red")
        }),
        ("the summary taken away", |d| {
            drop(d.as_object_mut().unwrap().remove("summary"))
        }),
        ("a count taken from the summary", |d| {
            drop(d["summary"].as_object_mut().unwrap().remove("files"))
        }),
        ("a member added to the summary", |d| {
            d["summary"]["skipped"] = json!(0)
        }),
        ("a member added to the tool", |d| {
            d["tool"]["commit"] = json!("abc")
        }),
        ("another schema number", |d| d["schema"] = json!(99)),
        ("a mode of another command", |d| d["mode"] = json!("status")),
        ("an unknown mode", |d| d["mode"] = json!("apply-later")),
        ("a member added to a migration", |d| {
            d["migrations"][0]["author"] = json!("x")
        }),
        ("a migration without its checksum", |d| {
            drop(
                d["migrations"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("checksum"),
            )
        }),
        ("a member added to an install", |d| {
            d["installs"][0]["colour"] = json!("red")
        }),
        ("an install without its outcome", |d| {
            drop(d["installs"][0].as_object_mut().unwrap().remove("outcome"))
        }),
        ("an unknown outcome", |d| {
            d["installs"][0]["outcome"] = json!("exploded")
        }),
        ("an install read, without its agents", |d| {
            drop(d["installs"][0].as_object_mut().unwrap().remove("agents"))
        }),
        ("a plan without its files", |d| {
            drop(d["installs"][0].as_object_mut().unwrap().remove("files"))
        }),
        ("a null error", |d| d["installs"][0]["error"] = Value::Null),
        ("a member added to an agent", |d| {
            d["installs"][0]["agents"][0]["colour"] = json!("red")
        }),
        ("a member added to a file", |d| {
            d["installs"][0]["files"][0]["mode"] = json!(420)
        }),
        ("a file without its hash", |d| {
            drop(
                d["installs"][0]["files"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("sha256_after"),
            )
        }),
        ("a member added to an operation", |d| {
            d["installs"][0]["files"][0]["patch"][0]["why"] = json!("x")
        }),
        ("an operation without its migration", |d| {
            drop(
                d["installs"][0]["files"][0]["patch"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("migration"),
            )
        }),
        ("an unknown operation", |d| {
            d["installs"][0]["files"][0]["patch"][0]["op"] = json!("copy-all")
        }),
        ("a member added to a migration state", |d| {
            d["installs"][0]["migrations"][0]["colour"] = json!("red")
        }),
        ("an unknown migration state", |d| {
            d["installs"][0]["migrations"][0]["state"] = json!("half")
        }),
        ("a false checksum_changed", |d| {
            d["installs"][0]["migrations"][0]["checksum_changed"] = json!(false)
        }),
    ];
    for (what, mutate) in mutations {
        let mut m = doc.clone();
        mutate(&mut m);
        assert_ne!(m, doc, "{what}: nothing changed");
        assert!(!problems(&v, &m).is_empty(), "{what}: still valid");
    }
    let error_mutations: &[Mutation] = &[
        ("an error without its hint", |d| {
            drop(d["errors"][0].as_object_mut().unwrap().remove("hint"))
        }),
        ("a member added to an error", |d| {
            d["errors"][0]["code"] = json!(2)
        }),
        ("an unknown error kind", |d| {
            d["errors"][0]["kind"] = json!("oops")
        }),
        ("an error as a string", |d| d["errors"][0] = json!("usage")),
    ];
    for (what, mutate) in error_mutations {
        let mut m = error_doc.clone();
        mutate(&mut m);
        assert!(!problems(&v, &m).is_empty(), "{what}: still valid");
    }
}
