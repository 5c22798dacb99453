//! A JSON5 reader that reads `openclaw.json` exactly as OpenClaw does: a port of the grammar of
//! the `json5` npm package (2.2.3, the version OpenClaw 2026.9.6 pins), with its own Unicode
//! tables (`tables.rs`, generated from that package).
//!
//! Why our own reader: no crate reads what that package reads. `jsonc-parser` (kept for
//! format-preserving edits) lets a U+2028/U+2029 run on inside a `//` comment (hiding the keys
//! after it from us but not from OpenClaw), refuses `\u`-escaped unquoted keys and a BOM, accepts
//! things json5 refuses (missing commas, `01`, NEL as whitespace) and cannot put NaN or Infinity in a
//! `serde_json::Value`; the `json5` crate turns ±Infinity into `null` without saying where. The
//! differential fuzzer (`tests/it/json5_diff.rs`) compares this reader with the real package.
//!
//! Besides the tree, a read reports what the format-preserving editor needs to know:
//! - **NaN and ±Infinity** have no `serde_json::Value`. They are read as `null` and listed in
//!   [`Read::non_finite`] by JSON pointer. Nothing reads them as a number or a string, and
//!   `document::edit` refuses any edit that would touch one (it would be rewritten as `null`).
//! - **Syntax `jsonc-parser` reads differently** (a BOM, a U+2028/U+2029 ending a `//` comment, an
//!   escaped unquoted key) is rewritten in [`Read::for_jsonc`] to same-length text `jsonc-parser`
//!   reads the same way, so byte ranges found there apply to the original text unchanged.
//! - **The text's style** (keys bare or quoted, strings in single or double quotes) is tallied in
//!   [`Read::style`], for the text the editors write into it.
use super::style::{Style, Tally};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

mod tables;

/// How deeply objects and arrays may nest. json5 has no limit, but a tree this deep is no
/// configuration and would exhaust the stack of whatever walks it next.
pub const MAX_DEPTH: usize = 512;

/// A non-finite number in the text (read as `null` in the tree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonFinite {
    NaN,
    Infinity,
    NegInfinity,
}

impl NonFinite {
    pub fn as_str(self) -> &'static str {
        match self {
            NonFinite::NaN => "NaN",
            NonFinite::Infinity => "Infinity",
            NonFinite::NegInfinity => "-Infinity",
        }
    }
}

/// The result of reading a JSON5 text.
#[derive(Debug, Clone)]
pub struct Read<'a> {
    /// The tree as json5 builds it, with `null` in place of each non-finite number.
    pub value: Value,
    /// Where NaN and ±Infinity are (JSON pointers), in document order.
    pub non_finite: Vec<(String, NonFinite)>,
    /// The text rewritten (same length) so that `jsonc-parser` reads it as json5 does; borrowed
    /// when nothing needed rewriting.
    pub for_jsonc: Cow<'a, str>,
    /// What was rewritten in `for_jsonc`, for messages ("a U+2028 ending a // comment").
    pub rewritten: Vec<&'static str>,
    /// How the text writes its keys and strings, for the text the editors write into it.
    pub style: Style,
}

/// Why a text is not JSON5 as the json5 package reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// 1-based line and column (in characters) of the offending character.
    pub line: usize,
    pub column: usize,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A character json5 does not accept there.
    InvalidChar(char),
    /// The same, with what would have been accepted.
    Expected(char, &'static str),
    /// The text ends inside a value, string or comment.
    Eof,
    /// A `\u` escape in an unquoted key stands for a character not allowed in a name.
    InvalidIdentifier,
    /// The same key twice in one object.
    Duplicate(String),
    /// A `\uD800`-style escape without its other half.
    LoneSurrogate(u16),
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let (l, c) = (self.line, self.column);
        match &self.kind {
            ErrorKind::InvalidChar(ch) => write!(
                f,
                "invalid JSON5 at line {l}, column {c}: unexpected character {}",
                describe(*ch)
            ),
            ErrorKind::Expected(ch, what) => write!(
                f,
                "invalid JSON5 at line {l}, column {c}: expected {what}, found {}",
                describe(*ch)
            ),
            ErrorKind::Eof => write!(
                f,
                "invalid JSON5 at line {l}, column {c}: the text ends inside an object, array, \
                 string or comment (something is not closed)"
            ),
            ErrorKind::InvalidIdentifier => write!(
                f,
                "invalid JSON5 at line {l}, column {c}: a \\u escape in an unquoted key stands for \
                 a character a name cannot hold; quote the key"
            ),
            ErrorKind::Duplicate(k) => write!(
                f,
                "duplicate key {k:?} at line {l}, column {c}: readers disagree on which value \
                 wins; keep one"
            ),
            ErrorKind::LoneSurrogate(u) => write!(f, "{}", lone_surrogate(*u, l, c)),
            ErrorKind::TooDeep => write!(
                f,
                "invalid JSON5 at line {l}, column {c}: objects and arrays nest deeper than \
                 {MAX_DEPTH} levels, which no configuration does"
            ),
        }
    }
}

/// The message for a `\uD800`-style escape without its other half (shared with the JSON reader).
pub fn lone_surrogate(unit: u16, line: usize, column: usize) -> String {
    format!(
        "the string at line {line}, column {column} holds \\u{unit:04X}, half of a UTF-16 \
         surrogate pair without its other half: it encodes no character, and clawmigrate cannot \
         carry it through a rewrite. Write the character itself, or its full pair (a high \
         \\uD800-\\uDBFF escape directly followed by a low \\uDC00-\\uDFFF one)"
    )
}

/// A character as an error message shows it: quoted when printable, its code point otherwise.
fn describe(c: char) -> String {
    if c.is_control() || c.is_whitespace() || c == '\u{FEFF}' {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// json5's whitespace (`lexStates.default`): note U+FEFF and U+2028/9 are, NEL is not.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{B}'
            | '\u{C}'
            | ' '
            | '\u{A0}'
            | '\u{FEFF}'
            | '\n'
            | '\r'
            | '\u{2028}'
            | '\u{2029}'
    ) || in_table(tables::SPACE_SEPARATOR, c)
}

/// `util.isIdStartChar`.
pub fn is_id_start(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic() || c == '$' || c == '_';
    }
    in_table(tables::ID_START, c)
}

/// `util.isIdContinueChar`.
pub fn is_id_continue(c: char) -> bool {
    // ASCII (nearly every key) is settled without the table search.
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || matches!(c, '$' | '_');
    }
    matches!(c, '\u{200C}' | '\u{200D}') || in_table(tables::ID_CONTINUE, c)
}

/// Equal as JavaScript sees two read trees: numbers by value as doubles (a JSON5 text may read
/// `15` where JSON has `15.0`, or the reverse) and object keys in any order.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// Reads a JSON5 text as the json5 package does, refusing duplicate keys.
pub fn parse(text: &str) -> Result<Read<'_>, Error> {
    let mut p = Parser {
        src: text,
        pos: 0,
        rewrites: Vec::new(),
        rewritten: Vec::new(),
        tally: Tally::default(),
    };
    let (value, non_finite) = p.document()?;
    let for_jsonc = if p.rewrites.is_empty() {
        Cow::Borrowed(text)
    } else {
        let mut s = text.to_string();
        for (start, with) in &p.rewrites {
            s.replace_range(*start..*start + with.len(), with);
        }
        Cow::Owned(s)
    };
    Ok(Read {
        value,
        non_finite,
        for_jsonc,
        rewritten: p.rewritten,
        style: p.tally.style(),
    })
}

/// One token of the value grammar (`lexStates.value`).
enum Scalar {
    Value(Value),
    NonFinite(NonFinite),
}

enum Frame {
    Object {
        map: Map<String, Value>,
        key: String,
    },
    Array(Vec<Value>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    BeforePropertyName,
    AfterPropertyName,
    BeforePropertyValue,
    AfterPropertyValue,
    BeforeArrayValue,
    AfterArrayValue,
    End,
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Same-length replacements that make `jsonc-parser` read the text as json5 does.
    rewrites: Vec<(usize, String)>,
    rewritten: Vec<&'static str>,
    /// The keys and strings seen, by how they are written.
    tally: Tally,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn error_at(&self, at: usize, kind: ErrorKind) -> Error {
        let before = &self.src[..at.min(self.src.len())];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Error {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            kind,
        }
    }

    /// json5's `invalidChar(read())`: the character here, or the end of the text.
    fn invalid(&self) -> Error {
        match self.peek() {
            Some(c) => self.error_at(self.pos, ErrorKind::InvalidChar(c)),
            None => self.error_at(self.pos, ErrorKind::Eof),
        }
    }

    /// `invalid`, saying what was expected there.
    fn invalid_expecting(&self, expected: &'static str) -> Error {
        let mut e = self.invalid();
        if let ErrorKind::InvalidChar(c) = e.kind {
            e.kind = ErrorKind::Expected(c, expected);
        }
        e
    }

    fn note(&mut self, what: &'static str) {
        if !self.rewritten.contains(&what) {
            self.rewritten.push(what);
        }
    }

    /// `lexStates.default` and the comment states: skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), Error> {
        loop {
            match self.peek() {
                Some('\u{FEFF}') => {
                    self.rewrites.push((self.pos, "   ".into()));
                    self.note("a byte-order mark (U+FEFF)");
                    self.bump();
                }
                Some(c) if is_space(c) => {
                    self.bump();
                }
                Some('/') => {
                    self.bump();
                    match self.peek() {
                        Some('/') => loop {
                            match self.bump() {
                                None | Some('\n' | '\r') => break,
                                Some(c @ ('\u{2028}' | '\u{2029}')) => {
                                    let at = self.pos - c.len_utf8();
                                    self.rewrites.push((at, "\n  ".into()));
                                    self.note("a U+2028/U+2029 line separator ending a // comment");
                                    break;
                                }
                                Some(_) => {}
                            }
                        },
                        Some('*') => {
                            self.bump();
                            loop {
                                match self.bump() {
                                    None => return Err(self.error_at(self.pos, ErrorKind::Eof)),
                                    Some('*') if self.peek() == Some('/') => {
                                        self.bump();
                                        break;
                                    }
                                    Some(_) => {}
                                }
                            }
                        }
                        _ => return Err(self.invalid_expecting("'/' or '*' after '/' (a comment)")),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn document(&mut self) -> Result<(Value, Vec<(String, NonFinite)>), Error> {
        let mut stack: Vec<Frame> = Vec::new();
        // The JSON pointer of each open container (parallel to `stack`, plus the root's "").
        let mut pointers: Vec<String> = vec![String::new()];
        let mut non_finite = Vec::new();
        let mut root: Option<Value> = None;
        let mut state = State::Start;
        loop {
            self.skip_trivia()?;
            let Some(c) = self.peek() else {
                return match (state, root) {
                    (State::End, Some(v)) => Ok((v, non_finite)),
                    _ => Err(self.error_at(self.pos, ErrorKind::Eof)),
                };
            };
            match state {
                State::Start | State::BeforePropertyValue | State::BeforeArrayValue => {
                    if state == State::BeforeArrayValue && c == ']' {
                        self.bump();
                        state = self.pop(&mut stack, &mut pointers, &mut root)?;
                        continue;
                    }
                    match c {
                        '{' | '[' => {
                            if stack.len() >= MAX_DEPTH {
                                return Err(self.error_at(self.pos, ErrorKind::TooDeep));
                            }
                            self.bump();
                            pointers.push(next_pointer(&stack, &pointers));
                            if c == '{' {
                                stack.push(Frame::Object {
                                    map: Map::new(),
                                    key: String::new(),
                                });
                                state = State::BeforePropertyName;
                            } else {
                                stack.push(Frame::Array(Vec::new()));
                                state = State::BeforeArrayValue;
                            }
                        }
                        _ => {
                            let v = match self.scalar()? {
                                Scalar::Value(v) => v,
                                Scalar::NonFinite(n) => {
                                    non_finite.push((next_pointer(&stack, &pointers), n));
                                    Value::Null
                                }
                            };
                            state = self.put(&mut stack, &mut root, v)?;
                        }
                    }
                }
                State::BeforePropertyName => {
                    if c == '}' {
                        self.bump();
                        state = self.pop(&mut stack, &mut pointers, &mut root)?;
                        continue;
                    }
                    let at = self.pos;
                    let name = self.property_name()?;
                    if let Some(Frame::Object { map, key }) = stack.last_mut() {
                        if map.contains_key(&name) {
                            return Err(self.error_at(at, ErrorKind::Duplicate(name)));
                        }
                        *key = name;
                    }
                    state = State::AfterPropertyName;
                }
                State::AfterPropertyName => {
                    if c != ':' {
                        return Err(self.invalid_expecting("':' after the key"));
                    }
                    self.bump();
                    state = State::BeforePropertyValue;
                }
                State::AfterPropertyValue => match c {
                    ',' => {
                        self.bump();
                        state = State::BeforePropertyName;
                    }
                    '}' => {
                        self.bump();
                        state = self.pop(&mut stack, &mut pointers, &mut root)?;
                    }
                    _ => return Err(self.invalid_expecting("',' or '}' after the value")),
                },
                State::AfterArrayValue => match c {
                    ',' => {
                        self.bump();
                        state = State::BeforeArrayValue;
                    }
                    ']' => {
                        self.bump();
                        state = self.pop(&mut stack, &mut pointers, &mut root)?;
                    }
                    _ => return Err(self.invalid_expecting("',' or ']' after the value")),
                },
                State::End => {
                    return Err(self.invalid_expecting("nothing after the top-level value"));
                }
            }
        }
    }

    /// json5's `push` for a finished value: stores it in its parent (or as the root).
    fn put(&self, stack: &mut [Frame], root: &mut Option<Value>, v: Value) -> Result<State, Error> {
        match stack.last_mut() {
            None => {
                *root = Some(v);
                Ok(State::End)
            }
            Some(Frame::Array(a)) => {
                a.push(v);
                Ok(State::AfterArrayValue)
            }
            Some(Frame::Object { map, key }) => {
                map.insert(std::mem::take(key), v);
                Ok(State::AfterPropertyValue)
            }
        }
    }

    fn pop(
        &self,
        stack: &mut Vec<Frame>,
        pointers: &mut Vec<String>,
        root: &mut Option<Value>,
    ) -> Result<State, Error> {
        pointers.pop();
        let v = match stack.pop() {
            Some(Frame::Object { map, .. }) => Value::Object(map),
            Some(Frame::Array(a)) => Value::Array(a),
            None => unreachable!("pop without an open container"),
        };
        self.put(stack, root, v)
    }

    /// `lexStates.beforePropertyName` and the identifier states: a quoted or unquoted key.
    fn property_name(&mut self) -> Result<String, Error> {
        let start = self.pos;
        match self.peek() {
            Some(q @ ('"' | '\'')) => {
                self.bump();
                let name = self.string(q, start)?;
                self.tally.key(&name, false);
                return Ok(name);
            }
            Some('\\') => {}
            Some(c) if is_id_start(c) => {}
            _ => return Err(self.invalid_expecting("a key or '}'")),
        }
        let mut name = String::new();
        let mut escaped = false;
        let mut first = true;
        loop {
            match self.peek() {
                Some('\\') => {
                    self.bump();
                    if self.peek() != Some('u') {
                        return Err(self.invalid_expecting("'u' after '\\' in a key"));
                    }
                    self.bump();
                    let esc_at = self.pos;
                    let unit = self.hex_digits(4)?;
                    let ok_char = char::from_u32(unit).filter(|&c| {
                        matches!(c, '$' | '_')
                            || if first {
                                is_id_start(c)
                            } else {
                                is_id_continue(c)
                            }
                    });
                    match ok_char {
                        Some(c) => name.push(c),
                        None => {
                            return Err(self.error_at(esc_at, ErrorKind::InvalidIdentifier));
                        }
                    }
                    escaped = true;
                }
                Some(c) if (first && is_id_start(c)) || (!first && is_id_continue(c)) => {
                    self.bump();
                    name.push(c);
                }
                _ => break,
            }
            first = false;
        }
        if escaped {
            // jsonc-parser cannot read escaped names: give it the name quoted, padded to length.
            let quoted = serde_json::to_string(&name).expect("a string serialises");
            let len = self.pos - start;
            if quoted.len() <= len {
                self.rewrites
                    .push((start, format!("{quoted}{}", " ".repeat(len - quoted.len()))));
                self.note("an unquoted key written with \\u escapes");
            }
        }
        self.tally.key(&name, true);
        Ok(name)
    }

    /// Reads `n` hex digits (json5's `unicodeEscape`/`hexEscape`).
    fn hex_digits(&mut self, n: usize) -> Result<u32, Error> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    self.bump();
                    v = v * 16 + d;
                }
                None => return Err(self.invalid()),
            }
        }
        Ok(v)
    }

    /// `lexStates.string` after the opening quote `q` (at `start`): a JS string, built from UTF-16
    /// code units so that escaped surrogate pairs join as they do in JavaScript.
    fn string(&mut self, q: char, start: usize) -> Result<String, Error> {
        // Most strings hold no escape and no line break: taken as they stand, without the
        // UTF-16 round trip below (which json5's own semantics need only for escapes).
        let rest = &self.src.as_bytes()[self.pos..];
        let stop = rest
            .iter()
            .position(|&b| b == q as u8 || matches!(b, b'\\' | b'\n' | b'\r'));
        if let Some(i) = stop.filter(|&i| rest[i] == q as u8) {
            let s = self.src[self.pos..self.pos + i].to_string();
            self.pos += i + 1;
            return Ok(s);
        }
        let mut units: Vec<u16> = Vec::new();
        let mut buf = [0u16; 2];
        loop {
            let Some(c) = self.peek() else {
                return Err(self.invalid());
            };
            match c {
                '\\' => {
                    self.bump();
                    let Some(e) = self.peek() else {
                        return Err(self.invalid());
                    };
                    let ch = match e {
                        'b' => Some('\u{8}'),
                        'f' => Some('\u{C}'),
                        'n' => Some('\n'),
                        'r' => Some('\r'),
                        't' => Some('\t'),
                        'v' => Some('\u{B}'),
                        '0' => {
                            self.bump();
                            if self.peek().is_some_and(|d| d.is_ascii_digit()) {
                                return Err(self.invalid());
                            }
                            units.push(0);
                            continue;
                        }
                        'x' => {
                            self.bump();
                            let v = self.hex_digits(2)?;
                            units.push(v as u16);
                            continue;
                        }
                        'u' => {
                            self.bump();
                            let v = self.hex_digits(4)?;
                            units.push(v as u16);
                            continue;
                        }
                        '\n' | '\u{2028}' | '\u{2029}' => None,
                        '\r' => {
                            self.bump();
                            if self.peek() == Some('\n') {
                                self.bump();
                            }
                            continue;
                        }
                        '1'..='9' => {
                            return Err(
                                self.invalid_expecting("an escape (\\1 to \\9 are not JSON5)")
                            );
                        }
                        other => Some(other),
                    };
                    self.bump();
                    if let Some(ch) = ch {
                        units.extend_from_slice(ch.encode_utf16(&mut buf));
                    }
                }
                '\n' | '\r' => {
                    return Err(self.invalid_expecting(
                        "the closing quote before the end of the line (write \\n for a line break)",
                    ));
                }
                _ if c == q => {
                    self.bump();
                    return String::from_utf16(&units).map_err(|_| {
                        let unit = char::decode_utf16(units.iter().copied())
                            .find_map(|r| r.err())
                            .map_or(0, |e| e.unpaired_surrogate());
                        self.error_at(start, ErrorKind::LoneSurrogate(unit))
                    });
                }
                _ => {
                    self.bump();
                    units.extend_from_slice(c.encode_utf16(&mut buf));
                }
            }
        }
    }

    /// Reads `rest` exactly (json5's `literal`).
    fn literal(&mut self, rest: &str) -> Result<(), Error> {
        for want in rest.chars() {
            if self.peek() != Some(want) {
                return Err(self.invalid());
            }
            self.bump();
        }
        Ok(())
    }

    /// `lexStates.value` for everything but `{` and `[`.
    fn scalar(&mut self) -> Result<Scalar, Error> {
        let start = self.pos;
        let c = self.peek().ok_or_else(|| self.invalid())?;
        match c {
            'n' => {
                self.bump();
                self.literal("ull")?;
                Ok(Scalar::Value(Value::Null))
            }
            't' => {
                self.bump();
                self.literal("rue")?;
                Ok(Scalar::Value(Value::Bool(true)))
            }
            'f' => {
                self.bump();
                self.literal("alse")?;
                Ok(Scalar::Value(Value::Bool(false)))
            }
            '"' | '\'' => {
                self.bump();
                self.tally.string(c);
                Ok(Scalar::Value(Value::String(self.string(c, start)?)))
            }
            '-' | '+' => {
                self.bump();
                self.number(c == '-')
            }
            '.' | '0'..='9' | 'I' | 'N' => self.number(false),
            _ => Err(self.invalid_expecting("a value")),
        }
    }

    /// The number states (`sign` onwards), after an optional sign.
    fn number(&mut self, negative: bool) -> Result<Scalar, Error> {
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.bump();
            }
            p.pos - s
        };
        match self.peek() {
            Some('I') => {
                self.bump();
                self.literal("nfinity")?;
                return Ok(Scalar::NonFinite(if negative {
                    NonFinite::NegInfinity
                } else {
                    NonFinite::Infinity
                }));
            }
            Some('N') => {
                self.bump();
                self.literal("aN")?;
                return Ok(Scalar::NonFinite(NonFinite::NaN));
            }
            _ => {}
        }
        let start = self.pos;
        let mut int_only = true;
        match self.peek() {
            Some('0') => {
                self.bump();
                if matches!(self.peek(), Some('x' | 'X')) {
                    self.bump();
                    let hs = self.pos;
                    while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                        self.bump();
                    }
                    if self.pos == hs {
                        return Err(self.invalid());
                    }
                    let hex = self.src[hs..self.pos].trim_start_matches('0');
                    return Ok(match u64::from_str_radix(hex, 16) {
                        Ok(u) => integer(u, negative),
                        Err(_) if hex.is_empty() => integer(0, negative),
                        Err(_) => float(hex_value(hex), negative),
                    });
                }
            }
            Some('1'..='9') => {
                digits(self);
            }
            Some('.') => {
                // `decimalPointLeading`: a digit must follow.
                self.bump();
                if digits(self) == 0 {
                    return Err(self.invalid());
                }
                int_only = false;
            }
            _ => return Err(self.invalid()),
        }
        // After the integer part (`zero`, `decimalInteger`): an optional fraction, then exponent.
        if int_only && self.peek() == Some('.') {
            self.bump();
            digits(self);
            int_only = false;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if digits(self) == 0 {
                return Err(self.invalid());
            }
            int_only = false;
        }
        let text = &self.src[start..self.pos];
        if int_only && let Ok(u) = text.parse::<u64>() {
            return Ok(integer(u, negative));
        }
        // JavaScript's Number(): "5." and ".5" are numbers; Rust's parser wants "5.0", "0.5".
        let mut norm = String::with_capacity(text.len() + 2);
        if text.starts_with('.') {
            norm.push('0');
        }
        for (i, ch) in text.char_indices() {
            norm.push(ch);
            if ch == '.' && !text[i + 1..].starts_with(|d: char| d.is_ascii_digit()) {
                norm.push('0');
            }
        }
        let f: f64 = norm.parse().expect("a scanned decimal parses");
        Ok(float(f, negative))
    }
}

/// An integer literal as serde_json reads it (so a config reads the same by either path).
fn integer(u: u64, negative: bool) -> Scalar {
    if !negative {
        return Scalar::Value(Value::from(u));
    }
    match i64::try_from(u) {
        Ok(0) => float(0.0, true),
        Ok(i) => Scalar::Value(Value::from(-i)),
        Err(_) if u == 1 << 63 => Scalar::Value(Value::from(i64::MIN)),
        Err(_) => float(u as f64, true),
    }
}

/// A float, or an overflowed literal (`1e400` is Infinity in JavaScript).
fn float(f: f64, negative: bool) -> Scalar {
    let f = if negative { -f } else { f };
    match Number::from_f64(f) {
        Some(n) => Scalar::Value(Value::Number(n)),
        None if f > 0.0 => Scalar::NonFinite(NonFinite::Infinity),
        None => Scalar::NonFinite(NonFinite::NegInfinity),
    }
}

/// The value of hex digits, rounded to the nearest double as JavaScript's `Number("0x…")` does.
fn hex_value(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('0');
    if hex.len() <= 16 {
        return u64::from_str_radix(if hex.is_empty() { "0" } else { hex }, 16).unwrap() as f64;
    }
    // The top 16 digits hold at least 61 significant bits; a non-zero rest is folded into bit 0
    // as a sticky bit, which rounds the 53-bit mantissa correctly. Scaling by a power of two is
    // exact (or overflows to Infinity, as in JavaScript).
    let top = u64::from_str_radix(&hex[..16], 16).unwrap();
    let sticky = hex[16..].bytes().any(|b| b != b'0');
    let dropped = 4 * (hex.len() - 16);
    if dropped > 2048 {
        return f64::INFINITY;
    }
    (top | u64::from(sticky)) as f64 * 2f64.powi(dropped as i32)
}

/// The JSON pointer of the value about to be read: made only for a container or a non-finite
/// number (a `format!` per scalar was most of what reading a document allocated).
fn next_pointer(stack: &[Frame], pointers: &[String]) -> String {
    let parent = pointers.last().map_or("", String::as_str);
    match stack.last() {
        None => String::new(),
        Some(Frame::Object { key, .. }) => format!("{parent}/{}", escape_token(key)),
        Some(Frame::Array(a)) => format!("{parent}/{}", a.len()),
    }
}

/// A JSON pointer token (RFC 6901).
fn escape_token(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(t: &str) -> Value {
        parse(t).unwrap().value
    }

    #[test]
    fn reads_the_json5_spec_example() {
        let t = "// comment\n{\n  unquoted: 'and you can quote me on that',\n  singleQuotes: 'I can use \"double quotes\" here',\n  lineBreaks: \"Look, Mom! \\\nNo \\\\n's!\",\n  hexadecimal: 0xdecaf,\n  leadingDecimalPoint: .8675309, andTrailing: 8675309.,\n  positiveSign: +1,\n  trailingComma: 'in objects', andIn: ['arrays',],\n  \"backwardsCompatible\": \"with JSON\",\n}\n";
        assert_eq!(
            v(t),
            json!({"unquoted": "and you can quote me on that",
                "singleQuotes": "I can use \"double quotes\" here",
                "lineBreaks": "Look, Mom! No \\n's!", "hexadecimal": 912559,
                "leadingDecimalPoint": 0.8675309, "andTrailing": 8675309.0, "positiveSign": 1,
                "trailingComma": "in objects", "andIn": ["arrays"],
                "backwardsCompatible": "with JSON"})
        );
    }

    #[test]
    fn hex_rounds_like_javascript() {
        assert_eq!(hex_value("1F"), 31.0);
        assert_eq!(hex_value("20000000000001"), 9007199254740992.0);
        assert_eq!(hex_value("20000000000003"), 9007199254740996.0);
        assert_eq!(hex_value("10000000000000000"), 18446744073709551616.0);
        assert_eq!(hex_value("FFFFFFFFFFFFFFFFFF"), 4722366482869645213696.0);
        assert_eq!(hex_value("1000000000000000000000001"), 2f64.powi(96));
        let (p96, p44, p45) = (2f64.powi(96), 2f64.powi(44), 2f64.powi(45));
        assert_eq!(hex_value("1000000000000080000000001"), p96 + p44);
        assert_eq!(
            hex_value("1000000000000080000000000"),
            p96,
            "a tie rounds to even"
        );
        assert_eq!(hex_value("1000000000000180000000000"), p96 + p45);
        assert!(hex_value(&"F".repeat(300)).is_infinite());
    }

    #[test]
    fn refuses_what_json5_refuses() {
        for t in [
            "{a:1 b:2}",
            "{a: 01}",
            "{1: 2}",
            "{a: '\\1'}",
            "{a: '\\01'}",
            "{a: 'x\ny'}",
            "{a: 1}\u{85}",
            "[,]",
            "{,}",
            "{a: .}",
            "{a: 1e}",
            "{a: 0x}",
            "{a: nul}",
            "{a: 1} /",
            "{a: 1} /* x",
            "{\\u0031a: 1}",
            "",
        ] {
            assert!(parse(t).is_err(), "{t:?} should be refused");
        }
    }
}
