//! Run as root over installs others own (issue 9): each test puts a hostile install (owned by
//! uid 4242, every file in it crafted) beside a healthy one in one fleet run, and checks that
//! nothing outside the hostile install changes, the healthy one is migrated, and the run ends in
//! bounded time and memory. CI runs as root; the uids need no passwd entry.
use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HOSTILE: u32 = 4242;
const VICTIM: u32 = 4343;

/// Every file below `dir` (links as their target text), with mode and owner: what must not change.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32, u32)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            let bytes = if m.file_type().is_symlink() {
                std::fs::read_link(e.path())
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if m.file_type().is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            (e.path().to_path_buf(), (bytes, m.mode(), m.uid()))
        })
        .collect()
}

/// A run with a deadline, and its peak memory (from wait4).
pub struct Bounded {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub peak_kb: i64,
    pub took: Duration,
}

/// Runs the binary under a small python3 that reports its child's peak memory. The peak is not
/// taken from this process's own `wait4`: a child spawned from the test harness starts as a
/// vfork of it, so its recorded peak would be the harness's (over a gigabyte while the whole
/// suite runs in parallel), not clawmigrate's.
const PEAK: &str = "import resource, subprocess, sys\n\
    r = subprocess.run(sys.argv[2:])\n\
    open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n\
    sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)";

pub fn run_bounded(sb: &Sandbox, args: &[&str], limit: Duration) -> Bounded {
    use std::os::unix::process::CommandExt;
    let tag = format!("{}-{:?}", std::process::id(), std::thread::current().id());
    let tag: String = tag.chars().filter(char::is_ascii_alphanumeric).collect();
    let out_path = sb.path().join(format!("out-{tag}"));
    let err_path = sb.path().join(format!("err-{tag}"));
    let peak_path = sb.path().join(format!("peak-{tag}"));
    let start = Instant::now();
    // The binary with the environment `std_cmd` gives it, under the measuring python3.
    let bin = sb.std_cmd();
    let mut child = std::process::Command::new("python3")
        .args(["-c", PEAK])
        .arg(&peak_path)
        .arg(bin.get_program())
        .args(args)
        .env_clear()
        .envs(bin.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            // SAFETY: kills the process group this test made.
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.wait();
            panic!("{args:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Bounded {
        code: status.code(),
        stdout: read(&out_path),
        stderr: read(&err_path),
        peak_kb: read(&peak_path).trim().parse().unwrap(),
        took: start.elapsed(),
    }
}

/// A fleet with a healthy demo install `ok` (root's) and a victim install `victim` (uid 4343)
/// beside a hostile one `evil` (uid 4242, shaped by `craft` before it is chowned).
struct Scene {
    sb: Sandbox,
    fleet: PathBuf,
    evil: PathBuf,
    victim: PathBuf,
    ok: PathBuf,
}

impl Scene {
    fn new(craft: impl FnOnce(&Path, &Path)) -> Scene {
        let sb = Sandbox::new();
        let fleet = sb.path().join("fleet");
        let (ok, evil, victim) = (
            fleet.join("ok"),
            fleet.join("evil"),
            sb.path().join("victim"),
        );
        copy_tree(Path::new(DEMO), &ok);
        copy_tree(Path::new(DEMO), &evil);
        copy_tree(Path::new(DEMO), &victim);
        chown_tree(&victim, VICTIM);
        craft(&evil, &victim);
        chown_tree(&evil, HOSTILE);
        Scene {
            sb,
            fleet,
            evil,
            victim,
            ok,
        }
    }

    /// Everything outside the hostile install and the healthy one.
    fn outside(&self) -> BTreeMap<PathBuf, (Vec<u8>, u32, u32)> {
        snapshot(&self.victim)
    }

    fn run(&self, args: &[&str]) -> (Bounded, Value) {
        let f = self.fleet.display().to_string();
        let all = [args, &["--format", "json", "--fleet", &f]].concat();
        let b = run_bounded(&self.sb, &all, Duration::from_secs(30));
        assert!(b.peak_kb < 200 * 1024, "peak {} kB", b.peak_kb);
        let v: Value = serde_json::from_str(&b.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", b.stdout, b.stderr));
        (b, v)
    }

    fn outcome<'a>(&self, v: &'a Value, st: &Path) -> &'a Value {
        install_entry(v, st)
    }

    /// The healthy install was migrated: its base URL is on the China host.
    fn healthy_migrated(&self) {
        assert!(read(self.ok.join("openclaw.json")).contains("https://api.minimaxi.com/anthropic"));
    }
}

/// A scene whose installs were both migrated (as root: the test then crafts the hostile one's
/// files and gives them to their owner).
fn applied_scene() -> Scene {
    let sc = Scene::new(|_, _| {});
    chown_tree(&sc.evil, 0);
    let (b, _) = sc.run(&["migrate", "--yes"]);
    assert_eq!(b.code, Some(0), "{}", b.stderr);
    sc
}

#[test]
fn a_crafted_ledger_cannot_lead_rollback_out_of_the_install() {
    require_root();
    type Tamper = fn(&mut Value, &Path);
    let tampers: [(&str, Tamper); 4] = [
        ("an absolute path", |m, victim| {
            m["files"][0]["path"] = Value::from(victim.join("openclaw.json").display().to_string())
        }),
        ("a ../ path", |m, _| {
            m["files"][1]["path"] = Value::from("../../victim/agents/main/agent/models.json")
        }),
        (
            "no copy of a file that existed (it would be deleted)",
            |m, _| m["files"][3]["backup"] = Value::Null,
        ),
        ("a copy outside the set", |m, _| {
            m["files"][2]["backup"] = Value::from("../../../../victim/openclaw.json")
        }),
    ];
    for (what, tamper) in tampers {
        let sc = applied_scene();
        let manifest_path = only_backup_set(&sc.evil).join("manifest.json");
        let mut manifest = json(&manifest_path);
        tamper(&mut manifest, &sc.victim);
        write(
            &manifest_path,
            &serde_json::to_string_pretty(&manifest).unwrap(),
        );
        chown_tree(&sc.evil, HOSTILE);
        let before = sc.outside();
        let (b, v) = sc.run(&["rollback", "--yes"]);
        assert_eq!(b.code, Some(2), "{what}: {}", b.stdout);
        let evil = sc.outcome(&v, &sc.evil);
        assert_eq!(evil["outcome"], "failed", "{what}: {evil}");
        assert_eq!(evil["error"]["kind"], "confinement", "{what}: {evil}");
        assert!(
            evil["error"]["message"]
                .as_str()
                .unwrap()
                .contains("tampering"),
            "{what}: {evil}"
        );
        assert_eq!(sc.outcome(&v, &sc.ok)["outcome"], "rolled-back", "{what}");
        assert_eq!(
            sc.outside(),
            before,
            "{what}: a file outside the install changed"
        );
    }
    // A recorded setuid mode comes back as plain permission bits.
    let sc = applied_scene();
    let manifest_path = only_backup_set(&sc.evil).join("manifest.json");
    let mut manifest = json(&manifest_path);
    for f in manifest["files"].as_array_mut().unwrap() {
        f["mode"] = Value::from(0o104755);
    }
    write(
        &manifest_path,
        &serde_json::to_string_pretty(&manifest).unwrap(),
    );
    chown_tree(&sc.evil, HOSTILE);
    let (b, v) = sc.run(&["rollback", "--yes"]);
    assert_eq!(b.code, Some(0), "{v}");
    for e in walkdir::WalkDir::new(&sc.evil) {
        let m = e.unwrap().metadata().unwrap();
        assert_eq!(
            m.mode() & 0o7000,
            0,
            "a setuid, setgid or sticky bit was restored"
        );
    }
}

#[test]
fn links_and_agent_dirs_never_lead_root_into_other_files() {
    require_root();
    // A root-only file the hostile install links its auth store to.
    let secret_dir = tempfile::tempdir().unwrap();
    let root_file = secret_dir.path().join("root-only.json");
    write(&root_file, "{\"version\": 1, \"profiles\": {}}\n");
    std::fs::set_permissions(&root_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    type Craft = Box<dyn Fn(&Path, &Path)>;
    let crafts: Vec<(&str, Craft)> = vec![
        (
            "absolute agentDir",
            Box::new(|evil, victim| {
                let cfg = read(evil.join("openclaw.json")).replace(
                    r#"{ id: "minimax-cn", name: "MiniMax CN" }"#,
                    &format!(
                        r#"{{ id: "minimax-cn", name: "MiniMax CN", agentDir: "{}" }}"#,
                        victim.join("agents/minimax-cn/agent").display()
                    ),
                );
                write(evil.join("openclaw.json"), &cfg);
            }),
        ),
        (
            "../ agentDir",
            Box::new(|evil, _| {
                let cfg = read(evil.join("openclaw.json")).replace(
                r#"{ id: "minimax-cn", name: "MiniMax CN" }"#,
                r#"{ id: "minimax-cn", name: "MiniMax CN", agentDir: "../../victim/agents/minimax-cn/agent" }"#,
            );
                write(evil.join("openclaw.json"), &cfg);
            }),
        ),
        (
            "symlinked agent dir",
            Box::new(|evil, victim| {
                std::fs::remove_dir_all(evil.join("agents/minimax-cn/agent")).unwrap();
                std::os::unix::fs::symlink(
                    victim.join("agents/minimax-cn/agent"),
                    evil.join("agents/minimax-cn/agent"),
                )
                .unwrap();
            }),
        ),
        (
            ".clawmigrate is a link",
            Box::new(|evil, victim| {
                std::os::unix::fs::symlink(victim, evil.join(".clawmigrate")).unwrap();
            }),
        ),
    ];
    let root_link = root_file.clone();
    for (what, craft) in crafts {
        let sc = Scene::new(|e, v| craft(e, v));
        let before = sc.outside();
        let (b, v) = sc.run(&["migrate", "--yes"]);
        assert_eq!(sc.outside(), before, "{what}: the victim's install changed");
        assert_eq!(sc.outcome(&v, &sc.ok)["outcome"], "changed", "{what}: {v}");
        sc.healthy_migrated();
        assert_eq!(b.code, Some(2), "{what}: {v}");
        assert_eq!(sc.outcome(&v, &sc.evil)["outcome"], "failed", "{what}");
    }
    // An auth store linked to a root-only file: never read nor written (as its owner, it cannot).
    let sc = Scene::new(|evil, _| {
        let auth = evil.join("agents/main/agent/auth-profiles.json");
        std::fs::remove_file(&auth).unwrap();
        std::os::unix::fs::symlink(&root_link, &auth).unwrap();
    });
    let before = std::fs::read(&root_file).unwrap();
    let (_, v) = sc.run(&["migrate", "--yes"]);
    assert_eq!(std::fs::read(&root_file).unwrap(), before);
    assert_eq!(std::fs::metadata(&root_file).unwrap().uid(), 0);
    let evil = sc.outcome(&v, &sc.evil);
    assert_eq!(evil["outcome"], "failed", "{evil}");
    assert_eq!(evil["error"]["kind"], "permission", "{evil}");
    assert!(
        evil["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Permission denied"),
        "{evil}"
    );
    sc.healthy_migrated();
}

#[test]
fn what_it_creates_belongs_to_the_install_owner() {
    require_root();
    let sc = Scene::new(|evil, _| {
        std::fs::remove_file(evil.join("agents/main/agent/auth-profiles.json")).unwrap();
    });
    let (b, _) = sc.run(&["migrate", "--yes"]);
    assert_eq!(b.code, Some(0), "{}", b.stdout);
    for e in walkdir::WalkDir::new(&sc.evil) {
        let e = e.unwrap();
        let m = std::fs::symlink_metadata(e.path()).unwrap();
        assert_eq!(
            (m.uid(), m.gid()),
            (HOSTILE, HOSTILE),
            "{}",
            e.path().display()
        );
    }
    // The owner can use its own status and rollback.
    let st = sc.evil.display().to_string();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=4242", "--regid=4242", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_clawmigrate"))
        .args(["rollback", "--yes", "--format", "json", "--state-dir", &st])
        .env_clear()
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_of(&out)["installs"][0]["outcome"], "rolled-back");
}

#[test]
fn fifos_devices_and_huge_files_never_hold_up_the_fleet() {
    require_root();
    let fifo = |p: &Path| {
        std::fs::remove_file(p).unwrap();
        mkfifo(p);
    };
    type Craft = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Craft, &str)> = vec![
        (
            "FIFO config",
            Box::new(move |e: &Path| fifo(&e.join("openclaw.json"))),
            "not a regular file",
        ),
        (
            "FIFO models.json",
            Box::new(move |e: &Path| fifo(&e.join("agents/main/agent/models.json"))),
            "not a regular file",
        ),
        (
            "FIFO auth store",
            Box::new(move |e: &Path| fifo(&e.join("agents/main/agent/auth-profiles.json"))),
            "not a regular file",
        ),
        (
            "/dev/zero as models.json",
            Box::new(|e: &Path| {
                let m = e.join("agents/main/agent/models.json");
                std::fs::remove_file(&m).unwrap();
                std::os::unix::fs::symlink("/dev/zero", &m).unwrap();
            }),
            "not a regular file",
        ),
        (
            "a 3 MB models.json",
            Box::new(|e: &Path| {
                let m = e.join("agents/main/agent/models.json");
                write(
                    &m,
                    &format!(
                        "{{\"providers\": {{}}, \"pad\": \"{}\"}}",
                        "x".repeat(3 << 20)
                    ),
                );
            }),
            "larger than the read cap",
        ),
    ];
    for (what, craft, why) in cases {
        let sc = Scene::new(|e, _| craft(e));
        let (b, v) = sc.run(&["migrate", "--yes", "--max-file-bytes", "2000000"]);
        assert!(
            b.took < Duration::from_secs(20),
            "{what}: took {:?}",
            b.took
        );
        assert_eq!(b.code, Some(2), "{what}: {v}");
        let evil = sc.outcome(&v, &sc.evil);
        assert_eq!(evil["error"]["kind"], "limit", "{what}: {evil}");
        assert!(
            evil["error"]["message"].as_str().unwrap().contains(why),
            "{what}: {evil}"
        );
        sc.healthy_migrated();
    }
}

/// Makes a FIFO at `p`.
fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo with a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// A FIFO where a SQLite store should be, in either layout (issue 16): `status` and
/// `migrate --yes` refuse it at once as no regular file, naming it, and reach the healthy
/// install. (SQLite opens a database by name, blocking on a FIFO; every open it makes is checked.)
#[test]
fn a_fifo_where_a_database_should_be_never_holds_up_the_fleet() {
    require_root();
    for db in [
        "state/openclaw.sqlite",
        "agents/main/agent/openclaw-agent.sqlite",
    ] {
        let sc = Scene::new(|e, _| {
            let p = e.join(db);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            mkfifo(&p);
        });
        for verb in [&["status"][..], &["migrate", "--yes"]] {
            let (b, v) = sc.run(verb);
            assert_eq!(b.code, Some(2), "{db} {verb:?}: {v}");
            let evil = sc.outcome(&v, &sc.evil);
            assert_eq!(evil["error"]["kind"], "limit", "{db} {verb:?}: {evil}");
            let msg = evil["error"]["message"].as_str().unwrap();
            assert!(
                msg.contains(db) && msg.contains("not a regular file (a FIFO)"),
                "{db} {verb:?}: {msg}"
            );
            let ok = sc.outcome(&v, &sc.ok);
            assert!(ok["error"].is_null(), "{db} {verb:?}: {ok}");
        }
        sc.healthy_migrated();
        assert!(sc.evil.join(db).exists());
    }
}

/// An agent's own store, `openclaw-agent.sqlite` in `dir` (OpenClaw 2026.6+'s schema, WAL mode),
/// whose `primary` cell holds `store`. `in_log`: that write is still in the write-ahead log, the
/// database file itself small, as a running gateway can leave it.
fn agent_db(dir: &Path, store: &str, in_log: bool) {
    let c = rusqlite::Connection::open(dir.join("openclaw-agent.sqlite")).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY,
           store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
         INSERT INTO auth_profile_store VALUES ('primary', '{}', 1);
         PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .unwrap();
    if in_log {
        c.execute_batch("PRAGMA wal_autocheckpoint=0").unwrap();
        c.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .unwrap();
    }
    c.execute(
        "UPDATE auth_profile_store SET store_json = ?1 WHERE store_key = 'primary'",
        [store],
    )
    .unwrap();
}

/// A valid auth-store cell far over `--max-file-bytes` (issue 16): refused, naming the database
/// and the cell, without being loaded (peak memory well under the cell's size), and nothing of
/// it printed; a database file over the cap is refused as an oversized file is. The healthy
/// install beside it is migrated.
#[test]
fn a_store_cell_or_database_over_the_read_cap_is_refused_unread() {
    require_root();
    const CELL: usize = 50 << 20;
    for in_log in [true, false] {
        let sc = Scene::new(|e, _| {
            let dir = e.join("agents/main/agent");
            let mut store = json(dir.join("auth-profiles.json"));
            store["pad"] = Value::String("x".repeat(CELL));
            std::fs::remove_file(dir.join("auth-profiles.json")).unwrap();
            agent_db(&dir, &serde_json::to_string(&store).unwrap(), in_log);
        });
        let db = sc.evil.join("agents/main/agent/openclaw-agent.sqlite");
        let small = std::fs::metadata(&db).unwrap().len() < 1_000_000;
        assert_eq!(small, in_log, "{}", db.display());
        for verb in [&["migrate", "--dry-run"][..], &["migrate", "--yes"]] {
            let args = [verb, &["--max-file-bytes", "1000000"]].concat();
            let (b, v) = sc.run(&args);
            let what = format!("in log {in_log}, {verb:?}");
            assert_eq!(b.code, Some(2), "{what}: {v}");
            // Under the 50 MiB cell: it was never read (the migrations themselves take ~32 MB).
            assert!(b.peak_kb < 42 * 1024, "{what}: peak {} kB", b.peak_kb);
            assert!(b.stdout.len() + b.stderr.len() < 1 << 20, "{what}");
            let evil = sc.outcome(&v, &sc.evil);
            assert_eq!(evil["error"]["kind"], "limit", "{what}: {evil}");
            let msg = evil["error"]["message"].as_str().unwrap();
            let why = if in_log {
                "openclaw-agent.sqlite: the cell primary holds"
            } else {
                "openclaw-agent.sqlite: cannot open the database: is larger than the read cap"
            };
            assert!(msg.contains(why), "{what}: {msg}");
        }
        sc.healthy_migrated();
    }
}

#[test]
fn extended_attributes_and_acls_are_kept_and_restored() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let models = st.join("agents/minimax-cn/agent/models.json");
    // A POSIX ACL (user 1000 may read) and a user attribute.
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (1u16, 6u16, u32::MAX),
        (2, 4, 1000),
        (4, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    let set = |name: &str, value: &[u8]| {
        let (p, n) = (cstr(&models), std::ffi::CString::new(name).unwrap());
        // SAFETY: setxattr with valid C strings and buffer.
        let rc = unsafe {
            libc::setxattr(
                p.as_ptr(),
                n.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        assert_eq!(
            rc,
            0,
            "setxattr {name}: {}",
            std::io::Error::last_os_error()
        );
    };
    set("user.origin", b"ops-team");
    set("system.posix_acl_access", &acl);
    sb.cli(&["migrate", "--yes"], &st).success();
    assert_eq!(
        get_xattr(&models, "user.origin"),
        Some(b"ops-team".to_vec())
    );
    assert_eq!(
        get_xattr(&models, "system.posix_acl_access"),
        Some(acl.clone())
    );
    // Changed since: rollback brings back the attributes the file had before the run.
    set("user.origin", b"changed");
    sb.cli(&["rollback", "--yes", "--force"], &st).success();
    assert_eq!(
        get_xattr(&models, "user.origin"),
        Some(b"ops-team".to_vec())
    );
    assert_eq!(get_xattr(&models, "system.posix_acl_access"), Some(acl));
}

fn cstr(p: &Path) -> std::ffi::CString {
    std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap()
}

fn get_xattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    let (p, n) = (cstr(p), std::ffi::CString::new(name).unwrap());
    let mut buf = vec![0u8; 4096];
    // SAFETY: getxattr writes at most buf.len() bytes.
    let rc = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (rc >= 0).then(|| {
        buf.truncate(rc as usize);
        buf
    })
}

#[test]
fn names_from_the_install_reach_the_terminal_escaped() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    let evil = fleet.join("evil\u{1b}]0;pwned\u{7}\u{1b}[2J");
    copy_tree(Path::new(DEMO), &evil);
    copy_tree(Path::new(DEMO), &fleet.join("ok"));
    let out = sb
        .cmd()
        .args(["migrate", "--dry-run", "--fleet"])
        .arg(&fleet)
        .output()
        .unwrap();
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(
        !o.contains('\u{1b}') && !o.contains('\u{7}') && !e.contains('\u{1b}'),
        "{o:?}"
    );
    assert!(o.contains("evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"), "{o}");
}

#[test]
fn rollback_waits_for_openclaws_lock_and_keeps_a_gateway_write() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let auth = st.join("agents/main/agent/auth-profiles.json");
    let lock = st.join("agents/main/agent/auth-profiles.json.lock");
    // The gateway holds its lock: rollback waits for it.
    std::fs::create_dir(&lock).unwrap();
    let child = sb
        .std_cmd()
        .args(["rollback", "--yes", "--state-dir"])
        .arg(&st)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // It holds its own lock, then waits for the gateway's, however long that takes.
    wait_for(|| run_lock_held(&st), "the rollback to take its lock");
    std::thread::sleep(Duration::from_millis(300));
    assert!(lock.exists(), "the rollback took over a live lock");
    let mid = read(&auth);
    std::fs::remove_dir(&lock).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_ne!(read(&auth), mid, "restored after the lock was released");
    // A gateway write between staging and renaming is kept, and the rollback says so.
    sb.cli(&["migrate", "--yes"], &st).success();
    let mut cmd = sb.std_cmd();
    paused(&sb, &mut cmd, "60000");
    let child = Drained::spawn(
        cmd.args(["rollback", "--yes", "--format", "json", "--state-dir"])
            .arg(&st),
    );
    wait_for(|| staged(&st), "the rollback to stage");
    let gateway = read(&auth).replace("\"version\": 1", "\"version\": 1, \"gateway\": true");
    write(&auth, &gateway);
    resume(&sb);
    let out = child.output();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(read(&auth), gateway, "the gateway's write was lost");
    let v = json_of(&out);
    assert_eq!(v["installs"][0]["error"]["kind"], "changed", "{v}");
    assert!(
        v["installs"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("changed since it was planned"),
        "{v}"
    );
}

#[test]
fn links_the_owner_made_to_their_own_files_are_followed_and_planted_ones_refused() {
    require_root();
    // The owner keeps an agent's files elsewhere, behind a link: OpenClaw follows it, so do we.
    let sc = Scene::new(|evil, _| {
        let elsewhere = evil.parent().unwrap().parent().unwrap().join("evil-agents");
        std::fs::rename(evil.join("agents/minimax-cn"), &elsewhere).unwrap();
        chown_tree(&elsewhere, HOSTILE);
        std::os::unix::fs::symlink(&elsewhere, evil.join("agents/minimax-cn")).unwrap();
    });
    let (b, v) = sc.run(&["migrate", "--yes"]);
    assert_eq!(b.code, Some(0), "{v}");
    assert_eq!(sc.outcome(&v, &sc.evil)["outcome"], "changed");
    let (b, v) = sc.run(&["rollback", "--yes"]);
    assert_eq!(b.code, Some(0), "{v}");
    // After a run, the owner swaps a folder for a link into the victim's install: the recorded
    // path now passes through it, and rollback refuses instead of writing there.
    let sc = applied_scene();
    let main = sc.evil.join("agents/main");
    std::fs::remove_dir_all(&main).unwrap();
    std::os::unix::fs::symlink(sc.victim.join("agents/main"), &main).unwrap();
    chown_tree(&sc.evil, HOSTILE);
    let before = sc.outside();
    let (b, v) = sc.run(&["rollback", "--yes", "--force"]);
    assert_eq!(b.code, Some(2), "{v}");
    let evil = sc.outcome(&v, &sc.evil);
    assert!(
        evil["error"]["message"]
            .as_str()
            .unwrap()
            .contains("passes through the link"),
        "{evil}"
    );
    assert_eq!(sc.outside(), before);
}

#[test]
fn a_fleet_link_to_someone_elses_folder_is_reported_not_followed() {
    require_root();
    let sc = Scene::new(|_, _| {});
    // The hostile user links the victim's install into the fleet.
    let link = sc.fleet.join("zz-link");
    std::os::unix::fs::symlink(&sc.victim, &link).unwrap();
    std::os::unix::fs::lchown(&link, Some(HOSTILE), Some(HOSTILE)).unwrap();
    let before = sc.outside();
    let (b, v) = sc.run(&["migrate", "--yes"]);
    assert_eq!(b.code, Some(2), "{v}");
    let linked = sc.outcome(&v, &link);
    assert_eq!(linked["outcome"], "failed");
    assert!(
        linked["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not follow a link"),
        "{linked}"
    );
    assert_eq!(sc.outside(), before);
    sc.healthy_migrated();
}

/// A FIFO planted as `.clawmigrate/locks.json` (the record of held locks, read by recovery and
/// by every lock taken) is hostile input like the ledger: it is never opened to block on, and
/// the run goes through.
#[test]
fn a_fifo_planted_as_the_lock_record_never_hangs_a_run() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    let record = st.join(".clawmigrate/locks.json");
    let _ = std::fs::remove_file(&record);
    mkfifo(&record);
    let mut child = sb
        .std_cmd()
        .args(["rollback", "--yes", "--state-dir"])
        .arg(&st)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the run blocked on the FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert_eq!(tree(&st, false), tree(Path::new(DEMO), false));
}
