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

/// Why an operation does not apply to a document (a step planned against a shape the document
/// does not have). Its messages name the pointer or member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("JSON pointer {pointer:?}: {reason}")]
    Pointer { pointer: String, reason: String },
    #[error("test failed at {0}: value did not match")]
    TestMismatch(String),
    #[error("no value at {0}")]
    NoValue(String),
    #[error("no member {0:?}")]
    NoMember(String),
    #[error("bad array index {0:?}")]
    BadIndex(String),
    #[error("array index {0} out of range")]
    OutOfRange(usize),
    #[error("cannot descend into a scalar at {0:?}")]
    Scalar(String),
    #[error("parent is not a container")]
    NotContainer,
    #[error("cannot {0} the document root")]
    Root(&'static str),
    #[error("copy to {0} is not an operation this tool plans")]
    Copy(String),
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
    PointerBuf::from_tokens(tokens.iter().map(AsRef::as_ref)).to_string()
}

/// Parses an escaped JSON pointer, naming it when it is malformed.
pub fn parse(pointer: &str) -> Result<PointerBuf, PatchError> {
    PointerBuf::parse(pointer).map_err(|e| PatchError::Pointer {
        pointer: pointer.to_string(),
        reason: e.to_string(),
    })
}

/// The raw (unescaped) tokens of a pointer.
pub fn tokens(pointer: &Pointer) -> Vec<String> {
    pointer.tokens().map(|t| t.decoded().into_owned()).collect()
}

/// A `test` of the value at `path`.
pub fn test(path: &str, value: Value) -> Result<Op, PatchError> {
    Ok(Op::Test(TestOperation {
        path: parse(path)?,
        value,
    }))
}

pub fn add(path: &str, value: Value) -> Result<Op, PatchError> {
    Ok(Op::Add(AddOperation {
        path: parse(path)?,
        value,
    }))
}

pub fn replace(path: &str, value: Value) -> Result<Op, PatchError> {
    Ok(Op::Replace(ReplaceOperation {
        path: parse(path)?,
        value,
    }))
}

pub fn remove(path: &str) -> Result<Op, PatchError> {
    Ok(Op::Remove(RemoveOperation { path: parse(path)? }))
}

/// A `move` (a rename when both name keys of the same object).
pub fn move_to(from: &str, path: &str) -> Result<Op, PatchError> {
    Ok(Op::Move(MoveOperation {
        from: parse(from)?,
        path: parse(path)?,
    }))
}

fn index(tok: &str, len: usize, allow_end: bool) -> Result<usize, PatchError> {
    if allow_end && tok == "-" {
        return Ok(len);
    }
    let i: usize = tok
        .parse()
        .map_err(|_| PatchError::BadIndex(tok.to_string()))?;
    if i > len || (!allow_end && i == len) {
        return Err(PatchError::OutOfRange(i));
    }
    Ok(i)
}

fn parent_mut<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value, PatchError> {
    let mut cur = doc;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| PatchError::NoMember(t.clone()))?,
            Value::Array(a) => {
                let i = index(t, a.len(), false)?;
                &mut a[i]
            }
            _ => return Err(PatchError::Scalar(t.clone())),
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

fn take(doc: &mut Value, path: &Pointer) -> Result<Value, PatchError> {
    let toks = tokens(path);
    let (last, parent) = toks.split_last().ok_or(PatchError::Root("remove"))?;
    match parent_mut(doc, parent)? {
        Value::Object(m) => m
            .shift_remove(last)
            .ok_or_else(|| PatchError::NoMember(last.clone())),
        Value::Array(a) => {
            let i = index(last, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err(PatchError::NotContainer),
    }
}

fn put(doc: &mut Value, path: &Pointer, value: Value) -> Result<(), PatchError> {
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
        _ => Err(PatchError::NotContainer),
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
pub fn apply(doc: &mut Value, op: &Op) -> Result<(), PatchError> {
    match op {
        Op::Test(TestOperation { path, value }) => match doc.pointer(path.as_str()) {
            Some(v) if v == value => Ok(()),
            Some(_) => Err(PatchError::TestMismatch(path.to_string())),
            None => Err(PatchError::NoValue(path.to_string())),
        },
        Op::Add(AddOperation { path, value }) => put(doc, path, value.clone()),
        Op::Remove(RemoveOperation { path }) => take(doc, path).map(|_| ()),
        Op::Replace(ReplaceOperation { path, value }) => {
            let slot = doc
                .pointer_mut(path.as_str())
                .ok_or_else(|| PatchError::NoValue(path.to_string()))?;
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
                    return Err(PatchError::NoMember(f));
                }
                m.shift_remove(t);
                rename_in_place(m, &f, t);
                return Ok(());
            }
            let v = take(doc, from)?;
            put(doc, path, v)
        }
        Op::Copy(c) => Err(PatchError::Copy(c.path.to_string())),
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
        assert_eq!(e.unwrap_err(), PatchError::TestMismatch("/a".into()));
    }
}
