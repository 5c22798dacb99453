//! Issue 9, defects 5 and 11: `--key-file` reads only what holds one key, and never hangs.
use crate::support::*;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "sk-cp-KEYFILE-0a1b2c3d4e5f";

/// An install that needs a minimax-cn key and holds none.
fn needs_key(sb: &Sandbox) -> std::path::PathBuf {
    let st = sb.demo("st");
    std::fs::remove_file(st.join("agents/minimax-cn/agent/models.json")).unwrap();
    st
}

#[test]
fn a_key_file_of_one_line_is_read() {
    let sb = Sandbox::new();
    let st = needs_key(&sb);
    let f = sb.path().join("key");
    write(&f, &format!("{KEY}\n"));
    let spec = format!("minimax-cn={}", f.display());
    let out = sb.run(&["migrate", "--dry-run", "--key-file", &spec], &st);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("minimax-cn:default"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains(KEY));
}

#[test]
fn a_multi_line_or_control_character_key_file_is_refused() {
    let sb = Sandbox::new();
    let st = needs_key(&sb);
    for (i, text) in [
        format!("{KEY}\nsk-cp-SECOND-99887766\n"),
        format!("{KEY}\n\n"),
        format!("{KEY}\u{1b}[2J"),
        format!("# my key\n{KEY}"),
    ]
    .iter()
    .enumerate()
    {
        let f = sb.path().join(format!("key{i}"));
        write(&f, text);
        let spec = format!("minimax-cn={}", f.display());
        let out = sb.run(&["migrate", "--dry-run", "--key-file", &spec], &st);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(2), "{text:?}: {all}");
        assert!(all.contains(&f.display().to_string()), "{all}");
        assert!(all.contains("one line"), "{all}");
        assert!(!all.contains(&KEY[6..]) && !all.contains("SECOND"), "{all}");
    }
}

#[test]
fn directories_and_devices_are_refused() {
    let sb = Sandbox::new();
    let st = needs_key(&sb);
    for f in [sb.path().to_str().unwrap(), "/dev/zero", "/dev/null"] {
        let spec = format!("minimax-cn={f}");
        let out = sb.run(&["migrate", "--dry-run", "--key-file", &spec], &st);
        assert_eq!(out.status.code(), Some(2), "{f}: {}", stderr(&out));
        assert!(stderr(&out).contains(f), "{}", stderr(&out));
    }
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Starts `migrate --dry-run --key-file SPEC` on `st` with stdout and stderr piped, and the key
/// file timeout set to `timeout` seconds when given.
fn spawn_dry_run(
    sb: &Sandbox,
    st: &Path,
    spec: &str,
    timeout: Option<&str>,
    stdin: Stdio,
) -> Child {
    let mut c = sb.std_cmd();
    if let Some(t) = timeout {
        c.env("CLAWMIGRATE_KEY_FILE_TIMEOUT", t);
    }
    c.args(["migrate", "--dry-run", "--key-file", spec, "--state-dir"])
        .arg(st)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a child by polling it, up to `limit`.
fn wait_within(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_fifo_with_no_writer_fails_within_the_bound() {
    let sb = Sandbox::new();
    let st = needs_key(&sb);
    let fifo = sb.path().join("fifo");
    mkfifo(&fifo);
    let mut child = spawn_dry_run(
        &sb,
        &st,
        &format!("minimax-cn={}", fifo.display()),
        Some("1"),
        Stdio::null(),
    );
    let status = wait_within(&mut child, Duration::from_secs(8));
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&fifo.display().to_string()),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("within"), "{}", stderr(&out));
}

#[test]
fn a_fifo_with_a_writer_delivers_the_key() {
    let sb = Sandbox::new();
    let st = needs_key(&sb);
    let fifo = sb.path().join("fifo");
    mkfifo(&fifo);
    let mut child = spawn_dry_run(
        &sb,
        &st,
        &format!("minimax-cn={}", fifo.display()),
        None,
        Stdio::null(),
    );
    // Opening for writing blocks until the reader has it open.
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    w.write_all(format!("{KEY}\n").as_bytes()).unwrap();
    drop(w);
    let status = wait_within(&mut child, Duration::from_secs(20));
    let out = child.wait_with_output().unwrap();
    assert!(status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("minimax-cn:default"));
    assert!(!stdout(&out).contains(KEY));
}

#[test]
fn stdin_larger_than_the_cap_is_refused() {
    let sb = Sandbox::new();
    let st = needs_key(&sb);
    let mut child = spawn_dry_run(&sb, &st, "minimax-cn=-", None, Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        // The reader stops at the cap and exits: a broken pipe here is expected.
        let _ = stdin.write_all(&vec![b'k'; 256 * 1024]);
    });
    let status = wait_within(&mut child, Duration::from_secs(20));
    feeder.join().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("minimax-cn=-"), "{}", stderr(&out));
    assert!(stderr(&out).contains("KiB"), "{}", stderr(&out));
}

#[test]
fn stdin_that_never_closes_fails_within_the_bound() {
    let sb = Sandbox::new();
    let st = needs_key(&sb);
    let mut child = spawn_dry_run(&sb, &st, "minimax-cn=-", Some("1"), Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(KEY.as_bytes()).unwrap();
    let status = wait_within(&mut child, Duration::from_secs(8));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("stdin"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(KEY), "{}", stderr(&out));
}
