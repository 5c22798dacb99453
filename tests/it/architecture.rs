//! The layers of `src/` as ARCHITECTURE.md writes them down: every import edge is read from the
//! source and checked against the table there (no circle between modules, nothing imported from a
//! higher layer), as rust-analyzer's tidy tests keep its docs true.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A row of the layer table: a module path (`plan`, `storage::cell`) and its layer (1 = bottom).
struct Layer {
    module: Vec<String>,
    layer: usize,
}

/// One import: from the module `from` (the table's name for it) to the module `to`.
#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    at: String,
    text: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rows of the table under `## Layers` in ARCHITECTURE.md: `| # | layer | modules | owns |`.
fn table() -> Vec<Layer> {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let section = doc
        .split("\n## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a `## Layers` section");
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Ok(layer) = cells[1].parse::<usize>() else {
            continue; // the header and its rule
        };
        for module in cells[3].split('`').skip(1).step_by(2) {
            rows.push(Layer {
                module: module.split("::").map(String::from).collect(),
                layer,
            });
        }
    }
    let numbers: Vec<usize> = rows.iter().map(|r| r.layer).collect();
    assert!(
        numbers.windows(2).all(|w| w[0] <= w[1]) && numbers.first() == Some(&1),
        "the layer table lists its layers from 1 upwards: {numbers:?}"
    );
    rows
}

/// The table row a module path falls under (the longest module path that is a prefix of it).
fn row_of<'t>(table: &'t [Layer], path: &[String]) -> Option<&'t Layer> {
    table
        .iter()
        .filter(|r| path.starts_with(&r.module))
        .max_by_key(|r| r.module.len())
}

/// The source with comments and the contents of string and char literals blanked (newlines
/// kept, so byte offsets still give line numbers).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (rest.starts_with(b"r\"") || rest.starts_with(b"r#") || rest.starts_with(b"br"))
            && (i == 0 || !is_ident(b[i - 1]))
            && raw_start(rest).is_some()
        {
            let (open, hashes) = raw_start(rest).unwrap();
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = i + open;
            let end = find(&b[body..], &close).map_or(b.len(), |n| body + n + close.len());
            blank(&mut out, body, end.saturating_sub(close.len()));
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j.min(b.len()));
            i = j + 1;
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}'), or a lifetime ('a), which is left alone.
            let end = if rest.get(1) == Some(&b'\\') {
                memchr(b'\'', &rest[2..]).map(|n| i + 2 + n)
            } else {
                let len = std::str::from_utf8(&rest[1..rest.len().min(5)])
                    .ok()
                    .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(2)]).ok())
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (rest.get(1 + len) == Some(&b'\'')).then_some(i + 1 + len)
            };
            match end {
                Some(e) => {
                    blank(&mut out, i + 1, e);
                    i = e + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn raw_start(rest: &[u8]) -> Option<(usize, usize)> {
    let skip = usize::from(rest.first() == Some(&b'b'));
    let r = &rest[skip..];
    if r.first() != Some(&b'r') {
        return None;
    }
    let hashes = r[1..].iter().take_while(|&&c| c == b'#').count();
    (r.get(1 + hashes) == Some(&b'"')).then_some((skip + 2 + hashes, hashes))
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn memchr(c: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&x| x == c)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The index just past the item that starts at or after `at`: its `;`, or its closing brace.
fn item_end(code: &[u8], at: usize) -> usize {
    let mut depth = 0usize;
    for (i, &c) in code.iter().enumerate().skip(at) {
        match c {
            b';' if depth == 0 => return i + 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// `code` with every `#[cfg(test)]` item blanked, and the names of the modules declared so
/// (`#[cfg(test)] mod testing;`), whose files are test code too.
fn without_tests(code: &str) -> (String, Vec<String>) {
    let mut out = code.as_bytes().to_vec();
    let mut test_mods = Vec::new();
    let mut from = 0;
    while let Some(n) = code[from..].find("#[cfg(test)]") {
        let start = from + n;
        let end = item_end(code.as_bytes(), start);
        let item = code[start + "#[cfg(test)]".len()..end].trim();
        if let Some(name) = item
            .strip_prefix("mod ")
            .or_else(|| item.strip_prefix("pub mod "))
            .and_then(|m| m.strip_suffix(';'))
        {
            test_mods.push(name.trim().to_string());
        }
        for c in &mut out[start..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
    (String::from_utf8(out).unwrap(), test_mods)
}

/// The paths a use tree names (`a::{self, b::C, d}` → `a`, `a::b::C`, `a::d`), each as segments.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(group) = tree.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let (mut depth, mut start) = (0, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&group[start..i], prefix, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&group[start..], prefix, out);
        return;
    }
    if tree.is_empty() {
        return;
    }
    match tree.split_once("::") {
        Some((head, rest)) => {
            let mut p = prefix.to_vec();
            p.push(head.trim().to_string());
            expand(rest, &p, out);
        }
        None => {
            let name = tree.split(" as ").next().unwrap().trim();
            let mut p = prefix.to_vec();
            if name != "self" && name != "*" {
                p.push(name.to_string());
            }
            out.push(p);
        }
    }
}

/// The module path of a source file (`src/plan/steps/mod.rs` → `plan::steps`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Every `.rs` file under `dir`, sorted.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Reads every import edge of `src/`; a file or a target no table row covers is a problem.
fn edges(table: &[Layer], problems: &mut Vec<String>) -> Vec<Edge> {
    let src = root().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut texts = BTreeMap::new();
    let mut test_files = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap().to_path_buf();
        let (code, test_mods) = without_tests(&code_only(&std::fs::read_to_string(f).unwrap()));
        let module = module_of(&rel);
        for m in test_mods {
            let mut child = module.clone();
            child.push(m);
            test_files.insert(child);
        }
        texts.insert(rel, (module, code));
    }
    let mut out = Vec::new();
    for (rel, (module, code)) in &texts {
        if module.is_empty() || test_files.iter().any(|t| module.starts_with(t)) {
            continue; // lib.rs declares the modules; test helpers are test code
        }
        let Some(from) = row_of(table, module) else {
            problems.push(format!(
                "src/{}: the module `{}` has no layer in ARCHITECTURE.md",
                rel.display(),
                module.join("::")
            ));
            continue;
        };
        let line_of = |at: usize| code[..at].matches('\n').count() + 1;
        let mut targets: Vec<(usize, Vec<String>, String)> = Vec::new();
        let bytes = code.as_bytes();
        // `use crate::…;` and `use super::…;` trees.
        let mut uses = BTreeSet::new();
        let mut at = 0;
        while let Some(n) = code[at..].find("use ") {
            let start = at + n;
            at = start + 4;
            if start > 0 && is_ident(bytes[start - 1]) {
                continue;
            }
            let end = code[start..]
                .find(';')
                .map_or(code.len(), |n| start + n + 1);
            let tree: String = code[start + 4..end - 1]
                .chars()
                .filter(|c| !c.is_whitespace() || *c == ' ')
                .collect();
            let tree = tree.trim();
            let (base, rest) = if let Some(r) = tree.strip_prefix("crate::") {
                (Vec::new(), r)
            } else if tree.starts_with("super::") {
                climb(module, tree)
            } else {
                continue;
            };
            let mut paths = Vec::new();
            expand(rest, &base, &mut paths);
            let text = code[start..end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            for p in paths {
                targets.push((line_of(start), p, text.clone()));
            }
            uses.insert((start, end));
        }
        // `crate::a::b` and `super::a` paths in code.
        for word in ["crate::", "super::"] {
            let mut at = 0;
            while let Some(n) = code[at..].find(word) {
                let start = at + n;
                at = start + word.len();
                if (start > 0 && (is_ident(bytes[start - 1]) || bytes[start - 1] == b':'))
                    || uses.iter().any(|&(s, e)| s <= start && start < e)
                {
                    continue;
                }
                let len = code[start..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(code.len() - start);
                let path = code[start..start + len].trim_end_matches(':');
                let (base, rest) = match path.strip_prefix("crate::") {
                    Some(r) => (Vec::new(), r),
                    None => climb(module, path),
                };
                let mut p = base;
                p.extend(rest.split("::").filter(|s| !s.is_empty()).map(String::from));
                targets.push((line_of(start), p, path.to_string()));
            }
        }
        for (line, path, text) in targets {
            let Some(to) = row_of(table, &path) else {
                problems.push(format!(
                    "src/{}:{line}: `{text}` names `{}`, which has no layer in ARCHITECTURE.md",
                    rel.display(),
                    path.join("::")
                ));
                continue;
            };
            if to.module != from.module {
                out.push(Edge {
                    from: from.module.join("::"),
                    to: to.module.join("::"),
                    at: format!("src/{}:{line}", rel.display()),
                    text,
                });
            }
        }
    }
    out
}

/// Where a `super::super::x` path climbs to from `module`: the base path and what follows it.
fn climb<'a>(module: &[String], mut path: &'a str) -> (Vec<String>, &'a str) {
    let mut base = module.to_vec();
    while let Some(rest) = path.strip_prefix("super::") {
        base.pop();
        path = rest;
    }
    (base, path)
}

/// The groups of modules that import one another in a circle (Tarjan's strongly connected
/// components with more than one module).
fn circles(edges: &[Edge]) -> Vec<BTreeSet<String>> {
    let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        next.entry(&e.from).or_default().insert(&e.to);
        next.entry(&e.to).or_default();
    }
    struct Walk<'a> {
        next: &'a BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a str) {
        let i = w.index.len();
        w.index.insert(v, i);
        w.low.insert(v, i);
        w.stack.push(v);
        w.on.insert(v);
        for &u in &w.next[v] {
            if !w.index.contains_key(u) {
                visit(w, u);
                let l = w.low[u].min(w.low[v]);
                w.low.insert(v, l);
            } else if w.on.contains(u) {
                let l = w.index[u].min(w.low[v]);
                w.low.insert(v, l);
            }
        }
        if w.low[v] == w.index[v] {
            let mut group = BTreeSet::new();
            while let Some(u) = w.stack.pop() {
                w.on.remove(u);
                group.insert(u.to_string());
                if u == v {
                    break;
                }
            }
            if group.len() > 1 {
                w.out.push(group);
            }
        }
    }
    let mut w = Walk {
        next: &next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for &v in next.keys() {
        if !w.index.contains_key(v) {
            visit(&mut w, v);
        }
    }
    w.out
}

/// One closed path through a circle, from its first module back to it (shortest, breadth first),
/// as the first edge read for each hop.
fn cycle<'e>(edges: &'e [Edge], group: &BTreeSet<String>) -> Vec<&'e Edge> {
    let start = group.iter().next().unwrap();
    let mut came: BTreeMap<&str, &Edge> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.as_str()]);
    while let Some(v) = queue.pop_front() {
        for e in edges
            .iter()
            .filter(|e| e.from == v && group.contains(&e.to))
        {
            if e.to == *start {
                let mut path = vec![e];
                let mut at = v;
                while at != start {
                    let back = came[at];
                    path.push(back);
                    at = &back.from;
                }
                path.reverse();
                return path;
            }
            if !came.contains_key(e.to.as_str()) {
                came.insert(&e.to, e);
                queue.push_back(&e.to);
            }
        }
    }
    Vec::new()
}

/// What is wrong with the edges of `src/` against the table: files without a layer, imports
/// from a lower layer to a higher one, and circles (each with the edges that close it).
fn problems() -> (Vec<Edge>, Vec<String>) {
    let table = table();
    let mut problems = Vec::new();
    let edges = edges(&table, &mut problems);
    let layer = |m: &str| {
        let path: Vec<String> = m.split("::").map(String::from).collect();
        row_of(&table, &path).unwrap().layer
    };
    let mut seen = BTreeSet::new();
    for e in &edges {
        let (from, to) = (layer(&e.from), layer(&e.to));
        if to > from && seen.insert((&e.at, &e.to)) {
            problems.push(format!(
                "{}: `{}` (layer {from}) imports `{}` (layer {to}), a higher layer: `{}`",
                e.at, e.from, e.to, e.text
            ));
        }
    }
    for group in circles(&edges) {
        let hops: Vec<String> = cycle(&edges, &group)
            .iter()
            .map(|e| format!("    {}: {} -> {}: `{}`", e.at, e.from, e.to, e.text))
            .collect();
        problems.push(format!(
            "an import circle ties {} modules together ({}); one way round:\n{}",
            group.len(),
            group.iter().cloned().collect::<Vec<_>>().join(", "),
            hops.join("\n")
        ));
    }
    (edges, problems)
}

#[test]
fn imports_follow_the_layers_of_architecture_md() {
    let (edges, problems) = problems();
    let pairs: BTreeSet<(&str, &str)> = edges.iter().map(|e| (&*e.from, &*e.to)).collect();
    eprintln!(
        "{} import edges between {} pairs of modules",
        edges.len(),
        pairs.len()
    );
    // The reader itself works: it finds the edges every build has.
    for (from, to) in [
        ("apply", "commit"),
        ("commands", "pipeline"),
        ("load", "document"),
    ] {
        assert!(
            edges.iter().any(|e| e.from == from && e.to == to),
            "no edge {from} -> {to} read from src/"
        );
    }
    assert!(
        problems.is_empty(),
        "{} problems with the layers of ARCHITECTURE.md:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_reader_sees_through_groups_comments_and_strings() {
    let mut paths = Vec::new();
    expand("a::{self, b::{C, d as e}, *}", &[], &mut paths);
    assert_eq!(
        paths,
        [
            vec!["a"],
            vec!["a", "b", "C"],
            vec!["a", "b", "d"],
            vec!["a"]
        ]
    );
    let code =
        code_only("// use crate::x;\nlet s = \"crate::y\"; let r = r#\"crate::z\"#;\nc('{');");
    assert!(!code.contains("crate::"), "{code}");
    assert_eq!(code.matches('\n').count(), 2);
    let (code, mods) = without_tests(
        "use crate::a;\n#[cfg(test)]\nmod t { use crate::b; }\n#[cfg(test)]\nmod testing;\n",
    );
    assert!(
        code.contains("crate::a") && !code.contains("crate::b"),
        "{code}"
    );
    assert_eq!(mods, ["testing"]);
    assert_eq!(
        climb(
            &["plan".into(), "steps".into(), "remove".into()],
            "super::path::all"
        ),
        (vec!["plan".to_string(), "steps".to_string()], "path::all")
    );
}
