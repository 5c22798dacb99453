//! `$include` in the config, resolved as OpenClaw resolves it (`src/config/includes.ts`, the same
//! in 2026.2.3 and 2026.9.6): a path is taken from the directory of the file that names it (or
//! as it stands when absolute); an object `{ $include: "a.json5" }` is that file's value, and
//! `{ $include: ["a.json5", "b.json5"] }` their deep merge in order; keys beside `$include` are
//! merged over the included value (which must then be an object). The deep merge concatenates
//! arrays, merges objects key by key and lets the later value win otherwise. Included files may
//! include others, ten levels deep at most; a file that includes itself through others is refused.
//!
//! Each included file is a document of its own. [`Includes::merge`] builds the config OpenClaw
//! sees from the documents' current values, and [`Includes::route`] finds, for an operation on
//! that merged tree, the document that defines the value and the operation in its own terms.
use crate::document::patch::{self, AtPath, Op};
use crate::document::{Document, ReadError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

pub const KEY: &str = "$include";

/// Why a config's includes cannot be merged, or a change cannot be planned in the one file that
/// defines the value; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncludeError {
    #[error(transparent)]
    Patch(#[from] patch::PatchError),
    /// `$include` holds something that is not a path or a list of paths.
    #[error("{0}")]
    Names(String),
    #[error("an $include of {0:?} that was not there when the install was read")]
    Unknown(String),
    #[error("keys beside $include {0} need the included value to be an object")]
    NotAnObject(String),
    #[error("the included value at {0} moved while it was planned")]
    Moved(String),
    #[error("cannot change the whole config of an install whose config includes other files")]
    WholeConfig,
    #[error("bad array index in {0}")]
    BadIndex(String),
    #[error(
        "{0}: the change would replace an $include with what it brings in; clawmigrate never \
         flattens an include. Make this change by hand in the included file"
    )]
    Flatten(String),
    #[error(
        "{0}: a move or copy in a config that includes other files is not an operation this \
         tool plans"
    )]
    Move(String),
}
/// OpenClaw's `MAX_INCLUDE_DEPTH`: how many files deep includes may nest.
pub const MAX_DEPTH: usize = 10;

/// How the config pulls in other files.
#[derive(Debug, Clone)]
pub struct Includes {
    /// (the document holding an `$include`, a path it names) → the document that path reads.
    links: BTreeMap<(usize, String), usize>,
    /// The config as OpenClaw sees it, as read.
    pub merged: Value,
}

/// The config's index among an install's documents; the files it includes take the indices after
/// it, in the order they are first named.
pub const CONFIG: usize = 0;

/// Reads every file the config includes, directly or through other included files. The
/// documents come in the order they are first named and take the indices after the config's
/// (`CONFIG + 1`, ...). `None` when the config includes nothing.
pub fn load(config: &Document) -> Result<Option<(Vec<Document>, Includes)>, ReadError> {
    let mut loader = Loader {
        config,
        docs: Vec::new(),
        by_path: BTreeMap::new(),
        links: BTreeMap::new(),
    };
    let mut chain = vec![normalize(config.path())];
    loader.walk(CONFIG, &config.value, &mut chain)?;
    if loader.links.is_empty() {
        return Ok(None);
    }
    let mut includes = Includes {
        links: loader.links,
        merged: Value::Null,
    };
    let docs = loader.docs;
    let value = |i: usize| {
        if i == CONFIG {
            &config.value
        } else {
            &docs[i - 1].value
        }
    };
    includes.merged = includes
        .merge(&value)
        .map_err(|e| ReadError::new(config.path(), e.to_string(), HINT))?;
    Ok(Some((docs, includes)))
}

/// The config at `path` as OpenClaw sees it, its includes resolved (`Null` when it is absent):
/// for finding an install's agents again outside a run (rollback, recovery).
pub fn read_config(path: &Path) -> Result<Value, ReadError> {
    let config = Document::read(path, crate::document::FileKind::Config, None)?;
    Ok(match load(&config)? {
        Some((_, includes)) => includes.merged,
        None => config.value,
    })
}

const HINT: &str =
    "fix the $include (OpenClaw refuses this config too); nothing of this install was written";

struct Loader<'a> {
    config: &'a Document,
    docs: Vec<Document>,
    by_path: BTreeMap<PathBuf, usize>,
    links: BTreeMap<(usize, String), usize>,
}

impl Loader<'_> {
    fn path(&self, doc: usize) -> &Path {
        if doc == CONFIG {
            self.config.path()
        } else {
            self.docs[doc - 1].path()
        }
    }

    /// Follows every `$include` in `v`, a value of document `doc`; `chain` holds the files on
    /// the way here (OpenClaw's `visited`), the config first.
    fn walk(&mut self, doc: usize, v: &Value, chain: &mut Vec<PathBuf>) -> Result<(), ReadError> {
        match v {
            Value::Array(a) => a.iter().try_for_each(|x| self.walk(doc, x, chain)),
            Value::Object(m) => {
                if let Some(inc) = m.get(KEY) {
                    let names = names(inc)
                        .map_err(|e| ReadError::new(self.path(doc), e.to_string(), HINT))?;
                    for name in names {
                        self.follow(doc, name, chain)?;
                    }
                }
                m.iter()
                    .filter(|(k, _)| *k != KEY)
                    .try_for_each(|(_, x)| self.walk(doc, x, chain))
            }
            _ => Ok(()),
        }
    }

    fn follow(
        &mut self,
        doc: usize,
        name: &str,
        chain: &mut Vec<PathBuf>,
    ) -> Result<(), ReadError> {
        let from = self.path(doc).to_path_buf();
        let refuse = |msg: String| Err(ReadError::new(&from, msg, HINT));
        let named = Path::new(name);
        let target = normalize(&if named.is_absolute() {
            named.to_path_buf()
        } else {
            from.parent().unwrap_or(Path::new("/")).join(named)
        });
        if chain.contains(&target) {
            let names: Vec<String> = chain
                .iter()
                .chain([&target])
                .map(|p| p.display().to_string())
                .collect();
            return refuse(format!(
                "$include {name:?} makes a cycle: {}",
                names.join(" -> ")
            ));
        }
        if chain.len() > MAX_DEPTH {
            return refuse(format!(
                "$include {name:?} nests deeper than OpenClaw's limit of {MAX_DEPTH} files"
            ));
        }
        let idx = match self.by_path.get(&target) {
            Some(&i) => i,
            None => {
                let Some(read) = Document::read_included(&target)? else {
                    return refuse(format!(
                        "$include {name:?} names {}, which does not exist",
                        target.display()
                    ));
                };
                self.docs.push(read);
                self.by_path
                    .insert(target.clone(), CONFIG + self.docs.len());
                CONFIG + self.docs.len()
            }
        };
        self.links.insert((doc, name.to_string()), idx);
        let value = self.docs[idx - 1].value.clone();
        chain.push(target);
        self.walk(idx, &value, chain)?;
        chain.pop();
        Ok(())
    }
}

/// The paths an `$include` names: a string, or an array of strings.
fn names(inc: &Value) -> Result<Vec<&str>, IncludeError> {
    match inc {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str().ok_or_else(|| {
                    IncludeError::Names(format!(
                        "an $include array holds {x}, which is no path (a string)"
                    ))
                })
            })
            .collect(),
        other => Err(IncludeError::Names(format!(
            "$include holds {other}, which is neither a path nor an array of paths"
        ))),
    }
}

/// `path.normalize` of an absolute path: `.` and `..` resolved by name, links left alone.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// OpenClaw's `deepMerge`: arrays concatenate, objects merge key by key, otherwise `source` wins.
fn deep_merge(target: Value, source: Value) -> Value {
    match (target, source) {
        (Value::Array(mut a), Value::Array(b)) => {
            a.extend(b);
            Value::Array(a)
        }
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) => *slot = deep_merge(slot.take(), v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
            Value::Object(a)
        }
        (_, s) => s,
    }
}

/// The documents' current values, by index.
pub type Values<'a> = dyn Fn(usize) -> &'a Value + 'a;

/// A node of one document that goes into a node of the merged config.
#[derive(Debug, Clone)]
struct Layer {
    doc: usize,
    at: Vec<String>,
}

impl Layer {
    fn join(&self, tok: &str) -> Layer {
        let mut at = self.at.clone();
        at.push(tok.to_string());
        Layer { doc: self.doc, at }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Object,
    Array,
    Scalar,
}

fn shape(v: &Value) -> Shape {
    match v {
        Value::Object(_) => Shape::Object,
        Value::Array(_) => Shape::Array,
        _ => Shape::Scalar,
    }
}

/// A node of the merged config: the layers merged into it, in OpenClaw's order (the last wins).
struct Node {
    layers: Vec<Layer>,
    shape: Shape,
}

impl Node {
    /// `deepMerge(self, next)`: objects and arrays of the same shape merge, else `next` wins.
    fn absorb(&mut self, next: Node) {
        if self.shape == next.shape && self.shape != Shape::Scalar {
            self.layers.extend(next.layers);
        } else {
            *self = next;
        }
    }
}

/// Whether a `$include` key appears anywhere in `v` (doctor's `containsAuthoredInclude`).
pub(crate) fn contains_include(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key(KEY) || m.values().any(contains_include),
        Value::Array(a) => a.iter().any(contains_include),
        _ => false,
    }
}

impl Includes {
    fn link(&self, doc: usize, name: &str) -> Result<usize, IncludeError> {
        self.links
            .get(&(doc, name.to_string()))
            .copied()
            .ok_or_else(|| IncludeError::Unknown(name.to_string()))
    }

    /// The config as OpenClaw would see it from these document values.
    pub fn merge(&self, values: &Values) -> Result<Value, IncludeError> {
        self.process(values, CONFIG, values(CONFIG))
    }

    fn process(&self, values: &Values, doc: usize, v: &Value) -> Result<Value, IncludeError> {
        match v {
            Value::Array(a) => a
                .iter()
                .map(|x| self.process(values, doc, x))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            Value::Object(m) => {
                let rest = m
                    .iter()
                    .filter(|(k, _)| *k != KEY)
                    .map(|(k, x)| Ok((k.clone(), self.process(values, doc, x)?)))
                    .collect::<Result<Map<_, _>, IncludeError>>()?;
                let Some(inc) = m.get(KEY) else {
                    return Ok(Value::Object(rest));
                };
                let load = |name: &str| {
                    let to = self.link(doc, name)?;
                    self.process(values, to, values(to))
                };
                let included = match inc {
                    Value::String(s) => load(s)?,
                    _ => names(inc)?
                        .into_iter()
                        .try_fold(Value::Object(Map::new()), |acc, n| {
                            Ok::<_, IncludeError>(deep_merge(acc, load(n)?))
                        })?,
                };
                if rest.is_empty() {
                    return Ok(included);
                }
                if !included.is_object() {
                    return Err(IncludeError::NotAnObject(inc.to_string()));
                }
                Ok(deep_merge(included, Value::Object(rest)))
            }
            _ => Ok(v.clone()),
        }
    }

    /// The layers a node of a document makes: itself, or what its `$include` brings in and then
    /// the keys beside it.
    fn expand(&self, values: &Values, layer: Layer) -> Result<Node, IncludeError> {
        let v = values(layer.doc)
            .at_path(&layer.at)
            .ok_or_else(|| IncludeError::Moved(patch::pointer(&layer.at)))?;
        let Some(inc) = v.as_object().and_then(|m| m.get(KEY)) else {
            return Ok(Node {
                shape: shape(v),
                layers: vec![layer],
            });
        };
        let mut node = Node {
            layers: Vec::new(),
            shape: Shape::Object,
        };
        for name in names(inc)? {
            let to = self.link(layer.doc, name)?;
            node.absorb(self.expand(
                values,
                Layer {
                    doc: to,
                    at: vec![],
                },
            )?);
        }
        if v.as_object().is_some_and(|m| m.len() > 1) {
            node.layers.push(layer);
        }
        Ok(node)
    }

    /// The merged node below `node` at `tok`, if any.
    fn child(&self, values: &Values, node: &Node, tok: &str) -> Result<Option<Node>, IncludeError> {
        let raw = |l: &Layer| values(l.doc).at_path(&l.at);
        match node.shape {
            Shape::Object => {
                let mut out: Option<Node> = None;
                for l in &node.layers {
                    if tok == KEY || raw(l).and_then(|v| v.get(tok)).is_none() {
                        continue;
                    }
                    let sub = self.expand(values, l.join(tok))?;
                    match &mut out {
                        Some(o) => o.absorb(sub),
                        None => out = Some(sub),
                    }
                }
                Ok(out)
            }
            Shape::Array => {
                let Ok(mut i) = tok.parse::<usize>() else {
                    return Ok(None);
                };
                for l in &node.layers {
                    let n = raw(l).and_then(Value::as_array).map_or(0, Vec::len);
                    if i < n {
                        return self.expand(values, l.join(&i.to_string())).map(Some);
                    }
                    i -= n;
                }
                Ok(None)
            }
            Shape::Scalar => Ok(None),
        }
    }

    /// Where an operation on the merged config lands: the document that defines the value (the
    /// layer that wins OpenClaw's merge; for a new key, the last layer of its object) and the
    /// operation there. Refuses what would replace or remove an `$include` (flattening it).
    pub fn route(&self, values: &Values, op: &Op) -> Result<(usize, Op), IncludeError> {
        let path = op.path().to_string();
        let toks = patch::tokens(op.path());
        let Some((last, parents)) = toks.split_last() else {
            return Err(IncludeError::WholeConfig);
        };
        let mut node = self.expand(
            values,
            Layer {
                doc: CONFIG,
                at: vec![],
            },
        )?;
        for t in parents {
            node = self
                .child(values, &node, t)?
                .ok_or_else(|| patch::PatchError::NoValue(path.clone()))?;
        }
        let raw = |l: &Layer| values(l.doc).at_path(&l.at);
        let target = match node.shape {
            Shape::Object => node
                .layers
                .iter()
                .rev()
                .find(|l| raw(l).and_then(|v| v.get(last)).is_some())
                .or(node.layers.last())
                .map(|l| l.join(last)),
            Shape::Array if last == "-" => node.layers.last().map(|l| l.join("-")),
            Shape::Array => {
                let mut i = last
                    .parse::<usize>()
                    .map_err(|_| IncludeError::BadIndex(path.clone()))?;
                let adding = matches!(op, Op::Add(_));
                let mut found = None;
                for (j, l) in node.layers.iter().enumerate() {
                    let n = raw(l).and_then(Value::as_array).map_or(0, Vec::len);
                    if i < n || (adding && j + 1 == node.layers.len() && i == n) {
                        found = Some(l.join(&i.to_string()));
                        break;
                    }
                    i -= n;
                }
                found
            }
            Shape::Scalar => None,
        }
        .ok_or_else(|| patch::PatchError::NoValue(path.clone()))?;
        let at = patch::pointer(&target.at);
        let old = values(target.doc).at_path(&target.at);
        if !matches!(op, Op::Test(_)) && old.is_some_and(contains_include) {
            return Err(IncludeError::Flatten(path));
        }
        let routed = match op {
            Op::Test(_) => patch::test(
                &at,
                old.cloned()
                    .ok_or_else(|| patch::PatchError::NoValue(path.clone()))?,
            )?,
            Op::Add(a) => patch::add(&at, a.value.clone())?,
            Op::Replace(r) => patch::replace(&at, r.value.clone())?,
            Op::Remove(_) => patch::remove(&at)?,
            Op::Move(_) | Op::Copy(_) => {
                return Err(IncludeError::Move(path));
            }
        };
        Ok((target.doc, routed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::workspace::StepError;
    use serde_json::json;

    fn includes(links: &[((usize, &str), usize)]) -> Includes {
        Includes {
            links: links
                .iter()
                .map(|((d, n), t)| ((*d, n.to_string()), *t))
                .collect(),
            merged: Value::Null,
        }
    }

    #[test]
    fn merge_follows_openclaw() {
        // config: a single include, an include array, siblings over an include.
        let docs = [
            json!({
                "models": {"$include": "m.json5"},
                "agents": {"$include": ["a.json5", "b.json5"], "defaults": {"x": 3}},
                "list": [1, {"$include": "m.json5"}],
            }),
            json!({"providers": {"p": {"baseUrl": "u"}}}),
            json!({"defaults": {"x": 1, "y": 1}, "list": [1]}),
            json!({"defaults": {"y": 2}, "list": [2]}),
        ];
        let inc = includes(&[
            ((0, "m.json5"), 1),
            ((0, "a.json5"), 2),
            ((0, "b.json5"), 3),
        ]);
        let merged = inc.merge(&|i| &docs[i]).unwrap();
        assert_eq!(
            merged,
            json!({
                "models": {"providers": {"p": {"baseUrl": "u"}}},
                "agents": {"defaults": {"x": 3, "y": 2}, "list": [1, 2]},
                "list": [1, {"providers": {"p": {"baseUrl": "u"}}}],
            })
        );
        let route = |p: &str| {
            let op = patch::replace(p, json!(0)).unwrap();
            inc.route(&|i| &docs[i], &op)
                .map(|(d, op)| (d, op.path().to_string()))
        };
        assert_eq!(
            route("/models/providers/p/baseUrl").unwrap(),
            (1, "/providers/p/baseUrl".into())
        );
        // The sibling wins over both files; `y` comes from the later file.
        assert_eq!(
            route("/agents/defaults/x").unwrap(),
            (0, "/agents/defaults/x".into())
        );
        assert_eq!(
            route("/agents/defaults/y").unwrap(),
            (3, "/defaults/y".into())
        );
        // Concatenated arrays: index 1 is the second file's first element.
        assert_eq!(route("/agents/list/1").unwrap(), (3, "/list/0".into()));
        // Replacing a whole include would flatten it.
        for path in ["/models", "/list/1"] {
            let e = route(path).unwrap_err();
            assert_eq!(e, IncludeError::Flatten(path.into()));
            assert!(e.to_string().contains("never flattens"), "{e}");
        }
        // A new key goes to the last layer of its object (the one that wins).
        let op = patch::add("/agents/defaults/z", json!(1)).unwrap();
        let (d, op) = inc.route(&|i| &docs[i], &op).unwrap();
        assert_eq!((d, op.path().to_string()), (0, "/agents/defaults/z".into()));
    }

    #[test]
    fn a_later_value_of_another_shape_replaces_the_earlier_ones() {
        let docs = [
            json!({"a": {"$include": ["x.json5", "y.json5"]}}),
            json!({"k": {"deep": 1}}),
            json!({"k": [1]}),
        ];
        let inc = includes(&[((0, "x.json5"), 1), ((0, "y.json5"), 2)]);
        assert_eq!(inc.merge(&|i| &docs[i]).unwrap(), json!({"a": {"k": [1]}}));
        let op = patch::replace("/a/k/0", json!(2)).unwrap();
        let (d, op) = inc.route(&|i| &docs[i], &op).unwrap();
        assert_eq!((d, op.path().to_string()), (2, "/k/0".into()));
    }

    #[test]
    fn siblings_need_an_object() {
        let docs = [json!({"a": {"$include": "x.json5", "b": 1}}), json!([1])];
        let inc = includes(&[((0, "x.json5"), 1)]);
        assert_eq!(
            inc.merge(&|i| &docs[i]).unwrap_err(),
            IncludeError::NotAnObject("\"x.json5\"".into())
        );
    }

    #[test]
    fn normalize_resolves_dots_by_name() {
        assert_eq!(
            normalize(Path::new("/s/./conf/../models.json5")),
            PathBuf::from("/s/models.json5")
        );
    }

    /// Through the workspace: a value two files merge cannot be replaced in one of them.
    #[test]
    fn a_change_no_single_file_can_make_is_refused() {
        use crate::document::FileKind;
        use crate::load::Install;
        use crate::plan::workspace::{Inputs, Workspace};
        let doc = |name: &str, text: &str| {
            let path = Path::new("/st").join(name);
            Document::from_bytes(&path, FileKind::Config, None, text.as_bytes().to_vec()).unwrap()
        };
        let docs = vec![
            doc(
                "openclaw.json",
                "{ a: { $include: ['x.json5', 'y.json5'] } }",
            ),
            doc("x.json5", "{ o: { p: 1 } }"),
            doc("y.json5", "// y\n{ o: { q: 2 }, s: 'v' }"),
        ];
        let inc = includes(&[((0, "x.json5"), 1), ((0, "y.json5"), 2)]);
        let merged = inc.merge(&|i| &docs[i].value).unwrap();
        let install = Install {
            root: crate::discover::InstallRoot {
                state_dir: "/st".into(),
                config_path: "/st/openclaw.json".into(),
                template: false,
            },
            docs,
            agents: vec![],
            default_agent: "main".into(),
            era: crate::storage::stores::Era::Json,
            unsupported: None,
            includes: Some(Includes { merged, ..inc }),
        };
        let inputs = Inputs::default();
        let mut ws = Workspace::new(&install, &inputs);
        assert_eq!(ws.config()["a"]["o"], json!({"p": 1, "q": 2}));
        let e = ws.replace(0, "/a/o".into(), json!({"r": 3})).unwrap_err();
        assert!(matches!(e, StepError::Merged { .. }), "{e:?}");
        assert_eq!(e.kind(), crate::error::Kind::Refused);
        assert!(
            e.to_string()
                .contains("merges this value from several included files"),
            "{e}"
        );
        let mut ws = Workspace::new(&install, &inputs);
        ws.replace(0, "/a/s".into(), json!("w")).unwrap();
        ws.add(0, "/a/o/r".into(), json!(3)).unwrap();
        assert_eq!(
            ws.config()["a"],
            json!({"o": {"p": 1, "q": 2, "r": 3}, "s": "w"})
        );
        assert_eq!(ws.raw(2), &json!({"o": {"q": 2, "r": 3}, "s": "w"}));
        assert!(ws.ops[0].is_empty() && ws.ops[1].is_empty());
    }
}
