//! Issue 11: the Ansible collection `clawmigrate.openclaw` (in `ansible/`) under the real
//! ansible-core. `.ci/install-ansible.sh` installs the pinned ansible-core and ansible-lint from
//! PyPI into `target/ansible-venv` once (cached, locked); the collection is built and installed
//! with `ansible-galaxy` into a temporary collections path, and a playbook runs the role over four
//! local hosts, each with its own installs: `healthy` (already migrated), `broken1` (needs the
//! operator's key, from a key file), `broken2` (a fleet of two broken installs) and `malformed`
//! (a fleet of a broken install and one whose openclaw.json does not parse). The same hosts then
//! take `state: repaired` once their ledgers record old checksums.
use crate::repair::{OLD, OTHER, record_v0001_as};
use crate::support::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_clawmigrate");
const HOSTS: [&str; 4] = ["healthy", "broken1", "broken2", "malformed"];
/// The operator's key for broken1, read by clawmigrate from a key file on the host.
const OPERATOR_KEY: &str = "sk-cp-ansible-keyfile-5a6b7c8d9e0f1a2b";
/// Every key of the demo install and the operator's, and parts of them that no mask shows (a
/// masked key keeps only its first six characters: `sk-cp-…[20592505]`).
const SECRETS: [&str; 10] = [
    "sk-cp-demo-china-fedcba9876543210",
    "sk-api-demo-global-0123456789abcdef",
    OPERATOR_KEY,
    "demo-china",
    "fedcba9876543210",
    "demo-global",
    "0123456789abcdef",
    "ansible-keyfile",
    "5a6b7c8d9e0f",
    "fedcba98",
];

/// The virtualenv with ansible-core and ansible-lint (installed once, cached).
fn venv() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| ci_installed("install-ansible.sh", "ansible-venv"))
        .clone()
}

/// Ansible's commands in a sandbox: HOME, temp dirs and the collections path inside it.
struct Ansible {
    venv: PathBuf,
    dir: PathBuf,
    outputs: Vec<String>,
}

impl Ansible {
    /// Builds the collection from `ansible/` and installs it (offline) into the sandbox.
    fn new(sb: &Sandbox) -> Ansible {
        let mut a = Ansible {
            venv: venv(),
            dir: sb.path().to_path_buf(),
            outputs: Vec::new(),
        };
        let build = a.dir.join("build");
        let out = a.ok(a
            .cmd("ansible-galaxy")
            .args(["collection", "build", "--output-path"])
            .arg(&build)
            .arg(Path::new(ROOT).join("ansible")));
        assert!(out.contains("Created collection"), "{out}");
        let tarball = build.join(format!("clawmigrate-openclaw-{}.tar.gz", galaxy_version()));
        a.ok(a
            .cmd("ansible-galaxy")
            .args(["collection", "install", "--offline", "-p"])
            .arg(a.dir.join("collections"))
            .arg(&tarball));
        assert!(
            a.dir
                .join("collections/ansible_collections/clawmigrate/openclaw/plugins/modules/migrate.py")
                .is_file()
        );
        a
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(self.venv.join("bin").join(program));
        let path = format!(
            "{}:{}",
            self.venv.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env_clear()
            .current_dir(&self.dir)
            .env("PATH", path)
            .env("HOME", &self.dir)
            .env("LC_ALL", "C.UTF-8")
            .env("LANG", "C.UTF-8")
            .env("NO_COLOR", "1")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_COLLECTIONS_PATH", self.dir.join("collections"))
            .env("ANSIBLE_LOCAL_TEMP", self.dir.join("ansible-tmp"))
            .env("ANSIBLE_REMOTE_TEMP", self.dir.join("ansible-tmp"))
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .env("ANSIBLE_PIPELINING", "1")
            .env("ANSIBLE_FORKS", "8");
        c
    }

    /// Runs `c`, keeps its output for the key check, and returns it (stdout then stderr).
    fn run(&mut self, c: &mut Command) -> (Option<i32>, String) {
        let out: Output = c.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.outputs.push(text.clone());
        (out.status.code(), text)
    }

    fn ok(&mut self, c: &mut Command) -> String {
        let (code, text) = self.run(c);
        assert_eq!(code, Some(0), "{c:?}:\n{text}");
        text
    }

    /// `ansible-playbook -i inventory.yml site.yml ARGS`, with its recap per host.
    fn playbook(&mut self, args: &[&str]) -> (Option<i32>, String, BTreeMap<String, Recap>) {
        let mut c = self.cmd("ansible-playbook");
        c.args(["-i", "inventory.yml", "site.yml"]).args(args);
        let (code, text) = self.run(&mut c);
        let recap = recap(&text);
        (code, text, recap)
    }
}

fn galaxy_version() -> String {
    read(Path::new(ROOT).join("ansible/galaxy.yml"))
        .lines()
        .find_map(|l| l.strip_prefix("version:"))
        .unwrap()
        .trim()
        .to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Recap {
    ok: u32,
    changed: u32,
    failed: u32,
    rescued: u32,
}

/// The PLAY RECAP lines: `host : ok=3 changed=1 unreachable=0 failed=0 skipped=5 rescued=0 ...`.
fn recap(text: &str) -> BTreeMap<String, Recap> {
    let mut out = BTreeMap::new();
    let Some((_, tail)) = text.split_once("PLAY RECAP") else {
        return out;
    };
    for line in tail.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 3 || words[1] != ":" {
            continue;
        }
        let field = |name: &str| {
            words
                .iter()
                .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {line}"))
        };
        out.insert(
            words[0].to_string(),
            Recap {
                ok: field("ok"),
                changed: field("changed"),
                failed: field("failed"),
                rescued: field("rescued"),
            },
        );
    }
    out
}

fn changed_failed(r: &BTreeMap<String, Recap>, host: &str) -> (u32, u32) {
    let h = r
        .get(host)
        .unwrap_or_else(|| panic!("{host} not in the recap {r:?}"));
    (h.changed, h.failed)
}

/// The four hosts' directories, inventory and playbook in the sandbox.
fn lay_out(sb: &Sandbox, venv: &Path) -> PathBuf {
    let hosts = sb.path().join("hosts");
    // healthy: one install, migrated before Ansible sees it.
    let healthy = hosts.join("healthy/oc");
    copy_tree(Path::new(DEMO), &healthy);
    let out = sb.run(&["migrate", "--yes", "--quiet"], &healthy);
    assert!(out.status.success(), "{}", stderr(&out));
    // broken1: needs the operator's minimax-cn key, supplied in a key file on the host.
    let b1 = hosts.join("broken1/oc");
    copy_tree(Path::new(DEMO), &b1);
    std::fs::remove_file(b1.join("agents/minimax-cn/agent/models.json")).unwrap();
    write(
        hosts.join("broken1/keys/minimax-cn"),
        &format!("{OPERATOR_KEY}\n"),
    );
    // broken2: a fleet of two broken installs.
    for i in ["a", "b"] {
        copy_tree(Path::new(DEMO), &hosts.join("broken2/fleet").join(i));
    }
    // malformed: a fleet of a broken install and one whose openclaw.json does not parse.
    copy_tree(Path::new(DEMO), &hosts.join("malformed/fleet/good"));
    copy_tree(Path::new(DEMO), &hosts.join("malformed/fleet/bad"));
    write(
        hosts.join("malformed/fleet/bad/openclaw.json"),
        "{ agents: { list: [ { id: \"main\" ",
    );

    let h = |name: &str| hosts.join(name).display().to_string();
    let mut host_vars = serde_json::Map::new();
    host_vars.insert(
        "healthy".into(),
        serde_json::json!({"clawmigrate_state_dirs": [h("healthy/oc")]}),
    );
    host_vars.insert(
        "broken1".into(),
        serde_json::json!({"clawmigrate_state_dirs": [h("broken1/oc")],
                           "clawmigrate_key_files": {"minimax-cn": h("broken1/keys/minimax-cn")}}),
    );
    host_vars.insert(
        "broken2".into(),
        serde_json::json!({"clawmigrate_fleets": [h("broken2/fleet")]}),
    );
    host_vars.insert(
        "malformed".into(),
        serde_json::json!({"clawmigrate_fleets": [h("malformed/fleet")], "clawmigrate_fleet_depth": 2}),
    );
    // JSON is YAML: the inventory plugin reads this file as a YAML inventory.
    let inventory = serde_json::json!({"openclaw": {
        "hosts": host_vars,
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": venv.join("bin/python").display().to_string(),
            "clawmigrate_binary_src": BIN,
            "clawmigrate_binary_path": format!("{}/{{{{ inventory_hostname }}}}/bin/clawmigrate", hosts.display()),
        }
    }});
    write(
        sb.path().join("inventory.yml"),
        &serde_json::to_string_pretty(&inventory).unwrap(),
    );
    write(
        sb.path().join("site.yml"),
        "---\n- name: Migrate the OpenClaw installs\n  hosts: openclaw\n  gather_facts: false\n  roles:\n    - role: clawmigrate.openclaw.clawmigrate\n",
    );
    hosts
}

/// The installs' files, without clawmigrate's own folder.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    tree(dir, false)
}

#[test]
fn a_playbook_previews_applies_reruns_and_rolls_back_over_four_hosts() {
    let sb = Sandbox::new();
    let mut a = Ansible::new(&sb);
    let hosts = lay_out(&sb, &a.venv);
    let seed = files(Path::new(DEMO));

    // The role installs the binary on every host (tag clawmigrate_install), touching no install:
    // here from a URL the controller downloads once; the later runs copy it from the controller
    // (clawmigrate_binary_src, the inventory's), finding it in place.
    let url =
        format!(r#"{{"clawmigrate_binary_src": "", "clawmigrate_binary_url": "file://{BIN}"}}"#);
    let (code, text, r) = a.playbook(&["--tags", "clawmigrate_install", "-e", &url]);
    assert_eq!(code, Some(0), "{text}");
    let size = std::fs::metadata(BIN).unwrap().len();
    for host in HOSTS {
        let bin = hosts.join(host).join("bin/clawmigrate");
        assert_eq!(
            std::fs::metadata(&bin).map(|m| m.len()).ok(),
            Some(size),
            "{host}"
        );
        assert_eq!(changed_failed(&r, host).1, 0, "{text}");
    }

    // --check --diff: the masked diffs of the broken hosts, nothing written anywhere.
    let before = tree(&hosts, true);
    let (code, text, r) = a.playbook(&["--check", "--diff", "-vvv"]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(
        tree(&hosts, true),
        before,
        "check mode wrote something:\n{text}"
    );
    assert_eq!(changed_failed(&r, "healthy"), (0, 0), "{text}");
    assert_eq!(changed_failed(&r, "broken1"), (1, 0), "{text}");
    assert_eq!(changed_failed(&r, "broken2"), (1, 0), "{text}");
    assert_eq!(changed_failed(&r, "malformed").1, 1, "{text}");
    for f in [
        "broken1/oc/openclaw.json",
        "broken1/oc/agents/main/agent/auth-profiles.json",
        "broken2/fleet/a/openclaw.json",
        "broken2/fleet/b/agents/minimax-cn/agent/models.json",
    ] {
        let path = hosts.join(f).display().to_string();
        assert!(
            text.contains(&format!("--- {path} (before)\n+++ {path} (after)\n@@ ")),
            "no diff of {f}:\n{text}"
        );
    }
    assert!(
        text.contains(
            "-        baseUrl: \"https://api.minimax.io/anthropic\", // copied from the global docs"
        ),
        "{text}"
    );
    assert!(text.contains("+        baseUrl: \"https://api.minimaxi.com/anthropic\", // copied from the global docs"), "{text}");
    // Keys show masked (clawmigrate's prefix…[fingerprint]).
    assert!(text.contains("+      \"key\": \"sk-cp-…["), "{text}");
    assert!(
        !text.contains(&format!(
            "{}/healthy/oc/openclaw.json (before)",
            hosts.display()
        )),
        "{text}"
    );

    // The apply: changed on the broken hosts, ok on the healthy one, the malformed host fails
    // alone with clawmigrate's error (its good install is migrated all the same).
    let (code, text, r) = a.playbook(&["-vvv"]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(changed_failed(&r, "healthy"), (0, 0), "{text}");
    assert_eq!(changed_failed(&r, "broken1"), (1, 0), "{text}");
    assert_eq!(changed_failed(&r, "broken2"), (1, 0), "{text}");
    assert_eq!(changed_failed(&r, "malformed").1, 1, "{text}");
    for host in ["healthy", "broken1", "broken2"] {
        assert!(
            !text.contains(&format!("fatal: [{host}]")),
            "{host} failed:\n{text}"
        );
    }
    let bad = hosts
        .join("malformed/fleet/bad/openclaw.json")
        .display()
        .to_string();
    assert!(
        text.contains("fatal: [malformed]: FAILED!")
            && text.contains(&format!("{bad}: invalid JSON5 at line 1")),
        "{text}"
    );
    // The failure carries clawmigrate's typed kind, for playbooks to branch on.
    assert!(text.contains("\"kind\": \"parse\""), "{text}");
    let migrated = files(&hosts.join("healthy/oc"));
    assert_ne!(migrated, seed);
    for st in ["broken2/fleet/a", "broken2/fleet/b", "malformed/fleet/good"] {
        assert_eq!(files(&hosts.join(st)), migrated, "{st} is not migrated");
    }
    let b1 = hosts.join("broken1/oc");
    let store = read(b1.join("agents/main/agent/auth-profiles.json"));
    assert!(
        store.contains(OPERATOR_KEY),
        "the key file's key was not used: {store}"
    );
    assert_eq!(
        sb.run(&["migrate", "--check", "--quiet"], &b1)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        read(hosts.join("malformed/fleet/bad/openclaw.json")),
        "{ agents: { list: [ { id: \"main\" "
    );

    // A second run changes nothing (and writes nothing); the malformed host still fails.
    let before = tree(&hosts, false);
    let (code, text, r) = a.playbook(&[]);
    assert_eq!(code, Some(2), "{text}");
    for host in HOSTS {
        assert_eq!(r[host].changed, 0, "{host}:\n{text}");
        assert_eq!(
            r[host].failed,
            u32::from(host == "malformed"),
            "{host}:\n{text}"
        );
    }
    assert_eq!(tree(&hosts, false), before, "the second run wrote:\n{text}");

    // Rollback: check mode says what it would undo and undoes nothing; then it restores the
    // seed's bytes on both installs of broken2.
    let before = tree(&hosts, true);
    let undo = r#"{"clawmigrate_state": "rolled_back"}"#;
    let (code, text, r) = a.playbook(&["--limit", "broken2", "-e", undo, "--check"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(changed_failed(&r, "broken2"), (1, 0), "{text}");
    assert_eq!(tree(&hosts, true), before, "{text}");
    let (code, text, r) = a.playbook(&["--limit", "broken2", "-e", undo]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(changed_failed(&r, "broken2"), (1, 0), "{text}");
    for st in ["broken2/fleet/a", "broken2/fleet/b"] {
        assert_eq!(files(&hosts.join(st)), seed, "{st} is not rolled back");
    }

    // state: repaired (the role's clawmigrate_rebless*): healthy records an old checksum for
    // V0001, broken1 today's, malformed's good install a third one; broken2 (rolled back) and
    // malformed's other installs do not have V0001 applied, so there is nothing to accept.
    let healthy = hosts.join("healthy/oc");
    record_v0001_as(&healthy, OLD);
    record_v0001_as(&hosts.join("malformed/fleet/good"), OTHER);
    let repair = format!(
        r#"{{"clawmigrate_state": "repaired", "clawmigrate_rebless": "V0001", "clawmigrate_rebless_from": "{OLD}"}}"#
    );
    // Only the run's tasks: the binary is in place, and checksumming it on every host is slow.
    let repair = ["--tags", "clawmigrate_run", "-e", &repair];
    let outcome = |r: &BTreeMap<String, Recap>, text: &str, healthy_changed: u32| {
        assert_eq!(changed_failed(r, "healthy"), (healthy_changed, 0), "{text}");
        assert_eq!(changed_failed(r, "broken1"), (0, 0), "{text}");
        assert_eq!(changed_failed(r, "broken2"), (0, 0), "{text}");
        assert_eq!(changed_failed(r, "malformed"), (0, 1), "{text}");
        // The host recording a third checksum fails alone, with clawmigrate's kind and message
        // (the role's short message: the install, its kind, clawmigrate's words).
        let good = hosts.join("malformed/fleet/good").display().to_string();
        assert!(
            fatal_line(text, "malformed").contains(&format!("{good}: refused: "))
                && text.contains(&format!(
                    "records {OTHER} for V0001__minimax_cn_china_base_url"
                )),
            "{text}"
        );
    };
    // Check mode: the dry run says where it would accept the checksum, and writes nothing.
    let before = tree(&hosts, true);
    let (code, text, r) = a.playbook(&[&repair[..], &["--check"]].concat());
    assert_eq!(code, Some(2), "{text}");
    outcome(&r, &text, 1);
    assert_eq!(tree(&hosts, true), before, "check mode wrote:\n{text}");
    // For real: only healthy's ledger changes, gaining a repair run; its --check passes again.
    let (code, text, r) = a.playbook(&repair);
    assert_eq!(code, Some(2), "{text}");
    outcome(&r, &text, 1);
    let after = tree(&hosts, true);
    let written: Vec<&PathBuf> = after
        .keys()
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert_eq!(
        written,
        [&PathBuf::from("healthy/oc/.clawmigrate/ledger.json")],
        "{text}"
    );
    let ledger = json(healthy.join(".clawmigrate/ledger.json"));
    let run = ledger["runs"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(run["kind"], "repair", "{run}");
    assert_eq!(run["reblessed_from"], OLD, "{run}");
    assert_eq!(
        sb.run(&["migrate", "--check", "--quiet"], &healthy)
            .status
            .code(),
        Some(0)
    );
    // Again: nothing left to accept; the third checksum still fails its host.
    let (code, text, r) = a.playbook(&repair);
    assert_eq!(code, Some(2), "{text}");
    outcome(&r, &text, 0);
    assert_eq!(
        tree(&hosts, true),
        after,
        "the repeated repair wrote:\n{text}"
    );

    // No key in any output, -vvv included.
    for out in &a.outputs {
        for s in SECRETS {
            assert!(!out.contains(s), "{s} in Ansible's output:\n{out}");
        }
    }
}

#[test]
fn ansible_doc_renders_the_module_and_ansible_lint_passes() {
    let sb = Sandbox::new();
    let mut a = Ansible::new(&sb);
    let doc = a.ok(a.cmd("ansible-doc").arg("clawmigrate.openclaw.migrate"));
    for s in [
        "clawmigrate.openclaw.migrate",
        "state_dir",
        "fleet_depth",
        "key_files",
        "rolled_back",
        "repaired",
        "rebless_from",
        "EXAMPLES",
        "RETURN VALUES",
        "invocation_id",
    ] {
        assert!(doc.contains(s), "{s} not in ansible-doc:\n{doc}");
    }
    let listed = a.ok(a
        .cmd("ansible-doc")
        .args(["--list", "clawmigrate.openclaw"]));
    assert!(listed.contains("clawmigrate.openclaw.migrate"), "{listed}");

    // The module's helpers: an install error as a string (schema 2 today) or as an object with
    // a kind (the typed errors), and the split of clawmigrate's human dry run into Ansible diffs.
    let modules = sb
        .path()
        .join("collections/ansible_collections/clawmigrate/openclaw/plugins/modules");
    let py = r#"
import sys
sys.path.insert(0, sys.argv[1])
import migrate as m
assert m.error_parts("x.json: bad\n  hint: fix it") == ("error", "x.json: bad", "fix it"), m.error_parts("x.json: bad\n  hint: fix it")
assert m.error_parts({"kind": "parse", "message": "x.json: bad"}) == ("parse", "x.json: bad", None)
f, w = m.collect({"installs": [{"state_dir": "/s", "outcome": "failed", "error": {"kind": "locked", "message": "held"}},
                               {"state_dir": "/t", "outcome": "needs-input", "findings": [
                                   {"kind": "needs-input", "message": "no key", "fix": "--key-file"},
                                   {"kind": "checksum-changed", "message": "V0001 changed"}]}],
                  "errors": [{"kind": "not-found", "message": "no run"}]}, m.FAILING_MIGRATE)
assert [x["kind"] for x in f] == ["locked", "needs-input", "not-found"], f
assert len(w) == 1 and "checksum-changed" in w[0], w
out = "/s/a [pending]\n  config: openclaw.json\n\n--- a/openclaw.json\n+++ b/openclaw.json\n@@ -1 +1 @@\n-a\n+b\n\n--- a/x.json\n+++ b/x.json\n@@ -1,2 +1,2 @@\n \n-c\n+d\n\n/s/b c [needs input]\n\n--- a/y.json\n+++ b/y.json\n@@ -1 +1 @@\n-e\n+f\n\nRecap: 2 installs\n"
d = m.split_diffs(out)
assert [x["before_header"] for x in d] == ["/s/a/openclaw.json", "/s/a/x.json", "/s/b c/y.json"], d
assert d[1]["prepared"] == "--- /s/a/x.json (before)\n+++ /s/a/x.json (after)\n@@ -1,2 +1,2 @@\n \n-c\n+d\n", d[1]
# Rollback's check mode takes what `rollback --dry-run` says --yes would restore.
would = m.rollback_prediction({"installs": [
    {"state_dir": "/s", "outcome": "pending", "run_id": "i1.1", "files": [{"path": "openclaw.json", "action": "restore"}]},
    {"state_dir": "/t", "outcome": "failed", "run_id": "i1.2", "files": []}]})
assert would == [{"state_dir": "/s", "run_id": "i1.1", "files": ["openclaw.json"]}], would
# Run ids: what clawmigrate makes, and nothing that could pass for an option.
for good in ["20261129T154818Z-3f9a1c2e7b10", "20261129T154818Z-3f9a1c2e7b10.12", "20261129T154818Z-3f9a"]:
    assert m.RUN_ID.match(good), good
for bad in ["--force", "--fleet=/srv/other", "-y", "20261129T154818Z-3f9a1c2e7b10\n", "x", ""]:
    assert not m.RUN_ID.match(bad), bad
# The message stays short at any fleet size, naming each install shown and its kind.
many = [{"state_dir": "/f/i%03d" % n, "kind": "parse", "message": "x" * 5000, "fix": None} for n in range(200)]
text = m.failure_text(many)
assert len(text) < 2000 and "/f/i000: parse: " in text and text.endswith("and 195 more (see failures)"), text
# Only the failing installs the run wrote to are rolled back on failure.
report = {"installs": [{"state_dir": "/ok", "outcome": "changed", "run_id": "i.1"},
                       {"state_dir": "/needy", "outcome": "needs-input", "run_id": "i.2"},
                       {"state_dir": "/bad", "outcome": "failed"}]}
f, w = m.collect(report, m.FAILING_MIGRATE)
assert m.failed_runs(report, f) == [{"state_dir": "/needy", "run_id": "i.2"}], m.failed_runs(report, f)
print("ok")
"#;
    let out = a.ok(a
        .cmd("python")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args(["-c", py])
        .arg(&modules));
    assert_eq!(out.trim(), "ok");

    // The README's example playbook parses and names the module right.
    let readme = read(Path::new(ROOT).join("README.md"));
    let (_, after) = readme.split_once("## Ansible\n").unwrap();
    let (_, block) = after.split_once("```yaml\n").unwrap();
    let (playbook, _) = block.split_once("```").unwrap();
    write(sb.path().join("readme.yml"), playbook);
    write(
        sb.path().join("hosts.ini"),
        "[openclaw]\nh ansible_connection=local\n",
    );
    a.ok(a
        .cmd("ansible-playbook")
        .args(["--syntax-check", "-i", "hosts.ini", "readme.yml"]));

    // ansible-lint (production profile, .ansible-lint), offline, on the collection's source.
    let lint = a.ok(a
        .cmd("ansible-lint")
        .current_dir(Path::new(ROOT).join("ansible"))
        .args(["--offline", "--nocolor"]));
    assert!(lint.contains("Passed: 0 failure(s)"), "{lint}");
}

/// Where this machine keeps Rust (the sandbox's HOME has none): `cargo` on the host is a
/// rustup proxy that needs both.
fn rust_homes() -> [(&'static str, PathBuf); 2] {
    let home = PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()));
    let var = |name: &str, dflt: &str| {
        std::env::var(name).map_or_else(|_| home.join(dflt), PathBuf::from)
    };
    [
        ("CARGO_HOME", var("CARGO_HOME", ".cargo")),
        ("RUSTUP_HOME", var("RUSTUP_HOME", ".rustup")),
    ]
}

/// The role's third way to install: `cargo install` from a checkout on the host, where the host
/// has cargo; and a clear failure where it has none. (`--debug` into a cached target dir keeps
/// the build quick; the release build is the same command without it.)
#[test]
fn the_role_builds_the_binary_with_cargo_where_the_host_has_it() {
    let sb = Sandbox::new();
    let mut a = Ansible::new(&sb);
    let host_dir = sb.path().join("builder");
    let inventory = serde_json::json!({"openclaw": {"hosts": {"builder": {}}, "vars": {
        "ansible_connection": "local",
        "ansible_python_interpreter": a.venv.join("bin/python").display().to_string(),
        "clawmigrate_cargo_source": ROOT,
        "clawmigrate_cargo_args": ["--debug"],
        "clawmigrate_cargo_root": host_dir.join("cargo-root").display().to_string(),
        "clawmigrate_binary_path": host_dir.join("bin/clawmigrate").display().to_string(),
    }}});
    write(
        sb.path().join("inventory.yml"),
        &serde_json::to_string_pretty(&inventory).unwrap(),
    );
    write(
        sb.path().join("site.yml"),
        "---\n- name: Install clawmigrate\n  hosts: openclaw\n  gather_facts: false\n  roles:\n    - role: clawmigrate.openclaw.clawmigrate\n",
    );
    let install = |a: &mut Ansible, path: &str, with_rust: bool| {
        let mut c = a.cmd("ansible-playbook");
        c.args([
            "-i",
            "inventory.yml",
            "site.yml",
            "--tags",
            "clawmigrate_install",
        ])
        .env("PATH", path)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(ROOT).join("target/role-cargo"),
        );
        if with_rust {
            c.envs(rust_homes());
        }
        a.run(&mut c)
    };
    let venv_bin = a.venv.join("bin").display().to_string();

    // No cargo on the host (not on PATH, none in ~/.cargo/bin): the role says so and what to do.
    let (code, text) = install(&mut a, &format!("{venv_bin}:/usr/bin:/bin"), false);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("the host has no cargo"), "{text}");
    assert!(!host_dir.join("bin/clawmigrate").exists());

    // With cargo: built, put in place, and the binary runs.
    let path = format!("{venv_bin}:{}", std::env::var("PATH").unwrap_or_default());
    let (code, text) = install(&mut a, &path, true);
    assert_eq!(code, Some(0), "{text}");
    let r = recap(&text);
    assert_eq!(changed_failed(&r, "builder"), (2, 0), "{text}");
    let out = std::process::Command::new(host_dir.join("bin/clawmigrate"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("clawmigrate {}", env!("CARGO_PKG_VERSION"))
    );
}

/// A sandbox with the collection installed, and one local host per entry of `hosts` (its
/// variables), in `inventory.yml`.
fn local_hosts(sb: &Sandbox, hosts: serde_json::Value) -> Ansible {
    let a = Ansible::new(sb);
    let inventory = serde_json::json!({"openclaw": {"hosts": hosts, "vars": {
        "ansible_connection": "local",
        "ansible_python_interpreter": a.venv.join("bin/python").display().to_string(),
    }}});
    write(
        sb.path().join("inventory.yml"),
        &serde_json::to_string_pretty(&inventory).unwrap(),
    );
    a
}

/// `n` copies of the demo install, migrated in one run (one invocation), under `dir`.
fn migrated_fleet(sb: &Sandbox, dir: &Path, n: usize) -> String {
    for i in 0..n {
        copy_tree(Path::new(DEMO), &dir.join(format!("i{i}")));
    }
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--format", "json", "--fleet"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    json_of(&out)["invocation_id"].as_str().unwrap().to_string()
}

/// The `fatal: [host]: ...` line of a run's output.
fn fatal_line<'t>(text: &'t str, host: &str) -> &'t str {
    let head = format!("fatal: [{host}]");
    text.lines()
        .find(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("no {head} in:\n{text}"))
}

/// Issue 16 item 5: `run_id` was passed as a bare argument, so `--fleet=DIR` rolled back another
/// fleet and `--force` forced the rollback. The module refuses what is not a run id, and passes
/// a run id after `--`.
#[test]
fn a_run_id_that_is_not_one_is_refused_and_never_read_as_an_option() {
    let sb = Sandbox::new();
    let mut a = local_hosts(&sb, serde_json::json!({"h": {}}));
    let mine = sb.path().join("mine");
    let other = sb.path().join("other");
    migrated_fleet(&sb, &mine, 2);
    migrated_fleet(&sb, &other, 1);
    // A file changed since the run: only --force would restore it.
    let cfg = mine.join("i0/openclaw.json");
    write(&cfg, &read(&cfg).replace("port: 18789", "port: 18790"));
    let playbook = format!(
        r#"---
- name: Undo by run id
  hosts: openclaw
  gather_facts: false
  tasks:
    - name: Roll back
      clawmigrate.openclaw.migrate:
        state: rolled_back
        run_id: "{{{{ item }}}}"
        fleet: ["{mine}"]
        binary: "{BIN}"
      loop: "{{{{ ids }}}}"
      ignore_errors: true
"#,
        mine = mine.display()
    );
    write(sb.path().join("site.yml"), &playbook);
    let before = tree(sb.path(), true);
    let ids = serde_json::json!({"ids": [format!("--fleet={}", other.display()), "--force", "-y"]});
    let (code, text, r) = a.playbook(&["-e", &ids.to_string()]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(changed_failed(&r, "h"), (0, 0), "{text}");
    for bad in ids["ids"].as_array().unwrap() {
        let head = format!("failed: [h] (item={}) => ", bad.as_str().unwrap());
        let line = text
            .lines()
            .find(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("{head} not in:\n{text}"));
        assert!(
            line.contains("is not a clawmigrate run id") && line.contains("\"kind\": \"usage\""),
            "{line}"
        );
    }
    assert_eq!(
        tree(sb.path(), true),
        before,
        "a refused run id restored something:\n{text}"
    );

    // A real run id goes through (after `--`): i1's part of the run is undone, i0 and the other
    // fleet are untouched.
    write(&cfg, &read(&cfg).replace("port: 18790", "port: 18789"));
    let i0 = tree(&mine.join("i0"), true);
    let ledger = json(mine.join("i1/.clawmigrate/ledger.json"));
    let id = ledger["runs"][0]["id"].as_str().unwrap().to_string();
    let other_before = tree(&other, true);
    let ids = serde_json::json!({"ids": [id]});
    let (code, text, r) = a.playbook(&["-e", &ids.to_string()]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(changed_failed(&r, "h"), (1, 0), "{text}");
    assert_eq!(files(&mine.join("i1")), files(Path::new(DEMO)), "{text}");
    assert_eq!(tree(&mine.join("i0"), true), i0, "{text}");
    assert_eq!(tree(&other, true), other_before, "{text}");
}

/// Issue 16 item 6: check mode for `rolled_back` predicted `changed` from the ledger alone, where
/// the real run refuses a file changed since the run. It now predicts from `rollback --dry-run`.
#[test]
fn check_mode_predicts_a_refused_rollback_as_the_real_run_refuses_it() {
    let sb = Sandbox::new();
    let mut a = local_hosts(&sb, serde_json::json!({"h": {}}));
    let fleet = sb.path().join("fleet");
    let run = migrated_fleet(&sb, &fleet, 2);
    let playbook = format!(
        r#"---
- name: Undo a run
  hosts: openclaw
  gather_facts: false
  tasks:
    - name: Roll back
      clawmigrate.openclaw.migrate:
        state: rolled_back
        run_id: "{run}"
        fleet: ["{fleet}"]
        binary: "{BIN}"
"#,
        fleet = fleet.display()
    );
    write(sb.path().join("site.yml"), &playbook);
    let cfg = fleet.join("i0/openclaw.json");
    let migrated = read(&cfg);
    write(&cfg, &migrated.replace("port: 18789", "port: 18790"));

    // Check mode: fails as the real run will, naming the file, and writes nothing.
    let before = tree(&fleet, true);
    let (code, check, r) = a.playbook(&["--check"]);
    assert_eq!(code, Some(2), "{check}");
    assert_eq!(r["h"].failed, 1, "{check}");
    let predicted = fatal_line(&check, "h");
    assert!(
        predicted.contains(&format!("{}: changed: ", fleet.join("i0").display()))
            && predicted.contains("changed since run"),
        "{predicted}"
    );
    assert_eq!(tree(&fleet, true), before, "check mode wrote:\n{check}");
    // The real run refuses i0 the same way (and restores i1).
    let (code, text, r) = a.playbook(&[]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(r["h"].failed, 1, "{text}");
    assert!(
        fatal_line(&text, "h").contains("changed since run"),
        "{text}"
    );
    assert_eq!(files(&fleet.join("i1")), files(Path::new(DEMO)), "{text}");
    assert_eq!(read(&cfg), migrated.replace("port: 18789", "port: 18790"));

    // With the file as the run left it, check mode predicts `changed`, and the run restores it.
    write(&cfg, &migrated);
    let before = tree(&fleet, true);
    let (code, text, r) = a.playbook(&["--check"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(changed_failed(&r, "h"), (1, 0), "{text}");
    assert_eq!(tree(&fleet, true), before, "check mode wrote:\n{text}");
    let (code, text, r) = a.playbook(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(changed_failed(&r, "h"), (1, 0), "{text}");
    assert_eq!(files(&fleet.join("i0")), files(Path::new(DEMO)), "{text}");
}

/// Issue 16 item 7: the README's playbook, as written (only its host paths point into the
/// sandbox), both ways: migrate, then undo with `-e undo_run=ID`, and the undo again; twice.
/// Its undo play used to migrate again first, so a second undo left the fleet migrated.
#[test]
fn the_readme_playbook_migrates_and_undoes_leaving_the_fleet_as_it_was() {
    let sb = Sandbox::new();
    let mut a = local_hosts(&sb, serde_json::json!({"h": {}}));
    let readme = read(Path::new(ROOT).join("README.md"));
    let (_, after) = readme.split_once("## Ansible\n").unwrap();
    let (_, block) = after.split_once("```yaml\n").unwrap();
    let (playbook, _) = block.split_once("```").unwrap();
    assert!(playbook.contains("-e undo_run=ID"), "{playbook}");
    let fleet = sb.path().join("srv/openclaw");
    let key = sb.path().join("etc/openclaw/keys/minimax-cn");
    for p in ["/srv/openclaw", "/etc/openclaw/keys/minimax-cn"] {
        assert!(playbook.contains(p), "{p} not in the README's playbook");
    }
    let playbook = playbook
        .replace("/srv/openclaw", &fleet.display().to_string())
        .replace("/etc/openclaw/keys/minimax-cn", &key.display().to_string());
    write(sb.path().join("site.yml"), &playbook);
    // Two broken installs, one of them needing the operator's key from the key file.
    copy_tree(Path::new(DEMO), &fleet.join("a"));
    copy_tree(Path::new(DEMO), &fleet.join("b"));
    std::fs::remove_file(fleet.join("b/agents/minimax-cn/agent/models.json")).unwrap();
    write(&key, &format!("{OPERATOR_KEY}\n"));
    let original = files(&fleet);
    // The module finds clawmigrate on the host's PATH, as the README's playbook has no `binary`.
    let bin_dir = Path::new(BIN).parent().unwrap().display().to_string();
    let path = format!(
        "{}:{bin_dir}:{}",
        a.venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |a: &mut Ansible, args: &[&str]| {
        let mut c = a.cmd("ansible-playbook");
        c.args(["-i", "inventory.yml", "site.yml"])
            .args(args)
            .env("PATH", &path);
        let (code, text) = a.run(&mut c);
        assert_eq!(code, Some(0), "{args:?}:\n{text}");
        let r = recap(&text);
        (text, r)
    };
    for round in 0..2 {
        let (text, r) = run(&mut a, &[]);
        assert_eq!(changed_failed(&r, "h"), (1, 0), "round {round}:\n{text}");
        let (_, tail) = text
            .split_once("undo with run_id ")
            .unwrap_or_else(|| panic!("no run id shown:\n{text}"));
        let id: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        assert_ne!(files(&fleet), original, "round {round}: not migrated");
        for st in ["a", "b"] {
            let out = sb.run(&["migrate", "--check", "--quiet"], &fleet.join(st));
            assert_eq!(out.status.code(), Some(0), "round {round}: {st}:\n{text}");
        }
        let undo = format!("undo_run={id}");
        for again in 0..2 {
            let (text, r) = run(&mut a, &["-e", &undo]);
            assert_eq!(
                changed_failed(&r, "h"),
                (u32::from(again == 0), 0),
                "round {round}, undo {again}:\n{text}"
            );
            assert_eq!(
                files(&fleet),
                original,
                "round {round}, undo {again}: the fleet is not the original:\n{text}"
            );
        }
    }
    for out in &a.outputs {
        for s in SECRETS {
            assert!(!out.contains(s), "{s} in Ansible's output:\n{out}");
        }
    }
}

/// Issue 16 item 8: `clawmigrate_rollback_on_failure` undid every install of the failed run, and
/// the failure printed the whole JSON report. Now only the installs that failed are undone (one
/// that needs input had its first migration written), the installs migrated in full stay
/// migrated, and the failure names each failing install and its kind in a short message.
#[test]
fn rollback_on_failure_undoes_only_the_failed_installs_with_a_short_message() {
    let sb = Sandbox::new();
    let hosts = sb.path().join("hosts");
    let h = |p: &str| hosts.join(p).display().to_string();
    let mut a = local_hosts(
        &sb,
        serde_json::json!({
            "fine": {"clawmigrate_fleets": [h("fine")]},
            "mixed": {"clawmigrate_fleets": [h("mixed")], "clawmigrate_fleet_depth": 2},
        }),
    );
    for st in [
        "fine/a",
        "fine/b",
        "mixed/good1",
        "mixed/good2",
        "mixed/needy",
        "mixed/bad",
    ] {
        copy_tree(Path::new(DEMO), &hosts.join(st));
    }
    std::fs::remove_file(hosts.join("mixed/needy/agents/minimax-cn/agent/models.json")).unwrap();
    write(
        hosts.join("mixed/bad/openclaw.json"),
        "{ agents: { list: [ { id: \"main\" ",
    );
    let needy = files(&hosts.join("mixed/needy"));
    let bad = files(&hosts.join("mixed/bad"));
    write(
        sb.path().join("site.yml"),
        &format!(
            "---\n- name: Migrate the OpenClaw installs\n  hosts: openclaw\n  gather_facts: false\n  roles:\n    - role: clawmigrate.openclaw.clawmigrate\n      vars:\n        clawmigrate_install: false\n        clawmigrate_binary_path: \"{BIN}\"\n        clawmigrate_rollback_on_failure: true\n"
        ),
    );
    let (code, text, r) = a.playbook(&[]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(changed_failed(&r, "fine"), (1, 0), "{text}");
    assert_eq!(r["mixed"].failed, 1, "{text}");
    // The installs migrated in full stay migrated, on both hosts.
    let migrated = files(&hosts.join("fine/a"));
    assert_ne!(migrated, files(Path::new(DEMO)));
    for st in ["fine/b", "mixed/good1", "mixed/good2"] {
        assert_eq!(files(&hosts.join(st)), migrated, "{st} was undone:\n{text}");
    }
    // The failed ones are as they were: the needy install's first migration is undone.
    assert!(
        text.contains(
            "TASK [clawmigrate.openclaw.clawmigrate : Roll back the installs whose run failed]"
        ),
        "{text}"
    );
    assert_eq!(files(&hosts.join("mixed/needy")), needy, "{text}");
    assert_eq!(files(&hosts.join("mixed/bad")), bad, "{text}");
    // A short message: each failing install with its kind; no report.
    let fatal = fatal_line(&text, "mixed");
    assert!(fatal.len() < 1500, "{} chars: {fatal}", fatal.len());
    assert!(
        fatal.contains(&format!("{}: parse: ", h("mixed/bad")))
            && fatal.contains(&format!("{}: needs-input: ", h("mixed/needy"))),
        "{fatal}"
    );
    for noise in ["\"report\"", "\"installs\"", "\"migrations\""] {
        assert!(!text.contains(noise), "{noise} printed:\n{text}");
    }
}
