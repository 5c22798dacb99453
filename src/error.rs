//! The typed error an install fails with: a stable `kind` a program can branch on (written
//! kebab-case into the JSON output and listed in the README), the message saying what failed,
//! and, apart from it, a hint saying what to do (jj's `CommandError` hints).
use schemars::JsonSchema;
use serde::Serialize;

/// What went wrong, for scripts and the Ansible module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A file (or database cell) could not be parsed: fix its syntax.
    Parse,
    /// Reading or writing failed (disk, file system, a missing file).
    Io,
    /// The install's owner (or the caller) may not read or write it.
    Permission,
    /// Another writer holds it: OpenClaw's lock, a database, another clawmigrate run.
    Locked,
    /// A file or cell changed since it was planned (another writer), or since the run to undo.
    Changed,
    /// A path would leave the install, or what `.clawmigrate/` records was tampered with.
    Confinement,
    /// A target, file or run that does not exist.
    NotFound,
    /// A layout this tool does not know; nothing was touched.
    Unsupported,
    /// A file is not a regular file, or is larger than the read cap.
    Limit,
    /// A change was planned but cannot be written safely (e.g. it would flatten an `$include`).
    Refused,
    /// The command line asked for something that cannot be done.
    Usage,
    /// The operator answered no; nothing was written.
    Declined,
    /// A write failed part way and some of the install's documents written before it could not
    /// be put back (the message names them): `rollback` restores them.
    Partial,
}

impl Kind {
    /// Every kind (the README's table lists each; a unit test checks it).
    pub const ALL: [Kind; 13] = [
        Kind::Parse,
        Kind::Io,
        Kind::Permission,
        Kind::Locked,
        Kind::Changed,
        Kind::Confinement,
        Kind::NotFound,
        Kind::Unsupported,
        Kind::Limit,
        Kind::Refused,
        Kind::Usage,
        Kind::Declined,
        Kind::Partial,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Parse => "parse",
            Kind::Io => "io",
            Kind::Permission => "permission",
            Kind::Locked => "locked",
            Kind::Changed => "changed",
            Kind::Confinement => "confinement",
            Kind::NotFound => "not-found",
            Kind::Unsupported => "unsupported",
            Kind::Limit => "limit",
            Kind::Refused => "refused",
            Kind::Usage => "usage",
            Kind::Declined => "declined",
            Kind::Partial => "partial",
        }
    }

    /// The kind of an I/O failure.
    pub fn of_io(e: &std::io::Error) -> Kind {
        use std::io::ErrorKind as K;
        if e.get_ref()
            .is_some_and(|i| i.is::<crate::fsio::NotFollowed>())
        {
            return Kind::Confinement;
        }
        match e.kind() {
            K::PermissionDenied => Kind::Permission,
            K::NotFound => Kind::NotFound,
            // `fsio::read_regular`: not a regular file, or over the read cap.
            K::InvalidInput | K::FileTooLarge => Kind::Limit,
            _ => Kind::Io,
        }
    }
}

/// An install's failure: its kind, the message (which names the file), and the hint (what to
/// do), which the human output prints on a line of its own and JSON carries as `hint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    /// The same error with a hint: what the operator can do about it (a command, a flag; never
    /// a value read from the install, so it needs no masking).
    pub fn hinted(self, hint: impl Into<String>) -> Error {
        Error {
            hint: Some(hint.into()),
            ..self
        }
    }

    /// An I/O failure on `path`: "`path`: `doing`: the system's reason", of the kind the
    /// failure is (permission, not-found, confinement, limit or io).
    pub fn io(path: &std::path::Path, doing: &str, e: &std::io::Error) -> Error {
        Error::new(Kind::of_io(e), format!("{}: {doing}: {e}", path.display()))
    }

    /// The same error with its message passed through `f` (masking secrets, adding context).
    pub fn map_message(self, f: impl FnOnce(&str) -> String) -> Error {
        Error {
            message: f(&self.message),
            ..self
        }
    }
}

/// A JSON read error told without the content it may quote: serde names a value of the wrong
/// type or an unknown variant by quoting it (`invalid type: string "sk-…"`), and a file read by
/// mistake (an auth store given as a plan, a key pasted into the ledger) must not print its key.
pub fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "cannot be read".to_string(),
        Category::Syntax => "is not valid JSON".to_string(),
        Category::Eof => "ends too early".to_string(),
        Category::Data => {
            let m = e.to_string();
            let field = m
                .strip_prefix("missing field `")
                .and_then(|r| r.split_once('`'))
                .map(|(f, _)| f)
                .filter(|f| f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
            match field {
                Some(f) => format!("lacks the field `{f}`"),
                None => "holds a value of the wrong type or an unknown value".to_string(),
            }
        }
    };
    format!("{what} at line {}, column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "sk-Zq8-4fT2pL9xWv7Rb3Nc";

    #[test]
    fn every_kind_is_in_the_readme_table_and_serialises_as_listed() {
        let readme = include_str!("../README.md");
        for k in Kind::ALL {
            assert!(
                readme.contains(&format!("| `{}` |", k.as_str())),
                "{} is missing from the README's error kinds",
                k.as_str()
            );
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[test]
    fn serde_errors_do_not_quote_content() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct S {
            n: u32,
        }
        let e = serde_json::from_str::<S>(&format!("{{\"n\": \"{SECRET}\"}}")).unwrap_err();
        assert!(e.to_string().contains(SECRET));
        assert!(
            !describe_json_error(&e).contains(SECRET),
            "{}",
            describe_json_error(&e)
        );
        let e = serde_json::from_str::<S>("{}").unwrap_err();
        assert!(describe_json_error(&e).contains("`n`"));
    }
}
