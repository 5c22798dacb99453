//! Test support: temporary installs, running the binary, byte-level tree comparison, snapshots.
#![allow(dead_code)]
use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed-7621");

/// A temp dir that is both HOME and the parent of test installs.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies the demo install to `name` inside the sandbox.
    pub fn demo(&self, name: &str) -> PathBuf {
        let to = self.path().join(name);
        copy_tree(Path::new(DEMO), &to);
        to
    }

    /// The binary with a clean environment: HOME is the sandbox, no OpenClaw variables, no colour.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// Runs the binary on one install (`ARGS --state-dir ST`) and returns what it did.
    pub fn run(&self, args: &[&str], st: &Path) -> std::process::Output {
        self.cmd()
            .args(args)
            .arg("--state-dir")
            .arg(st)
            .output()
            .unwrap()
    }

    /// Runs the binary from `cwd` with `args` (relative names in them are read from there).
    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> std::process::Output {
        self.cmd().current_dir(cwd).args(args).output().unwrap()
    }

    /// `list --format json`: the migrations built into the binary, in run order.
    pub fn list_json(&self) -> serde_json::Value {
        let out = self
            .cmd()
            .args(["list", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        json_of(&out)
    }

    /// The same, for assertions on the exit code.
    pub fn cli(&self, args: &[&str], st: &Path) -> assert_cmd::assert::Assert {
        self.cmd().args(args).arg("--state-dir").arg(st).assert()
    }

    /// The same, as a plain process to spawn in the background. Its stdin is empty (not the
    /// terminal `cargo test` may run on), so a spawned run never asks, wherever the suite runs.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_clawmigrate"));
        c.env_clear()
            .env("HOME", self.path())
            .env("NO_COLOR", "1")
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(std::process::Stdio::null());
        c
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        let dst = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else if e.file_type().is_symlink() && e.path().is_dir() {
            // A link to a folder (2026.9.6 doctor links plugin-skills/* into its package) stays a link.
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// Every file under `dir` with its bytes, optionally leaving out clawmigrate's own folder.
pub fn tree(dir: &Path, with_tool_dir: bool) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| with_tool_dir || e.file_name() != ".clawmigrate")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The backup set of an install that has had one run.
pub fn only_backup_set(st: &Path) -> PathBuf {
    let sets: Vec<PathBuf> = std::fs::read_dir(st.join(".clawmigrate/backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
    sets.into_iter().next().unwrap()
}

pub fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p).unwrap()
}

pub fn write(p: impl AsRef<Path>, s: &str) {
    let p = p.as_ref();
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, s).unwrap();
}

pub fn json(p: impl AsRef<Path>) -> serde_json::Value {
    serde_json::from_str(&read(p)).unwrap()
}

/// The JSON a `--format json` run printed.
pub fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Runs an insta assertion with snapshots in the top-level `snapshots/` and the sandbox path hidden.
pub fn snap<F: FnOnce()>(sandbox: Option<&Path>, f: F) {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    if let Some(p) = sandbox {
        s.add_filter(&regex_escape(&p.display().to_string()), "[SANDBOX]");
    }
    s.add_filter(r"\d{8}T\d{6}Z-[0-9a-f]{4,12}(\.\d+)?", "[RUN_ID]");
    s.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[TIME]");
    s.add_filter(r#""version": "\d+\.\d+\.\d+""#, r#""version": "[VERSION]""#);
    s.bind(f);
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// `n` copies of the demo install under `<sandbox>/fleet`, named `c000`, `c001`, …
pub fn demo_fleet(sb: &Sandbox, n: usize) -> PathBuf {
    let fleet = sb.path().join("fleet");
    for i in 0..n {
        copy_tree(Path::new(DEMO), &fleet.join(format!("c{i:03}")));
    }
    fleet
}

/// The entry of a JSON report's `installs` for the install at `st`.
pub fn install_entry<'a>(v: &'a serde_json::Value, st: &Path) -> &'a serde_json::Value {
    let at = st.display().to_string();
    v["installs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["state_dir"] == at.as_str())
        .unwrap_or_else(|| panic!("no {at} in {v}"))
}

/// Every JSON document on a command's stdout (a script reads exactly one).
pub fn json_documents(out: &std::process::Output) -> Vec<serde_json::Value> {
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// A spawned run whose stdout a thread keeps reading while the test waits on the run: a JSON
/// report opens with every migration, which outgrows a pipe's buffer (64 KiB), and a child
/// nobody reads blocks on it before it reaches the point the test waits for.
pub struct Drained {
    child: std::process::Child,
    stdout: std::thread::JoinHandle<Vec<u8>>,
}

impl Drained {
    /// Spawns `cmd` with its stdout piped and read.
    pub fn spawn(cmd: &mut std::process::Command) -> Drained {
        use std::io::Read;
        let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
        let mut pipe = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut out = Vec::new();
            pipe.read_to_end(&mut out).unwrap();
            out
        });
        Drained { child, stdout }
    }

    /// Waits for the run and returns what it printed, as `wait_with_output` would.
    pub fn output(mut self) -> std::process::Output {
        let status = self.child.wait().unwrap();
        std::process::Output {
            status,
            stdout: self.stdout.join().unwrap(),
            stderr: Vec::new(),
        }
    }
}

/// Polls `cond` every 20 ms until it holds; fails after 20 s, naming `what` it waited for.
pub fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether the install's ledger records a run that has staged its files and not finished.
pub fn staged(st: &Path) -> bool {
    std::fs::read_to_string(st.join(".clawmigrate/ledger.json"))
        .is_ok_and(|l| l.contains("\"incomplete\": true"))
}

/// Whether a clawmigrate run holds the install's run lock now (it takes it after planning, before
/// OpenClaw's locks): a test can then act "while the run waits", without guessing a delay.
pub fn run_lock_held(st: &Path) -> bool {
    std::fs::File::open(st.join(".clawmigrate/lock"))
        .is_ok_and(|f| matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)))
}

/// `target/NAME`, made by `.ci/SCRIPT` (as `.ci/run` makes it): the script returns at once when
/// it is complete and current, else builds it (locked against other test threads); a failed
/// install fails the test, saying how to see why.
pub fn ci_installed(script: &str, name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dest = root.join("target").join(name);
    let status = std::process::Command::new("bash")
        .arg(root.join(".ci").join(script))
        .arg(&dest)
        .status()
        .expect("bash runs");
    assert!(
        status.success(),
        "installing target/{name} failed; run .ci/{script} target/{name} by hand to see why"
    );
    dest
}

/// Whether the tests run as root (CI does).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// For a test that creates files of other users or switches ids: fails (never passes silently)
/// when the suite does not run as root, saying so.
pub fn require_root() {
    assert!(
        is_root(),
        "this test needs root: it makes files owned by other users and runs as them (chown, setpriv). Run `cargo test` as root, as CI does (README: Try it)"
    );
}

/// chown -R to `uid:uid`, without following links.
pub fn chown_tree(dir: &Path, uid: u32) {
    for e in walkdir::WalkDir::new(dir).follow_links(false) {
        let e = e.unwrap();
        std::os::unix::fs::lchown(e.path(), Some(uid), Some(uid)).unwrap();
    }
}

/// Runs the shell command line `cmdline` on a pseudo-terminal (util-linux `script`), with only
/// HOME (the sandbox), PATH and `env` set. With an `answer`, types it once the terminal shows
/// the `[y/N]` question; stdin is closed after it (at once without one). stdout is what the
/// terminal showed.
pub fn on_a_pty(
    sb: &Sandbox,
    cmdline: &str,
    env: &[(&str, &str)],
    answer: Option<&str>,
) -> std::process::Output {
    use std::io::{Read, Write};
    use std::process::Stdio;
    use std::sync::{Arc, Mutex};
    let mut child = std::process::Command::new("script")
        .args(["-qec", cmdline, "/dev/null"])
        .env_clear()
        .env("HOME", sb.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs the binary on a pseudo-terminal");
    let mut stdin = child.stdin.take().unwrap();
    let mut pty_out = child.stdout.take().unwrap();
    let shown = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let shown = Arc::clone(&shown);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pty_out.read(&mut buf) {
                shown.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    if let Some(answer) = answer {
        let asked = || String::from_utf8_lossy(&shown.lock().unwrap()).contains("[y/N]");
        wait_for(
            || asked() || child.try_wait().unwrap().is_some(),
            "the question on the terminal",
        );
        if asked() {
            stdin.write_all(answer.as_bytes()).unwrap();
        }
    }
    drop(stdin);
    let mut out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    out.stdout = std::mem::take(&mut *shown.lock().unwrap());
    out
}

/// `migrate --yes` on `st` pausing between staging and renaming (the test pause) until
/// [`resume`] is called, or at most `pause_ms`.
pub fn paused_apply(sb: &Sandbox, st: &Path, pause_ms: &str) -> std::process::Command {
    let mut c = sb.std_cmd();
    paused(sb, &mut c, pause_ms);
    c.args(["migrate", "--yes", "--state-dir"]).arg(st);
    c
}

/// The file whose creation ends a paused run's pause (`CLAWMIGRATE_TEST_RESUME_FILE`).
fn resume_file(sb: &Sandbox) -> PathBuf {
    sb.path().join("resume-the-paused-run")
}

/// Makes `c` pause between staging and renaming until [`resume`] is called, or at most
/// `pause_ms`: a test acts on the staged run without racing a clock on a loaded machine.
pub fn paused(sb: &Sandbox, c: &mut std::process::Command, pause_ms: &str) {
    let _ = std::fs::remove_file(resume_file(sb));
    c.env("CLAWMIGRATE_TEST_PAUSE_MS", pause_ms)
        .env("CLAWMIGRATE_TEST_RESUME_FILE", resume_file(sb));
}

/// Ends the pause of the run [`paused`] armed.
pub fn resume(sb: &Sandbox) {
    std::fs::write(resume_file(sb), b"").unwrap();
}
