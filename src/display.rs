//! Text as the operator sees it, whichever layer writes it: control characters escaped for a
//! terminal, paths relative to the state dir, counts with their noun.
use std::path::Path;

/// Text from the install or the file system, made safe for a terminal: control characters
/// (escape sequences among them) and bidirectional overrides are shown as `\u{..}` escapes
/// instead of being sent to the terminal.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if unsafe_char(c) {
                    format!("\\u{{{:x}}}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// A path for a terminal (see [`escape`]).
pub fn path(p: &Path) -> String {
    escape(&p.display().to_string()).into_owned()
}

/// A count and its noun, plural unless the count is one ("1 install", "2 installs"): every count
/// in human output goes through here.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A path as the operator knows it: relative to the state dir when inside it.
pub fn relative_path(state_dir: &Path, file: &Path) -> String {
    path(file.strip_prefix(state_dir).unwrap_or(file))
}
