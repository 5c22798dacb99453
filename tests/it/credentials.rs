//! Issue #7621's heart: every agent that needs a minimax-cn key gets one, none is lost, none is shown.
use crate::fixtures::{self, GLOBAL_KEY, KeyAt, Spec, WRITER_KEY};
use crate::support::*;
use std::path::Path;

const PROXY_KEY: &str = "sk-proxy-HANDADDED-123456";

fn all_keys(spec: &Spec) -> Vec<String> {
    vec![
        spec.key.clone(),
        GLOBAL_KEY.into(),
        WRITER_KEY.into(),
        PROXY_KEY.into(),
    ]
}

/// Everything the tool printed or wrote outside the credential files and backup copies.
fn visible(sb: &Sandbox, st: &Path) -> String {
    let mut seen = String::new();
    let runs: Vec<Vec<&str>> = vec![
        vec!["migrate", "--dry-run"],
        vec!["migrate", "--dry-run", "--format", "json"],
        vec!["migrate", "--check"],
        vec!["status", "--format", "json"],
        vec!["migrate", "--yes", "--format", "json"],
        vec!["status"],
        vec!["rollback", "--list", "--format", "json"],
    ];
    for args in runs {
        let out = sb
            .cmd()
            .args(&args)
            .arg("--state-dir")
            .arg(st)
            .output()
            .unwrap();
        seen += &stdout(&out);
        seen += &stderr(&out);
    }
    seen += &std::fs::read_to_string(st.join(".clawmigrate/ledger.json")).unwrap_or_default();
    if let Ok(rd) = std::fs::read_dir(st.join(".clawmigrate/backups")) {
        for set in rd {
            seen += &read(set.unwrap().path().join("manifest.json"));
        }
    }
    seen
}

fn specs() -> Vec<Spec> {
    let mut v = Vec::new();
    for (i, key_at) in [
        KeyAt::CnModelsApiKey,
        KeyAt::CnModelsHeader,
        KeyAt::CnModelsBoth,
        KeyAt::MainProfile,
        KeyAt::ConfigEnvRef,
        KeyAt::Nowhere,
    ]
    .into_iter()
    .enumerate()
    {
        v.push(Spec {
            key_at,
            writer: i % 2 == 0,
            key: format!("sk-cp-DISTINCT{i}-5f4e3d2c1b0a9988"),
            ..Spec::default()
        });
    }
    v
}

#[test]
fn no_credential_is_lost_and_no_key_is_ever_shown() {
    for spec in specs() {
        let sb = Sandbox::new();
        let st = fixtures::build(&sb.path().join("state"), &spec);
        let before = fixtures::credentials(&st);
        let seen = visible(&sb, &st);
        for key in all_keys(&spec) {
            assert!(
                !seen.contains(&key),
                "{:?}: key {key} was shown:\n{seen}",
                spec.key_at
            );
        }
        let after = fixtures::credentials(&st);
        for (agent, keys) in &before {
            for k in keys {
                assert!(
                    after[agent].contains(k),
                    "{:?}: agent {agent} lost a credential",
                    spec.key_at
                );
            }
        }
    }
}

fn profile_key(st: &Path, agent: &str) -> Option<String> {
    let v = json(st.join(format!("agents/{agent}/agent/auth-profiles.json")));
    v["profiles"]["minimax-cn:default"]["key"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn key_only_in_one_agents_models_json_reaches_every_agent_that_needs_it() {
    for key_at in [
        KeyAt::CnModelsApiKey,
        KeyAt::CnModelsHeader,
        KeyAt::CnModelsBoth,
    ] {
        let sb = Sandbox::new();
        let spec = Spec {
            key_at,
            ..Spec::default()
        };
        let st = fixtures::build(&sb.path().join("s"), &spec);
        sb.cli(&["migrate", "--yes"], &st).success();
        for agent in ["main", "minimax-cn"] {
            assert_eq!(
                profile_key(&st, agent).as_deref(),
                Some(spec.key.as_str()),
                "{key_at:?} {agent}"
            );
        }
        // A block with an auth header overrides the auth system: cleaned. One with only the
        // config's values and the key the agent's own profile now holds is what OpenClaw
        // regenerates itself: it stays, and so does main's config-only block (host fixed).
        let cn = json(st.join("agents/minimax-cn/agent/models.json"));
        if key_at == KeyAt::CnModelsApiKey {
            assert_eq!(
                cn["providers"]["minimax-cn"]["apiKey"],
                spec.key.as_str(),
                "{cn}"
            );
        } else {
            assert!(
                cn["providers"].get("minimax-cn").is_none(),
                "{key_at:?}: {cn}"
            );
        }
        let main = json(st.join("agents/main/agent/models.json"));
        assert_eq!(
            main["providers"]["minimax-cn"]["baseUrl"], "https://api.minimaxi.com/anthropic",
            "{key_at:?}: {main}"
        );
        let cfg = read(st.join("openclaw.json"));
        assert!(
            cfg.contains(r#""minimax-cn:default": { provider: "minimax-cn", mode: "api_key" },"#),
            "{cfg}"
        );
        assert!(cfg.contains("/* the China account */"));
    }
}

#[test]
fn key_already_in_main_is_shared_with_the_agents_that_use_it() {
    let sb = Sandbox::new();
    let spec = Spec {
        key_at: KeyAt::MainProfile,
        ..Spec::default()
    };
    let st = fixtures::build(&sb.path().join("s"), &spec);
    let main_before = read(st.join("agents/main/agent/auth-profiles.json"));
    let out = sb.run(&["migrate", "--yes"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        read(st.join("agents/main/agent/auth-profiles.json")),
        main_before
    );
    assert_eq!(
        profile_key(&st, "minimax-cn").as_deref(),
        Some(spec.key.as_str())
    );
    assert!(stdout(&out).contains(
        "agent minimax-cn gets profile minimax-cn:default with the key from another agent's profile"
    ));
}

#[test]
fn an_agent_that_does_not_use_minimax_cn_is_left_alone() {
    let sb = Sandbox::new();
    let spec = Spec {
        writer: true,
        ..Spec::default()
    };
    let st = fixtures::build(&sb.path().join("s"), &spec);
    let writer = tree(&st.join("agents/writer"), true);
    let out = sb.run(&["migrate", "--yes"], &st);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(tree(&st.join("agents/writer"), true), writer);
    assert!(
        stdout(&out).contains("defines providers the config does not (my-proxy); kept"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn env_ref_api_key_in_config_is_not_a_key_and_stays() {
    let sb = Sandbox::new();
    let spec = Spec {
        key_at: KeyAt::ConfigEnvRef,
        ..Spec::default()
    };
    let st = fixtures::build(&sb.path().join("s"), &spec);
    let out = sb.run(&["migrate", "--yes"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let cfg = read(st.join("openclaw.json"));
    assert!(cfg.contains(r#"apiKey: "${MINIMAX_CN_KEY}","#));
    assert!(cfg.contains("api.minimaxi.com"));
    // "${VAR}" and the env var name are never copied into a profile as if they were keys.
    for agent in ["main", "minimax-cn"] {
        assert_ne!(profile_key(&st, agent).as_deref(), Some("MINIMAX_CN_KEY"));
        assert_ne!(
            profile_key(&st, agent).as_deref(),
            Some("${MINIMAX_CN_KEY}")
        );
    }
}

#[test]
fn no_key_anywhere_needs_input_and_writes_nothing() {
    let sb = Sandbox::new();
    let spec = Spec {
        key_at: KeyAt::Nowhere,
        ..Spec::default()
    };
    let st = fixtures::build(&sb.path().join("s"), &spec);
    let before = tree(&st, true);
    let out = sb.run(&["migrate", "--check"], &st);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(
        s.contains("needs input: agent main uses minimax-cn but no key for it was found"),
        "{s}"
    );
    assert!(s.contains("fix: put the minimax-cn key in a file (mode 0600) and run again with --key-file minimax-cn=FILE"), "{s}");
    assert!(s.contains("[needs input]"));
    let out = sb.run(&["migrate", "--yes"], &st);
    assert_eq!(out.status.code(), Some(2));
    // Only what comes before the blocked V0002 is written (the host); no profile, no stub.
    let after = tree(&st, true);
    for f in [
        "agents/main/agent/auth-profiles.json",
        "agents/minimax-cn/agent/auth-profiles.json",
    ] {
        assert_eq!(after[Path::new(f)], before[Path::new(f)], "{f} was written");
    }
    // The operator supplies the key in a file; it is used and never shown.
    let keyfile = sb.path().join("cn.key");
    write(&keyfile, "sk-cp-FROMOPERATOR-77665544\n");
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--key-file"])
        .arg(format!("minimax-cn={}", keyfile.display()))
        .arg("--state-dir")
        .arg(&st)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("sk-cp-FROMOPERATOR-77665544"));
    assert_eq!(
        profile_key(&st, "main").as_deref(),
        Some("sk-cp-FROMOPERATOR-77665544")
    );
    assert_eq!(
        profile_key(&st, "minimax-cn").as_deref(),
        Some("sk-cp-FROMOPERATOR-77665544")
    );
    assert!(!read(st.join(".clawmigrate/ledger.json")).contains("FROMOPERATOR"));
}

#[test]
fn operator_key_can_come_from_stdin() {
    let sb = Sandbox::new();
    let st = fixtures::build(
        &sb.path().join("s"),
        &Spec {
            key_at: KeyAt::Nowhere,
            ..Spec::default()
        },
    );
    sb.cmd()
        .args([
            "migrate",
            "--yes",
            "--key-file",
            "minimax-cn=-",
            "--state-dir",
        ])
        .arg(&st)
        .write_stdin("sk-cp-STDIN-0011223344\n")
        .assert()
        .success();
    assert_eq!(
        profile_key(&st, "minimax-cn").as_deref(),
        Some("sk-cp-STDIN-0011223344")
    );
}

#[test]
fn different_keys_are_a_conflict_never_resolved_silently() {
    let sb = Sandbox::new();
    let spec = Spec {
        key_at: KeyAt::CnModelsBoth,
        ..Spec::default()
    };
    let st = fixtures::build(&sb.path().join("s"), &spec);
    let p = st.join("agents/minimax-cn/agent/models.json");
    write(
        &p,
        &read(&p).replacen(&spec.key, "sk-cp-OTHERKEY-aabbccddeeff0011", 1),
    );
    let before = tree(&st, true);
    let out = sb.run(&["migrate", "--yes"], &st);
    assert_eq!(out.status.code(), Some(2));
    let s = stdout(&out);
    assert!(s.contains("conflict: agent minimax-cn needs a minimax-cn:default profile, but its models.json holds different keys: "), "{s}");
    assert!(!s.contains("OTHERKEY-aabb") && !s.contains(&spec.key));
    // The two masked keys differ, so the operator can tell them apart.
    let line = s
        .lines()
        .find(|l| l.contains("holds different keys"))
        .unwrap();
    let masks: Vec<&str> = line
        .split(": ")
        .last()
        .unwrap()
        .split(" [")
        .next()
        .unwrap()
        .split(", ")
        .collect();
    assert_eq!(masks.len(), 2);
    assert_ne!(masks[0], masks[1]);
    // Blocked at V0002: no profile and no cleanup were written.
    let after = tree(&st, true);
    for f in [
        "agents/main/agent/auth-profiles.json",
        "agents/minimax-cn/agent/auth-profiles.json",
        "agents/minimax-cn/agent/models.json",
    ] {
        let (a, b) = (
            json_bytes(&after[Path::new(f)]),
            json_bytes(&before[Path::new(f)]),
        );
        assert_eq!(
            strip_hosts(a),
            strip_hosts(b),
            "{f} was written beyond V0001"
        );
    }
}

fn json_bytes(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap()
}

/// A document with V0001's host fix undone, to compare what the later migrations did.
fn strip_hosts(v: serde_json::Value) -> String {
    v.to_string().replace("api.minimaxi.com", "api.minimax.io")
}
