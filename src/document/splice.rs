//! Fast format-preserving edits of a JSON5 config: splices replaced scalars and appended one-line
//! entries into the original text at the parser's byte ranges. Anything else returns `None`, and
//! the caller falls back to the full syntax tree (`document::edit`), which verifies both paths.
use crate::document::patch::{self, AddOperation, Op, ReplaceOperation};
use crate::document::style::{Style, inline_object, scalar_text, styled_key};
use jsonc_parser::ast::{Object, Value as Ast};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};
use serde_json::{Map, Value};

/// Whether a new object value may be written on one line (only scalars inside).
pub fn inlinable(value: &Value) -> Option<&Map<String, Value>> {
    value
        .as_object()
        .filter(|f| !f.is_empty() && f.values().all(|v| !v.is_object() && !v.is_array()))
}

fn child<'a, 'b>(node: &'b Ast<'a>, tok: &str) -> Option<&'b Ast<'a>> {
    match node {
        Ast::Object(o) => o.get(tok).map(|p| &p.value),
        Ast::Array(a) => a.elements.get(tok.parse::<usize>().ok()?),
        _ => None,
    }
}

fn at<'a, 'b>(root: &'b Ast<'a>, toks: &[String]) -> Option<&'b Ast<'a>> {
    toks.iter().try_fold(root, |n, t| child(n, t))
}

fn is_scalar(v: &Ast) -> bool {
    !matches!(v, Ast::Object(_) | Ast::Array(_))
}

/// The edits that append `key: value` after the last property of a multi-line object whose
/// siblings are one-line objects, keeping indentation, trailing-comma style and line endings: the
/// new name in the file's `style` (as the syntax-tree editor writes it), the keys inside bare
/// where the siblings' are, and strings in the file's quotes.
fn append(
    text: &str,
    obj: &Object,
    key: &str,
    value: &Value,
    style: Style,
) -> Option<Vec<(usize, usize, String)>> {
    let fields = inlinable(value)?;
    let last = obj.properties.last()?;
    let siblings: Vec<&Object> = obj
        .properties
        .iter()
        .filter_map(|p| p.value.as_object())
        .collect();
    if siblings.len() != obj.properties.len()
        || siblings
            .iter()
            .any(|o| text[o.range.start..o.range.end].contains('\n'))
    {
        return None;
    }
    let bare = siblings
        .iter()
        .flat_map(|o| &o.properties)
        .all(|p| matches!(p.name, jsonc_parser::ast::ObjectPropName::Word(_)));
    let end = last.range().end;
    let rest = &text[end..];
    let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let has_comma = rest[gap..].starts_with(',');
    let after = end + gap + usize::from(has_comma);
    let nl = after + text[after..].find('\n')?;
    let tail = text[after..nl].trim();
    if !(tail.is_empty() || tail.starts_with("//")) || nl >= obj.range.end {
        return None;
    }
    let line_start = text[..last.range().start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..last.range().start];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let (at_nl, newline) = if text[..nl].ends_with('\r') {
        (nl - 1, "\r\n")
    } else {
        (nl, "\n")
    };
    let name = styled_key(key, style.bare_keys, style.single_quotes);
    let entry = format!(
        "{newline}{indent}{name}: {}{}",
        inline_object(fields, bare, style.single_quotes),
        if has_comma { "," } else { "" }
    );
    Some(match (has_comma, at_nl == end) {
        (true, _) => vec![(at_nl, at_nl, entry)],
        (false, true) => vec![(end, end, format!(",{entry}"))],
        (false, false) => vec![(end, end, ",".to_string()), (at_nl, at_nl, entry)],
    })
}

/// Applies the operations by splicing the original text, or `None` when they need the full tree.
///
/// `read_as` is `text` or a same-length rewrite of it that `jsonc-parser` reads as json5 reads
/// `text` (`json5::Read::for_jsonc`): positions are found in it and the edits made to `text`.
/// New strings are written in `style`'s quotes.
pub fn splice(
    text: &str,
    read_as: &str,
    options: &ParseOptions,
    style: Style,
    ops: &[&Op],
) -> Option<String> {
    // Only replaced scalars and appended entries are spliced: anything else is known before
    // the text is parsed.
    if read_as.len() != text.len()
        || ops
            .iter()
            .any(|op| !matches!(op, Op::Test(_) | Op::Replace(_) | Op::Add(_)))
    {
        return None;
    }
    let parsed = parse_to_ast(read_as, &CollectOptions::default(), options).ok()?;
    let root = parsed.value?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for op in ops {
        match op {
            Op::Test(_) => {}
            Op::Replace(ReplaceOperation { path, value }) => {
                let node = at(&root, &patch::tokens(path))?;
                if !is_scalar(node) || value.is_object() || value.is_array() {
                    return None;
                }
                let (start, end) = (node.range().start, node.range().end);
                edits.push((start, end, scalar_text(&text[start..end], value)));
            }
            Op::Add(AddOperation { path, value }) => {
                let toks = patch::tokens(path);
                let (last, parent) = toks.split_last()?;
                let obj = at(&root, parent)?.as_object()?;
                if obj.get(last).is_some() {
                    return None;
                }
                edits.extend(append(read_as, obj, last, value, style)?);
            }
            _ => return None,
        }
    }
    edits.sort_by_key(|e| (e.0, e.1));
    if edits
        .windows(2)
        .any(|w| w[0].1 > w[1].0 || w[0].0 == w[1].0)
    {
        return None;
    }
    let mut out = text.to_string();
    for (start, end, with) in edits.into_iter().rev() {
        out.replace_range(start..end, &with);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The style a read of `t` tallies.
    fn style(t: &str) -> Style {
        crate::document::json5::parse(t).unwrap().style
    }

    fn opts() -> ParseOptions {
        ParseOptions {
            allow_missing_commas: false,
            ..Default::default()
        }
    }

    #[test]
    fn replaces_a_scalar_and_keeps_its_comment() {
        let t = "{\n  a: 'x', // keep\n  b: 1,\n}\n";
        let op = patch::replace("/a", json!("y")).unwrap();
        assert_eq!(
            splice(t, t, &opts(), style(t), &[&op]).unwrap(),
            "{\n  a: 'y', // keep\n  b: 1,\n}\n"
        );
    }

    #[test]
    fn appends_like_the_siblings_with_or_without_trailing_commas_and_crlf() {
        let op = patch::add("/p/n", json!({"provider": "p", "mode": "m"})).unwrap();
        let t = "{ p: {\n    a: { provider: \"a\" }, // c\n  },\n}\n";
        assert_eq!(
            splice(t, t, &opts(), style(t), &[&op]).unwrap(),
            "{ p: {\n    a: { provider: \"a\" }, // c\n    n: { provider: \"p\", mode: \"m\" },\n  },\n}\n"
        );
        let t = "{\r\n  \"p\": {\r\n    \"a:1\": { \"x\": 1 }\r\n  }\r\n}\r\n";
        let op = patch::add("/p/b:2", json!({"x": 2})).unwrap();
        assert_eq!(
            splice(t, t, &opts(), style(t), &[&op]).unwrap(),
            "{\r\n  \"p\": {\r\n    \"a:1\": { \"x\": 1 },\r\n    \"b:2\": { \"x\": 2 }\r\n  }\r\n}\r\n"
        );
    }

    #[test]
    fn an_appended_entry_is_written_in_the_files_quotes() {
        let op = patch::add("/p/n:1", json!({"provider": "it's", "n": 2})).unwrap();
        let t = "{\n  p: {\n    'a:1': { provider: 'a' },\n  },\n  q: 'x', r: \"y\", s: 'z',\n}\n";
        let out = splice(t, t, &opts(), style(t), &[&op]).unwrap();
        assert_eq!(
            out,
            "{\n  p: {\n    'a:1': { provider: 'a' },\n    'n:1': { provider: 'it\\'s', n: 2 },\n  },\n  q: 'x', r: \"y\", s: 'z',\n}\n"
        );
        let back = crate::document::json5::parse(&out).unwrap().value;
        assert_eq!(back["p"]["n:1"], json!({"provider": "it's", "n": 2}));
        // Where most strings are in double quotes, so is the new entry.
        let t = "{\n  p: {\n    a: { provider: 'a' },\n  },\n  q: \"x\", r: \"y\",\n}\n";
        let op = patch::add("/p/n", json!({"provider": "p"})).unwrap();
        assert!(
            splice(t, t, &opts(), style(t), &[&op])
                .unwrap()
                .contains("    n: { provider: \"p\" },\n")
        );
    }

    #[test]
    fn declines_what_it_cannot_do_faithfully() {
        let add = patch::add("/p/n", json!({"x": 1})).unwrap();
        assert!(
            splice(
                "{ p: { a: { x: 0 } } }",
                "{ p: { a: { x: 0 } } }",
                &opts(),
                Style::default(),
                &[&add]
            )
            .is_none(),
            "single-line parent"
        );
        assert!(
            splice(
                "{ p: {\n  a: {\n    x: 0\n  }\n} }",
                "{ p: {\n  a: {\n    x: 0\n  }\n} }",
                &opts(),
                Style::default(),
                &[&add]
            )
            .is_none(),
            "multi-line siblings"
        );
        assert!(
            splice("{ p: {} }", "{ p: {} }", &opts(), Style::default(), &[&add]).is_none(),
            "empty parent"
        );
        let rm = patch::remove("/p").unwrap();
        assert!(splice("{ p: 1 }", "{ p: 1 }", &opts(), Style::default(), &[&rm]).is_none());
    }

    /// What the splicer writes, the syntax-tree editor writes too: the fast path changes no
    /// output, whichever editor a change goes through.
    #[test]
    fn splices_write_what_the_syntax_tree_writes() {
        let cases: [(&str, Op); 8] = [
            (
                "{\n  a: 'x', // keep\n  b: 1,\n}\n",
                patch::replace("/a", json!("it's")).unwrap(),
            ),
            (
                "{\n  \"a\": [\"x\", 2],\n  \"b\": 1\n}\n",
                patch::replace("/a/0", json!("y")).unwrap(),
            ),
            (
                "{ p: {\n    a: { provider: \"a\" }, // c\n  },\n}\n",
                patch::add("/p/n", json!({"provider": "p", "mode": "m"})).unwrap(),
            ),
            (
                "{\r\n  \"p\": {\r\n    \"a:1\": { \"x\": 1 }\r\n  }\r\n}\r\n",
                patch::add("/p/b:2", json!({"x": 2})).unwrap(),
            ),
            (
                "{\n  p: {\n    'a:1': { provider: 'a' },\n  },\n  q: 'x', r: \"y\", s: 'z',\n}\n",
                patch::add("/p/n:1", json!({"provider": "it's", "n": 2})).unwrap(),
            ),
            // The siblings' keys are quoted, the file's are mostly bare: the new name is bare, as
            // the file writes its names, and the keys inside are quoted, as the siblings' are.
            (
                "{\n  p: {\n    a: { \"x\": 1 },\n  },\n  q: 1, r: 2, s: 3,\n}\n",
                patch::add("/p/n", json!({"x": 2})).unwrap(),
            ),
            // And the other way round.
            (
                "{\n  \"p\": {\n    \"a\": { x: 1 },\n  },\n  \"q\": 1, \"r\": 2,\n}\n",
                patch::add("/p/n", json!({"x": 2})).unwrap(),
            ),
            (
                "{\n  p: {\n    a: { x: 1 }\n  }\n}\n",
                patch::add("/p/n", json!({"x": 2, "y": "z"})).unwrap(),
            ),
        ];
        for (text, op) in &cases {
            let spliced = splice(text, text, &opts(), style(text), &[op]).unwrap();
            let tree = super::super::cst::cst_edit(
                text,
                crate::document::FileKind::Config,
                style(text),
                &[op],
            )
            .unwrap();
            assert_eq!(spliced, tree, "{text}");
        }
    }
}
