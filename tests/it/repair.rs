//! `repair --rebless`: accepting a migration's changed checksum, on exactly the installs that
//! record the old value the operator names, recorded in the ledger and writing no install file.
use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const OLD: &str = "sha256:abababababababababababababababababababababababababababababababab";
pub const OTHER: &str = "sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

/// Sets the checksum the install's ledger records for V0001 (as an older binary would have).
/// Also used by the Ansible test's repair run.
pub fn record_v0001_as(st: &Path, checksum: &str) {
    let ledger = st.join(".clawmigrate/ledger.json");
    let mut v = json(&ledger);
    for m in v["runs"][0]["migrations"].as_array_mut().unwrap() {
        if m["version"] == 1 {
            m["checksum"] = Value::from(checksum);
        }
    }
    write(&ledger, &serde_json::to_string_pretty(&v).unwrap());
}

/// A fleet: `old` records OLD for V0001, `current` records today's, `other` records OTHER, and
/// `fresh` was never migrated.
fn fleet(sb: &Sandbox) -> PathBuf {
    let fleet = sb.path().join("fleet");
    for name in ["old", "current", "other", "fresh"] {
        let st = fleet.join(name);
        copy_tree(Path::new(DEMO), &st);
        if name != "fresh" {
            sb.cli(&["migrate", "--yes", "--quiet"], &st).success();
        }
    }
    record_v0001_as(&fleet.join("old"), OLD);
    record_v0001_as(&fleet.join("other"), OTHER);
    fleet
}

fn by_name(v: &Value) -> std::collections::BTreeMap<String, Value> {
    v["installs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let dir = i["state_dir"].as_str().unwrap();
            (dir.rsplit('/').next().unwrap().to_string(), i.clone())
        })
        .collect()
}

fn repair(sb: &Sandbox, fleet: &Path, from: &str, how: &str) -> std::process::Output {
    sb.cmd()
        .args([
            "repair",
            "--rebless",
            "1",
            "--from",
            from,
            how,
            "--format",
            "json",
            "--fleet",
        ])
        .arg(fleet)
        .output()
        .unwrap()
}

#[test]
fn repair_accepts_only_the_exact_old_checksum_records_it_and_writes_no_install_file() {
    let sb = Sandbox::new();
    let fleet = fleet(&sb);
    let old = fleet.join("old");
    // The changed checksum fails --check, and the finding names the repair that accepts it.
    let out = sb.run(&["migrate", "--check", "--format", "json"], &old);
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out);
    let v0001 = &v["installs"][0]["migrations"][0];
    assert_eq!(
        (&v0001["checksum_changed"], &v0001["recorded_checksum"]),
        (&Value::Bool(true), &Value::from(OLD)),
        "{v0001}"
    );
    let fix = v["installs"][0]["findings"][0]["fix"].to_string();
    assert!(
        fix.contains(&format!(
            "clawmigrate repair --rebless V0001__minimax_cn_china_base_url --from {OLD}"
        )),
        "{fix}"
    );

    // The dry run says where it applies and writes nothing.
    let before = tree(&fleet, true);
    let out = repair(&sb, &fleet, OLD, "--dry-run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "the install recording another checksum fails"
    );
    let v = json_of(&out);
    assert_eq!(v["mode"], "repair-dry-run");
    let i = by_name(&v);
    assert_eq!(i["old"]["outcome"], "pending");
    assert_eq!(i["old"]["recorded"], OLD);
    assert_eq!(i["current"]["outcome"], "up-to-date");
    assert_eq!(i["fresh"]["outcome"], "up-to-date");
    assert_eq!(i["other"]["outcome"], "failed");
    assert_eq!(i["other"]["error"]["kind"], "refused");
    assert!(
        i["other"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains(OTHER)
    );
    assert_eq!(tree(&fleet, true), before);

    // The apply records a repair run where OLD was recorded, and nowhere else.
    let out = repair(&sb, &fleet, OLD, "--yes");
    assert_eq!(out.status.code(), Some(2));
    let i = by_name(&json_of(&out));
    assert_eq!(i["old"]["outcome"], "changed");
    let run_id = i["old"]["run_id"].as_str().unwrap().to_string();
    let after = tree(&fleet, true);
    let changed: Vec<&PathBuf> = after
        .keys()
        .filter(|p| before.get(*p) != after.get(*p))
        .collect();
    assert_eq!(changed, [&PathBuf::from("old/.clawmigrate/ledger.json")]);
    let ledger = json(old.join(".clawmigrate/ledger.json"));
    let run = ledger["runs"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(run["id"], run_id.as_str());
    assert_eq!(run["kind"], "repair");
    assert_eq!(run["reblessed_from"], OLD);
    assert_eq!(run["files"], serde_json::json!([]));
    sb.cli(&["migrate", "--check"], &old).code(0);

    // Again: nothing left to accept there.
    let i = by_name(&json_of(&repair(&sb, &fleet, OLD, "--yes")));
    assert_eq!(i["old"]["outcome"], "up-to-date");
    assert_eq!(tree(&fleet, true), after);

    // The repair is in the history; rolling it back is refused; rolling back the migrate run
    // restores the seed and leaves V0001 unapplied (not "changed").
    let list = stdout(&sb.run(&["rollback", "--list"], &old));
    assert!(
        list.contains(&format!(
            "repair: V0001__minimax_cn_china_base_url checksum {OLD} -> sha256:"
        )),
        "{list}"
    );
    let out = sb.run(&["rollback", &run_id, "--yes", "--format", "json"], &old);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("is a repair"), "{}", stdout(&out));
    sb.cli(&["rollback", "--yes"], &old).success();
    assert_eq!(tree(&old, false), tree(Path::new(DEMO), false));
    let v = json_of(&sb.run(&["migrate", "--check", "--format", "json"], &old));
    assert_eq!(v["summary"]["pending"], 1, "{v}");
    assert_eq!(v["summary"]["checksum_changed"], 0, "{v}");
}

#[test]
fn repair_refuses_what_it_cannot_do_safely() {
    let sb = Sandbox::new();
    let fleet = fleet(&sb);
    let current = json_of(
        &sb.cmd()
            .args(["list", "--format", "json"])
            .output()
            .unwrap(),
    )["migrations"][0]["checksum"]
        .as_str()
        .unwrap()
        .to_string();
    let before = tree(&fleet, true);
    // The current checksum is nothing to accept; a malformed one is no checksum; no terminal to
    // ask on without --yes.
    for (from, how, kind) in [
        (current.as_str(), "--yes", "usage"),
        ("sha256:XYZ0", "--yes", ""),
        ("abc", "--yes", ""),
        (OLD, "--verbose", "usage"),
    ] {
        let out = repair(&sb, &fleet, from, how);
        assert_eq!(out.status.code(), Some(2), "{from} {how}");
        if !kind.is_empty() {
            assert_eq!(json_of(&out)["errors"][0]["kind"], kind, "{from} {how}");
        } else {
            assert!(
                stderr(&out).contains("is not a checksum"),
                "{}",
                stderr(&out)
            );
        }
    }
    assert_eq!(tree(&fleet, true), before);
}

/// On a terminal without --yes, repair shows where it would accept the checksum and asks: "n"
/// records nothing (one JSON document saying it was declined), "y" records it.
#[test]
fn repair_asks_on_a_terminal() {
    let sb = Sandbox::new();
    let fleet = fleet(&sb);
    let old = fleet.join("old");
    let json_out = sb.path().join("out.json");
    let cmdline = format!(
        "{} repair --rebless 1 --from {OLD} --format json --state-dir {} > {}",
        env!("CARGO_BIN_EXE_clawmigrate"),
        old.display(),
        json_out.display()
    );
    let before = tree(&old, true);
    let term = on_a_pty(&sb, &cmdline, &[("NO_COLOR", "1")], Some("n\n"));
    let shown = stdout(&term);
    assert!(
        shown.contains("would accept the current checksum in place of"),
        "{shown}"
    );
    assert_eq!(term.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&std::fs::read(&json_out).unwrap()).unwrap();
    assert_eq!(doc["errors"][0]["kind"], "declined", "{doc}");
    assert_eq!(tree(&old, true), before);
    let term = on_a_pty(&sb, &cmdline, &[("NO_COLOR", "1")], Some("y\n"));
    assert_eq!(term.status.code(), Some(0), "{}", stdout(&term));
    let doc: Value = serde_json::from_slice(&std::fs::read(&json_out).unwrap()).unwrap();
    assert_eq!(doc["installs"][0]["outcome"], "changed", "{doc}");
    sb.cli(&["migrate", "--check"], &old).code(0);
}

/// `--from` takes a unique prefix of the recorded checksum (with or without `sha256:`, as `list`
/// prints it, any case), as git takes an abbreviated id; a prefix that matches no recorded
/// checksum, or several, is a clear error and records nothing.
#[test]
fn repair_from_takes_a_unique_checksum_prefix() {
    let sb = Sandbox::new();
    let fleet = fleet(&sb);
    let before = tree(&fleet, true);
    for prefix in ["abababab", "sha256:ABABABAB", &OLD[..20]] {
        let out = repair(&sb, &fleet, prefix, "--dry-run");
        let i = by_name(&json_of(&out));
        assert_eq!(i["old"]["outcome"], "pending", "{prefix}");
        assert_eq!(i["other"]["error"]["kind"], "refused", "{prefix}");
    }
    assert_eq!(tree(&fleet, true), before);
    // The operator's prefix is resolved to the full checksum, which the run records.
    let out = repair(&sb, &fleet, "sha256:abab", "--yes");
    assert_eq!(by_name(&json_of(&out))["old"]["outcome"], "changed");
    let ledger = json(fleet.join("old/.clawmigrate/ledger.json"));
    let run = ledger["runs"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(run["reblessed_from"], OLD);
    // Two recorded checksums share the prefix: ambiguous, naming both. None does: not found.
    let near = format!("{}{}", &OLD[..15], "ef".repeat(28));
    record_v0001_as(&fleet.join("current"), &near);
    record_v0001_as(
        &fleet.join("other"),
        &format!("{}{}", &OLD[..15], "cd".repeat(28)),
    );
    let after = tree(&fleet, true);
    for (prefix, kind, says) in [
        ("abababab", "usage", "ambiguous"),
        ("1234abcd", "not-found", "no target install records"),
    ] {
        let out = repair(&sb, &fleet, prefix, "--yes");
        assert_eq!(out.status.code(), Some(2), "{prefix}");
        let v = json_of(&out);
        let e = &v["errors"][0];
        assert_eq!(e["kind"], kind, "{v}");
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains(says), "{msg}");
        if kind == "usage" {
            assert!(msg.contains(&near), "{msg}");
        }
    }
    assert_eq!(tree(&fleet, true), after);
}
