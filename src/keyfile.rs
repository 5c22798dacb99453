//! Reads an operator's key (`--key-file PROVIDER=FILE`, `FILE` `-` for stdin) without ever
//! hanging or printing it: a regular file is read directly; stdin and a FIFO the operator names
//! are read with a bound in size and time; anything else (a directory, a device, a socket) is
//! refused. The file must hold the key alone on one line.
use crate::error::{Error, Kind};
use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// The most a key file may hold: far above any key.
pub const MAX_BYTES: usize = 64 * 1024;
/// How long stdin or a FIFO may take to deliver the key, in seconds (default 10).
pub const TIMEOUT_ENV: &str = "CLAWMIGRATE_KEY_FILE_TIMEOUT";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

fn timeout() -> Duration {
    std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(DEFAULT_TIMEOUT, |s| {
            Duration::from_secs_f64(s.min(86_400.0))
        })
}

/// Reads the key `file` holds (`-`: stdin); `label` names it in messages
/// (`--key-file minimax-cn=/run/secrets/k`). No message ever holds the key.
pub fn read_key(label: &str, file: &str) -> Result<String, Error> {
    let bytes = if file == "-" {
        read_stdin(label)?
    } else {
        read_path(label, Path::new(file))?
    };
    key_from(label, bytes)
}

/// The key in a key file's bytes: UTF-8, one line (one trailing newline is fine), no control
/// characters; surrounding spaces are dropped.
fn key_from(label: &str, bytes: Vec<u8>) -> Result<String, Error> {
    let text = String::from_utf8(bytes).map_err(|_| {
        let why =
            format!("{label}: the file is not UTF-8 text; it must hold the key alone on one line");
        Error::new(Kind::Usage, why)
    })?;
    let body = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if body
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
    {
        return Err(Error::new(
            Kind::Usage,
            format!(
                "{label}: the file holds more than one line or a control character; a key file holds the key alone on one line (one trailing newline is fine). Fix the file and run again; nothing was written"
            ),
        ));
    }
    let key = body.trim();
    if key.is_empty() || !crate::secrets::is_literal_secret(key) {
        return Err(Error::new(
            Kind::Usage,
            format!(
                "{label}: the file holds no key (empty, an env var name or a ${{VAR}} reference)"
            ),
        ));
    }
    Ok(key.to_string())
}

const NOT_A_FILE: &str =
    "give a regular file holding the key (or a FIFO, or - to read it from stdin)";

fn read_path(label: &str, path: &Path) -> Result<Vec<u8>, Error> {
    // Refused before opening: opening a device can have effects of its own.
    let meta = std::fs::metadata(path).map_err(|e| failed(label, "cannot read", &e))?;
    let ft = meta.file_type();
    if !(ft.is_file() || ft.is_fifo()) {
        let what = if ft.is_dir() {
            "a directory"
        } else {
            "a device or socket, not a regular file"
        };
        return Err(limit(format!("{label}: is {what}; {NOT_A_FILE}")));
    }
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::new(Kind::Usage, format!("{label}: the path holds a NUL byte")))?;
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
        )
    };
    if fd < 0 {
        return Err(failed(
            label,
            "cannot open",
            &std::io::Error::last_os_error(),
        ));
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // What was opened, not what the path named a moment ago.
    match file_type(fd.as_raw_fd()).map_err(|e| failed(label, "cannot stat", &e))? {
        libc::S_IFREG => read_capped(label, std::fs::File::from(fd)),
        libc::S_IFIFO => read_bounded(label, fd.as_raw_fd(), "the FIFO"),
        _ => Err(limit(format!(
            "{label}: is not a regular file or FIFO; {NOT_A_FILE}"
        ))),
    }
}

fn read_stdin(label: &str) -> Result<Vec<u8>, Error> {
    match file_type(0).map_err(|e| failed(label, "cannot read stdin", &e))? {
        libc::S_IFREG => read_capped(label, std::io::stdin().lock()),
        libc::S_IFDIR => Err(limit(format!(
            "{label}: stdin is a directory; {NOT_A_FILE}"
        ))),
        // A pipe, a terminal, a socket or a device: bounded in time as well as size.
        _ => read_bounded(label, 0, "stdin"),
    }
}

fn file_type(fd: RawFd) -> std::io::Result<libc::mode_t> {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.st_mode & libc::S_IFMT)
}

fn too_large(label: &str) -> Error {
    limit(format!(
        "{label}: holds more than {} KiB, far more than a key; give a file holding just the key",
        MAX_BYTES / 1024
    ))
}

/// A key file that is not what a key file can be (a directory, a device, too large, too slow).
fn limit(message: String) -> Error {
    Error::new(Kind::Limit, message)
}

/// A read that failed, of the kind the system's error is.
fn failed(label: &str, doing: &str, e: &std::io::Error) -> Error {
    Error::new(Kind::of_io(e), format!("{label}: {doing}: {e}"))
}

fn read_capped(label: &str, r: impl Read) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    r.take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| failed(label, "cannot read", &e))?;
    if bytes.len() > MAX_BYTES {
        return Err(too_large(label));
    }
    Ok(bytes)
}

/// Reads `fd` to its end, waiting with `poll` for at most the time bound in all and taking at
/// most [`MAX_BYTES`].
fn read_bounded(label: &str, fd: RawFd, what: &str) -> Result<Vec<u8>, Error> {
    let wait = timeout();
    let deadline = Instant::now() + wait;
    let late = || {
        limit(format!(
            "{label}: {what} did not deliver the key within {:.1} s (is its writer running, and does it close it?); write the key within that time (set {TIMEOUT_ENV} to wait longer) or use a regular file",
            wait.as_secs_f64()
        ))
    };
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(late());
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(failed(label, &format!("cannot wait for {what}"), &e));
        }
        if r == 0 {
            return Err(late());
        }
        if p.revents & libc::POLLNVAL != 0 {
            return Err(Error::new(Kind::Io, format!("{label}: cannot read {what}")));
        }
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::Interrupted => continue,
                std::io::ErrorKind::WouldBlock => {
                    // Ready without data (a hang-up racing a writer): do not spin.
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                _ => return Err(failed(label, &format!("cannot read {what}"), &e)),
            }
        }
        if n == 0 {
            return Ok(bytes);
        }
        bytes.extend_from_slice(&chunk[..n as usize]);
        if bytes.len() > MAX_BYTES {
            return Err(too_large(label));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_one_trailing_newline_is_a_key() {
        for t in [
            "sk-cp-abc123",
            "sk-cp-abc123\n",
            "sk-cp-abc123\r\n",
            "  sk-cp-abc123 \n",
        ] {
            assert_eq!(key_from("k", t.into()).unwrap(), "sk-cp-abc123");
        }
    }

    #[test]
    fn more_lines_or_control_characters_are_refused_without_the_key() {
        for t in [
            "sk-cp-abc123\nsk-cp-def456\n",
            "sk-cp-abc123\n\n",
            "\nsk-cp-abc123",
            "sk-cp-abc\t123",
            "sk-cp-\u{1b}[2Jabc123",
            "sk-cp-abc123\r",
            "\u{feff}sk-cp-abc123",
        ] {
            let e = key_from("--key-file p=/f", t.into()).unwrap_err();
            assert_eq!(e.kind, Kind::Usage);
            assert!(
                e.message.contains("/f") && !e.message.contains("abc"),
                "{e}"
            );
        }
        assert!(key_from("k", vec![0xff, 0x41]).is_err());
    }
}
