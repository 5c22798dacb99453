//! One file of an install: its bytes, hash and parsed tree, and format-preserving edits.
//! Its parts: OpenClaw's `json5` reader, RFC 6902 `patch`es, the `splice`r that edits text in
//! place, the `cst` editor for everything else, the `style` both write new text in (tallied by
//! the reader), and the `$include`s a config spreads over several files.
mod cst;
pub mod include;
pub mod json5;
pub mod patch;
pub mod splice;
pub mod style;
use crate::hash::sha256_hex;
use crate::storage::Store;
use cst::cst_edit;
use jsonc_parser::ParseOptions;
use patch::{Op, PatchError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// The kinds of file a migration can change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// `openclaw.json` (JSON5).
    Config,
    /// `agents/<id>/agent/auth-profiles.json`.
    AuthProfiles,
    /// `agents/<id>/agent/models.json`.
    Models,
    /// The routing state beside an auth store (`order`, `lastGood`, `usageStats`):
    /// `agents/<id>/agent/auth-state.json` (2026.4.22+), or its SQLite cell (2026.6+).
    AuthState,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Config => "config",
            FileKind::AuthProfiles => "auth-profiles",
            FileKind::Models => "models",
            FileKind::AuthState => "auth-state",
        }
    }

    /// JSON5 for the config (as OpenClaw reads it), strict JSON for the agent files (JSON.parse).
    fn parse_options(self) -> ParseOptions {
        match self {
            FileKind::Config => ParseOptions {
                allow_missing_commas: false,
                ..Default::default()
            },
            _ => ParseOptions {
                allow_comments: false,
                allow_loose_object_property_names: false,
                allow_trailing_commas: false,
                allow_missing_commas: false,
                allow_single_quoted_strings: false,
                allow_hexadecimal_numbers: false,
                allow_unary_plus_numbers: false,
                allow_bare_decimal_point_numbers: false,
                allow_non_finite_numbers: false,
                allow_extended_string_escapes: false,
            },
        }
    }
}

/// A file as read from disk (or known to be absent).
#[derive(Debug, Clone)]
pub struct Document {
    /// Where it lives: a file, or a JSON value in a cell of a SQLite database.
    pub store: Store,
    pub kind: FileKind,
    /// The agent the file belongs to (`None` for the config).
    pub agent: Option<String>,
    /// The text as read; `None` when the file does not exist.
    pub text: Option<String>,
    /// The parsed tree (`Null` when absent).
    pub value: Value,
    /// The sha256 of `text`, computed on first use (most files never need it).
    sha: std::sync::OnceLock<String>,
    /// What its JSON5 reading noted, kept for [`edit`] so that it need not read it again.
    json5: Json5Notes,
}

/// What a config's JSON5 reading notes beyond its value (nothing for plain JSON, which the
/// strict parser reads): where its NaN and ±Infinity are, the syntax `jsonc-parser` reads
/// differently, and the style new text is written in.
#[derive(Debug, Clone, Default)]
struct Json5Notes {
    non_finite: Vec<(String, json5::NonFinite)>,
    /// The text rewritten for `jsonc-parser` ([`json5::Read::for_jsonc`]), when anything was.
    for_jsonc: Option<String>,
    /// What was rewritten there, for messages.
    rewritten: Vec<&'static str>,
    /// How it writes keys and strings (JSON's for plain JSON).
    style: style::Style,
}

/// Why a file could not be read: names the file, the position and what to do.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {message}\n  hint: {hint}")]
pub struct ReadError {
    pub path: String,
    pub message: String,
    pub hint: String,
    /// What kind of failure (a parse error unless said otherwise).
    pub kind: crate::error::Kind,
}

impl ReadError {
    pub fn new(path: &Path, message: impl Into<String>, hint: impl Into<String>) -> Self {
        ReadError {
            path: path.display().to_string(),
            message: message.into(),
            hint: hint.into(),
            kind: crate::error::Kind::Parse,
        }
    }
}

/// The error an install fails with: the file and why as the message, what to do as its hint.
impl From<ReadError> for crate::error::Error {
    fn from(e: ReadError) -> crate::error::Error {
        crate::error::Error::new(e.kind, format!("{}: {}", e.path, e.message)).hinted(e.hint)
    }
}

/// Why a text does not read as OpenClaw reads it: the cause, the position and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyntaxError(pub String);

/// Why a planned change cannot be written into a document's text; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Patch(#[from] PatchError),
    /// The text the change goes into does not read (as json5, or for the syntax-tree editor).
    #[error("{0}")]
    Syntax(String),
    /// The syntax-tree editor did not find what the planned tree holds.
    #[error("the structural editor found no {0}; nothing was written")]
    Editor(&'static str),
    #[error(
        "cannot change {path}: {at} holds {value}, which has no JSON value and would be \
         written back as null; nothing was written. Replace it by hand with a number (or remove \
         it), then run clawmigrate again"
    )]
    NonFinite {
        path: String,
        at: String,
        value: &'static str,
    },
    #[error(
        "this change needs the structural editor, which cannot keep {0} in openclaw.json byte \
         for byte; nothing was written. Write that part in plainer JSON5 (a newline instead of \
         U+2028/U+2029, a quoted key instead of \\u escapes, no byte-order mark) and run \
         clawmigrate again"
    )]
    Json5Only(String),
    #[error("the edited text does not match the planned document; nothing was written")]
    Mismatch,
    #[error("the edited text does not parse: {0}")]
    Unparsable(String),
}

/// A file's bytes (`None`: it does not exist); a failure carries its kind (permission, limit…).
fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, ReadError> {
    crate::fsio::read_regular(path, false).map_err(|e| ReadError {
        kind: crate::error::Kind::of_io(&e),
        ..ReadError::new(
            path,
            format!("cannot read: {e}"),
            "check the file (its type, size and permissions); nothing of this install was written",
        )
    })
}

impl Document {
    /// Reads and parses a file; a missing file yields an absent document.
    pub fn read(path: &Path, kind: FileKind, agent: Option<String>) -> Result<Document, ReadError> {
        match read_bytes(path)? {
            Some(bytes) => Self::from_bytes(path, kind, agent, bytes),
            None => Ok(Document::absent(
                Store::File(path.to_path_buf()),
                kind,
                agent,
            )),
        }
    }

    pub fn from_bytes(
        path: &Path,
        kind: FileKind,
        agent: Option<String>,
        bytes: Vec<u8>,
    ) -> Result<Document, ReadError> {
        Self::from_bytes_rooted(path, kind, agent, bytes, true)
    }

    /// A file the config pulls in with `$include`, read as the config is (JSON5); any value may
    /// stand at its top level, as OpenClaw takes it. `Ok(None)` when it does not exist.
    pub fn read_included(path: &Path) -> Result<Option<Document>, ReadError> {
        read_bytes(path)?
            .map(|bytes| Self::from_bytes_rooted(path, FileKind::Config, None, bytes, false))
            .transpose()
    }

    fn from_bytes_rooted(
        path: &Path,
        kind: FileKind,
        agent: Option<String>,
        bytes: Vec<u8>,
        object_root: bool,
    ) -> Result<Document, ReadError> {
        let text = String::from_utf8(bytes).map_err(|e| {
            ReadError::new(
                path,
                format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()),
                "save the file as UTF-8",
            )
        })?;
        let (value, json5) = read_rooted(&text, kind, object_root).map_err(|m| {
            let how = match kind {
                FileKind::Config => "fix the JSON5 syntax at that position (or restore openclaw.json.bak), then run clawmigrate again",
                _ => "fix the JSON syntax at that position (OpenClaw reads this file as strict JSON), then run clawmigrate again",
            };
            ReadError::new(path, m.0, how)
        })?;
        Ok(Document {
            store: Store::File(path.to_path_buf()),
            kind,
            agent,
            text: Some(text),
            value,
            sha: Default::default(),
            json5,
        })
    }

    /// A document whose file (or cell) does not exist.
    fn absent(store: Store, kind: FileKind, agent: Option<String>) -> Document {
        Document {
            store,
            kind,
            agent,
            text: None,
            value: Value::Null,
            sha: Default::default(),
            json5: Json5Notes::default(),
        }
    }

    /// Reads the JSON value in a cell of a SQLite database (an auth store of OpenClaw 2026.6+),
    /// opened once in `dbs`; an absent row yields an absent document. Changes no byte of the
    /// database.
    pub fn read_cell(
        db: &Path,
        cell: crate::storage::cell::Cell,
        kind: FileKind,
        agent: Option<String>,
        dbs: &mut crate::storage::cell::Databases,
    ) -> Result<Document, ReadError> {
        let hint = "check the database (its type, permissions, and that OpenClaw is of a known release); nothing of this install was written";
        let text = dbs.read(db, &cell).map_err(|e| ReadError {
            kind: e.what.kind(),
            ..ReadError::new(db, e.what.to_string(), hint)
        })?;
        let key = cell.label;
        let store = Store::Cell(db.to_path_buf(), cell);
        Ok(match text {
            Some(t) => Document {
                store,
                ..Self::from_bytes(db, kind, agent, t.into_bytes())
                    .map_err(|e| ReadError::new(db, format!("{key}: {}", e.message), hint))?
            },
            None => Document::absent(store, kind, agent),
        })
    }

    /// The file, or the database whose cell holds the document.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The document as the operator knows it, relative to the state dir (see [`Store::name`]).
    pub fn name(&self, state_dir: &Path) -> String {
        self.store.name(state_dir)
    }

    /// The sha256 of the bytes as read (computed on demand: most files never need it).
    pub fn sha256(&self) -> Option<String> {
        self.text
            .as_ref()
            .map(|t| self.sha.get_or_init(|| sha256_hex(t.as_bytes())).clone())
    }

    pub fn exists(&self) -> bool {
        self.text.is_some()
    }
}

/// Parses text into a tree, rejecting duplicate keys (which readers resolve differently).
///
/// A config is read as OpenClaw reads it, by the `json5` npm package's grammar
/// ([`json5`]); NaN and ±Infinity, which a `Value` cannot hold, are read as `null` (and
/// [`edit`] refuses to touch them). The agent files are strict JSON, as `JSON.parse` reads them.
pub fn parse(text: &str, kind: FileKind) -> Result<Value, SyntaxError> {
    read_rooted(text, kind, true).map(|(value, _)| value)
}

/// [`parse`], with any value at the top level unless `object_root`, and what a JSON5 reading
/// noted.
fn read_rooted(
    text: &str,
    kind: FileKind,
    object_root: bool,
) -> Result<(Value, Json5Notes), SyntaxError> {
    let fail = |m: &str| Err(SyntaxError(m.to_string()));
    if text
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
        .is_empty()
    {
        return fail("the file is empty");
    }
    // A config OpenClaw wrote itself is plain JSON, which the strict parser reads several times
    // faster and which means the same under JSON5; any other config is read as JSON5.
    let (value, notes) = match serde_json::from_str::<Strict>(text) {
        Ok(Strict(v)) => (v, Json5Notes::default()),
        Err(_) if kind == FileKind::Config => {
            let read = json5::parse(text).map_err(|e| SyntaxError(e.to_string()))?;
            let notes = Json5Notes {
                non_finite: read.non_finite,
                for_jsonc: match read.for_jsonc {
                    std::borrow::Cow::Owned(rewritten) => Some(rewritten),
                    std::borrow::Cow::Borrowed(_) => None,
                },
                rewritten: read.rewritten,
                style: read.style,
            };
            (read.value, notes)
        }
        Err(e) => return Err(SyntaxError(strict_error(text, &e))),
    };
    match value {
        Value::Object(_) => Ok((value, notes)),
        _ if !object_root => Ok((value, notes)),
        _ => fail("the top level is not an object"),
    }
}

/// Why strict JSON (`JSON.parse`, as OpenClaw reads the agent files) refuses a text: the cause
/// and what to do, not just the token serde_json stopped at.
fn strict_error(text: &str, e: &serde_json::Error) -> String {
    let at = format!("at line {}, column {}", e.line(), e.column());
    if text.starts_with('\u{FEFF}') {
        return "the file starts with a byte-order mark (BOM, the bytes EF BB BF), which OpenClaw's \
                JSON.parse refuses in this file: save it as UTF-8 without a BOM"
            .into();
    }
    match json5::parse(text) {
        Err(j)
            if matches!(
                j.kind,
                json5::ErrorKind::LoneSurrogate(_) | json5::ErrorKind::Duplicate(_)
            ) =>
        {
            j.to_string()
        }
        Ok(r) if !r.non_finite.is_empty() => {
            let (pointer, n) = &r.non_finite[0];
            format!(
                "{} is {}, which is no JSON number: OpenClaw reads this file with JSON.parse, \
                 which refuses NaN and Infinity. Write a number there (or remove the entry)",
                if pointer.is_empty() { "/" } else { pointer },
                n.as_str()
            )
        }
        Ok(_) => format!(
            "invalid JSON {at}: {e}. This is JSON5 syntax (a comment, trailing comma, single \
             quote, unquoted key, hex or signed number), which OpenClaw's JSON.parse refuses in \
             this file; write plain JSON"
        ),
        Err(_) => format!("invalid JSON {at}: {e}"),
    }
}

/// A tree read in one pass that refuses duplicate keys (readers disagree on which one wins).
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // Sized for a typical object (a model entry has about eight keys): growing from empty
        // would rehash it three times.
        let mut out = serde_json::Map::with_capacity(8);
        while let Some(key) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            match out.entry(key) {
                serde_json::map::Entry::Vacant(e) => {
                    e.insert(v);
                }
                serde_json::map::Entry::Occupied(e) => {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate key {:?}: readers disagree on which value wins; keep one",
                        e.key()
                    )));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Renders the bytes a new file gets: OpenClaw's own `JSON.stringify(v, null, 2) + "\n"`.
pub fn render_new(value: &Value) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("a Value always serialises");
    s.push('\n');
    s
}

/// Applies operations to a document's text, keeping everything the operations do not touch,
/// and checks the result equals `expected`; any mismatch refuses the edit.
///
/// Text edits (a splice or the syntax tree) are re-parsed and compared with `expected`. A file in
/// OpenClaw's own `JSON.stringify` form is re-rendered from `expected` instead: that the old text
/// re-renders byte for byte from its parsed tree shows the renderer is faithful for this file, so
/// its output needs no re-parse.
///
/// A config is edited on its JSON5 reading ([`json5`]): an operation that would touch a
/// NaN or ±Infinity (read as `null`) is refused, and the edited text must keep every one of them
/// where it was. Syntax `jsonc-parser` reads differently from json5 is handed to the splicer
/// rewritten to same-length text it reads right, so its byte ranges hold for the real text; the
/// syntax-tree editor would write that rewritten text back, so it refuses such a file.
pub fn edit(doc: &Document, ops: &[&Op], expected: &Value) -> Result<String, EditError> {
    let Some(text) = &doc.text else {
        return Ok(if doc.store.one_line() {
            serde_json::to_string(expected).expect("a tree serialises")
        } else {
            render_new(expected)
        });
    };
    if doc.store.one_line() && serde_json::to_string(&doc.value).ok().as_ref() == Some(text) {
        // OpenClaw writes a cell with JSON.stringify and no indent: so does this tool.
        return Ok(serde_json::to_string(expected).expect("a tree serialises"));
    }
    if doc.kind != FileKind::Config {
        if render_new(&doc.value) == *text {
            return Ok(render_new(expected));
        }
        // Strict JSON: its keys are quoted and its strings in double quotes, JSON's own style.
        let style = style::Style::default();
        if let Some(out) = splice::splice(text, text, &doc.kind.parse_options(), style, ops)
            && let Ok(out) = verified(out, doc.kind, expected, &[])
        {
            return Ok(out);
        }
        return verified(
            cst_edit(text, doc.kind, style, ops)?,
            doc.kind,
            expected,
            &[],
        );
    }
    // A config in plain JSON (what OpenClaw writes) has nothing JSON5 reads differently: no
    // NaN, nothing rewritten for the syntax tree; a JSON5 config's were noted when it was read,
    // so it is never read again here.
    let notes = &doc.json5;
    let (non_finite, rewritten) = (&notes.non_finite, &notes.rewritten);
    let for_jsonc = notes.for_jsonc.as_deref().unwrap_or(text);
    refuse_non_finite(&doc.value, non_finite, ops)?;
    // The common config edits are spliced into the text; anything else (or a splice that came
    // out wrong) goes through the syntax tree.
    let style = notes.style;
    if let Some(out) = splice::splice(text, for_jsonc, &doc.kind.parse_options(), style, ops)
        && let Ok(out) = verified(out, doc.kind, expected, non_finite)
    {
        return Ok(out);
    }
    if !rewritten.is_empty() {
        return Err(EditError::Json5Only(rewritten.join(" or ")));
    }
    verified(
        cst_edit(text, doc.kind, style, ops)?,
        doc.kind,
        expected,
        non_finite,
    )
}

/// Refuses an operation that would rewrite a NaN or ±Infinity (read as `null`, so it would be
/// written back as `null`): one at or below its path, or in an array whose indices it shifts.
fn refuse_non_finite(
    value: &Value,
    non_finite: &[(String, json5::NonFinite)],
    ops: &[&Op],
) -> Result<(), EditError> {
    if non_finite.is_empty() {
        return Ok(());
    }
    let under = |p: &str, root: &str| p == root || p.starts_with(&format!("{root}/"));
    for op in ops {
        let mut paths = vec![op.path().as_str()];
        if let Op::Move(m) = op {
            paths.push(m.from.as_str());
        }
        for path in paths {
            let parent = &path[..path.rfind('/').unwrap_or(0)];
            let in_array = value.pointer(parent).is_some_and(Value::is_array);
            for (p, n) in non_finite {
                if under(p, path) || (in_array && under(p, parent)) {
                    return Err(EditError::NonFinite {
                        path: path.to_string(),
                        at: p.clone(),
                        value: n.as_str(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Checks the edited text reads as `expected`, a config by json5's reading with its non-finite
/// numbers where they were.
fn verified(
    out: String,
    kind: FileKind,
    expected: &Value,
    non_finite: &[(String, json5::NonFinite)],
) -> Result<String, EditError> {
    let read = if kind == FileKind::Config
        && non_finite.is_empty()
        && let Ok(Strict(v)) = serde_json::from_str::<Strict>(&out)
    {
        // Plain JSON out (a plain JSON config edited): the strict reader reads it as JSON5 does,
        // duplicate keys refused as json5's reading refuses them.
        Ok((v, true))
    } else if kind == FileKind::Config {
        json5::parse(&out)
            .map(|r| (r.value, r.non_finite == non_finite))
            .map_err(|e| e.to_string())
    } else {
        parse(&out, kind).map(|v| (v, true)).map_err(|e| e.0)
    };
    match read {
        Ok((v, true)) if v == *expected => Ok(out),
        Ok(_) => Err(EditError::Mismatch),
        Err(e) => Err(EditError::Unparsable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(text: &str, kind: FileKind) -> Document {
        Document::from_bytes(Path::new("t.json"), kind, None, text.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn a_plain_json_config_edit_never_writes_a_duplicate_key() {
        let text = "{\n  \"p\": {\n    \"a\": 1\n  }\n}\n";
        let d = doc(text, FileKind::Config);
        let (one, two) = (
            patch::add("/p/n", json!(1)).unwrap(),
            patch::add("/p/n", json!(2)).unwrap(),
        );
        let mut want = d.value.clone();
        patch::apply(&mut want, &one).unwrap();
        patch::apply(&mut want, &two).unwrap();
        let out = edit(&d, &[&one, &two], &want).unwrap();
        assert_eq!(out.matches("\"n\"").count(), 1, "{out}");
        assert_eq!(parse(&out, FileKind::Config).unwrap(), want);
    }

    #[test]
    fn edit_keeps_comments_and_touches_only_the_changed_line() {
        let text = "// top\n{\n  a: 1, // one\n  'b': 'x',\n  c: [1, 2,],\n}\n";
        let d = doc(text, FileKind::Config);
        let op = patch::replace("/b", json!("y")).unwrap();
        let mut want = d.value.clone();
        patch::apply(&mut want, &op).unwrap();
        let out = edit(&d, &[&op], &want).unwrap();
        assert_eq!(
            out,
            "// top\n{\n  a: 1, // one\n  'b': 'y',\n  c: [1, 2,],\n}\n"
        );
    }

    #[test]
    fn a_scalar_array_element_is_replaced_in_place_keeping_the_layout() {
        let text = "{\n  \"a\": {\"x\": 1},\n  \"allow\": [\n    \"p/m\"\n  ],\n  \"f\": [\"p/a\", 'p/b' /* b */]\n}\n";
        let d = doc(text, FileKind::Config);
        let ops = [
            patch::move_to("/a", "/b").unwrap(),
            patch::replace("/allow/0", json!("q/m")).unwrap(),
            patch::replace("/f/1", json!("q/b")).unwrap(),
        ];
        let mut want = d.value.clone();
        for op in &ops {
            patch::apply(&mut want, op).unwrap();
        }
        let out = edit(&d, &ops.iter().collect::<Vec<_>>(), &want).unwrap();
        assert_eq!(
            out,
            "{\n  \"b\": {\"x\": 1},\n  \"allow\": [\n    \"q/m\"\n  ],\n  \"f\": [\"p/a\", 'q/b' /* b */]\n}\n"
        );
    }

    #[test]
    fn rename_keeps_position() {
        let d = doc(
            "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}\n",
            FileKind::Models,
        );
        let op = patch::move_to("/b", "/z").unwrap();
        let mut want = d.value.clone();
        patch::apply(&mut want, &op).unwrap();
        assert_eq!(
            edit(&d, &[&op], &want).unwrap(),
            "{\n  \"a\": 1,\n  \"z\": 2,\n  \"c\": 3\n}\n"
        );
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let e = parse("{\"a\": 1, \"a\": 2}", FileKind::Models).unwrap_err();
        assert!(e.0.contains("duplicate key \"a\""), "{e}");
    }

    #[test]
    fn a_plain_json_config_reads_as_json5_would() {
        let text = r#"{"n": [0, -1, 1.5, 1e3, 12345678901234567890], "s": "a\u00e9\n\"", "o": {"t": true, "z": null}}"#;
        let json5 = jsonc_parser::parse_to_serde_value::<Value>(text, &Default::default()).unwrap();
        assert_eq!(parse(text, FileKind::Config).unwrap(), json5);
        let e = parse("{\"a\": 1, \"a\": 2}", FileKind::Config).unwrap_err();
        assert!(e.0.contains("duplicate key \"a\""), "{e}");
        let e = parse("{\"a\": 1,, }", FileKind::Config).unwrap_err();
        assert!(e.0.starts_with("invalid JSON5 at line 1"), "{e}");
        assert_eq!(
            parse(" \n", FileKind::Config).unwrap_err().0,
            "the file is empty"
        );
    }

    #[test]
    fn strict_json_rejects_comments_for_agent_files() {
        let e = parse("{ // x\n}", FileKind::AuthProfiles).unwrap_err();
        assert!(e.0.contains("line 1"), "{e}");
    }
    /// A config edit planned on `text`: the ops' result as the plan would expect it.
    fn planned(text: &str, op: &Op) -> (Document, Value) {
        let d = doc(text, FileKind::Config);
        let mut want = d.value.clone();
        patch::apply(&mut want, op).unwrap();
        (d, want)
    }

    #[test]
    fn u2028_ends_a_line_comment_and_the_hidden_key_counts() {
        for sep in ['\u{2028}', '\u{2029}'] {
            let text = format!("{{ // note{sep} baseUrl: \"https://api.minimax.io\",\n}}");
            assert_eq!(
                parse(&text, FileKind::Config).unwrap(),
                json!({"baseUrl": "https://api.minimax.io"})
            );
        }
        // The field case: a second baseUrl after the separator is the one OpenClaw uses, so the
        // file is refused, naming the key and the file, instead of reading as "up to date".
        let text = "{ models: { providers: { 'minimax-cn': {\n  baseUrl: 'https://api.minimaxi.com/anthropic', // was:\u{2028} baseUrl: 'https://api.minimax.io',\n} } } }\n";
        let e = Document::from_bytes(
            Path::new("/s/openclaw.json"),
            FileKind::Config,
            None,
            text.as_bytes().to_vec(),
        )
        .unwrap_err();
        assert_eq!(e.path, "/s/openclaw.json");
        assert!(
            e.message
                .starts_with("duplicate key \"baseUrl\" at line 2, column 59"),
            "{e}"
        );
    }

    #[test]
    fn nan_and_infinity_read_as_null_and_are_listed() {
        let text = "{a: NaN, b: -Infinity, c: +Infinity, d: [1e400, -NaN], e: 0x10, f: .5}";
        assert_eq!(
            parse(text, FileKind::Config).unwrap(),
            json!({"a": null, "b": null, "c": null, "d": [null, null], "e": 16, "f": 0.5})
        );
        use json5::NonFinite::*;
        let listed: Vec<_> = json5::parse(text).unwrap().non_finite;
        let want = [
            ("/a", NaN),
            ("/b", NegInfinity),
            ("/c", Infinity),
            ("/d/0", Infinity),
            ("/d/1", NaN),
        ];
        assert_eq!(listed.len(), want.len());
        for ((p, n), (wp, wn)) in listed.iter().zip(want) {
            assert_eq!((p.as_str(), *n), (wp, wn));
        }
    }

    #[test]
    fn escaped_unquoted_keys_and_comments_before_the_colon() {
        assert_eq!(
            parse("{\\u0061bc: 1, a\\u0062: 2, \\u0024_: 3}", FileKind::Config).unwrap(),
            json!({"abc": 1, "ab": 2, "$_": 3})
        );
        assert_eq!(
            parse(
                "{a /* c */ : 1, 'b' // c\n : 2, \"c\"\u{2028}:3}",
                FileKind::Config
            )
            .unwrap(),
            json!({"a": 1, "b": 2, "c": 3})
        );
        let e = parse("{\\u0031a: 1}", FileKind::Config).unwrap_err();
        assert!(
            e.0.contains("a character a name cannot hold; quote the key"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_keys_are_refused_however_they_are_written() {
        for text in [
            "{a: 1, \\u0061: 2}",
            "{a: 1, 'a': 2}",
            "{\"a\": 1, \"\\x61\": 2}",
            "{a: 1, // x\u{2028} a: 2\n}",
        ] {
            let e = parse(text, FileKind::Config).unwrap_err();
            assert!(
                e.0.starts_with("duplicate key \"a\" at line 1"),
                "{text:?}: {e}"
            );
        }
    }

    #[test]
    fn a_bom_a_nan_and_a_lone_surrogate_are_explained() {
        // OpenClaw's JSON5 reader takes a BOM as whitespace; JSON.parse (the agent files) does not.
        assert_eq!(
            parse("\u{FEFF}{\"a\": 1}", FileKind::Config).unwrap(),
            json!({"a": 1})
        );
        let e = parse("\u{FEFF}{\"a\": 1}", FileKind::AuthProfiles).unwrap_err();
        assert!(
            e.0.contains("byte-order mark") && e.0.contains("without a BOM"),
            "{e}"
        );
        let e = parse("{\"p\": {\"n\": NaN}}", FileKind::Models).unwrap_err();
        assert!(
            e.0.starts_with("/p/n is NaN, which is no JSON number")
                && e.0.contains("Write a number"),
            "{e}"
        );
        let e = parse("{\"a\": -Infinity}", FileKind::Models).unwrap_err();
        assert!(e.0.starts_with("/a is -Infinity"), "{e}");
        for kind in [FileKind::Config, FileKind::AuthProfiles] {
            let e = parse("{\"a\": \"x\\uD800\"}", kind).unwrap_err();
            assert!(
                e.0.contains("holds \\uD800, half of a UTF-16 surrogate pair")
                    && e.0.contains("Write the character itself"),
                "{e}"
            );
        }
        let e = parse("{\"a\": 1, // c\n}", FileKind::Models).unwrap_err();
        assert!(e.0.contains("This is JSON5 syntax"), "{e}");
    }

    #[test]
    fn a_member_written_as_text_or_below_a_carried_comment_can_be_edited_next() {
        // `store` joins one-line siblings as one-line text; `token` keeps the comment above it.
        let cases = [
            (
                "{memorySearch: {store: {path: 'x'}}, memory: {search: {query: {a: 1}}}}",
                [
                    "/memorySearch/store",
                    "/memory/search/store",
                    "/memory/search/store/path",
                ],
            ),
            (
                "{\n  a: {\n    // kept\n    token: 't',\n  },\n  b: {},\n}\n",
                ["/a/token", "/b/token", "/b/token"],
            ),
        ];
        for (text, [from, to, then]) in cases {
            let d = doc(text, FileKind::Config);
            let ops = [
                patch::move_to(from, to).unwrap(),
                patch::remove(then).unwrap(),
            ];
            let mut want = d.value.clone();
            for op in &ops {
                patch::apply(&mut want, op).unwrap();
            }
            let out = edit(&d, &ops.iter().collect::<Vec<_>>(), &want).unwrap();
            assert_eq!(parse(&out, FileKind::Config).unwrap(), want, "{out}");
        }
    }

    #[test]
    fn edits_keep_the_newly_accepted_syntax_byte_for_byte() {
        let text = "\u{FEFF}{ // was:\u{2028} old: 1,\n  \\u0062aseUrl: 'https://api.minimax.io', /* c */\n  window: Infinity,\n  p: {\n    a: { x: 1 },\n  },\n}\n";
        let op = patch::replace("/baseUrl", json!("https://api.minimaxi.com/anthropic")).unwrap();
        let (d, want) = planned(text, &op);
        assert_eq!(
            edit(&d, &[&op], &want).unwrap(),
            text.replace(
                "'https://api.minimax.io'",
                "'https://api.minimaxi.com/anthropic'"
            )
        );
        let op = patch::add("/p/b", json!({"x": 2})).unwrap();
        let (d, want) = planned(text, &op);
        assert_eq!(
            edit(&d, &[&op], &want).unwrap(),
            text.replace("a: { x: 1 },\n", "a: { x: 1 },\n    b: { x: 2 },\n")
        );
    }

    #[test]
    fn edits_that_would_touch_a_non_finite_number_or_rewrite_syntax_are_refused() {
        let text = "{\n  a: { n: NaN, m: 1 },\n  l: [1, -Infinity],\n  s: 'x',\n}\n";
        for op in [
            patch::replace("/a", json!({"n": null, "m": 2})).unwrap(),
            patch::remove("/a/n").unwrap(),
            patch::remove("/l/0").unwrap(),
            patch::move_to("/a", "/b").unwrap(),
        ] {
            let (d, want) = planned(text, &op);
            let e = edit(&d, &[&op], &want).unwrap_err();
            assert!(matches!(e, EditError::NonFinite { .. }), "{e:?}");
            let e = e.to_string();
            assert!(
                e.starts_with("cannot change /") && e.contains("nothing was written"),
                "{e}"
            );
        }
        // Beside them, edits work (here through the syntax tree) and keep them.
        let op = patch::remove("/a/m").unwrap();
        let (d, want) = planned(text, &op);
        let out = edit(&d, &[&op], &want).unwrap();
        assert!(out.contains("n: NaN") && out.contains("-Infinity") && !out.contains("m: 1"));
        // The syntax-tree editor would write a U+2028 back as a newline: refused, naming it.
        let text = "{\n  a: 1, // c\u{2028} s: 'x',\n}\n";
        let op = patch::remove("/a").unwrap();
        let (d, want) = planned(text, &op);
        let e = edit(&d, &[&op], &want).unwrap_err();
        assert!(
            matches!(&e, EditError::Json5Only(what) if what.contains("a U+2028/U+2029 line separator ending a // comment")),
            "{e}"
        );
    }

    /// The syntax-tree editor on a config, in the style its read tallies.
    fn tree_edit(text: &str, ops: &[&Op]) -> String {
        cst_edit(
            text,
            FileKind::Config,
            json5::parse(text).unwrap().style,
            ops,
        )
        .unwrap()
    }

    /// Case 005 of the doctor corpus: a commented member moved into a new object, then a second
    /// member moved next to it. The carried comment once went into the first name's raw text, and
    /// looking up the second name made jsonc-parser panic (`Expected ", was Some('/')`).
    #[test]
    fn comments_carried_by_a_move_stay_comments_for_later_edits() {
        let text = "{\n  // lived at the top\n  telegram: { a: 1 },\n  discord: { b: 2 },\n}\n";
        let ops = [
            patch::add("/channels", json!({})).unwrap(),
            patch::move_to("/telegram", "/channels/telegram").unwrap(),
            patch::move_to("/discord", "/channels/discord").unwrap(),
            patch::test("/channels/telegram", json!({"a": 1})).unwrap(),
            patch::move_to("/channels", "/all").unwrap(),
        ];
        let out = tree_edit(text, &ops.iter().collect::<Vec<_>>());
        assert_eq!(
            parse(&out, FileKind::Config).unwrap(),
            json!({"all": {"telegram": {"a": 1}, "discord": {"b": 2}}})
        );
        let at = out
            .find("// lived at the top")
            .expect("the comment survives");
        assert!(
            out[at..]
                .trim_start_matches("// lived at the top")
                .trim_start()
                .starts_with("telegram"),
            "{out}"
        );
    }

    /// A member written inline like its siblings holds object text, never a string node whose
    /// raw text is an object (which jsonc-parser panics on when it reads the value back).
    #[test]
    fn a_member_written_inline_reads_back_as_an_object() {
        let text = "{\n  p: {\n    a: { x: 1 },\n  },\n}\n";
        let ops = [
            patch::add("/p/b", json!({"y": 2})).unwrap(),
            patch::test("/p/b", json!({"y": 2})).unwrap(),
            patch::move_to("/p", "/q").unwrap(),
        ];
        let out = tree_edit(text, &ops.iter().collect::<Vec<_>>());
        assert!(out.contains("b: { y: 2 }"), "{out}");
        assert_eq!(
            parse(&out, FileKind::Config).unwrap(),
            json!({"q": {"a": {"x": 1}, "b": {"y": 2}}})
        );
    }

    /// A comment ending the moved member's line goes with it (above it at the new place); one
    /// ending a removed member's line goes with the member; a neighbour's stays.
    #[test]
    fn a_move_carries_the_comment_that_ends_the_member_line() {
        let text = "{\n  r: {\n    a: 1,\n    m: false, // why\n    b: 2, /* bee */\n  },\n  x: {\n    k: 1,\n  },\n}\n";
        let ops = [
            patch::move_to("/r/m", "/x/m").unwrap(),
            patch::remove("/r/b").unwrap(),
        ];
        let out = tree_edit(text, &ops.iter().collect::<Vec<_>>());
        assert_eq!(
            parse(&out, FileKind::Config).unwrap(),
            json!({"r": {"a": 1}, "x": {"k": 1, "m": false}})
        );
        assert_eq!(out.matches("// why").count(), 1, "{out}");
        assert!(out.find("// why") > out.find("k: 1"), "{out}");
        assert!(!out.contains("bee"), "{out}");
    }

    /// An object moved to another parent keeps the comments and layout inside it, at its new
    /// indentation (case 010: `agent` becomes `agents.defaults`).
    #[test]
    fn a_moved_object_keeps_the_comments_inside_it() {
        let text = "{\n  agent: {\n    // every session starts here\n    model: 'a/x',\n    list: [1, 2], // short\n  },\n  agents: {\n    list: [],\n  },\n}\n";
        let op = patch::move_to("/agent", "/agents/defaults").unwrap();
        let out = tree_edit(text, &[&op]);
        assert_eq!(
            out,
            "{\n  agents: {\n    list: [],\n    defaults: {\n      // every session starts here\n      model: 'a/x',\n      list: [1, 2], // short\n    },\n  },\n}\n"
        );
    }
}
