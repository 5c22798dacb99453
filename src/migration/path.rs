//! Paths and guards of the general step kinds: `bindings.*.match.provider`, where `*` is any
//! object key or array element and `["a.b"]` a key written as a JSON string (`["*"]` is a key
//! named `*`), and the conditions (`when`) a step checks before it plans anything.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// One segment of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    /// `*`: every key of an object, every element of an array.
    Any,
}

/// A path over the config, parsed once when the migration is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Path {
    text: String,
    pub segs: Vec<Seg>,
}

impl TryFrom<String> for Path {
    type Error = String;

    fn try_from(text: String) -> Result<Path, String> {
        let bad = |why: &str| Err(format!("path {text:?}: {why}"));
        let mut segs = Vec::new();
        let mut rest = text.as_str();
        while !rest.is_empty() {
            if let Some(quoted) = rest.strip_prefix('[') {
                // A key as a JSON string: `["anthropic:claude-cli"]`.
                let mut de = serde_json::Deserializer::from_str(quoted).into_iter::<String>();
                let Some(Ok(key)) = de.next() else {
                    return bad("a [ holds a key as a JSON string, like [\"a.b\"]");
                };
                let after = &quoted[de.byte_offset()..];
                let Some(after) = after.strip_prefix(']') else {
                    return bad("a [\"key\"] ends with ]");
                };
                segs.push(Seg::Key(key));
                rest = after.strip_prefix('.').unwrap_or(after);
                if after.starts_with('.') && rest.is_empty() {
                    return bad("it ends with a dot");
                }
                continue;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let seg = &rest[..end];
            if seg.is_empty() {
                return bad("an empty segment (two dots, or a leading dot)");
            }
            segs.push(if seg == "*" {
                Seg::Any
            } else {
                Seg::Key(seg.to_string())
            });
            rest = &rest[end..];
            if let Some(r) = rest.strip_prefix('.') {
                if r.is_empty() {
                    return bad("it ends with a dot");
                }
                rest = r;
            }
        }
        if segs.is_empty() {
            return bad("a path names at least one key");
        }
        Ok(Path { text, segs })
    }
}

impl From<Path> for String {
    fn from(p: Path) -> String {
        p.text
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A concrete place a path matched: its tokens, and what each `*` stood for (in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub tokens: Vec<String>,
    pub captures: Vec<String>,
}

impl Path {
    /// A path of these segments (its text written back in this syntax).
    pub fn from_segs(segs: Vec<Seg>) -> Path {
        let text = segs
            .iter()
            .map(|s| match s {
                Seg::Any => "*".to_string(),
                Seg::Key(k) if !k.is_empty() && !k.contains(['.', '[', ']', '"']) && k != "*" => {
                    k.clone()
                }
                Seg::Key(k) => format!("[{}]", serde_json::to_string(k).expect("a string")),
            })
            .collect::<Vec<_>>()
            .join(".");
        Path { text, segs }
    }

    pub fn wildcards(&self) -> usize {
        self.segs.iter().filter(|s| **s == Seg::Any).count()
    }

    /// Every place the path has a value in `root`, in document order. A path without `*`
    /// costs one lookup per segment.
    pub fn matches(&self, root: &Value) -> Vec<Match> {
        let mut out = Vec::new();
        walk(root, &self.segs, &mut Vec::new(), &mut Vec::new(), &mut out);
        out
    }

    /// The tokens with each `*` replaced by the capture of the same rank (the i-th `*` of this
    /// path takes the i-th `*` of the path that matched); `None` when captures run short.
    pub fn bind(&self, captures: &[String]) -> Option<Vec<String>> {
        let mut next = captures.iter();
        self.segs
            .iter()
            .map(|s| match s {
                Seg::Key(k) => Some(k.clone()),
                Seg::Any => next.next().cloned(),
            })
            .collect()
    }
}

/// Tokens and captures are borrowed (from the path and the tree) on the way down and copied
/// only into a match: most paths a migration names are absent from most installs.
fn walk<'a>(
    v: &'a Value,
    segs: &'a [Seg],
    toks: &mut Vec<Cow<'a, str>>,
    caps: &mut Vec<Cow<'a, str>>,
    out: &mut Vec<Match>,
) {
    let Some((seg, rest)) = segs.split_first() else {
        out.push(Match {
            tokens: toks.iter().map(|t| t.to_string()).collect(),
            captures: caps.iter().map(|c| c.to_string()).collect(),
        });
        return;
    };
    match seg {
        Seg::Key(k) => {
            let child = match v {
                Value::Object(m) => member(m, k),
                Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            };
            if let Some(c) = child {
                toks.push(Cow::Borrowed(k));
                walk(c, rest, toks, caps, out);
                toks.pop();
            }
        }
        Seg::Any => {
            // A child that cannot hold the next key is passed over before its key is copied:
            // most wildcards stand before a name few children have.
            let fits = |c: &Value| match rest.first() {
                Some(Seg::Key(k)) => match c {
                    Value::Object(m) => member(m, k).is_some(),
                    Value::Array(a) => k.parse::<usize>().is_ok_and(|i| i < a.len()),
                    _ => false,
                },
                _ => true,
            };
            let mut descend = |k: Cow<'a, str>, c: &'a Value| {
                toks.push(k.clone());
                caps.push(k);
                walk(c, rest, toks, caps, out);
                caps.pop();
                toks.pop();
            };
            match v {
                Value::Object(m) => m
                    .iter()
                    .filter(|(_, c)| fits(c))
                    .for_each(|(k, c)| descend(Cow::Borrowed(k), c)),
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| fits(c))
                    .for_each(|(i, c)| descend(Cow::Owned(i.to_string()), c)),
                _ => {}
            }
        }
    }
}

/// A member of an object. A small object (most of a config's) is searched in order: comparing
/// a few keys costs less than hashing the name, and every path of every migration is looked
/// up in every install.
fn member<'v>(m: &'v serde_json::Map<String, Value>, k: &str) -> Option<&'v Value> {
    if m.len() <= 8 {
        m.iter().find_map(|(name, v)| (name == k).then_some(v))
    } else {
        m.get(k)
    }
}

/// The value at raw tokens, if any.
pub fn lookup<'v>(root: &'v Value, toks: &[String]) -> Option<&'v Value> {
    toks.iter().try_fold(root, |v, t| match v {
        Value::Object(m) => member(m, t),
        Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// A shape a guard can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    Object,
    Array,
    String,
    /// A string with something besides whitespace.
    NonEmptyString,
    Boolean,
    Number,
    /// An object with no member.
    EmptyObject,
    /// What JavaScript counts as true (not false, 0, "", null or absent).
    Truthy,
}

impl Type {
    pub fn holds(self, v: Option<&Value>) -> bool {
        match (self, v) {
            (Type::Truthy, Some(v)) => match v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            },
            (_, None) => false,
            (Type::Object, Some(v)) => v.is_object(),
            (Type::Array, Some(v)) => v.is_array(),
            (Type::String, Some(v)) => v.is_string(),
            (Type::NonEmptyString, Some(v)) => {
                v.as_str().is_some_and(|s| !crate::js::trim(s).is_empty())
            }
            (Type::Boolean, Some(v)) => v.is_boolean(),
            (Type::Number, Some(v)) => v.is_number(),
            (Type::EmptyObject, Some(v)) => v.as_object().is_some_and(|m| m.is_empty()),
        }
    }
}

/// A condition on the config: the value at `path` (its `*`s bound to what the step's own path
/// matched) exists, is absent, equals a value, or is (not) of a shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guard {
    pub path: Path,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is: Option<Type>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_not: Option<Type>,
    /// The value equals the one at this other path (its `*`s bound the same way); both absent
    /// does not count as equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals_path: Option<Path>,
    /// The value is not an array holding an element of this shape (absent, another type, or an
    /// array none of whose elements is of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_element: Option<Type>,
    /// A number below this one (any other value, or none, fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than: Option<f64>,
    /// A number above this one (any other value, or none, fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greater_than: Option<f64>,
    /// Equals one of these values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Value>>,
    /// Is absent or equals none of these values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_one_of: Option<Vec<Value>>,
    /// An array holding an item equal to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<Value>,
    /// Anything but an array holding an item equal to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_contains: Option<Value>,
    /// The last key of the path (what its last `*` stood for) is none of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_not_one_of: Option<Vec<String>>,
    /// Every value and key test above compares strings ignoring case and surrounding
    /// whitespace.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub loose: bool,
    /// A string equal to this one once both are trimmed and lowercased (`" None"` is `"none"`),
    /// as doctor compares the mode strings it normalises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_equals: Option<String>,
    /// The key the path ends on (what its last `*` stood for) is one of these, or none of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_not_in: Option<Vec<String>>,
    /// The path may hold more `*`s than the step's own path captures: the guard holds when
    /// some place those further `*`s match passes every test ("some `env.*` is a string").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any: bool,
}

impl Guard {
    /// Whether it holds, with the step's captures; a guard naming more `*`s than the step
    /// captured never holds (the registry refuses such a migration).
    pub fn holds(&self, root: &Value, captures: &[String]) -> bool {
        if self.any {
            // The first `*`s take the step's captures; the others stay free.
            let mut bound = captures.iter();
            let segs = self.path.segs.iter().map(|s| match s {
                Seg::Any => bound.next().map_or(Seg::Any, |c| Seg::Key(c.clone())),
                key => key.clone(),
            });
            return Path::from_segs(segs.collect())
                .matches(root)
                .iter()
                .any(|m| self.holds_at(root, captures, &m.tokens));
        }
        let Some(toks) = self.path.bind(captures) else {
            return false;
        };
        self.holds_at(root, captures, &toks)
    }

    /// Whether every test holds of the value at `toks`.
    fn holds_at(&self, root: &Value, captures: &[String], toks: &[String]) -> bool {
        let v = lookup(root, toks);
        let same_as = |v: &Value, e: &Value| v == e || self.loose && same_loosely(v, e);
        let same = |e: &Value| v.is_some_and(|v| same_as(v, e));
        let holds_item = |e: &Value| {
            v.and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|i| same_as(i, e)))
        };
        self.exists.is_none_or(|e| e == v.is_some())
            && self.equals.as_ref().is_none_or(same)
            && self.not_equals.as_ref().is_none_or(|e| !same(e))
            && self.one_of.as_ref().is_none_or(|l| l.iter().any(same))
            && self.not_one_of.as_ref().is_none_or(|l| !l.iter().any(same))
            && self.contains.as_ref().is_none_or(holds_item)
            && self.not_contains.as_ref().is_none_or(|e| !holds_item(e))
            && self.key_not_one_of.as_ref().is_none_or(|l| {
                let key = Value::String(toks.last().cloned().unwrap_or_default());
                !l.iter()
                    .map(|k| Value::String(k.clone()))
                    .any(|k| k == key || self.loose && same_loosely(&k, &key))
            })
            && self.is.is_none_or(|t| t.holds(v))
            && self.is_not.is_none_or(|t| !t.holds(v))
            && self.equals_path.as_ref().is_none_or(|other| {
                let w = other.bind(captures).and_then(|t| lookup(root, &t));
                v.is_some() && v == w
            })
            && self.no_element.is_none_or(|t| match v {
                Some(Value::Array(a)) => !a.iter().any(|e| t.holds(Some(e))),
                _ => true,
            })
            && self
                .less_than
                .is_none_or(|n| v.and_then(Value::as_f64).is_some_and(|x| x < n))
            && self
                .greater_than
                .is_none_or(|n| v.and_then(Value::as_f64).is_some_and(|x| x > n))
            && self
                .key_in
                .as_ref()
                .is_none_or(|k| toks.last().is_some_and(|l| k.contains(l)))
            && self
                .key_not_in
                .as_ref()
                .is_none_or(|k| toks.last().is_some_and(|l| !k.contains(l)))
            && self
                .text_equals
                .as_ref()
                .is_none_or(|t| v.and_then(Value::as_str).is_some_and(|s| loose_eq(s, t)))
    }

    /// What is wrong with it as written (checked when the registry is built).
    pub fn problem(&self, captured: usize) -> Option<String> {
        let tests = usize::from(self.exists.is_some())
            + usize::from(self.equals.is_some())
            + usize::from(self.not_equals.is_some())
            + usize::from(self.is.is_some())
            + usize::from(self.is_not.is_some())
            + usize::from(self.equals_path.is_some())
            + usize::from(self.no_element.is_some())
            + usize::from(self.less_than.is_some())
            + usize::from(self.greater_than.is_some())
            + usize::from(self.one_of.is_some())
            + usize::from(self.not_one_of.is_some())
            + usize::from(self.key_not_one_of.is_some())
            + usize::from(self.contains.is_some())
            + usize::from(self.not_contains.is_some())
            + usize::from(self.text_equals.is_some())
            + usize::from(self.key_in.is_some())
            + usize::from(self.key_not_in.is_some());
        if tests == 0 {
            return Some(format!(
                "the guard on {} tests nothing (exists, equals, not_equals, is, is_not, equals_path, no_element, less_than, greater_than, one_of, not_one_of, contains, not_contains, key_not_one_of, text_equals, key_in or key_not_in)",
                self.path
            ));
        }
        let other = self.equals_path.as_ref().map_or(0, Path::wildcards);
        if self.any {
            return (self.path.wildcards() <= captured || other > captured).then(|| {
                format!(
                    "the guard on {} is `any` but has no * beyond the step's own path captures",
                    self.path
                )
            });
        }
        (self.path.wildcards().max(other) > captured).then(|| {
            format!(
                "the guard on {} has more * than the step's own path captures",
                self.path
            )
        })
    }
}

/// Two strings equal once trimmed and lowercased as JavaScript's `trim().toLowerCase()` does.
fn loose_eq(a: &str, b: &str) -> bool {
    crate::js::trim(a).to_lowercase() == crate::js::trim(b).to_lowercase()
}

/// Two strings equal once trimmed and lowercased (JavaScript's `trim().toLowerCase()`).
pub fn same_loosely(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => loose_eq(a, b),
        _ => false,
    }
}

/// Whether every guard holds.
pub fn all_hold(when: &[Guard], root: &Value, captures: &[String]) -> bool {
    when.iter().all(|g| g.holds(root, captures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Path {
        Path::try_from(s.to_string()).unwrap()
    }

    #[test]
    fn parses_keys_wildcards_and_quoted_keys() {
        assert_eq!(
            p("a.*.b").segs,
            vec![Seg::Key("a".into()), Seg::Any, Seg::Key("b".into())]
        );
        assert_eq!(
            p("groups[\"*\"].x").segs,
            vec![
                Seg::Key("groups".into()),
                Seg::Key("*".into()),
                Seg::Key("x".into())
            ]
        );
        assert_eq!(
            p("auth.profiles[\"anthropic:claude-cli\"]").segs,
            vec![
                Seg::Key("auth".into()),
                Seg::Key("profiles".into()),
                Seg::Key("anthropic:claude-cli".into())
            ]
        );
        for bad in ["", "a..b", ".a", "a.", "a[b]", "a[\"b\"", "a[\"b\"]."] {
            assert!(Path::try_from(bad.to_string()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn matches_object_keys_and_array_elements_with_captures() {
        let doc =
            json!({"b": [{"m": {"p": "x"}}, {"m": {}}, {"m": {"p": "y"}}], "o": {"k": {"p": 1}}});
        let m = p("b.*.m.p").matches(&doc);
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].tokens, vec!["b", "2", "m", "p"]);
        assert_eq!(m[1].captures, vec!["2"]);
        assert_eq!(
            p("b.*.m.channel").bind(&m[1].captures).unwrap(),
            vec!["b", "2", "m", "channel"]
        );
        assert_eq!(p("o.*.p").matches(&doc)[0].captures, vec!["k"]);
        assert!(p("o.k.p.deeper").matches(&doc).is_empty());
    }

    #[test]
    fn a_wildcard_keeps_only_the_children_that_hold_the_next_segment() {
        let doc = json!({"o": {"a": {"p": 1}, "b": {"q": 2}, "c": 3, "d": [9], "e": {"p": null}},
                         "l": [[1, 2], [3], "x", {"1": "k"}]});
        let keys = |m: Vec<Match>| m.into_iter().map(|m| m.captures).collect::<Vec<_>>();
        assert_eq!(keys(p("o.*.p").matches(&doc)), [["a"], ["e"]]);
        assert_eq!(
            keys(p("l.*.1").matches(&doc)),
            [["0"], ["3"]],
            "an index in a long enough array, or a key of that name"
        );
        assert_eq!(
            keys(p("o.*.*").matches(&doc)).len(),
            4,
            "* then *: every child's children"
        );
        assert_eq!(keys(p("o.*").matches(&doc)).len(), 5);
    }

    #[test]
    fn guards_test_presence_values_and_shapes() {
        let doc = json!({"a": {"s": " ", "t": "x", "e": {}, "z": 0}});
        let g = |s: &str| serde_json::from_str::<Guard>(s).unwrap();
        assert!(g(r#"{"path":"a.t","exists":true}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"a.q","exists":false}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"a.t","equals":"x"}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"a.s","is_not":"non_empty_string"}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"a.e","is":"empty_object"}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"a.z","is_not":"truthy"}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"a.q","is_not":"truthy"}"#).holds(&doc, &[]));
        let none = json!({"n": " NoNe ", "o": "none!", "z": 0});
        assert!(g(r#"{"path":"n","text_equals":"none"}"#).holds(&none, &[]));
        assert!(!g(r#"{"path":"o","text_equals":"none"}"#).holds(&none, &[]));
        assert!(!g(r#"{"path":"z","text_equals":"0"}"#).holds(&none, &[]));
        assert!(!g(r#"{"path":"q","text_equals":"none"}"#).holds(&none, &[]));
        let keys = g(r#"{"path":"a.*","key_not_in":["t","z"]}"#);
        assert!(keys.holds(&doc, &["s".into()]));
        assert!(!keys.holds(&doc, &["t".into()]));
        assert!(g(r#"{"path":"a.*","key_in":["t"]}"#).holds(&doc, &["t".into()]));
        assert!(
            !g(r#"{"path":"a.*","exists":true}"#).holds(&doc, &[]),
            "unbound *"
        );
        assert!(g(r#"{"path":"a.*","exists":true}"#).holds(&doc, &["t".into()]));
        assert!(g(r#"{"path":"a"}"#).problem(0).is_some());
        assert!(g(r#"{"path":"a.*","exists":true}"#).problem(0).is_some());
        assert!(serde_json::from_str::<Guard>(r#"{"path":"a","exist":true}"#).is_err());
    }

    #[test]
    fn guards_compare_two_places_and_look_into_arrays() {
        let doc =
            json!({"w": {"m": "x/y"}, "d": {"p": "x/y", "q": "z"}, "l": [" ", 1, "a"], "e": [" "]});
        let g = |s: &str| serde_json::from_str::<Guard>(s).unwrap();
        assert!(g(r#"{"path":"d.p","equals_path":"w.m"}"#).holds(&doc, &[]));
        assert!(!g(r#"{"path":"d.q","equals_path":"w.m"}"#).holds(&doc, &[]));
        assert!(
            !g(r#"{"path":"d.none","equals_path":"w.none"}"#).holds(&doc, &[]),
            "two absent values are not equal"
        );
        assert!(g(r#"{"path":"d.*","equals_path":"w.m"}"#).holds(&doc, &["p".into()]));
        assert!(
            g(r#"{"path":"d.p","equals_path":"w.*"}"#)
                .problem(0)
                .is_some()
        );
        assert!(!g(r#"{"path":"l","no_element":"non_empty_string"}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"e","no_element":"non_empty_string"}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"w","no_element":"non_empty_string"}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"none","no_element":"string"}"#).holds(&doc, &[]));
    }

    #[test]
    fn an_any_guard_holds_when_some_place_its_free_stars_match_passes() {
        let doc =
            json!({"env": {"vars": 3, "N": 5, "shellEnv": "x", "A": "a"}, "o": {"k": {"p": [1]}}});
        let g = |s: &str| serde_json::from_str::<Guard>(s).unwrap();
        let some_string =
            g(r#"{"path":"env.*","is":"string","key_not_in":["vars","shellEnv"],"any":true}"#);
        assert!(some_string.holds(&doc, &[]));
        let only_shell = json!({"env": {"vars": 3, "N": 5, "shellEnv": "x"}});
        assert!(!some_string.holds(&only_shell, &[]));
        assert!(!some_string.holds(&json!({}), &[]), "nothing matches");
        // The first * is the step's capture, the second is free.
        let bound = g(r#"{"path":"o.*.*","is":"array","any":true}"#);
        assert!(bound.holds(&doc, &["k".into()]));
        assert!(!bound.holds(&doc, &["q".into()]));
        assert!(bound.problem(1).is_none());
        assert!(bound.problem(2).is_some(), "no free * left");
        assert!(some_string.problem(0).is_none());
    }

    #[test]
    fn numeric_guards_hold_only_for_numbers_beyond_the_bound() {
        let doc = json!({"port": 70000, "low": 0, "ok": 8080, "s": "70000"});
        let g = |s: &str| serde_json::from_str::<Guard>(s).unwrap();
        assert!(g(r#"{"path":"port","greater_than":65535}"#).holds(&doc, &[]));
        assert!(!g(r#"{"path":"ok","greater_than":65535}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"low","less_than":1}"#).holds(&doc, &[]));
        assert!(!g(r#"{"path":"ok","less_than":1}"#).holds(&doc, &[]));
        assert!(
            !g(r#"{"path":"s","greater_than":1}"#).holds(&doc, &[]),
            "a string"
        );
        assert!(
            !g(r#"{"path":"none","less_than":1}"#).holds(&doc, &[]),
            "absent"
        );
        assert!(g(r#"{"path":"port","less_than":1}"#).problem(0).is_none());
    }

    #[test]
    fn list_guards_and_loose_comparison() {
        let doc = json!({"f": "qwen", "id": " DeepSeek-V4-Flash ", "n": 1});
        let g = |s: &str| serde_json::from_str::<Guard>(s).unwrap();
        assert!(g(r#"{"path":"f","one_of":["openai","qwen"]}"#).holds(&doc, &[]));
        assert!(!g(r#"{"path":"f","not_one_of":["openai","qwen"]}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"n","not_one_of":["openai","qwen"]}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"none","not_one_of":["x"]}"#).holds(&doc, &[]));
        assert!(!g(r#"{"path":"none","one_of":["x"]}"#).holds(&doc, &[]));
        assert!(!g(r#"{"path":"id","equals":"deepseek-v4-flash"}"#).holds(&doc, &[]));
        assert!(g(r#"{"path":"id","equals":"deepseek-v4-flash","loose":true}"#).holds(&doc, &[]));
        assert!(
            g(r#"{"path":"id","one_of":["x","deepseek-v4-flash"],"loose":true}"#).holds(&doc, &[])
        );
        assert!(
            g(r#"{"path":"id","loose":true}"#).problem(0).is_some(),
            "loose alone tests nothing"
        );
    }
}
