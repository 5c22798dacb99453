//! An install is written as a unit (issue 16, items 3 and 4): it ends fully migrated or as it
//! was, whether a later store is locked or a file is regenerated between plan and write; only a
//! failed put-back is reported as partial, naming the files. A run that left nothing to undo
//! (one interrupted before it replaced a file, once recovery settled it) is marked settled, and
//! rollback and status pass over it.
use crate::era_fixtures::*;
use crate::hostile::run_bounded;
use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Every file of an install but this tool's own and SQLite's side files, by relative path.
fn install_files(st: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut t = tree(st, false);
    t.retain(|p, _| {
        let s = p.display().to_string();
        !s.ends_with("-wal") && !s.ends_with("-shm") && !s.ends_with(".sqlite")
    });
    t
}

/// The cell text of every agent's store.
fn cells(st: &Path) -> Vec<Option<String>> {
    ["main", "minimax-cn"]
        .iter()
        .map(|a| store_cell(st, a).text())
        .collect()
}

/// The backup set of the install's only run, once its manifest is written.
fn manifest_written(st: &Path) -> Option<PathBuf> {
    std::fs::read_dir(st.join(".clawmigrate/backups"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|d| d.join("manifest.json").is_file())
}

/// The paths an install's plan writes, in plan order (from a dry run).
fn planned_files(sb: &Sandbox, st: &Path) -> Vec<String> {
    let v = json_of(&sb.run(&["migrate", "--dry-run", "--format", "json"], st));
    v["installs"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = Path::new(f["path"].as_str().unwrap());
            p.strip_prefix(st).unwrap().display().to_string()
        })
        .collect()
}

/// The files whose bytes differ between two trees (both by relative path).
fn differing(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    a.keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .cloned()
        .collect()
}

/// A second agent's store held by another writer (`BEGIN IMMEDIATE`) past the busy timeout:
/// the install stops with nothing written (the first agent's cell included), and the healthy
/// install beside it in the same fleet run is migrated. Its run is settled: nothing to undo.
#[test]
fn a_later_locked_store_leaves_the_install_as_it_was_and_the_one_beside_it_is_migrated() {
    let sb = Sandbox::new();
    let locked = era_d1(&sb, "fleet/locked");
    let ok = era_d1(&sb, "fleet/ok");
    let (files, cells_before) = (install_files(&locked), cells(&locked));
    let held = locked.join("agents/minimax-cn/agent/openclaw-agent.sqlite");
    let holder = rusqlite::Connection::open(&held).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let fleet = sb.path().join("fleet").display().to_string();
    let b = run_bounded(
        &sb,
        &["migrate", "--yes", "--format", "json", "--fleet", &fleet],
        Duration::from_secs(30),
    );
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert!(b.peak_kb < 200 * 1024, "peak {} kB", b.peak_kb);
    assert_eq!(b.code, Some(2), "{}", b.stderr);
    let v: Value = serde_json::from_str(&b.stdout).unwrap();
    let e = &install_entry(&v, &locked)["error"];
    assert_eq!(e["kind"], "locked", "{v}");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains("openclaw-agent.sqlite: the database is locked by another writer")
            && m.contains("nothing of this install was written"),
        "{m}"
    );
    assert_eq!(cells(&locked), cells_before, "a cell was written");
    assert_eq!(
        differing(&install_files(&locked), &files),
        Vec::<PathBuf>::new()
    );
    assert_eq!(install_entry(&v, &ok)["outcome"], "changed", "{v}");
    assert!(
        store_cell(&ok, "main")
            .text()
            .unwrap()
            .contains("minimax-cn:default")
    );
    // The stopped run left nothing to undo.
    let out = sb.run(&["rollback", "--yes", "--format", "json"], &locked);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let r = json_of(&out);
    assert_eq!(r["installs"][0]["outcome"], "nothing-to-undo", "{r}");
    // Once the writer is gone, the install is migrated.
    sb.cli(&["migrate", "--yes"], &locked).success();
    assert!(
        store_cell(&locked, "minimax-cn")
            .text()
            .unwrap()
            .contains("minimax-cn:default")
    );
}

/// Runs `migrate --yes --fleet` pausing between staging and renaming; once `st`'s backup set is
/// written, `meddle` acts on it (as a gateway or a failing disk would); returns the JSON report
/// and exit code.
fn meddled_fleet_run(sb: &Sandbox, st: &Path, meddle: impl FnOnce(&Path)) -> (Option<i32>, Value) {
    let mut cmd = sb.std_cmd();
    paused(sb, &mut cmd, "60000");
    let child = cmd
        .args(["migrate", "--yes", "--format", "json", "--fleet"])
        .arg(sb.path().join("fleet"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut set = None;
    wait_for(
        || {
            set = manifest_written(st);
            set.is_some()
        },
        "the run's backup set",
    );
    meddle(&set.unwrap());
    resume(sb);
    let out = child.wait_with_output().unwrap();
    (out.status.code(), json_of(&out))
}

/// A gateway regenerating the install's last planned file between plan and write: the file is
/// not written, the files written before it are put back from the run's backups (the install is
/// exactly as it was, with the gateway's bytes), and it is reported failed (`changed`), not
/// partial. The healthy install beside it is migrated.
#[test]
fn a_file_regenerated_between_plan_and_write_puts_back_what_was_written_before_it() {
    let sb = Sandbox::new();
    let st = sb.demo("fleet/regen");
    let ok = sb.demo("fleet/ok");
    let planned = planned_files(&sb, &st);
    assert!(planned.len() >= 3, "{planned:?}");
    let last = planned.last().unwrap().clone();
    let mut expected = install_files(&st);
    let regenerated = b"{\n  \"providers\": {}\n}\n".to_vec();
    expected.insert(PathBuf::from(&last), regenerated.clone());
    let (code, v) = meddled_fleet_run(&sb, &st, |_| {
        std::fs::write(st.join(&last), &regenerated).unwrap();
    });
    assert_eq!(code, Some(2), "{v}");
    let e = install_entry(&v, &st);
    assert_eq!(e["outcome"], "failed", "{v}");
    assert_eq!(e["error"]["kind"], "changed", "{v}");
    let m = e["error"]["message"].as_str().unwrap();
    assert!(
        m.contains(&format!("{last} changed since it was planned"))
            && m.contains("were put back from the run's backups, so nothing of it changed"),
        "{m}"
    );
    assert_eq!(
        differing(&install_files(&st), &expected),
        Vec::<PathBuf>::new()
    );
    assert_eq!(install_entry(&v, &ok)["outcome"], "changed", "{v}");
    // Nothing of the run stays written: rollback has nothing to undo, and changes nothing.
    let r = json_of(&sb.run(&["rollback", "--yes", "--format", "json"], &st));
    assert_eq!(r["installs"][0]["outcome"], "nothing-to-undo", "{r}");
    assert_eq!(
        differing(&install_files(&st), &expected),
        Vec::<PathBuf>::new()
    );
}

/// The same, with the backup of the first file written made unreadable (removed) before the
/// put-back: that file stays written and the report, of kind `partial`, names it; the others
/// are put back.
#[test]
fn a_put_back_that_fails_is_reported_partial_naming_the_file() {
    let sb = Sandbox::new();
    let st = sb.demo("fleet/regen");
    sb.demo("fleet/ok");
    let planned = planned_files(&sb, &st);
    let (first, last) = (planned[0].clone(), planned.last().unwrap().clone());
    let before = install_files(&st);
    let (code, v) = meddled_fleet_run(&sb, &st, |set| {
        std::fs::write(st.join(&last), b"{}\n").unwrap();
        let manifest = json(set.join("manifest.json"));
        let copy = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == first.as_str())
            .and_then(|f| f["backup"].as_str())
            .unwrap()
            .to_string();
        std::fs::remove_file(set.join(copy)).unwrap();
    });
    assert_eq!(code, Some(2), "{v}");
    let e = &install_entry(&v, &st)["error"];
    assert_eq!(e["kind"], "partial", "{v}");
    let m = e["message"].as_str().unwrap();
    let first_path = st.join(&first).display().to_string();
    assert!(
        m.contains(&format!("still written: {first_path} ("))
            && m.contains("cannot read the backup copy"),
        "{m}"
    );
    let now = install_files(&st);
    for f in &planned[1..planned.len() - 1] {
        let p = PathBuf::from(f);
        assert!(now.get(&p) == before.get(&p), "{f} was not put back");
    }
    assert!(now.get(Path::new(&first)) != before.get(Path::new(&first)));
    let ledger = json(st.join(".clawmigrate/ledger.json"));
    let run = &ledger["runs"][0];
    assert_eq!(run["files"], serde_json::json!([first]), "{ledger}");
    assert!(run.get("settled").is_none(), "{ledger}");
}

/// `migrate --yes --fleet` killed at its third `linkat` (a backup link, before any rename), then
/// migrated again (recovery settles the interrupted run: it replaced nothing), rolled back, and
/// rolled back again: every step exits 0, the second rollback and `status` find nothing to undo
/// and nothing interrupted, the settled run is marked so, and every file is back to its bytes.
#[test]
fn a_run_interrupted_before_any_rename_is_settled_and_rollback_passes_over_it() {
    assert!(
        std::process::Command::new("strace")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success()),
        "this test needs strace (apt-get install strace)"
    );
    let sb = Sandbox::new();
    let fleet = demo_fleet(&sb, 3);
    let original = tree(&fleet, false);
    let bin = sb.std_cmd();
    let out = std::process::Command::new("strace")
        .args([
            "-f",
            "-o",
            "/dev/null",
            "-e",
            "inject=linkat:signal=KILL:when=3",
        ])
        .arg(bin.get_program())
        .args(["migrate", "--yes", "--fleet"])
        .arg(&fleet)
        .env_clear()
        .envs(bin.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "the run was not killed");
    let interrupted: Vec<String> = ["c000", "c001", "c002"]
        .iter()
        .filter_map(|c| {
            std::fs::read_to_string(fleet.join(c).join(".clawmigrate/ledger.json")).ok()
        })
        .filter(|l| l.contains("\"incomplete\": true"))
        .collect();
    assert!(!interrupted.is_empty(), "no run was interrupted");
    let run = |args: &[&str]| {
        let out = sb
            .cmd()
            .args(args)
            .args(["--format", "json", "--fleet"])
            .arg(&fleet)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stdout(&out));
        json_of(&out)
    };
    run(&["migrate", "--yes"]);
    let outcomes = |v: &Value| -> Vec<String> {
        v["installs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["outcome"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(outcomes(&run(&["rollback", "--yes"])), ["rolled-back"; 3]);
    assert_eq!(
        differing(&tree(&fleet, false), &original),
        Vec::<PathBuf>::new()
    );
    let again = run(&["rollback", "--yes"]);
    assert_eq!(outcomes(&again), ["nothing-to-undo"; 3], "{again}");
    let status = run(&["status"]);
    assert!(!status.to_string().contains("interrupted"), "{status}");
    let list = run(&["rollback", "--list"]);
    let settled: usize = list["installs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["runs"].as_array().unwrap())
        .filter(|r| r["settled"] == true)
        .count();
    assert_eq!(settled, interrupted.len(), "{list}");
    assert_eq!(
        differing(&tree(&fleet, false), &original),
        Vec::<PathBuf>::new()
    );
}
