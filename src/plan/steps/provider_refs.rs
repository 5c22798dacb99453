//! Where the config names a provider's models: every `provider/model` ref, as a value or as a
//! key of a model map, wherever it stands (defaults, fallbacks, aliases, per-agent models,
//! allow lists, media models...), found by one walk that leaves out what is not a ref.
use serde_json::Value;

/// The config sections that hold no model refs: provider definitions (their model ids carry no
/// provider) and auth (profile ids, handled on their own).
const NOT_REFS: &[&[&str]] = &[&["models", "providers"], &["auth"], &["meta"], &["env"]];

/// A key whose value is a file system path, never a model ref (`workspace: "minimax-cn/x"`).
fn is_path_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    matches!(k.as_str(), "workspace" | "cwd" | "root" | "home")
        || k.ends_with("dir")
        || k.ends_with("path")
        || k.ends_with("paths")
        || k.ends_with("file")
}

/// The model part of a ref of `provider` (`provider/model`, the provider compared as OpenClaw
/// normalises ids: trimmed, any case), or `None`.
pub fn model_of<'s>(s: &'s str, provider: &str) -> Option<&'s str> {
    let (p, m) = s.trim().split_once('/')?;
    (p.trim().eq_ignore_ascii_case(provider) && !m.trim().is_empty()).then_some(m)
}

/// One place a ref of the provider stands: the tokens of its path, and whether it is a key of
/// its map (renamed) or a value (replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefAt {
    pub at: Vec<String>,
    pub is_key: bool,
    /// The ref as written.
    pub text: String,
}

impl RefAt {
    /// As the operator reads it: `agents.defaults.model.fallbacks.0`.
    pub fn dotted(&self) -> String {
        self.at.join(".")
    }
}

/// Every ref of `provider` in the config, in document order.
pub fn find(config: &Value, provider: &str) -> Vec<RefAt> {
    let mut out = Vec::new();
    walk(config, provider, &mut Vec::new(), &mut out);
    out
}

/// The refs in an order they can be changed in, each path valid at its turn: values first,
/// then keys deepest first.
pub fn in_edit_order(mut refs: Vec<RefAt>) -> Vec<RefAt> {
    refs.sort_by_key(|r| (r.is_key, std::cmp::Reverse(r.at.len())));
    refs
}

fn walk(v: &Value, provider: &str, at: &mut Vec<String>, out: &mut Vec<RefAt>) {
    if NOT_REFS
        .iter()
        .any(|skip| at.len() >= skip.len() && at.iter().zip(skip.iter()).all(|(a, b)| a == b))
    {
        return;
    }
    match v {
        Value::String(s) => {
            let under_path_key = at
                .iter()
                .rev()
                .find(|t| t.parse::<usize>().is_err())
                .is_some_and(|k| is_path_key(k));
            if !under_path_key && model_of(s, provider).is_some() {
                out.push(RefAt {
                    at: at.clone(),
                    is_key: false,
                    text: s.clone(),
                });
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(i.to_string());
                walk(x, provider, at, out);
                at.pop();
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                at.push(k.clone());
                if model_of(k, provider).is_some() {
                    out.push(RefAt {
                        at: at.clone(),
                        is_key: true,
                        text: k.clone(),
                    });
                }
                walk(x, provider, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_are_found_as_values_and_map_keys_wherever_they_stand() {
        let config = json!({
            "agents": {
                "defaults": {
                    "model": {"primary": "minimax-cn/MiniMax-M2", "fallbacks": ["openai/gpt-5", " MiniMax-CN/MiniMax-M1 "]},
                    "imageModel": "minimax-cn/MiniMax-VL",
                    "models": {"minimax-cn/MiniMax-M2": {"alias": "mm-cn"}},
                    "modelPolicy": {"allow": ["minimax-cn/MiniMax-M2"]},
                    "workspace": "minimax-cn/work",
                },
                "entries": {"coder": {"model": "minimax-cn/MiniMax-M2", "agentDir": "minimax-cn/agent"}},
            },
            "models": {"providers": {"minimax-cn": {"models": [{"id": "minimax-cn/x"}]}}},
            "auth": {"profiles": {"minimax-cn/x": {}}},
        });
        let found = in_edit_order(find(&config, "minimax-cn"));
        // Values come before keys.
        let first_key = found.iter().position(|r| r.is_key).unwrap();
        assert!(found[first_key..].iter().all(|r| r.is_key), "{found:?}");
        // Paths and the provider's own section are left out.
        let values: Vec<String> = find(&config, "minimax-cn")
            .iter()
            .filter(|r| !r.is_key)
            .map(RefAt::dotted)
            .collect();
        let mut sorted = values.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "agents.defaults.imageModel",
                "agents.defaults.model.fallbacks.1",
                "agents.defaults.model.primary",
                "agents.defaults.modelPolicy.allow.0",
                "agents.entries.coder.model",
            ]
        );
        let keys: Vec<String> = find(&config, "minimax-cn")
            .iter()
            .filter(|r| r.is_key)
            .map(RefAt::dotted)
            .collect();
        assert_eq!(keys, ["agents.defaults.models.minimax-cn/MiniMax-M2"]);
        assert_eq!(find(&config, "minimax").len(), 0);
    }

    #[test]
    fn a_ref_needs_a_model_after_its_provider() {
        assert_eq!(
            model_of("minimax-cn/MiniMax-M2", "minimax-cn"),
            Some("MiniMax-M2")
        );
        assert_eq!(model_of(" MINIMAX-CN /m", "minimax-cn"), Some("m"));
        for s in [
            "minimax-cn",
            "minimax-cn/",
            "minimax-cn/ ",
            "minimax/M",
            "x/minimax-cn/M",
        ] {
            assert_eq!(model_of(s, "minimax-cn"), None, "{s}");
        }
    }
}
