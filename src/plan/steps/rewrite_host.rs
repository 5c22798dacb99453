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
    use super::{run, swap_host};
    use crate::document::FileKind;
    use crate::load::{CONFIG, Install};
    use crate::plan::workspace::{Inputs, StepError, Workspace};
    use serde_json::{Value, json};
    use std::path::Path;

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

    const GLOBAL: &str = "https://api.minimax.io/anthropic";
    const CHINA: &str = "https://api.minimaxi.com/anthropic";

    fn config_with(url: &str) -> String {
        json!({"models": {"providers": {"minimax-cn": {"baseUrl": url, "api": "anthropic-messages"}}}})
            .to_string()
    }

    fn models_with(url: &str) -> String {
        json!({"providers": {"minimax-cn": {"baseUrl": url}}}).to_string()
    }

    /// Runs the V0001 step (both file kinds unless `files` says otherwise) on a fresh workspace.
    fn rewrite<'a>(
        install: &'a Install,
        inputs: &'a Inputs,
        files: &[FileKind],
    ) -> Result<Workspace<'a>, StepError> {
        let mut ws = Workspace::new(install, inputs);
        ws.tag = "V0001".into();
        run(
            &mut ws,
            "minimax-cn",
            "baseUrl",
            &hosts(),
            "api.minimaxi.com",
            files,
        )?;
        Ok(ws)
    }

    fn ops(ws: &Workspace, doc: usize) -> Value {
        serde_json::to_value(&ws.ops[doc]).unwrap()
    }

    const BOTH: &[FileKind] = &[FileKind::Config, FileKind::Models];

    #[test]
    fn moves_the_config_and_every_models_json_each_behind_a_test_of_the_old_url() {
        let models = models_with("https://api.minimax.chat/v1");
        let install = Install::in_memory(
            Path::new("/nonexistent/st"),
            &config_with(GLOBAL),
            &[("main", None, Some(&models))],
        );
        let inputs = Inputs::default();
        let ws = rewrite(&install, &inputs, BOTH).unwrap();
        assert_eq!(
            ops(&ws, CONFIG),
            json!([
                {"op": "test", "path": "/models/providers/minimax-cn/baseUrl", "value": GLOBAL, "migration": "V0001"},
                {"op": "replace", "path": "/models/providers/minimax-cn/baseUrl", "value": CHINA, "migration": "V0001"},
            ])
        );
        let m = install.agents[0].models;
        assert_eq!(
            ops(&ws, m),
            json!([
                {"op": "test", "path": "/providers/minimax-cn/baseUrl", "value": "https://api.minimax.chat/v1", "migration": "V0001"},
                {"op": "replace", "path": "/providers/minimax-cn/baseUrl", "value": "https://api.minimaxi.com/v1", "migration": "V0001"},
            ])
        );
        // Later steps see the new value; the other fields stay.
        assert_eq!(
            ws.config()["models"]["providers"]["minimax-cn"],
            json!({"baseUrl": CHINA, "api": "anthropic-messages"})
        );
        assert!(ws.findings.is_empty(), "{:?}", ws.findings);
    }

    #[test]
    fn plans_nothing_where_the_host_is_already_the_china_one() {
        let models = models_with(CHINA);
        let install = Install::in_memory(
            Path::new("/nonexistent/st"),
            &config_with(CHINA),
            &[("main", None, Some(&models))],
        );
        let inputs = Inputs::default();
        let ws = rewrite(&install, &inputs, BOTH).unwrap();
        assert!(ws.ops.iter().all(Vec::is_empty), "{:?}", ws.ops);
    }

    #[test]
    fn touches_only_the_file_kinds_it_names() {
        let models = models_with(GLOBAL);
        let install = Install::in_memory(
            Path::new("/nonexistent/st"),
            &config_with(GLOBAL),
            &[("main", None, Some(&models))],
        );
        let inputs = Inputs::default();
        let ws = rewrite(&install, &inputs, &[FileKind::Models]).unwrap();
        assert!(ws.ops[CONFIG].is_empty());
        assert_eq!(ws.ops[install.agents[0].models].len(), 2);
        let ws = rewrite(&install, &inputs, &[FileKind::Config]).unwrap();
        assert_eq!(ws.ops[CONFIG].len(), 2);
        assert!(ws.ops[install.agents[0].models].is_empty());
    }

    #[test]
    fn odd_shapes_absent_files_and_other_providers_are_left_alone() {
        // Not a string, no providers map, another provider on the global host, no models.json.
        for (config, models) in [
            (
                r#"{"models": {"providers": {"minimax-cn": {"baseUrl": 42}}}}"#,
                None,
            ),
            (
                r#"{"models": {"providers": []}}"#,
                Some(r#"{"providers": "x"}"#),
            ),
            (
                r#"{"models": {"providers": {"minimax": {"baseUrl": "https://api.minimax.io/v1"}}}}"#,
                Some(r#"{"providers": {"minimax": {"baseUrl": "https://api.minimax.io/v1"}}}"#),
            ),
            ("{}", Some(r#"{"providers": {"minimax-cn": null}}"#)),
            ("{}", None),
        ] {
            let install = Install::in_memory(
                Path::new("/nonexistent/st"),
                config,
                &[("main", None, models)],
            );
            let inputs = Inputs::default();
            let ws = rewrite(&install, &inputs, BOTH).unwrap();
            assert!(ws.ops.iter().all(Vec::is_empty), "{config}: {:?}", ws.ops);
        }
    }

    #[test]
    fn an_included_provider_is_changed_in_the_file_that_defines_it() {
        let dir = tempfile::tempdir().unwrap();
        let install = super::super::testing::with_included_models(
            dir.path(),
            &format!(
                "// providers\n{{ providers: {{ 'minimax-cn': {{ baseUrl: '{GLOBAL}' }} }} }}"
            ),
        );
        let inputs = Inputs::default();
        let ws = rewrite(&install, &inputs, BOTH).unwrap();
        assert!(ws.ops[CONFIG].is_empty(), "{:?}", ws.ops[CONFIG]);
        assert_eq!(
            ops(&ws, CONFIG + 1),
            json!([
                {"op": "test", "path": "/providers/minimax-cn/baseUrl", "value": GLOBAL, "migration": "V0001"},
                {"op": "replace", "path": "/providers/minimax-cn/baseUrl", "value": CHINA, "migration": "V0001"},
            ])
        );
        assert_eq!(
            ws.config()["models"]["providers"]["minimax-cn"]["baseUrl"],
            CHINA
        );
    }
}
