//! Crashes and OpenClaw's lock: `kill -9` at random points of apply and rollback, and a lock held
//! longer than proper-lockfile's stale time.
use crate::support::*;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A small fixed-seed generator (xorshift64*), so every run of the test kills at the same points.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Where a trial's kill lands.
#[derive(Clone, Copy, Debug, PartialEq)]
enum KillAt {
    FromStart,
    InThePause,
    AfterThePause,
}

impl KillAt {
    const ALL: [KillAt; 3] = [KillAt::FromStart, KillAt::InThePause, KillAt::AfterThePause];
}

fn is_temp(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".clawmigrate-") && n.ends_with(".tmp"))
}

/// Every path under `dir` (files and directories) matching `pick`.
fn find(dir: &Path, pick: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| pick(p))
        .collect()
}

/// The install's files (not clawmigrate's own, nor its temp files), by path relative to `dir`.
fn live(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut t = tree(dir, false);
    t.retain(|p, _| !is_temp(p));
    t
}

/// Every file is exactly its old or its new bytes; a temp file left behind is private.
fn old_or_new(
    dir: &Path,
    old: &BTreeMap<PathBuf, Vec<u8>>,
    new: &BTreeMap<PathBuf, Vec<u8>>,
    what: &str,
) {
    let now = live(dir);
    assert_eq!(
        now.keys().collect::<Vec<_>>(),
        old.keys().collect::<Vec<_>>(),
        "{what}"
    );
    for (p, b) in &now {
        assert!(
            Some(b) == old.get(p) || Some(b) == new.get(p),
            "{what}: {} is torn",
            p.display()
        );
    }
    for t in find(dir, is_temp) {
        if t.is_file() {
            let mode = std::fs::metadata(&t).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{what}: {} is readable by others", t.display());
        }
    }
}

/// Runs a command on `target` and asserts it did not wait for a dead run's locks to go stale
/// (30 s): the bound is what tells the two apart, with room for a loaded CI machine, not a speed
/// target (speed is measured in tests/bench).
fn quick(sb: &Sandbox, args: &[&str], target: &[&std::ffi::OsStr], what: &str) -> i32 {
    let start = Instant::now();
    let out = sb.cmd().args(args).args(target).output().unwrap();
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "{what}: {args:?} took {took:?}: {}",
        stderr(&out)
    );
    out.status.code().unwrap()
}

/// Nothing left behind: no temp file and no lock directory anywhere.
fn clean(dir: &Path, what: &str) {
    let left = find(dir, |p| {
        is_temp(p) || p.extension().is_some_and(|e| e == "lock") && p.is_dir()
    });
    assert!(left.is_empty(), "{what}: left behind: {left:?}");
}

#[test]
fn kill_9_at_random_points_of_apply_and_rollback_leaves_every_file_old_or_new_and_the_next_run_recovers()
 {
    let started = Instant::now();
    let sb = Sandbox::new();
    let old = live(Path::new(DEMO));
    let done = sb.demo("migrated");
    sb.cli(&["migrate", "--yes"], &done).success();
    let new = live(&done);
    assert_ne!(old, new);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut trials, mut torn_checks, mut recovered, mut temps, mut locks) = (0, 0, 0, 0, 0);
    for trial in 0..36 {
        // Three kinds of run: migrate on one install, on a small fleet, and rollback of one.
        let kind = trial % 3;
        let root = sb.path().join(format!("t{trial:02}"));
        let installs: Vec<PathBuf> = if kind == 1 {
            (0..3)
                .map(|i| {
                    let p = root.join(format!("c{i}"));
                    copy_tree(Path::new(DEMO), &p);
                    p
                })
                .collect()
        } else {
            copy_tree(Path::new(DEMO), &root);
            vec![root.clone()]
        };
        let target: Vec<&std::ffi::OsStr> = if kind == 1 {
            vec!["--fleet".as_ref(), root.as_os_str()]
        } else {
            vec!["--state-dir".as_ref(), root.as_os_str()]
        };
        let (verb, before, after) = if kind == 2 {
            sb.cmd()
                .args(["migrate", "--yes"])
                .args(&target)
                .assert()
                .success();
            (["rollback", "--yes"], &new, &old)
        } else {
            (["migrate", "--yes"], &old, &new)
        };
        // Where the kill lands, by the run's own progress rather than a guess of how long it
        // takes on this machine: at a random time from the start (loading, planning, staging,
        // a short pause, renaming), at a random time in the pause between the barriers, or at a
        // random time after it (renaming, completing).
        let at = KillAt::ALL[trial / 3 % 3];
        let pause = match at {
            KillAt::FromStart => rng.below(200),
            KillAt::InThePause | KillAt::AfterThePause => 60_000,
        };
        let mut cmd = sb.std_cmd();
        paused(&sb, &mut cmd, &pause.to_string());
        let mut child = cmd
            .args(verb)
            .args(&target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if at == KillAt::FromStart {
            // A run reaches staging after loading and planning some 95 migrations.
            std::thread::sleep(Duration::from_millis(rng.below(pause + 900)));
        } else {
            // Its ledger entry comes first, then its temp files; it then pauses.
            wait_for(
                || {
                    installs
                        .iter()
                        .all(|i| staged(i) && !find(i, is_temp).is_empty())
                },
                "the run to stage its files",
            );
            if at == KillAt::AfterThePause {
                resume(&sb);
            }
            std::thread::sleep(Duration::from_millis(rng.below(60)));
        }
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        trials += 1;
        let what = format!("trial {trial} ({verb:?}, {at:?}, pause {pause} ms)");
        for i in &installs {
            old_or_new(i, before, after, &what);
            torn_checks += 1;
        }
        let interrupted = installs.iter().any(|i| staged(i));
        if at == KillAt::InThePause {
            assert!(
                interrupted,
                "{what}: killed between the barriers, no run is left staged"
            );
        }
        recovered += usize::from(interrupted);
        temps += find(&root, is_temp).len();
        locks += find(&root, |p| {
            p.extension().is_some_and(|e| e == "lock") && p.is_dir()
        })
        .len();
        // The next run starts at once, leaves nothing behind and completes.
        if kind == 2 {
            assert_eq!(quick(&sb, &["rollback", "--yes"], &target, &what), 0);
            clean(&root, &what);
            for i in &installs {
                assert_eq!(
                    live(i),
                    old,
                    "{what}: rollback did not restore the original"
                );
            }
            assert_eq!(quick(&sb, &["migrate", "--yes"], &target, &what), 0);
            assert_eq!(quick(&sb, &["migrate", "--check"], &target, &what), 0);
        } else {
            assert_eq!(quick(&sb, &["migrate", "--yes"], &target, &what), 0);
            clean(&root, &what);
            assert_eq!(quick(&sb, &["migrate", "--check"], &target, &what), 0);
            for i in &installs {
                assert_eq!(live(i), new, "{what}");
            }
            assert_eq!(quick(&sb, &["rollback", "--yes"], &target, &what), 0);
            for i in &installs {
                assert_eq!(
                    live(i),
                    old,
                    "{what}: rollback did not restore the original"
                );
            }
        }
        clean(&root, &what);
    }
    eprintln!(
        "kill -9: {trials} trials, {torn_checks} installs checked, {recovered} interrupted mid-run, {temps} temp files and {locks} lock dirs left by the kills, {:?}",
        started.elapsed()
    );
    assert!(
        recovered > 0 && temps > 0 && locks > 0,
        "the kills missed the window between the barriers"
    );
}

/// `status` on an install whose run was interrupted says so, and the next migrate rolls it back.
#[test]
fn status_reports_an_interrupted_run_and_migrate_rolls_it_back() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let mut child = paused_apply(&sb, &st, "20000")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Its ledger entry comes first, then its temp files: wait for both (it then pauses).
    wait_for(
        || staged(&st) && !find(&st, is_temp).is_empty(),
        "the run to stage its files",
    );
    let _ = child.kill();
    child.wait().unwrap();
    let agent = st.join("agents/main/agent");
    assert!(agent.join("auth-profiles.json.lock").is_dir());
    let temps = find(&st, is_temp);
    assert!(!temps.is_empty());
    let out = sb.run(&["status"], &st);
    let s = stdout(&out);
    assert!(
        s.contains("interrupted: run ") && s.contains("the next migrate rolls back what it wrote"),
        "{s}"
    );
    let v = json_of(&sb.run(&["status", "--format", "json"], &st));
    assert!(v.to_string().contains("\"kind\":\"interrupted\""), "{v}");
    let out = sb.run(&["migrate", "--yes", "--verbose"], &st);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("was interrupted"), "{s}");
    assert!(
        s.contains("temp files left by an interrupted clawmigrate run"),
        "{s}"
    );
    clean(&st, "after the next run");
    let s = stdout(&sb.run(&["status"], &st));
    assert!(!s.contains("interrupted"), "{s}");
}

/// A lock held longer than proper-lockfile's stale time stays fresh, so a gateway following
/// proper-lockfile's rules never takes it over.
#[test]
fn openclaws_lock_is_refreshed_while_held_longer_than_its_stale_time() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    // The refresher touches the lock every half stale time: a stale time of 1 s leaves it half
    // a second of slack on a loaded machine, and a watch of three stale times spans six.
    let stale = Duration::from_millis(1000);
    let child = paused_apply(&sb, &st, "60000")
        .env(
            "CLAWMIGRATE_TEST_LOCK_STALE_MS",
            stale.as_millis().to_string(),
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lock = st.join("agents/main/agent/auth-profiles.json.lock");
    wait_for(|| lock.is_dir(), "the run to take the lock");
    // The gateway: takes the lock over only when its mtime is older than the stale time.
    let (mut mtimes, mut took_over) = (std::collections::BTreeSet::new(), 0);
    let watch = Instant::now();
    while watch.elapsed() < 3 * stale {
        if let Ok(m) = std::fs::metadata(&lock).and_then(|m| m.modified()) {
            mtimes.insert(m);
            if m.elapsed().unwrap_or_default() > stale {
                took_over += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    resume(&sb);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(took_over, 0, "the lock went stale while held");
    assert!(
        mtimes.len() >= 4,
        "the lock's mtime was not refreshed: {mtimes:?}"
    );
    assert!(!lock.exists());
}

/// A lock another process took over is not the run's any more: the install is not written, the
/// message says why, and the new holder's lock stays.
#[test]
fn a_lock_taken_over_while_held_stops_the_install_and_is_left_to_its_holder() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    let auth = st.join("agents/main/agent/auth-profiles.json");
    let before = read(&auth);
    let child = paused_apply(&sb, &st, "60000")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(|| staged(&st), "the run to stage its files");
    // A gateway that ignores the rules takes it over.
    let lock = st.join("agents/main/agent/auth-profiles.json.lock");
    std::fs::remove_dir(&lock).unwrap();
    std::fs::create_dir(&lock).unwrap();
    resume(&sb);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let s = stdout(&out);
    assert!(
        s.contains("was taken over by another process while clawmigrate held it")
            && s.contains("nothing of this install was written"),
        "{s}"
    );
    assert_eq!(read(&auth), before);
    assert!(lock.is_dir(), "the new holder's lock was removed");
}

/// An interactive `migrate` on an install a run was killed in the middle of (some files renamed,
/// its ledger entry still incomplete) recovers it before it shows the plan: the operator reviews
/// the plan that will be applied, and one "y" migrates the install (it used to show a plan for
/// the half-written files, then refuse at apply because recovery changed them).
#[test]
fn an_interactive_migrate_recovers_a_half_written_install_before_it_asks() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    sb.cli(&["migrate", "--yes"], &st).success();
    // Killed after renaming every file but one, before completing its ledger entry.
    let ledger = st.join(".clawmigrate/ledger.json");
    let mut v = json(&ledger);
    v["runs"][0]["incomplete"] = serde_json::Value::Bool(true);
    write(&ledger, &serde_json::to_string_pretty(&v).unwrap());
    let seed = Path::new(DEMO).join("agents/minimax-cn/agent/models.json");
    write(st.join("agents/minimax-cn/agent/models.json"), &read(&seed));
    assert!(stdout(&sb.run(&["status"], &st)).contains("interrupted: run "));

    let cmdline = format!(
        "{} migrate --state-dir {}",
        env!("CARGO_BIN_EXE_clawmigrate"),
        st.display()
    );
    let term = on_a_pty(&sb, &cmdline, &[("NO_COLOR", "1")], Some("y\n"));
    let shown = stdout(&term);
    assert_eq!(term.status.code(), Some(0), "{shown}");
    assert!(shown.contains("was interrupted"), "{shown}");
    // The reviewed plan covered every file the interrupted run had written, not just the one left.
    assert!(shown.contains("+++ b/openclaw.json"), "{shown}");
    sb.cli(&["migrate", "--check"], &st).code(0);
    assert!(!stdout(&sb.run(&["status"], &st)).contains("interrupted"));
}
