//! The syntax-tree editor: JSON Patch ops applied to jsonc-parser's CST, keeping comments,
//! layout and quoting, with the text it writes itself spliced in and the tree parsed again
//! only when a later op reads near that text.
use super::patch::{
    self, AddOperation, MoveOperation, Op, PatchError, RemoveOperation, ReplaceOperation,
    TestOperation,
};
use super::style::{Style, inline_object, is_identifier, restyle, scalar_text, styled_key};
use super::{EditError, FileKind, splice};
use jsonc_parser::cst::{CstInputValue, CstNode, CstObject, CstRootNode};
use serde_json::Value;
use std::fmt::Write as _;
use std::ops::Range;

fn to_input(v: &Value) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(to_input).collect()),
        Value::Object(m) => {
            CstInputValue::Object(m.iter().map(|(k, v)| (k.clone(), to_input(v))).collect())
        }
    }
}

fn child(node: &CstNode, tok: &str) -> Option<CstNode> {
    if let Some(obj) = node.as_object() {
        obj.get(tok)?.value()
    } else if let Some(arr) = node.as_array() {
        arr.elements().into_iter().nth(tok.parse().ok()?)
    } else {
        None
    }
}

fn node_at(root: &CstRootNode, toks: &[String]) -> Result<CstNode, EditError> {
    let mut cur = root
        .value()
        .ok_or(EditError::Editor("value in the document"))?;
    for t in toks {
        cur = child(&cur, t).ok_or_else(|| PatchError::NoMember(t.clone()))?;
    }
    Ok(cur)
}

/// Writes `v` over `node`; returns the text to write over the new value when the file's style
/// differs from the tree's JSON.
fn replace_node(node: CstNode, v: &Value, style: Style) -> Result<Option<RawText>, EditError> {
    let input = to_input(v);
    if let Some(prop) = node.parent().and_then(|p| p.as_object_prop()) {
        prop.set_value(input);
        let value = prop.value().ok_or(EditError::Editor("replaced value"))?;
        return Ok(style.over(value));
    }
    let arr = node
        .parent()
        .and_then(|p| p.as_array())
        .ok_or(PatchError::Root("replace"))?;
    let idx = node
        .element_index()
        .ok_or(EditError::Editor("array element"))?;
    node.remove();
    Ok(style.over(arr.insert(idx, input)))
}

fn object_at(root: &CstRootNode, toks: &[String]) -> Result<CstObject, EditError> {
    Ok(node_at(root, toks)?
        .as_object()
        .ok_or(PatchError::NotContainer)?)
}

/// Text the syntax tree has no node for (comments written above a member, a value written
/// inline): `cst_edit` writes it into the tree's text over `node` (or just before it), then parses
/// the text again, so every node keeps holding text of its own kind. Written into a node's raw
/// value instead, it would be read back by jsonc-parser as that node (a property name that starts
/// with `//`), which panics inside the parser.
struct RawText {
    /// The node the text is written over, or before.
    node: CstNode,
    /// Over the node's text (`true`), or just before it.
    replace: bool,
    text: String,
    /// The tree still holds the old value here, so the text must be written before the next op
    /// reads the tree.
    stale: bool,
    /// The text is a member's name: ops below the member leave it alone ([`Reach::near`]).
    name: bool,
}

impl RawText {
    fn over(node: CstNode, text: String) -> RawText {
        RawText {
            node,
            replace: true,
            text,
            stale: false,
            name: false,
        }
    }
}

/// How the file's style rewrites the JSON the tree writes for new text.
impl Style {
    /// The text to write over a new member's name (JSON, as the tree writes it), where the
    /// file's style changes it.
    fn over_name(self, node: CstNode) -> Option<RawText> {
        let json = node.to_string();
        let key: String = serde_json::from_str(&json).ok()?;
        let text = styled_key(&key, self.bare_keys, self.single_quotes);
        (text != json).then(|| RawText {
            name: true,
            ..RawText::over(node, text)
        })
    }

    /// The text to write over `node`, new and written by the tree as JSON, where the file's
    /// style changes it.
    fn over(self, node: CstNode) -> Option<RawText> {
        if self == Style::default() {
            return None;
        }
        let json = node.to_string();
        let text = restyle(&json, self.bare_keys, self.single_quotes);
        (text != json).then(|| RawText::over(node, text))
    }
}

/// The indentation of the line a value starts on: its member's, for an object member.
fn member_indent(node: &CstNode) -> String {
    match node.parent().and_then(|p| p.as_object_prop()) {
        Some(prop) => CstNode::from(prop).indent_text(),
        None => node.indent_text(),
    }
    .unwrap_or_default()
}

/// `text` with each following line's indentation `old` replaced by `new`.
fn reindent(text: &str, old: &str, new: &str) -> String {
    let mut lines = text.split('\n');
    let mut out = lines.next().unwrap_or_default().to_string();
    for line in lines {
        out.push('\n');
        match line.strip_prefix(old) {
            Some(rest) if !line.trim().is_empty() => {
                out.push_str(new);
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// Where `node` sits in its tree: its index among its parent's children, at each level below
/// the root.
fn place(node: &CstNode) -> Vec<usize> {
    let mut at = vec![node.child_index()];
    at.extend(
        node.ancestors()
            .filter(|a| !a.is_root())
            .map(|a| a.child_index()),
    );
    at.reverse();
    at
}

/// The tree's text, and the byte range of the node at each of `places`: one walk, where
/// measuring each node alone would format all the text before it again for every node.
fn text_with_ranges(root: &CstRootNode, places: &[Vec<usize>]) -> (String, Vec<Range<usize>>) {
    fn walk(
        children: Vec<CstNode>,
        at: &mut Vec<usize>,
        out: &mut String,
        places: &[Vec<usize>],
        ranges: &mut [Range<usize>],
    ) {
        for (i, node) in children.into_iter().enumerate() {
            at.push(i);
            let start = out.len();
            match &node {
                // A subtree no edit is in is written whole, without measuring its nodes.
                CstNode::Container(c) if places.iter().any(|p| p.starts_with(at)) => {
                    walk(c.children(), at, out, places, ranges)
                }
                CstNode::Container(c) => {
                    write!(out, "{c}").expect("writing to a string cannot fail")
                }
                CstNode::Leaf(l) => write!(out, "{l}").expect("writing to a string cannot fail"),
            }
            for (place, range) in places.iter().zip(ranges.iter_mut()) {
                if place == at {
                    *range = start..out.len();
                }
            }
            at.pop();
        }
    }
    let mut out = String::new();
    let mut ranges = vec![0..0; places.len()];
    walk(
        root.children(),
        &mut Vec::new(),
        &mut out,
        places,
        &mut ranges,
    );
    (out, ranges)
}

fn apply_cst(
    root: &CstRootNode,
    op: &Op,
    nl: &str,
    style: Style,
) -> Result<Vec<RawText>, EditError> {
    match op {
        Op::Test(TestOperation { path, value }) => {
            let toks = patch::tokens(path);
            let found = node_at(root, &toks)?.to_serde_value();
            if found.as_ref() == Some(value) {
                Ok(Vec::new())
            } else {
                Err(PatchError::TestMismatch(path.to_string()).into())
            }
        }
        Op::Add(AddOperation { path, value }) => {
            Ok(cst_add(root, path, value, style)?.texts(style))
        }
        Op::Remove(RemoveOperation { path }) => cst_remove(root, path).map(|_| Vec::new()),
        Op::Replace(ReplaceOperation { path, value }) => {
            let node = node_at(root, &patch::tokens(path))?;
            let in_array = node.parent().is_some_and(|p| p.as_array().is_some());
            let scalar = node.as_string_lit().is_some()
                || node.as_number_lit().is_some()
                || node.as_boolean_lit().is_some()
                || node.as_null_keyword().is_some();
            if let (Some(s), Value::String(_)) = (node.as_string_lit(), value)
                && (in_array || s.raw_value().starts_with('\''))
            {
                // A string over a string is written over its text, in single quotes where the
                // old one was, as the file writes its strings.
                s.set_raw_value(scalar_text(&s.raw_value(), value));
                return Ok(Vec::new());
            }
            if in_array && let (Some(n), Value::Number(v)) = (node.as_number_lit(), value) {
                n.set_raw_value(v.to_string());
                return Ok(Vec::new());
            }
            if in_array && scalar && !value.is_object() && !value.is_array() {
                // A scalar element is written over its own text: the array keeps its layout
                // (removing and inserting it would reflow a one-element array onto one line).
                let text = scalar_text(&node.to_string(), value);
                return Ok(vec![RawText {
                    stale: true,
                    ..RawText::over(node, text)
                }]);
            }
            Ok(replace_node(node, value, style)?.into_iter().collect())
        }
        Op::Move(MoveOperation { from, path }) if patch::same_parent(from, path) => {
            cst_rename(root, from, path).map(|()| Vec::new())
        }
        Op::Move(MoveOperation { from, path }) => {
            let node = node_at(root, &patch::tokens(from))?;
            let value = node
                .to_serde_value()
                .ok_or(EditError::Editor("value to move"))?;
            let text = ((node.as_object().is_some() || node.as_array().is_some())
                && !node.to_string().contains("\\\n"))
            .then(|| (node.to_string(), member_indent(&node)));
            let same = node_at(root, &patch::tokens(path))
                .ok()
                .and_then(|n| n.to_serde_value())
                .is_some_and(|there| there == value);
            let comments = cst_remove(root, from)?;
            if same {
                // Onto an equal value (a merge's last step): the target's text, with the
                // comments inside it, stays; the source's comments join it.
                return Ok(carry_comments(root, path, &comments, nl)?
                    .into_iter()
                    .collect());
            }
            let mut added = cst_add(root, path, &value, style)?;
            if let (false, Some((text, old))) = (added.inline, text) {
                // The moved object or array keeps its own text (the comments and layout inside
                // it), shifted to its new indentation.
                let moved = node_at(root, &patch::tokens(path))?;
                let new = member_indent(&moved);
                added.value = Some(RawText::over(moved, reindent(&text, &old, &new)));
            }
            let mut raw = added.texts(style);
            raw.extend(carry_comments(root, path, &comments, nl)?);
            Ok(raw)
        }
        Op::Copy(c) => Err(PatchError::Copy(c.path.to_string()).into()),
    }
}

/// The text an add writes itself: over the new member's name, and over its value.
struct Added {
    name: Option<RawText>,
    value: Option<RawText>,
    /// The new value the tree wrote as JSON, to be written in the file's style unless `value`
    /// is set (a move writes the moved text over it instead, so it is restyled only when needed).
    styled: Option<CstNode>,
    /// The value is written inline like its siblings'.
    inline: bool,
}

impl Added {
    fn texts(self, style: Style) -> Vec<RawText> {
        let value = self
            .value
            .or_else(|| self.styled.and_then(|node| style.over(node)));
        self.name.into_iter().chain(value).collect()
    }
}

/// Adds (or sets) a member or inserts an element. A new object entry is written the way its
/// siblings are ([`inline_like_siblings`]), and new keys and strings as the file writes them
/// ([`Style`]): that text replaces the tree's on the next parse.
fn cst_add(
    root: &CstRootNode,
    path: &patch::Pointer,
    value: &Value,
    style: Style,
) -> Result<Added, EditError> {
    let toks = patch::tokens(path);
    let (last, parent) = toks.split_last().ok_or(PatchError::Root("add at"))?;
    let pnode = node_at(root, parent)?;
    let written = |node: CstNode| Added {
        name: None,
        value: None,
        styled: Some(node),
        inline: false,
    };
    if let Some(obj) = pnode.as_object() {
        let member = |prop: &jsonc_parser::cst::CstObjectProp| -> Result<_, EditError> {
            let name = prop.name().ok_or(EditError::Editor("inserted name"))?;
            let value = prop.value().ok_or(EditError::Editor("inserted value"))?;
            Ok((style.over_name(name.into()), value))
        };
        return match (obj.get(last), inline_like_siblings(&obj, value, style)) {
            (Some(prop), _) => {
                prop.set_value(to_input(value));
                Ok(written(member(&prop)?.1))
            }
            (None, Some(text)) => {
                let (name, node) = member(&obj.append(last, to_input(value)))?;
                Ok(Added {
                    name,
                    value: Some(RawText::over(node, text)),
                    styled: None,
                    inline: true,
                })
            }
            (None, None) => {
                let (name, node) = member(&obj.append(last, to_input(value)))?;
                Ok(Added {
                    name,
                    ..written(node)
                })
            }
        };
    }
    let arr = pnode.as_array().ok_or(PatchError::NotContainer)?;
    let node = if last == "-" {
        arr.append(to_input(value))
    } else {
        let at = last
            .parse()
            .map_err(|_| PatchError::BadIndex(last.clone()))?;
        arr.insert(at, to_input(value))
    };
    Ok(written(node))
}

/// Removes a member or element, and with a member the comments on their own lines right above
/// it (OpenRewrite's rule: a deleted key takes the comment above it); returns their texts, and
/// those of the comments that end the member's line, for a move to write again.
fn cst_remove(root: &CstRootNode, path: &patch::Pointer) -> Result<Vec<String>, EditError> {
    let toks = patch::tokens(path);
    let (last, parent) = toks.split_last().ok_or(PatchError::Root("remove"))?;
    let pnode = node_at(root, parent)?;
    let gone = || PatchError::NoMember(last.clone());
    match pnode.as_object() {
        Some(obj) => {
            let prop = obj.get(last).ok_or_else(gone)?;
            let comments = comments_above(&CstNode::from(prop.clone()));
            let mut texts: Vec<String> = comments.iter().map(|c| c.raw_value()).collect();
            for c in comments {
                remove_comment_line(c);
            }
            let trailing = comments_ending_line(&CstNode::from(prop.clone()));
            texts.extend(trailing.iter().map(|c| c.raw_value()));
            prop.remove();
            for c in trailing {
                if c.parent().is_some() {
                    c.remove();
                }
            }
            Ok(texts)
        }
        None => {
            // An array element: the comments on their own lines above it go with it too.
            let elem = child(&pnode, last).ok_or_else(gone)?;
            let comments = comments_above(&elem);
            let texts = comments.iter().map(|c| c.raw_value()).collect();
            for c in comments {
                remove_comment_line(c);
            }
            elem.remove();
            Ok(texts)
        }
    }
}

/// The comments that stand on their own lines right above `node` (no blank line between),
/// top first. A comment that ends another member's line is that member's.
fn comments_above(node: &CstNode) -> Vec<jsonc_parser::cst::CstComment> {
    let mut out = Vec::new();
    let mut before = node.previous_siblings().peekable();
    let skip_ws = |it: &mut std::iter::Peekable<_>| {
        while it.peek().is_some_and(|n: &CstNode| n.is_whitespace()) {
            it.next();
        }
    };
    skip_ws(&mut before);
    if !before.next().is_some_and(|n| n.is_newline()) {
        return out;
    }
    loop {
        skip_ws(&mut before);
        let Some(comment) = before.peek().and_then(CstNode::as_comment) else {
            break;
        };
        before.next();
        skip_ws(&mut before);
        if !before.next().is_some_and(|n| n.is_newline()) {
            break;
        }
        out.push(comment);
    }
    out.reverse();
    out
}

/// The comments after `node` on its own line (past its comma), which annotate it.
fn comments_ending_line(node: &CstNode) -> Vec<jsonc_parser::cst::CstComment> {
    let mut out = Vec::new();
    let mut comma = false;
    for n in node.next_siblings() {
        if n.is_newline() {
            break;
        } else if let Some(c) = n.as_comment() {
            out.push(c);
        } else if n.is_comma() && !comma && out.is_empty() {
            comma = true;
        } else if !n.is_whitespace() {
            return Vec::new(); // another member on the same line: the comment is not ours alone
        }
    }
    out
}

/// Removes a comment that stands on its own line, with the line's indentation and break.
fn remove_comment_line(c: jsonc_parser::cst::CstComment) {
    if !c.is_line_comment() {
        for n in c.previous_siblings() {
            let newline = n.is_newline();
            if !(newline || n.is_whitespace()) {
                break;
            }
            n.remove();
            if newline {
                break;
            }
        }
    }
    c.remove();
}

/// The comments a moved member had above it, to be written again above the member at `path`, on
/// lines of their own at its indentation.
fn carry_comments(
    root: &CstRootNode,
    path: &patch::Pointer,
    comments: &[String],
    nl: &str,
) -> Result<Option<RawText>, EditError> {
    if comments.is_empty() {
        return Ok(None);
    }
    let toks = patch::tokens(path);
    let (last, parent) = toks.split_last().ok_or(PatchError::Root("move to"))?;
    // Above the moved member, or above the moved element of an array.
    let pnode = node_at(root, parent)?;
    let prop: CstNode = match pnode.as_array() {
        Some(_) => child(&pnode, last).ok_or(EditError::Editor("moved element"))?,
        None => object_at(root, parent)?
            .get(last)
            .ok_or(EditError::Editor("moved member"))?
            .into(),
    };
    let indent = prop.indent_text().unwrap_or_default();
    let text: String = comments
        .iter()
        .map(|c| format!("{c}{nl}{indent}"))
        .collect();
    Ok(Some(RawText {
        replace: false,
        ..RawText::over(prop, text)
    }))
}

/// A move within one object: the key is renamed in place (its value, comments and position
/// stay), replacing a member of the new name.
fn cst_rename(
    root: &CstRootNode,
    from: &patch::Pointer,
    path: &patch::Pointer,
) -> Result<(), EditError> {
    let (ftoks, toks) = (patch::tokens(from), patch::tokens(path));
    let (to, parent) = toks.split_last().ok_or(PatchError::Root("move to"))?;
    let old = ftoks.last().ok_or(PatchError::Root("move"))?;
    let obj = object_at(root, parent)?;
    if let Some(existing) = obj.get(to) {
        existing.remove();
    }
    let prop = obj
        .get(old)
        .ok_or_else(|| PatchError::NoMember(old.clone()))?;
    let name = prop.name().ok_or(EditError::Editor("property name"))?;
    let quoted = serde_json::to_string(to).expect("a string serialises");
    // The new name is written as the old one was: bare, single- or double-quoted.
    match (name.as_string_lit(), name.as_word_lit()) {
        (Some(s), _) if s.raw_value().starts_with('\'') && !to.contains(['\'', '\\']) => {
            s.set_raw_value(format!("'{to}'"))
        }
        (Some(s), _) => s.set_raw_value(quoted),
        (_, Some(w)) if is_identifier(to) => w.set_raw_value(to.clone()),
        (_, Some(w)) => w.set_raw_value(quoted),
        _ => return Err(EditError::Editor("property name it can rename")),
    }
    Ok(())
}

/// When the sibling properties hold one-line objects (`"a": { provider: "x", mode: "y" },`),
/// the text of `value` written the same way, so an added entry looks like its neighbours: keys
/// bare where theirs are, strings in the file's quotes.
fn inline_like_siblings(obj: &CstObject, value: &Value, style: Style) -> Option<String> {
    let fields = splice::inlinable(value)?;
    let siblings: Vec<CstObject> = obj
        .properties()
        .iter()
        .filter_map(|p| p.value()?.as_object())
        .collect();
    if siblings.is_empty() || siblings.iter().any(|o| o.to_string().contains('\n')) {
        return None;
    }
    let bare = siblings
        .iter()
        .flat_map(|o| o.properties())
        .all(|p| p.name().is_some_and(|n| n.as_word_lit().is_some()));
    Some(inline_object(fields, bare, style.single_quotes))
}

/// Applies `ops` to `text` through the syntax tree, writing new keys and strings in `style`.
pub(super) fn cst_edit(
    text: &str,
    kind: FileKind,
    style: Style,
    ops: &[&Op],
) -> Result<String, EditError> {
    edit_counting(text, kind, style, ops, false).map(|(out, _)| out)
}

/// [`cst_edit`], writing each op's own text at once when `eager` (as this editor did before it
/// waited: the tests hold the two to the same text), and how many times it parsed the text again
/// (the cost its waiting saves).
fn edit_counting(
    text: &str,
    kind: FileKind,
    style: Style,
    ops: &[&Op],
    eager: bool,
) -> Result<(String, usize), EditError> {
    let mut parses = 0;
    let read = |text: &str, e: fn(String) -> EditError| {
        CstRootNode::parse(text, &kind.parse_options()).map_err(|x| e(x.to_string()))
    };
    let mut root = read(text, EditError::Syntax)?;
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    // The tree's text, while the tree is as it was parsed (an op edits the tree before the
    // text edits it returns, which are written over nodes of the edited tree).
    let mut parsed: Option<String> = Some(text.to_string());
    // Text edits not yet written, each with the scope it was made in: parsing the whole text
    // again after every one of them was half of a `--to` run, so they wait until an op reads or
    // edits near them (or the ops end), and are then written together.
    let mut pending: Vec<(Vec<String>, RawText)> = Vec::new();
    for op in ops {
        let due = |pending: &[(Vec<String>, RawText)]| {
            if pending.is_empty() {
                return false;
            }
            if eager {
                return true;
            }
            let reach = Reach::of(op);
            let reads = std::cell::OnceCell::new();
            pending.iter().any(|(at, r)| {
                reach.near(at, r.name, |parent| {
                    *reads.get_or_init(|| op_reads_siblings(&root, op, parent))
                })
            })
        };
        if due(&pending) {
            let out = flush(&root, std::mem::take(&mut pending))?;
            root = read(&out, EditError::Unparsable)?;
            parses += 1;
            parsed = Some(out);
        }
        let raw = apply_cst(&root, op, nl, style)?;
        if !matches!(op, Op::Test(_)) {
            parsed = None;
        }
        let stale = raw.iter().any(|r| r.stale);
        let scope = op_scope(op);
        pending.extend(raw.into_iter().map(|r| (scope.clone(), r)));
        if stale {
            let out = flush(&root, std::mem::take(&mut pending))?;
            root = read(&out, EditError::Unparsable)?;
            parses += 1;
            parsed = Some(out);
        }
    }
    if !pending.is_empty() {
        return Ok((flush(&root, pending)?, parses));
    }
    Ok((parsed.unwrap_or_else(|| root.to_string()), parses))
}

/// The tree's text with the pending text edits written in, last first so that the earlier
/// offsets still hold. At one offset the text written over a node goes first, and the text
/// written before it then lands in front of it; of two written before one node, the earlier op's
/// comes first, as when they were written one at a time.
fn flush(root: &CstRootNode, pending: Vec<(Vec<String>, RawText)>) -> Result<String, EditError> {
    let mut places = Vec::with_capacity(pending.len());
    for (_, r) in &pending {
        if !r.node.ancestors().any(|a| a.is_root()) {
            return Err(EditError::Editor("a text edit's node, still in the tree"));
        }
        places.push(place(&r.node));
    }
    let (mut out, ranges) = text_with_ranges(root, &places);
    let mut edits: Vec<_> = pending
        .into_iter()
        .zip(ranges)
        .enumerate()
        .map(|(seq, ((_, r), range))| {
            let len = if r.replace { range.len() } else { 0 };
            (range.start, r.replace, seq, len, r.text)
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse((e.0, e.1, e.2)));
    let mut end = out.len();
    for (at, _, _, len, text) in edits {
        if at + len > end {
            return Err(EditError::Editor("text edits that do not overlap"));
        }
        out.replace_range(at..at + len, &text);
        end = at;
    }
    Ok(out)
}

/// A path up to its first array index (an index names another element once an element before
/// it comes or goes, so a path past one cannot tell two ops apart).
fn scope(toks: &[String]) -> Vec<String> {
    toks.iter()
        .take_while(|t| *t != "-" && !t.bytes().all(|b| b.is_ascii_digit()))
        .cloned()
        .collect()
}

fn op_scope(op: &Op) -> Vec<String> {
    let path = match op {
        Op::Test(o) => &o.path,
        Op::Add(o) => &o.path,
        Op::Remove(o) => &o.path,
        Op::Replace(o) => &o.path,
        Op::Move(o) => &o.path,
        Op::Copy(o) => &o.path,
    };
    scope(&patch::tokens(path))
}

/// Where an op reads and edits the text, in tokens: worked out once per op and held against
/// every pending text edit ([`Reach::near`]).
struct Reach {
    /// The scopes of the values the op removes, replaces or writes: its path's, and a move's or
    /// copy's `from`.
    edits: Vec<Vec<String>>,
    /// The object an add, move or copy writes a member into: its tokens and its scope.
    into: Option<(Vec<String>, Vec<String>)>,
}

impl Reach {
    fn of(op: &Op) -> Reach {
        let (path, from, adds) = match op {
            Op::Test(_) => {
                return Reach {
                    edits: Vec::new(),
                    into: None,
                };
            }
            Op::Remove(o) => (&o.path, None, false),
            Op::Replace(o) => (&o.path, None, false),
            Op::Add(o) => (&o.path, None, true),
            Op::Move(o) => (&o.path, Some(&o.from), true),
            Op::Copy(o) => (&o.path, Some(&o.from), true),
        };
        let mut toks = patch::tokens(path);
        let mut edits = vec![scope(&toks)];
        edits.extend(from.map(|f| scope(&patch::tokens(f))));
        let into = adds.then(|| {
            toks.pop();
            let object = scope(&toks);
            (toks, object)
        });
        Reach { edits, into }
    }

    /// Whether the op reads or edits text that a pending edit made in `pending` would change.
    /// Removing or replacing a value touches that value's text, so only an edit at, above or
    /// below it counts; a member's `name` is touched only by an edit at or above the member.
    /// Adding a member can read its object's members' text too (`reads_siblings`, asked with the
    /// object's tokens). A `test` reads values only, which the tree already holds.
    fn near(
        &self,
        pending: &[String],
        name: bool,
        reads_siblings: impl FnOnce(&[String]) -> bool,
    ) -> bool {
        self.edits
            .iter()
            .any(|at| pending.starts_with(at) || (!name && at.starts_with(pending)))
            || self.into.as_ref().is_some_and(|(parent, object)| {
                // The object's own name is not its members' text.
                let inside = !name || pending.len() > object.len() || object.len() < parent.len();
                pending.starts_with(object) && inside && reads_siblings(parent)
            })
    }
}

/// [`reads_siblings`] for the member `op` adds (or moves, or copies) into the object `parent`.
fn op_reads_siblings(root: &CstRootNode, op: &Op, parent: &[String]) -> bool {
    match op {
        Op::Add(o) => reads_siblings(root, parent, Some(&o.value)),
        Op::Move(o) => {
            let moved = node_at(root, &patch::tokens(&o.from))
                .ok()
                .and_then(|n| n.to_serde_value());
            reads_siblings(root, parent, moved.as_ref())
        }
        _ => reads_siblings(root, parent, None),
    }
}

/// Whether adding `value` to the object at `parent` reads the text of the members already in it:
/// a value of scalars only may be written inline like its siblings (when none of them spans
/// lines), and an object without blank space takes its trailing-comma style from the members
/// inside it. Anything else (an array, an index in the path) is taken to read them.
fn reads_siblings(root: &CstRootNode, parent: &[String], value: Option<&Value>) -> bool {
    let spaced_object = || {
        scope(parent).len() == parent.len()
            && node_at(root, parent)
                .ok()
                .and_then(|n| n.as_object())
                .is_some_and(|o| o.children().iter().any(|c| c.is_whitespace()))
    };
    !(value.is_some_and(|v| splice::inlinable(v).is_none()) && spaced_object())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The style a read of `text` tallies.
    fn style(text: &str) -> Style {
        crate::document::json5::parse(text).unwrap().style
    }

    /// [`cst_edit`] in the style of `text`, its own text written at once when `eager`.
    fn edit_with(
        text: &str,
        kind: FileKind,
        ops: &[&Op],
        eager: bool,
    ) -> Result<String, EditError> {
        edit_counting(text, kind, style(text), ops, eager).map(|(out, _)| out)
    }

    /// Every node below the root, with its JSON pointer, and every object (the root too).
    fn walk(v: &Value, at: &str, nodes: &mut Vec<String>, objects: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                objects.push(at.to_string());
                for (k, c) in m {
                    let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                    nodes.push(p.clone());
                    walk(c, &p, nodes, objects);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    let p = format!("{at}/{i}");
                    nodes.push(p.clone());
                    walk(c, &p, nodes, objects);
                }
            }
            _ => {}
        }
    }

    fn values() -> Vec<Value> {
        vec![
            json!(1),
            json!("s"),
            json!({ "x": 1, "y": "z" }),
            json!({ "o": { "p": [1, 2] } }),
            json!([1, "two"]),
            json!(null),
            json!(true),
        ]
    }

    /// The ops of `picks`, each valid on the value the ones before it leave (a pick that does not
    /// fit is dropped): removes, replaces, adds (new members, appended elements), moves into
    /// another object and renames within one.
    fn ops_for(start: &Value, picks: &[(u8, usize, usize, usize)]) -> Vec<Op> {
        let mut cur = start.clone();
        let mut ops = Vec::new();
        for &(kind, a, b, v) in picks {
            let (mut nodes, mut objects) = (Vec::new(), Vec::new());
            walk(&cur, "", &mut nodes, &mut objects);
            if nodes.is_empty() {
                break;
            }
            let value = values()[v % values().len()].clone();
            let node = &nodes[a % nodes.len()];
            let object = &objects[b % objects.len()];
            let op = match kind % 5 {
                0 => patch::remove(node),
                1 => patch::replace(node, value),
                2 if cur.pointer(node).is_some_and(Value::is_array) => {
                    patch::add(&format!("{node}/-"), value)
                }
                2 => patch::add(&format!("{object}/k{b}"), value),
                3 if !object.starts_with(node.as_str()) => {
                    patch::move_to(node, &format!("{object}/m{b}"))
                }
                4 => match node.rsplit_once('/') {
                    Some((parent, _)) if cur.pointer(parent).is_some_and(Value::is_object) => {
                        patch::move_to(node, &format!("{parent}/r{b}"))
                    }
                    _ => continue,
                },
                _ => continue,
            }
            .unwrap();
            if patch::apply(&mut cur, &op).is_ok() {
                ops.push(op);
            }
        }
        ops
    }

    /// Configs with comments, inline objects, trailing commas and quoting of every kind: the
    /// doctor corpus, and maps of one-line objects (whose new members are written inline).
    fn texts() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/doctor/cases");
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        out.sort();
        out.push(
            "{\n  // a map of one-line objects\n  a: { x: { p: 1, q: 'r' }, y: { p: 2 } },\n  b: {\n    x: { p: 1 },\n    y: { p: 2 }, // y\n  },\n  c: [1, { d: 2 }],\n}\n"
                .to_string(),
        );
        out.push("{\"a\":{\"b\":{\"c\":1},\"d\":[1,2]},\"e\":{}}".to_string());
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// Waiting to write an op's own text (until a later op reads near it) writes the same
        /// text as writing it at once: the scopes `near` keeps apart never see each other's text.
        #[test]
        fn waiting_writes_what_writing_at_once_writes(
            which in any::<prop::sample::Index>(),
            picks in prop::collection::vec((0u8..5, 0usize..400, 0usize..400, 0usize..7), 1..14),
        ) {
            let texts = texts();
            let text = which.get(&texts);
            let Ok(start) = crate::document::parse(text, FileKind::Config) else {
                return Ok(());
            };
            let ops = ops_for(&start, &picks);
            let ops: Vec<&Op> = ops.iter().collect();
            let at_once = edit_with(text, FileKind::Config, &ops, true);
            let waiting = edit_with(text, FileKind::Config, &ops, false);
            prop_assert_eq!(format!("{at_once:?}"), format!("{waiting:?}"));
        }
    }

    #[test]
    fn a_string_over_a_single_quoted_one_keeps_single_quotes_in_the_tree_too() {
        let text = "{\n  tools: { profile: 'messaging', list: ['a', \"b\"] },\n  x: { y: 1 },\n}\n";
        let ops = [
            patch::replace("/tools/profile", json!("it's full")).unwrap(),
            patch::replace("/tools/list/0", json!("c")).unwrap(),
            patch::replace("/tools/list/1", json!("d")).unwrap(),
            patch::move_to("/x", "/z").unwrap(),
        ];
        let ops: Vec<&Op> = ops.iter().collect();
        let out = edit_with(text, FileKind::Config, &ops, false).unwrap();
        assert!(out.contains("profile: 'it\\'s full'"), "{out}");
        assert!(out.contains("list: ['c', \"d\"]"), "{out}");
    }

    #[test]
    fn new_members_follow_the_files_keys_and_quotes() {
        let add = patch::add(
            "/meta",
            json!({ "migrations": { "utilityModelSeparation": true, "by": "clawmigrate" } }),
        )
        .unwrap();
        let bare = "{\n  agents: { defaults: { model: 'a/b' } },\n}\n";
        let out = edit_with(bare, FileKind::Config, &[&add], false).unwrap();
        assert!(out.contains("meta: {"), "{out}");
        assert!(out.contains("migrations: {"), "{out}");
        assert!(out.contains("by: 'clawmigrate'"), "{out}");
        let json = "{\n  \"agents\": { \"defaults\": { \"model\": \"a/b\" } }\n}\n";
        let out = edit_with(json, FileKind::Config, &[&add], false).unwrap();
        assert!(out.contains("\"meta\": {"), "{out}");
        assert!(out.contains("\"by\": \"clawmigrate\""), "{out}");
        assert_eq!(style(json), Style::default());
    }

    #[test]
    fn edits_below_a_new_members_name_and_over_array_scalars_parse_nothing_again() {
        let text = "{\n  a: 1,\n  list: ['x', 2],\n}\n";
        let ops = [
            patch::add("/meta", json!({})).unwrap(),
            patch::add("/meta/migrations", json!({})).unwrap(),
            patch::add("/meta/migrations/done", json!(true)).unwrap(),
            patch::replace("/list/0", json!("y")).unwrap(),
            patch::replace("/list/1", json!(3)).unwrap(),
            patch::replace("/a", json!(2)).unwrap(),
        ];
        let ops: Vec<&Op> = ops.iter().collect();
        let (out, parses) =
            edit_counting(text, FileKind::Config, style(text), &ops, false).unwrap();
        assert_eq!(parses, 0, "{out}");
        assert_eq!(out, edit_with(text, FileKind::Config, &ops, true).unwrap());
        assert!(out.contains("list: ['y', 3]"), "{out}");
        assert!(
            out.contains("meta: {\n    migrations: {\n      done: true"),
            "{out}"
        );
        // Renaming the member its new name belongs to writes the name first.
        let rename = patch::move_to("/meta/migrations", "/meta/done").unwrap();
        let ops: Vec<&Op> = ops.iter().copied().chain([&rename]).collect();
        let (out, parses) =
            edit_counting(text, FileKind::Config, style(text), &ops, false).unwrap();
        assert_eq!(parses, 1, "{out}");
        assert_eq!(out, edit_with(text, FileKind::Config, &ops, true).unwrap());
    }

    #[test]
    fn moves_into_one_object_wait_and_keep_their_layout() {
        let text = "{\n  list: [\n    { id: 'a', m: { n: 1 } },\n    {\n      id: 'b',\n      m: { n: 2 }, // two\n    },\n  ],\n  entries: {\n    z: { m: { n: 0 } },\n  },\n}\n";
        let ops = [
            patch::move_to("/list/0", "/entries/a").unwrap(),
            patch::move_to("/list/0", "/entries/b").unwrap(),
        ];
        let ops: Vec<&Op> = ops.iter().collect();
        let out = edit_with(text, FileKind::Config, &ops, false).unwrap();
        assert_eq!(out, edit_with(text, FileKind::Config, &ops, true).unwrap());
        assert!(out.contains("a: { id: 'a', m: { n: 1 } }"), "{out}");
        assert!(
            out.contains("b: {\n      id: 'b',\n      m: { n: 2 }, // two\n    }"),
            "{out}"
        );
    }
}
