//! Tool policy lists read as OpenClaw reads them, against a release's [`ToolCatalog`]: names
//! trimmed, lower-cased and de-aliased, groups expanded, `*` globs, `write` also granting
//! `apply_patch`; the scopes that hold policies; and the `byProvider` keys of a scope resolved
//! for a provider or `provider/model`. The tool-policy step kinds share these.
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
pub use crate::migration::tool_catalog::ToolCatalog;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value};

/// Names in first-seen order without repeats (JavaScript's `[...new Set(list)]`).
pub fn unique<I: IntoIterator<Item = String>>(items: I) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in items {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Plans the config's list at `at` (now `old`) to become `new` item by item, so that what stays
/// keeps its place and its comments: the items of the longest common subsequence stay, the
/// others are removed, and the new ones are inserted where they belong.
pub fn set_list(
    ws: &mut Workspace,
    at: &[String],
    old: &[Value],
    new: &[Value],
) -> Result<(), StepError> {
    let (n, m) = (old.len(), new.len());
    // longest[i][j]: the longest common subsequence of old[i..] and new[j..].
    let mut longest = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            longest[i][j] = if old[i] == new[j] {
                longest[i + 1][j + 1] + 1
            } else {
                longest[i + 1][j].max(longest[i][j + 1])
            };
        }
    }
    let (mut kept_old, mut kept_new) = (vec![false; n], vec![false; m]);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if old[i] == new[j] {
            (kept_old[i], kept_new[j]) = (true, true);
            (i, j) = (i + 1, j + 1);
        } else if longest[i + 1][j] >= longest[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    let item = |k: usize| pointer(&[at.to_vec(), vec![k.to_string()]].concat());
    for k in (0..n).rev().filter(|&k| !kept_old[k]) {
        ws.remove(CONFIG, item(k))?;
    }
    for k in (0..m).filter(|&k| !kept_new[k]) {
        ws.add(CONFIG, item(k), new[k].clone())?;
    }
    Ok(())
}

/// The strings of an array member `key` of a scope (`None` when it is no array).
pub fn own_list(scope: Option<&Value>, key: &str) -> Option<Vec<String>> {
    let list = scope?.as_object()?.get(key)?.as_array()?;
    Some(
        list.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    )
}

/// Whether a config path (tokens) is a tool policy scope holding `allow`/`alsoAllow`/`deny`:
/// it ends in `tools`, lies under `toolsBySender`, or under a `byProvider` inside `tools`.
pub fn is_policy_path(path: &[String]) -> bool {
    if path.last().is_some_and(|k| k == "tools") || path.iter().any(|k| k == "toolsBySender") {
        return true;
    }
    path.iter()
        .rposition(|k| k == "byProvider")
        .is_some_and(|i| path[..i].iter().any(|k| k == "tools"))
}

/// JavaScript's line terminators, which a glob's `*` (a regex `.*`) does not cross.
fn line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// OpenClaw's glob over a normalised name: `*` alone matches anything; otherwise each `*`
/// matches any run of characters but a line terminator, the rest itself; an empty pattern
/// matches nothing.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    if pattern == "*" {
        return true;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let Some(rest) = name.strip_prefix(parts[0]) else {
        return false;
    };
    parts.len() == 1 && rest.is_empty() || tail_matches(&parts[1..], rest)
}

/// Whether `s` is a gap (no line terminator) and then `parts` with gaps between them, the
/// last part ending `s`.
fn tail_matches(parts: &[&str], s: &str) -> bool {
    let Some((first, more)) = parts.split_first() else {
        return false;
    };
    let mut gap_end = 0;
    loop {
        let candidate = &s[gap_end..];
        if let Some(after) = candidate.strip_prefix(first) {
            let done = if more.is_empty() {
                after.is_empty()
            } else {
                tail_matches(more, after)
            };
            if done {
                return true;
            }
        }
        match candidate.chars().next() {
            Some(c) if !line_terminator(c) => gap_end += c.len_utf8(),
            _ => return false,
        }
    }
}

impl ToolCatalog {
    /// A policy name as OpenClaw compares it: trimmed, lower-cased, a legacy name de-aliased.
    pub fn normalize(&self, name: &str) -> String {
        let folded = js::trim(name).to_lowercase();
        self.aliases.get(&folded).cloned().unwrap_or(folded)
    }

    /// A list normalised, blank entries dropped.
    pub fn normalize_list(&self, list: &[String]) -> Vec<String> {
        let names = list.iter().map(|n| self.normalize(n));
        names.filter(|n| !n.is_empty()).collect()
    }

    /// A list normalised with each `group:` replaced by its tools, without repeats.
    pub fn expand(&self, list: &[String]) -> Vec<String> {
        let names = self.normalize_list(list).into_iter();
        unique(names.flat_map(|n| match self.groups.get(&n) {
            Some(tools) => tools.clone(),
            None => vec![n],
        }))
    }

    /// What a profile grants (`None` for a profile the release does not know).
    pub fn profile(&self, id: &str) -> Option<&Vec<String>> {
        self.profiles.get(id)
    }

    /// A profile's grants with `extras` after them (an unknown profile stays unknown).
    pub fn profile_with(&self, id: &str, extras: &[String]) -> Option<Vec<String>> {
        let base = self.profile(id)?;
        Some(unique(base.iter().chain(extras).cloned()))
    }

    pub fn is_core(&self, name: &str) -> bool {
        self.core_tools.iter().any(|t| t == name)
    }

    /// Whether an allow list lets `name` through: an allow that compiles to no pattern allows
    /// everything; `write` also grants `apply_patch`.
    pub fn allows(&self, allow: &[String], name: &str) -> bool {
        let patterns: Vec<String> = self
            .expand(allow)
            .iter()
            .map(|p| self.normalize(p))
            .filter(|p| !p.is_empty())
            .collect();
        if patterns.is_empty() {
            return true;
        }
        let hit = |n: &str| patterns.iter().any(|p| glob_matches(p, n));
        let name = self.normalize(name);
        hit(&name) || name == "apply_patch" && hit("write")
    }

    /// [`ToolCatalog::allows`] of a policy that may be absent (no policy allows everything).
    pub fn allows_opt(&self, allow: Option<&[String]>, name: &str) -> bool {
        allow.is_none_or(|a| self.allows(a, name))
    }
}

/// A `byProvider` key as OpenClaw normalises it: trimmed and lower-cased, the provider part of
/// a `provider/model` key trimmed again (a trailing `/` dropped).
pub fn provider_key(key: &str) -> String {
    let lower = js::trim(key).to_lowercase();
    match lower.find('/') {
        Some(i) if i > 0 => {
            let provider = js::trim(&lower[..i]).to_string();
            let model = &lower[i + 1..];
            if model.is_empty() {
                provider
            } else {
                format!("{provider}/{model}")
            }
        }
        _ => lower,
    }
}

/// The object policies of a `byProvider` map by normalised key: the first entry of each key,
/// unless a later one is written canonically and it is not. With `skip_blocked`, keys
/// JavaScript sets aside are passed over.
pub fn provider_lookup(
    by_provider: &Map<String, Value>,
    skip_blocked: bool,
) -> Vec<(String, &String, &Value)> {
    let mut out: Vec<(String, &String, &Value, bool)> = Vec::new();
    for (key, policy) in by_provider {
        if !policy.is_object() || skip_blocked && js::is_blocked_key(key) {
            continue;
        }
        let normalized = provider_key(key);
        if normalized.is_empty() {
            continue;
        }
        let canonical = js::trim(key).to_lowercase() == normalized;
        match out.iter_mut().find(|e| e.0 == normalized) {
            None => out.push((normalized, key, policy, canonical)),
            Some(e) if canonical && !e.3 => *e = (normalized, key, policy, canonical),
            Some(_) => {}
        }
    }
    out.into_iter().map(|(n, k, p, _)| (n, k, p)).collect()
}

/// The entry of a `byProvider` map that applies to a provider (and model): the exact
/// `provider/model` key first, then the provider's; as `(key, policy)`.
pub fn provider_entry<'m>(
    by_provider: Option<&'m Map<String, Value>>,
    provider: &str,
    model: Option<&str>,
) -> Option<(&'m String, &'m Value)> {
    let provider = js::trim(provider);
    let by_provider = by_provider?;
    if provider.is_empty() {
        return None;
    }
    let lookup = provider_lookup(by_provider, false);
    let normalized = provider_key(provider);
    let model = model
        .map(|m| js::trim(m).to_lowercase())
        .filter(|m| !m.is_empty());
    let mut candidates: Vec<String> = model
        .map(|m| format!("{normalized}/{m}"))
        .into_iter()
        .collect();
    candidates.push(normalized);
    candidates.iter().find_map(|c| {
        lookup
            .iter()
            .find(|(n, _, _)| n == c)
            .map(|(_, k, p)| (*k, *p))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> ToolCatalog {
        serde_json::from_value(json!({
            "profiles": {"coding": ["read", "write", "exec"], "full": ["*"]},
            "groups": {"group:fs": ["read", "write", "apply_patch"]},
            "aliases": {"bash": "exec"},
            "core_tools": ["read", "write", "apply_patch", "exec"]
        }))
        .unwrap()
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn globs_match_as_openclaw_compiles_them() {
        assert!(glob_matches("*", "spawn_task"));
        assert!(glob_matches("spawn_*", "spawn_task"));
        assert!(glob_matches("*_task", "spawn_task"));
        assert!(glob_matches("s*a*k", "spawn_task"));
        assert!(glob_matches("a*b*c", "abxbc"));
        assert!(!glob_matches("spawn_*x", "spawn_task"));
        assert!(!glob_matches("s*task*task", "s_task"));
        assert!(!glob_matches("", "spawn_task"));
        assert!(!glob_matches("read", "read2"));
        // A `*` is a regex `.*`, which does not cross a line.
        assert!(!glob_matches("a*b", "a\nb"));
        assert!(glob_matches("*", "a\nb"));
    }

    #[test]
    fn names_normalise_expand_and_match() {
        let c = catalog();
        assert_eq!(c.normalize(" Bash "), "exec");
        assert_eq!(
            c.normalize_list(&names(&["READ", " ", "bash"])),
            ["read", "exec"]
        );
        assert_eq!(
            c.expand(&names(&["write", "group:fs", "GROUP:FS"])),
            ["write", "read", "apply_patch"]
        );
        assert!(c.allows(&names(&["group:fs"]), "READ"));
        assert!(
            c.allows(&names(&["write"]), "apply_patch"),
            "write grants apply_patch"
        );
        assert!(!c.allows(&names(&["read"]), "apply_patch"));
        assert!(
            c.allows(&names(&[" ", ""]), "anything"),
            "no pattern allows all"
        );
        assert!(c.allows(&names(&["ex*"]), "bash"));
        assert!(c.allows_opt(None, "x") && !c.allows_opt(Some(&names(&["y"])), "x"));
        assert_eq!(
            c.profile_with("coding", &names(&["exec", "x"]))
                .unwrap()
                .len(),
            4
        );
        assert!(c.profile_with("toString", &[]).is_none());
    }

    #[test]
    fn provider_keys_resolve_model_then_provider_canonical_first() {
        assert_eq!(provider_key(" OpenAI / GPT-5 "), "openai/ gpt-5");
        assert_eq!(provider_key("openai/"), "openai");
        assert_eq!(provider_key("/x"), "/x");
        // Both provider keys are canonical (trimmed and lower-cased alike): the first wins; a
        // key whose provider part needs trimming is not, so the later canonical one wins.
        let by: Map<String, Value> = serde_json::from_value(json!({
            " OpenAI": {"profile": "a"}, "openai": {"profile": "b"},
            "openai /gpt-5": {"profile": "x"}, "openai/gpt-5": {"profile": "c"},
            "anthropic": "not a policy"
        }))
        .unwrap();
        let pick = |p: &str, m: Option<&str>| {
            provider_entry(Some(&by), p, m).map(|(_, v)| v["profile"].as_str().unwrap().to_string())
        };
        assert_eq!(pick("OpenAI", None).as_deref(), Some("a"));
        assert_eq!(pick("openai", Some("GPT-5")).as_deref(), Some("c"));
        assert_eq!(pick("openai", Some("other")).as_deref(), Some("a"));
        assert_eq!(pick("anthropic", None), None);
        assert_eq!(pick(" ", None), None);
    }

    #[test]
    fn policy_paths_are_the_scopes_doctor_reads() {
        let p = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        assert!(is_policy_path(&p("tools")));
        assert!(is_policy_path(&p("agents.entries.a.tools")));
        assert!(is_policy_path(&p("tools.byProvider.openai")));
        assert!(is_policy_path(&p("channels.x.toolsBySender.a")));
        assert!(!is_policy_path(&p("agents.byProvider.openai")));
        assert!(!is_policy_path(&p("tools.exec")));
    }
}
