//! RFC 6902 operations, JSON pointers, and an order-preserving applier for `serde_json::Value`.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One RFC 6902 operation. Only the subset the planner emits (and `copy` is never needed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    Test { path: String, value: Value },
    Add { path: String, value: Value },
    Remove { path: String },
    Replace { path: String, value: Value },
    Move { from: String, path: String },
}

impl Op {
    pub fn path(&self) -> &str {
        match self {
            Op::Test { path, .. }
            | Op::Add { path, .. }
            | Op::Remove { path }
            | Op::Replace { path, .. }
            | Op::Move { path, .. } => path,
        }
    }
}

/// An operation tagged with the migration that planned it (an extra member, which RFC 6902 allows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggedOp {
    #[serde(flatten)]
    pub op: Op,
    pub migration: String,
}

/// Builds an escaped JSON pointer from raw tokens.
pub fn pointer<S: AsRef<str>>(tokens: &[S]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", t.as_ref().replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Splits an escaped JSON pointer into raw tokens.
pub fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(vec![]);
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| format!("JSON pointer {pointer:?} must start with '/'"))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn index(tok: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    if allow_end && tok == "-" {
        return Ok(len);
    }
    let i: usize = tok
        .parse()
        .map_err(|_| format!("bad array index {tok:?}"))?;
    if i > len || (!allow_end && i == len) {
        return Err(format!("array index {i} out of range"));
    }
    Ok(i)
}

fn parent_mut<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m.get_mut(t).ok_or_else(|| format!("no member {t:?}"))?,
            Value::Array(a) => {
                let i = index(t, a.len(), false)?;
                &mut a[i]
            }
            _ => return Err(format!("cannot descend into a scalar at {t:?}")),
        };
    }
    Ok(cur)
}

/// Reads the value at a pointer.
/// Reads a value at a path of unescaped tokens (`["providers", "minimax-cn"]`), without
/// building a pointer string and parsing it back.
pub trait AtPath {
    fn at_path<S: AsRef<str>>(&self, tokens: &[S]) -> Option<&Value>;
}

impl AtPath for Value {
    fn at_path<S: AsRef<str>>(&self, tokens: &[S]) -> Option<&Value> {
        tokens.iter().try_fold(self, |v, t| match v {
            Value::Object(m) => m.get(t.as_ref()),
            Value::Array(a) => a.get(t.as_ref().parse::<usize>().ok()?),
            _ => None,
        })
    }
}

pub fn get<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    doc.pointer(path)
}

fn take(doc: &mut Value, path: &str) -> Result<Value, String> {
    let toks = tokens(path)?;
    let (last, parent) = toks.split_last().ok_or("cannot remove the document root")?;
    match parent_mut(doc, parent)? {
        Value::Object(m) => m
            .shift_remove(last)
            .ok_or_else(|| format!("no member {last:?}")),
        Value::Array(a) => {
            let i = index(last, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err("parent is not a container".into()),
    }
}

fn put(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let toks = tokens(path)?;
    let Some((last, parent)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent_mut(doc, parent)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i = index(last, a.len(), true)?;
            a.insert(i, value);
            Ok(())
        }
        _ => Err("parent is not a container".into()),
    }
}

/// Renames a key in place, keeping its position among its siblings.
fn rename_in_place(map: &mut Map<String, Value>, from: &str, to: &str) {
    let old = std::mem::take(map);
    for (k, v) in old {
        map.insert(if k == from { to.to_string() } else { k }, v);
    }
}

/// Whether `from` and `to` name two keys of the same object (a rename).
pub fn same_parent(from: &str, to: &str) -> bool {
    match (from.rfind('/'), to.rfind('/')) {
        (Some(a), Some(b)) => from[..a] == to[..b],
        _ => false,
    }
}

/// Applies one operation, keeping key order (removals shift, renames stay in place).
pub fn apply(doc: &mut Value, op: &Op) -> Result<(), String> {
    match op {
        Op::Test { path, value } => match doc.pointer(path) {
            Some(v) if v == value => Ok(()),
            Some(_) => Err(format!("test failed at {path}: value did not match")),
            None => Err(format!("test failed at {path}: no value")),
        },
        Op::Add { path, value } => put(doc, path, value.clone()),
        Op::Remove { path } => take(doc, path).map(|_| ()),
        Op::Replace { path, value } => {
            let slot = doc
                .pointer_mut(path)
                .ok_or_else(|| format!("no value at {path}"))?;
            *slot = value.clone();
            Ok(())
        }
        Op::Move { from, path } => {
            let toks = tokens(path)?;
            if same_parent(from, path) && !toks.is_empty() {
                let ftoks = tokens(from)?;
                if let Value::Object(m) = parent_mut(doc, &toks[..toks.len() - 1])? {
                    let (f, t) = (ftoks.last().unwrap(), toks.last().unwrap());
                    if !m.contains_key(f) {
                        return Err(format!("no member {f:?}"));
                    }
                    m.shift_remove(t);
                    rename_in_place(m, f, t);
                    return Ok(());
                }
            }
            let v = take(doc, from)?;
            put(doc, path, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_round_trips_escapes() {
        let p = pointer(&["models", "a/b~c", "minimax-cn:default"]);
        assert_eq!(p, "/models/a~1b~0c/minimax-cn:default");
        assert_eq!(
            tokens(&p).unwrap(),
            vec!["models", "a/b~c", "minimax-cn:default"]
        );
    }

    #[test]
    fn remove_keeps_key_order() {
        let mut v = json!({"a":1,"b":2,"c":3,"d":4});
        apply(&mut v, &Op::Remove { path: "/b".into() }).unwrap();
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["a", "c", "d"]
        );
    }

    #[test]
    fn rename_stays_in_place() {
        let mut v = json!({"a":1,"b":2,"c":3});
        apply(
            &mut v,
            &Op::Move {
                from: "/b".into(),
                path: "/x".into(),
            },
        )
        .unwrap();
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["a", "x", "c"]
        );
        assert_eq!(v["x"], 2);
    }

    #[test]
    fn failing_test_is_an_error() {
        let mut v = json!({"a":1});
        let e = apply(
            &mut v,
            &Op::Test {
                path: "/a".into(),
                value: json!(2),
            },
        );
        assert!(e.unwrap_err().contains("did not match"));
    }
}
