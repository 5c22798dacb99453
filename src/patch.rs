//! RFC 6902 operations and JSON pointers (types, serde form and pointer escaping from
//! `json-patch`/`jsonptr`), and an order-preserving applier for `serde_json::Value`.
//!
//! The applier is our own on purpose: `json_patch::patch` removes object members with
//! `Map::remove`, which is `swap_remove` under serde_json's `preserve_order`, so `{a,b,c,d}`
//! minus `/b` comes out `{a,d,c}` (and a failed patch's rollback reorders keys too). Planned
//! documents must keep their key order, so removals here shift and renames stay in place.
pub use json_patch::jsonptr::{Pointer, PointerBuf};
pub use json_patch::{
    AddOperation, MoveOperation, PatchOperation as Op, RemoveOperation, ReplaceOperation,
    TestOperation,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An operation tagged with the migration that planned it (an extra member, which RFC 6902 allows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggedOp {
    #[serde(flatten)]
    pub op: Op,
    pub migration: String,
}

/// Builds an escaped JSON pointer from raw tokens.
pub fn pointer<S: AsRef<str>>(tokens: &[S]) -> String {
    PointerBuf::from_tokens(tokens.iter().map(AsRef::as_ref)).to_string()
}

/// Parses an escaped JSON pointer, naming it when it is malformed.
pub fn parse(pointer: &str) -> Result<PointerBuf, String> {
    PointerBuf::parse(pointer).map_err(|e| format!("JSON pointer {pointer:?}: {e}"))
}

/// The raw (unescaped) tokens of a pointer.
pub fn tokens(pointer: &Pointer) -> Vec<String> {
    pointer.tokens().map(|t| t.decoded().into_owned()).collect()
}

/// A `test` of the value at `path`.
pub fn test(path: &str, value: Value) -> Result<Op, String> {
    Ok(Op::Test(TestOperation {
        path: parse(path)?,
        value,
    }))
}

pub fn add(path: &str, value: Value) -> Result<Op, String> {
    Ok(Op::Add(AddOperation {
        path: parse(path)?,
        value,
    }))
}

pub fn replace(path: &str, value: Value) -> Result<Op, String> {
    Ok(Op::Replace(ReplaceOperation {
        path: parse(path)?,
        value,
    }))
}

pub fn remove(path: &str) -> Result<Op, String> {
    Ok(Op::Remove(RemoveOperation { path: parse(path)? }))
}

/// A `move` (a rename when both name keys of the same object).
pub fn move_to(from: &str, path: &str) -> Result<Op, String> {
    Ok(Op::Move(MoveOperation {
        from: parse(from)?,
        path: parse(path)?,
    }))
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

fn take(doc: &mut Value, path: &Pointer) -> Result<Value, String> {
    let toks = tokens(path);
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

fn put(doc: &mut Value, path: &Pointer, value: Value) -> Result<(), String> {
    let toks = tokens(path);
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

/// Whether `from` and `to` name two members of the same container (a rename).
pub fn same_parent(from: &Pointer, to: &Pointer) -> bool {
    matches!((from.parent(), to.parent()), (Some(a), Some(b)) if a == b)
}

/// Applies one operation, keeping key order (removals shift, renames stay in place).
pub fn apply(doc: &mut Value, op: &Op) -> Result<(), String> {
    match op {
        Op::Test(TestOperation { path, value }) => match doc.pointer(path.as_str()) {
            Some(v) if v == value => Ok(()),
            Some(_) => Err(format!("test failed at {path}: value did not match")),
            None => Err(format!("test failed at {path}: no value")),
        },
        Op::Add(AddOperation { path, value }) => put(doc, path, value.clone()),
        Op::Remove(RemoveOperation { path }) => take(doc, path).map(|_| ()),
        Op::Replace(ReplaceOperation { path, value }) => {
            let slot = doc
                .pointer_mut(path.as_str())
                .ok_or_else(|| format!("no value at {path}"))?;
            *slot = value.clone();
            Ok(())
        }
        Op::Move(MoveOperation { from, path }) => {
            let toks = tokens(path);
            if same_parent(from, path)
                && let Value::Object(m) = parent_mut(doc, &toks[..toks.len() - 1])?
            {
                let (f, t) = (tokens(from).pop().unwrap(), toks.last().unwrap());
                if !m.contains_key(&f) {
                    return Err(format!("no member {f:?}"));
                }
                m.shift_remove(t);
                rename_in_place(m, &f, t);
                return Ok(());
            }
            let v = take(doc, from)?;
            put(doc, path, v)
        }
        Op::Copy(c) => Err(format!(
            "copy to {} is not an operation this tool plans",
            c.path
        )),
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
            tokens(&parse(&p).unwrap()),
            vec!["models", "a/b~c", "minimax-cn:default"]
        );
        assert!(parse("/a~2").is_err() && parse("a").is_err());
    }

    #[test]
    fn ops_serialise_as_rfc_6902() {
        let op = TaggedOp {
            op: test("/a~1b", json!(1)).unwrap(),
            migration: "V0001".into(),
        };
        assert_eq!(
            serde_json::to_string(&op).unwrap(),
            r#"{"op":"test","path":"/a~1b","value":1,"migration":"V0001"}"#
        );
        let back: TaggedOp = serde_json::from_str(&serde_json::to_string(&op).unwrap()).unwrap();
        assert_eq!(back, op);
    }

    #[test]
    fn remove_keeps_key_order() {
        let mut v = json!({"a":1,"b":2,"c":3,"d":4});
        apply(&mut v, &remove("/b").unwrap()).unwrap();
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["a", "c", "d"]
        );
    }

    #[test]
    fn rename_stays_in_place() {
        let mut v = json!({"a":1,"b":2,"c":3});
        apply(&mut v, &move_to("/b", "/x").unwrap()).unwrap();
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["a", "x", "c"]
        );
        assert_eq!(v["x"], 2);
    }

    #[test]
    fn failing_test_is_an_error() {
        let mut v = json!({"a":1});
        let e = apply(&mut v, &test("/a", json!(2)).unwrap());
        assert!(e.unwrap_err().contains("did not match"));
    }
}
