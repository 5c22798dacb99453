//! Step `rewrite_url_host`: moves a provider's URL field from one host to another, keeping the path.
use crate::document::FileKind;
use crate::document::patch::{get, pointer};
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::Value;

/// The URL with its host swapped when the host is one of `from`; `None` otherwise.
pub fn swap_host(url: &str, from: &[String], to: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, Some(p)),
        _ => (hostport, None),
    };
    let host_cmp = host.trim_end_matches('.');
    if !from.iter().any(|f| f.eq_ignore_ascii_case(host_cmp)) {
        return None;
    }
    let mut out = format!("{scheme}://");
    if let Some(u) = userinfo {
        out.push_str(u);
        out.push('@');
    }
    out.push_str(to);
    if let Some(p) = port {
        out.push(':');
        out.push_str(p);
    }
    out.push_str(tail);
    Some(out)
}

pub fn run(
    ws: &mut Workspace,
    provider: &str,
    field: &str,
    from: &[String],
    to: &str,
    files: &[FileKind],
) -> Result<(), StepError> {
    let mut targets = Vec::new();
    if files.contains(&FileKind::Config) {
        targets.push((CONFIG, pointer(&["models", "providers", provider, field])));
    }
    if files.contains(&FileKind::Models) {
        targets.extend(
            ws.install
                .agents
                .iter()
                .map(|a| (a.models, pointer(&["providers", provider, field]))),
        );
    }
    for (doc, path) in targets {
        if let Some(Value::String(url)) = get(ws.value(doc), &path)
            && let Some(new) = swap_host(url, from, to)
        {
            ws.replace(doc, path, Value::String(new))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::swap_host;

    fn hosts() -> Vec<String> {
        vec!["api.minimax.io".into(), "api.minimax.chat".into()]
    }

    #[test]
    fn global_hosts_move_and_keep_the_path() {
        assert_eq!(
            swap_host(
                "https://api.minimax.io/anthropic",
                &hosts(),
                "api.minimaxi.com"
            )
            .unwrap(),
            "https://api.minimaxi.com/anthropic"
        );
        assert_eq!(
            swap_host("https://api.minimax.chat/v1", &hosts(), "api.minimaxi.com").unwrap(),
            "https://api.minimaxi.com/v1"
        );
        assert_eq!(
            swap_host(
                "https://API.MiniMax.io:443/v1?x=1",
                &hosts(),
                "api.minimaxi.com"
            )
            .unwrap(),
            "https://api.minimaxi.com:443/v1?x=1"
        );
    }

    #[test]
    fn other_hosts_stay() {
        for u in [
            "https://api.minimaxi.com/anthropic",
            "https://proxy.example.com/minimax",
            "https://api.minimax.io.evil.com/x",
            "not a url",
        ] {
            assert_eq!(swap_host(u, &hosts(), "api.minimaxi.com"), None, "{u}");
        }
    }
}
