//! Unified diffs of a file's old and new text, secrets masked, coloured with ANSI.
use crate::printer::{BOLD, CYAN, GREEN, RED, escape, paint};
use crate::secrets::Redactor;
use anstyle::Style;
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;

/// The lines of a text as the diff splits them (after `\r\n`, `\n` or a lone `\r`).
fn lines(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let (mut out, mut start) = (Vec::new(), 0);
    // memchr jumps from line end to line end (every diffed file passes here twice).
    for i in memchr::memchr2_iter(b'\r', b'\n', b) {
        if i < start {
            continue; // the \n of a \r\n already taken
        }
        let end = if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            i + 2
        } else {
            i + 1
        };
        out.push(&text[start..end]);
        start = end;
    }
    if start < b.len() {
        out.push(&text[start..]);
    }
    out
}

/// A unified diff of one file, secrets masked, coloured with ANSI (stripped later if not wanted).
///
/// The diff is computed on the real bytes; each line shown is taken from the whole text with its
/// secrets masked, so a key is masked in any encoding the source gives it, even one split over
/// lines by a JSON5 line continuation.
pub fn diff(name: &str, before: Option<&str>, after: &str, redactor: &Redactor) -> String {
    let old = before.unwrap_or("");
    let (old_masked, new_masked) = (redactor.redact(old), redactor.redact(after));
    let (old_lines, new_lines) = (lines(&old_masked), lines(&new_masked));
    let (old_count, new_count) = (lines(old).len(), lines(after).len());
    let masked_line = |change: &similar::Change<&str>| -> String {
        let shown = match change.tag() {
            ChangeTag::Delete | ChangeTag::Equal if old_lines.len() == old_count => {
                change.old_index().and_then(|i| old_lines.get(i))
            }
            ChangeTag::Insert if new_lines.len() == new_count => {
                change.new_index().and_then(|i| new_lines.get(i))
            }
            _ => None,
        };
        // The masked texts keep their lines; line by line is only a fallback.
        shown.map_or_else(|| redactor.redact(change.value()), |l| l.to_string())
    };
    let d = TextDiff::configure()
        .algorithm(similar::Algorithm::Histogram)
        .diff_lines(old, after);
    let mut out = String::new();
    let from = if before.is_some() {
        format!("a/{name}")
    } else {
        "/dev/null".into()
    };
    let _ = writeln!(out, "{}", paint(&format!("--- {from}"), BOLD));
    let _ = writeln!(out, "{}", paint(&format!("+++ b/{name}"), BOLD));
    for hunk in d.unified_diff().context_radius(3).iter_hunks() {
        let _ = writeln!(out, "{}", paint(&hunk.header().to_string(), CYAN));
        for change in hunk.iter_changes() {
            let (sign, style) = match change.tag() {
                ChangeTag::Delete => ("-", RED),
                ChangeTag::Insert => ("+", GREEN),
                ChangeTag::Equal => (" ", Style::new()),
            };
            let line = masked_line(&change);
            let line = escape(line.trim_end_matches(['\n', '\r']));
            let _ = writeln!(out, "{}", paint(&format!("{sign}{line}"), style));
            if change.missing_newline() {
                let _ = writeln!(out, "\\ No newline at end of file");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn lines_split_after_each_kind_of_line_end() {
        assert_eq!(lines("a\r\nb\rc\nd"), ["a\r\n", "b\r", "c\n", "d"]);
        assert_eq!(lines("\r\n\r\n\n\r"), ["\r\n", "\r\n", "\n", "\r"]);
        assert_eq!(lines("x\n"), ["x\n"]);
        assert!(lines("").is_empty());
        assert_eq!(lines("no end"), ["no end"]);
    }
}
