//! How a file writes its text: bare or quoted keys, single or double quotes. A config's style is
//! tallied while it is read (`json5`), and both editors write new keys and strings in it.
use serde_json::{Map, Value};

/// The style new text is written in: identifier keys bare when most of the file's identifier
/// keys are, strings in single quotes when most of its string values are. The default is JSON's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub bare_keys: bool,
    pub single_quotes: bool,
}

/// The counts a [`Style`] is decided by, kept while a text is read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    bare_keys: usize,
    quoted_identifier_keys: usize,
    single_quoted: usize,
    double_quoted: usize,
}

impl Tally {
    /// A key written bare, or one written in quotes that could have been bare.
    pub fn key(&mut self, name: &str, bare: bool) {
        if bare {
            self.bare_keys += 1;
        } else if is_identifier(name) {
            self.quoted_identifier_keys += 1;
        }
    }

    /// A string value written in quotes `q`.
    pub fn string(&mut self, q: char) {
        if q == '\'' {
            self.single_quoted += 1;
        } else {
            self.double_quoted += 1;
        }
    }

    pub fn style(self) -> Style {
        Style {
            bare_keys: self.bare_keys > self.quoted_identifier_keys,
            single_quotes: self.single_quoted > self.double_quoted,
        }
    }
}

/// `{ provider: "x", mode: "y" }`: an object of scalars on one line, keys bare when `bare` and
/// the key is an identifier, quoted otherwise; strings (and quoted keys) in single quotes when
/// `single_quotes`.
pub fn inline_object(fields: &Map<String, Value>, bare: bool, single_quotes: bool) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            let key = styled_key(k, bare, single_quotes);
            match v {
                Value::String(s) if single_quotes => format!("{key}: {}", single_quoted(s)),
                _ => format!("{key}: {v}"),
            }
        })
        .collect();
    format!("{{ {} }}", body.join(", "))
}

/// A scalar written over `old` (the text of the value it replaces): a string in single quotes
/// where `old` was one, as the file writes its strings; JSON otherwise.
pub fn scalar_text(old: &str, value: &Value) -> String {
    match value {
        Value::String(s) if old.starts_with('\'') => single_quoted(s),
        _ => value.to_string(),
    }
}

/// `json` (JSON text the syntax tree wrote for a new value or member) in the file's style: an
/// identifier key bare when `bare_keys`, strings in single quotes when `single_quotes`.
pub fn restyle(json: &str, bare_keys: bool, single_quotes: bool) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..open]);
        let tail = &rest[open + 1..];
        let mut end = 0;
        let mut escaped = false;
        for (i, c) in tail.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let lit = &rest[open..open + end + 2];
        rest = &rest[open + end + 2..];
        let s: String = serde_json::from_str(lit).expect("the tree writes JSON strings");
        if rest.trim_start().starts_with(':') {
            out.push_str(&styled_key(&s, bare_keys, single_quotes));
        } else if single_quotes {
            out.push_str(&single_quoted(&s));
        } else {
            out.push_str(lit);
        }
    }
    out.push_str(rest);
    out
}

/// A property name as the file writes its names: bare when `bare` and it may be, else in single
/// quotes when `single_quotes`, else JSON.
pub fn styled_key(k: &str, bare: bool, single_quotes: bool) -> String {
    if bare && is_identifier(k) {
        k.to_string()
    } else if single_quotes {
        single_quoted(k)
    } else {
        serde_json::to_string(k).expect("a string serialises")
    }
}

/// `s` as a JSON5 string in single quotes: JSON's escapes, with `"` bare and `'` escaped.
fn single_quoted(s: &str) -> String {
    let json = serde_json::to_string(s).expect("a string serialises");
    let mut out = String::with_capacity(json.len() + 2);
    out.push('\'');
    let mut chars = json[1..json.len() - 1].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Whether a key may be written bare (an ASCII identifier).
pub fn is_identifier(k: &str) -> bool {
    k.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &str) -> Style {
        crate::document::json5::parse(text).unwrap().style
    }

    #[test]
    fn a_read_tallies_the_files_keys_and_quotes_by_majority() {
        let style = |bare_keys, single_quotes| Style {
            bare_keys,
            single_quotes,
        };
        assert_eq!(read("{a: 'x', b: 'y', \"c\": \"z\"}"), style(true, true));
        // A quoted key only counts against bare ones where it could have been bare; keys are
        // not strings, and a tie keeps JSON's style.
        assert_eq!(read("{a: 1, 'a-b': 2, '$c': \"x\"}"), style(false, false));
        assert_eq!(
            read("{a: ['x', \"y\"], 'k': {'l': 'z'}}"),
            style(false, true)
        );
        assert_eq!(read("{\"a\": \"x\"}"), Style::default());
        // Escaped bare keys are bare keys.
        assert_eq!(read("{\\u0061: 1}"), style(true, false));
    }

    #[test]
    fn new_text_follows_the_files_keys_and_quotes() {
        let json = "{\n  \"migrations\": {\"a-b\": \"it's\", \"n\": [\"x\\\"y\", 1]}\n}";
        assert_eq!(
            restyle(json, true, true),
            "{\n  migrations: {'a-b': 'it\\'s', n: ['x\"y', 1]}\n}"
        );
        assert_eq!(
            restyle(json, true, false),
            "{\n  migrations: {\"a-b\": \"it's\", n: [\"x\\\"y\", 1]}\n}"
        );
        assert_eq!(restyle(json, false, false), json);
        let back = crate::document::json5::parse(&restyle(json, true, true))
            .unwrap()
            .value;
        assert_eq!(back, serde_json::from_str::<Value>(json).unwrap());
    }

    #[test]
    fn a_string_over_a_single_quoted_one_is_single_quoted_and_reads_back() {
        for s in [
            "full",
            "it's",
            "say \"hi\"",
            "back\\slash",
            "tab\tnew\nline",
            "\u{1}",
        ] {
            let out = scalar_text("'old'", &json!(s));
            assert!(out.starts_with('\'') && out.ends_with('\''), "{out}");
            let back = crate::document::json5::parse(&format!("{{a: {out}}}"))
                .unwrap()
                .value;
            assert_eq!(back, json!({ "a": s }), "{out}");
        }
        assert_eq!(scalar_text("'old'", &json!("it's")), "'it\\'s'");
        assert_eq!(scalar_text("\"old\"", &json!("new")), "\"new\"");
        assert_eq!(scalar_text("'old'", &json!(3)), "3");
    }
}
