//! Installs of later OpenClaw eras (tests/oracle/ERAS.md):
//! * era D, made the way users get them: the real `openclaw@2026.9.6 doctor --fix
//!   --non-interactive` run on a 2026.2-era install (`tests/oracle/make-era-d.sh`, cached in
//!   `target/era-d-cache/`);
//! * era C (2026.4.22–2026.5), built by hand: `auth-profiles.json` holds `version` and
//!   `profiles`, `auth-state.json` beside it holds the routing state.
//!
//! SQLite is read through python3's `sqlite3` module (present on CI; no `sqlite3` CLI needed).
#![allow(dead_code)]
use crate::fixtures::{self, Spec};
use crate::support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const MAKE_ERA_D: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/make-era-d.sh");
const HAND_FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/hand-fix.py");

/// The 2026.2-era source: the demo install, or `fixtures::build(spec)`.
fn source(spec: Option<&Spec>, into: &Path) -> PathBuf {
    match spec {
        None => {
            copy_tree(Path::new(DEMO), into);
            into.to_path_buf()
        }
        Some(s) => fixtures::build(into, s),
    }
}

/// A fresh copy, at `<sandbox>/<name>`, of the era-D install that 2026.9.6 `doctor --fix` makes
/// from the demo install (`spec: None`) or from `fixtures::build(spec)`. Built once per input
/// (about 15–45 s), then copied from `target/era-d-cache/` (well under a second).
pub fn era_d(sb: &Sandbox, name: &str, spec: Option<&Spec>) -> PathBuf {
    let src = tempfile::tempdir().unwrap();
    let src = source(spec, &src.path().join("state"));
    era_d_from(sb, name, &src)
}

/// The same from any install on disk (2026.2-era or era C).
pub fn era_d_from(sb: &Sandbox, name: &str, src: &Path) -> PathBuf {
    let dest = sb.path().join(name);
    let out = std::process::Command::new("bash")
        .arg(MAKE_ERA_D)
        .arg(src)
        .arg(&dest)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "make-era-d.sh failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    dest
}

/// An era-C install at `<sandbox>/<name>`: the demo (or `spec`) install with every agent's
/// `auth-profiles.json` split into `{version, profiles}` and `auth-state.json`
/// `{version, order?, lastGood?, usageStats?}` (2-space JSON, like OpenClaw writes them), and
/// `meta.lastTouchedVersion` set to 2026.4.22. Built by hand from the reference layout: no
/// 2026.4.22–2026.5 release is installed here.
pub fn era_c(sb: &Sandbox, name: &str, spec: Option<&Spec>) -> PathBuf {
    let st = source(spec, &sb.path().join(name));
    to_era_c(&st);
    st
}

/// An era-D1 (2026.6) install at `<sandbox>/<name>`, built by hand from the demo: each agent's
/// `auth-profiles.json` moved, as compact JSON, into `auth_profile_store['primary']` of its own
/// `openclaw-agent.sqlite` (WAL, the schema of tests/oracle/ERAS.md). Needs no OpenClaw.
pub fn era_d1(sb: &Sandbox, name: &str) -> PathBuf {
    let st = sb.demo(name);
    for agent in ["main", "minimax-cn"] {
        let dir = st.join(format!("agents/{agent}/agent"));
        let store: Value = json(dir.join("auth-profiles.json"));
        let db = rusqlite::Connection::open(dir.join("openclaw-agent.sqlite")).unwrap();
        db.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY,
               store_json TEXT NOT NULL, updated_at INTEGER NOT NULL);",
        )
        .unwrap();
        db.execute(
            "INSERT INTO auth_profile_store VALUES ('primary', ?1, 1)",
            [serde_json::to_string(&store).unwrap()],
        )
        .unwrap();
        std::fs::remove_file(dir.join("auth-profiles.json")).unwrap();
    }
    st
}

/// Converts a 2026.2-era install to the era-C layout in place.
pub fn to_era_c(st: &Path) {
    let cfg = st.join("openclaw.json");
    let text = read(&cfg);
    assert!(text.contains("lastTouchedVersion: \"2026.2.3\""), "{text}");
    write(
        &cfg,
        &text.replace(
            "lastTouchedVersion: \"2026.2.3\"",
            "lastTouchedVersion: \"2026.4.22\"",
        ),
    );
    for e in std::fs::read_dir(st.join("agents")).unwrap() {
        let dir = e.unwrap().path().join("agent");
        let p = dir.join("auth-profiles.json");
        if !p.exists() {
            continue;
        }
        let v = json(&p);
        let store = json!({"version": v["version"], "profiles": v["profiles"]});
        let mut state = serde_json::Map::new();
        state.insert("version".into(), v["version"].clone());
        for k in ["order", "lastGood", "usageStats"] {
            if let Some(x) = v.get(k) {
                state.insert(k.into(), x.clone());
            }
        }
        write(&p, &(serde_json::to_string_pretty(&store).unwrap() + "\n"));
        write(
            dir.join("auth-state.json"),
            &(serde_json::to_string_pretty(&Value::Object(state)).unwrap() + "\n"),
        );
    }
}

/// Runs python3 with a script and arguments; returns stdout.
fn python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "python3 failed: {}", stderr(&out));
    stdout(&out)
}

/// `SELECT <col> FROM <table> WHERE <keycol> = key` in a database (read-only open; reads the
/// `-wal` too). None when the row, or its table, is absent.
pub fn sqlite_cell(db: &Path, table: &str, col: &str, keycol: &str, key: &str) -> Option<String> {
    let out = python(
        "import sqlite3,sys,json\n\
         db,t,c,k,v=sys.argv[1:]\n\
         con=sqlite3.connect('file:'+db+'?mode=ro',uri=True)\n\
         has=con.execute('SELECT 1 FROM sqlite_master WHERE type=? AND name=?',('table',t)).fetchone()\n\
         r=con.execute(f'SELECT {c} FROM {t} WHERE {k}=?',(v,)).fetchone() if has else None\n\
         print(json.dumps(r[0] if r else None))",
        &[&db.display().to_string(), table, col, keycol, key],
    );
    serde_json::from_str::<Option<String>>(out.trim()).unwrap()
}

/// `PRAGMA journal_mode` of a database.
pub fn journal_mode(db: &Path) -> String {
    python(
        "import sqlite3,sys\n\
         print(sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True).execute('PRAGMA journal_mode').fetchone()[0])",
        &[&db.display().to_string()],
    )
    .trim()
    .to_string()
}

/// Where an agent's auth profiles live in 2026.9.6 (measured, tests/oracle/ERAS.md): its own
/// `agents/<id>/agent/openclaw-agent.sqlite` (`auth_profile_store['primary'].store_json`) when
/// that file exists, else the shared `state/openclaw.sqlite`
/// (`config_machine_state['authProfiles.store'].value_json`).
pub struct StoreCell {
    pub db: PathBuf,
    pub table: &'static str,
    pub column: &'static str,
    pub key_column: &'static str,
    pub key: &'static str,
}

pub fn store_cell(st: &Path, agent: &str) -> StoreCell {
    let own = st.join(format!("agents/{agent}/agent/openclaw-agent.sqlite"));
    if own.exists() {
        StoreCell {
            db: own,
            table: "auth_profile_store",
            column: "store_json",
            key_column: "store_key",
            key: "primary",
        }
    } else {
        shared_store_cell(st)
    }
}

pub fn shared_store_cell(st: &Path) -> StoreCell {
    StoreCell {
        db: st.join("state/openclaw.sqlite"),
        table: "config_machine_state",
        column: "value_json",
        key_column: "state_key",
        key: "authProfiles.store",
    }
}

impl StoreCell {
    /// The cell's exact text.
    pub fn text(&self) -> Option<String> {
        sqlite_cell(&self.db, self.table, self.column, self.key_column, self.key)
    }

    /// The cell parsed.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.text().expect("store cell present")).unwrap()
    }
    /// Writes the cell as a running gateway would (a profile of its own added, compact JSON);
    /// returns the text written.
    pub fn write_as_gateway(&self) -> String {
        let mut now = self.value();
        now["profiles"]["gateway:default"] = serde_json::json!(
            {"type": "api_key", "provider": "gateway", "key": "sk-gw-000000000000"}
        );
        let text = serde_json::to_string(&now).unwrap();
        self.set(&text);
        text
    }

    /// Writes the cell's text, as another writer would.
    pub fn set(&self, text: &str) {
        let db = rusqlite::Connection::open(&self.db).unwrap();
        db.execute(
            &format!(
                "UPDATE {} SET {} = ?1 WHERE {} = ?2",
                self.table, self.column, self.key_column
            ),
            [text, self.key],
        )
        .unwrap();
    }
}

/// Applies the fix clawmigrate will make, by hand (tests/oracle/hand-fix.py): China base URL in
/// the config, `minimax-cn:default` with `key` in the store each of `agents` reads, literal keys
/// out of every `models.json`. For oracle self-tests only.
pub fn hand_fix(st: &Path, key: &str, agents: &[&str]) {
    let out = std::process::Command::new("python3")
        .arg(HAND_FIX)
        .arg(st)
        .arg(key)
        .args(agents)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "hand-fix.py failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// The masked label OpenClaw shows for a key: first 8 chars, `...`, last 8.
pub fn key_label(key: &str) -> String {
    format!("{}...{}", &key[..8], &key[key.len() - 8..])
}

/// Files under `dir` whose name contains `part`, relative to `dir`, sorted.
pub fn files_named(dir: &Path, part: &str) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().contains(part))
        .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

/// Every file of the install except databases, `.clawmigrate` and OpenClaw's own scratch.
pub fn plain_files(st: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    tree(st, false)
        .into_iter()
        .filter(|(p, _)| {
            let s = p.display().to_string();
            !s.contains(".sqlite") && !s.starts_with("tmp/") && !s.starts_with("plugin-skills")
        })
        .collect()
}
