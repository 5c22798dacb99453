//! Today's installs (issue 10): era-D installs made by the real `openclaw@2026.9.6 doctor --fix`
//! from 2026.2-era fixtures are fixed in the stores OpenClaw reads (SQLite cells), and the real
//! 2026.9.6 agrees; every cell is planned, shown, backed up, written in a checked transaction and
//! rolled back like a file.
use crate::era_fixtures::*;
use crate::fixtures::{KeyAt, Spec};
use crate::oracle_d::*;
use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Every store cell an install's agents read, by agent, as text.
fn cells(st: &Path, agents: &[&str]) -> BTreeMap<String, Option<String>> {
    agents
        .iter()
        .map(|a| (a.to_string(), store_cell(st, a).text()))
        .collect()
}

/// Every `models.json` of the install holds no literal key.
fn no_literal_key_in_models(st: &Path, keys: &[&str]) {
    for f in files_named(st, "models.json")
        .into_iter()
        .filter(|f| !f.starts_with(".clawmigrate"))
    {
        let text = read(st.join(&f));
        for k in keys {
            assert!(!text.contains(k), "{f} still holds a literal key");
        }
    }
}

fn migrate_json(sb: &Sandbox, st: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = sb.run(&[&["migrate", "--format", "json"], args].concat(), st);
    (out.status.code(), json_of(&out))
}

#[test]
fn the_demo_upgraded_by_doctor_is_fixed_where_2026_9_reads_it_and_rolled_back_exactly() {
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    let agents = ["main", "minimax-cn"];
    let (cells_before, files_before) = (cells(&st, &agents), plain_files(&st));
    let archived: Vec<(String, Vec<u8>)> = files_named(&st, ".migrated-")
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(st.join(&f)).unwrap()))
        .collect();
    assert!(!archived.is_empty());
    // Status names the era and each agent's store.
    let out = sb.run(&["status", "--format", "json"], &st);
    let v = json_of(&out);
    assert_eq!(v["installs"][0]["era"], "sqlite-shared", "{v}");
    let stores: Vec<&str> = v["installs"][0]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["store"].as_str().unwrap())
        .collect();
    assert_eq!(
        stores,
        [
            "state/openclaw.sqlite: authProfiles.store",
            "agents/minimax-cn/agent/openclaw-agent.sqlite: primary"
        ]
    );
    // The dry run shows the cell under a clear name, masked, and writes nothing.
    let out = sb.run(&["migrate", "--dry-run"], &st);
    let text = stdout(&out);
    assert!(
        text.contains("+++ b/state/openclaw.sqlite: authProfiles.store"),
        "{text}"
    );
    assert!(
        !text.contains(DEMO_CN_KEY) && !text.contains(DEMO_GLOBAL_KEY),
        "a key was shown"
    );
    assert_eq!(cells(&st, &agents), cells_before);
    // Applied: the real 2026.9.6 lists the China profile for every agent using the provider.
    let (code, v) = migrate_json(&sb, &st, &["--yes"]);
    assert_eq!(code, Some(0), "{v}");
    let label = format!("minimax-cn:default={}", key_label(DEMO_CN_KEY));
    for agent in agents {
        let labels = cn_profile_labels_2026_9(&st, agent);
        assert!(labels.contains(&label), "{agent}: {labels:?}");
    }
    let cfg: Value = serde_json::from_str(&read(st.join("openclaw.json"))).unwrap();
    assert_eq!(cfg["models"]["providers"]["minimax-cn"]["baseUrl"], CN_HOST);
    no_literal_key_in_models(&st, &[DEMO_CN_KEY, DEMO_GLOBAL_KEY]);
    assert!(config_valid_2026_9(&st));
    sb.cli(&["migrate", "--check"], &st).code(0);
    // OpenClaw's archives are never edited.
    for (f, bytes) in &archived {
        assert_eq!(&std::fs::read(st.join(f)).unwrap(), bytes, "{f} was edited");
    }
    // Every file and every cell comes back exactly.
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(cells(&st, &agents), cells_before);
    assert_eq!(plain_files(&st), files_before);
    for db in files_named(&st, ".sqlite") {
        if db.ends_with(".sqlite") {
            assert_eq!(integrity(&st.join(&db)), "ok", "{db}");
        }
    }
}

/// `PRAGMA integrity_check` of a database, read-only.
fn integrity(db: &Path) -> String {
    match clawmigrate::storage::cell::integrity(db) {
        Ok(()) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn no_key_anywhere_needs_input_and_changes_no_store() {
    let sb = Sandbox::new();
    let spec = Spec {
        key_at: KeyAt::Nowhere,
        ..Spec::default()
    };
    let st = era_d(&sb, "state", Some(&spec));
    let agents = ["main", "minimax-cn"];
    let before = cells(&st, &agents);
    let (code, v) = migrate_json(&sb, &st, &["--yes"]);
    assert_eq!(code, Some(2), "{v}");
    assert_eq!(v["installs"][0]["outcome"], "needs-input", "{v}");
    assert_eq!(cells(&st, &agents), before, "a store changed without a key");
    // The base URL, which needs no key, is fixed (V0001 applies before the blocked V0002).
    assert!(read(st.join("openclaw.json")).contains(CN_HOST));
}

#[test]
fn an_agent_that_does_not_use_the_provider_keeps_its_store() {
    let sb = Sandbox::new();
    let spec = Spec {
        writer: true,
        ..Spec::default()
    };
    let st = era_d(&sb, "state", Some(&spec));
    let writer = store_cell(&st, "writer").text();
    let (code, v) = migrate_json(&sb, &st, &["--yes"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(
        store_cell(&st, "writer").text(),
        writer,
        "writer's store changed"
    );
    let label = format!("minimax-cn:default={}", key_label(&spec.key));
    for agent in ["main", "minimax-cn"] {
        assert!(
            cn_profile_labels_2026_9(&st, agent).contains(&label),
            "{agent}"
        );
    }
    sb.cli(&["migrate", "--check"], &st).code(0);
}

#[test]
fn a_database_held_by_another_writer_is_refused_and_nothing_is_written() {
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    let before = plain_files(&st);
    let cells_before = cells(&st, &["main", "minimax-cn"]);
    let db = st.join("state/openclaw.sqlite");
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = sb
        .cmd()
        .env("CLAWMIGRATE_SQLITE_BUSY_MS", "300")
        .args(["migrate", "--yes", "--format", "json", "--state-dir"])
        .arg(&st)
        .output()
        .unwrap();
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    assert_eq!(v["installs"][0]["error"]["kind"], "locked", "{v}");
    let err = v["installs"][0]["error"]["message"].as_str().unwrap();
    assert!(
        err.contains("openclaw.sqlite: the database is locked by another writer")
            && err.contains("nothing of this install was written"),
        "{err}"
    );
    assert_eq!(plain_files(&st), before);
    assert_eq!(cells(&st, &["main", "minimax-cn"]), cells_before);
    assert_eq!(integrity(&db), "ok");
    // Once the writer is gone, the same run goes through.
    sb.cli(&["migrate", "--yes"], &st).success();
}

#[test]
fn a_dry_run_changes_no_database_byte_and_creates_no_side_file() {
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    // The state as doctor left it, and as a stopped gateway leaves it: no side files at all.
    for side in ["state/openclaw.sqlite-wal", "state/openclaw.sqlite-shm"] {
        let _ = std::fs::remove_file(st.join(side));
    }
    let all = |st: &Path| tree(st, true);
    let before = all(&st);
    for args in [
        &["migrate", "--dry-run"][..],
        &["migrate", "--check"],
        &["status"],
    ] {
        sb.run(args, &st);
        assert_eq!(all(&st), before, "{args:?} changed or created a file");
    }
}

#[test]
fn an_era_c_install_is_migrated_in_its_json_store() {
    let sb = Sandbox::new();
    let st = era_c(&sb, "state", None);
    let state_files: Vec<(String, Vec<u8>)> = files_named(&st, "auth-state.json")
        .into_iter()
        .map(|f| (f.clone(), std::fs::read(st.join(&f)).unwrap()))
        .collect();
    let (code, v) = migrate_json(&sb, &st, &["--yes"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["installs"][0]["era"], "json-with-state");
    let auth = json(st.join("agents/main/agent/auth-profiles.json"));
    assert!(
        auth["profiles"].get("minimax-cn:default").is_some(),
        "{auth}"
    );
    for (f, bytes) in state_files {
        assert_eq!(std::fs::read(st.join(&f)).unwrap(), bytes, "{f} changed");
    }
    sb.cli(&["migrate", "--check"], &st).code(0);
}

#[test]
fn a_fleet_mixing_eras_migrates_in_one_run() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    copy_tree(Path::new(DEMO), &fleet.join("a-2026-2"));
    let d = era_d(&sb, "d", None);
    std::fs::rename(&d, fleet.join("d-2026-9")).unwrap();
    let c = era_c(&sb, "c", None);
    std::fs::rename(&c, fleet.join("c-2026-4")).unwrap();
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--format", "json", "--fleet"])
        .arg(&fleet)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["summary"]["changed"], 3, "{v}");
    let eras: Vec<&str> = v["installs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["era"].as_str().unwrap())
        .collect();
    assert_eq!(eras, ["json", "json-with-state", "sqlite-shared"]);
}

#[test]
fn as_root_what_sqlite_creates_belongs_to_the_install_owner() {
    use std::os::unix::fs::MetadataExt;
    require_root();
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    for side in ["state/openclaw.sqlite-wal", "state/openclaw.sqlite-shm"] {
        let _ = std::fs::remove_file(st.join(side));
    }
    chown_tree(&st, 4242);
    sb.cli(&["migrate", "--yes"], &st).success();
    for e in walkdir::WalkDir::new(&st).follow_links(false) {
        let e = e.unwrap();
        let m = std::fs::symlink_metadata(e.path()).unwrap();
        assert_eq!(
            (m.uid(), m.gid()),
            (4242, 4242),
            "{} belongs to root",
            e.path().display()
        );
    }
}

#[test]
fn era_d_dry_run_human() {
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    let out = sb.run(&["migrate", "--dry-run"], &st);
    snap(Some(sb.path()), || {
        insta::assert_snapshot!("era_d_dry_run", stdout(&out))
    });
}

#[test]
fn rollback_refuses_a_cell_changed_since_the_run_unless_forced() {
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    let shared = shared_store_cell(&st);
    let before = shared.text();
    sb.cli(&["migrate", "--yes"], &st).success();
    // The gateway writes the store after the run.
    let gateway_text = shared.write_as_gateway();
    let out = sb.run(&["rollback", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    assert_eq!(v["installs"][0]["error"]["kind"], "changed", "{v}");
    assert!(
        v["installs"][0]["error"]
            .to_string()
            .contains("changed since run"),
        "{v}"
    );
    assert_eq!(
        shared.text(),
        Some(gateway_text),
        "the gateway's write was lost"
    );
    // Forced, the cell gets its exact old value back.
    sb.cli(&["rollback", "--yes", "--force"], &st).success();
    assert_eq!(shared.text(), before);
}

/// A gateway writing the store between plan and write: the cell's transaction finds another
/// value than planned, so the install stops (kind `changed`) before any file is written, and the
/// gateway's value stands.
#[test]
fn a_cell_changed_between_plan_and_write_stops_the_install_with_nothing_written() {
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    let shared = shared_store_cell(&st);
    let before = plain_files(&st);
    let child = Drained::spawn(paused_apply(&sb, &st, "60000").args(["--format", "json"]));
    wait_for(|| staged(&st), "the run to stage");
    let gateway = shared.write_as_gateway();
    resume(&sb);
    let out = child.output();
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    let e = &v["installs"][0]["error"];
    assert_eq!(e["kind"], "changed", "{v}");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains("authProfiles.store changed since it was planned")
            && m.contains("nothing of this install was written"),
        "{m}"
    );
    assert_eq!(shared.text(), Some(gateway), "the gateway's write was lost");
    assert_eq!(plain_files(&st), before);
    assert_eq!(integrity(&shared.db), "ok");
}

/// A state database its owner cannot read is a failure of kind `permission` naming it, not an
/// "unsupported" layout (which would tell the operator the wrong thing); a file that is no
/// database at all is the unsupported layout. Neither is written to.
#[test]
fn an_unreadable_state_database_is_a_permission_failure_not_an_unknown_layout() {
    use std::os::unix::fs::PermissionsExt;
    require_root();
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    chown_tree(&st, 4242);
    let db = st.join("state/openclaw.sqlite");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o000)).unwrap();
    let before = plain_files(&st);
    let out = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let v = json_of(&out);
    let install = &v["installs"][0];
    assert_eq!(install["outcome"], "failed", "{install}");
    assert_eq!(install["error"]["kind"], "permission", "{install}");
    assert!(
        install["error"]["message"]
            .as_str()
            .unwrap()
            .contains("state/openclaw.sqlite"),
        "{install}"
    );
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(
        &db,
        b"not a database, only text that is long enough to read",
    )
    .unwrap();
    let out = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    let install = &json_of(&out)["installs"][0];
    assert_eq!(install["outcome"], "unsupported", "{install}");
    assert_eq!(plain_files(&st).len(), before.len());
}

/// On the SQLite eras V0003 removes a literal `models.json` key only when the agent's store holds
/// that same key: a key the store does not hold is the only copy, so it is kept and reported.
#[test]
fn a_models_json_key_the_store_does_not_hold_is_kept() {
    let sb = Sandbox::new();
    let st = era_d(&sb, "state", None);
    let cell = store_cell(&st, "minimax-cn");
    let mut store = cell.value();
    store["profiles"]["minimax-cn:default"] = serde_json::json!(
        {"type": "api_key", "provider": "minimax-cn", "key": "sk-cp-store-only-0000000000000000"}
    );
    cell.set(&serde_json::to_string(&store).unwrap());
    let models = st.join("agents/minimax-cn/agent/models.json");
    let key = json(&models)["providers"]["minimax-cn"]["apiKey"].clone();
    assert!(
        key.as_str().is_some_and(|k| k.starts_with("sk-cp-")),
        "{key}"
    );
    let out = sb.run(&["migrate", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(json(&models)["providers"]["minimax-cn"]["apiKey"], key);
    let v = json_of(&out);
    let kept = v["installs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("differs from the agent's minimax-cn profile")
        });
    assert!(kept, "{v}");
    assert!(
        !stdout(&out).contains(key.as_str().unwrap()),
        "the key was printed"
    );
}
