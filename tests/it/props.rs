//! Property tests: over generated installs, a run is idempotent, loses no credential, and
//! rollback restores every byte.
use crate::fixtures::{self, KeyAt, Spec};
use crate::support::*;
use proptest::prelude::*;

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::sample::select(vec![
            "api.minimax.io",
            "api.minimax.chat",
            "api.minimaxi.com",
            "proxy.example.com",
        ]),
        prop::sample::select(vec!["/anthropic", "/v1"]),
        prop::sample::select(vec![
            KeyAt::CnModelsApiKey,
            KeyAt::CnModelsHeader,
            KeyAt::CnModelsBoth,
            KeyAt::MainProfile,
            KeyAt::Nowhere,
        ]),
        any::<bool>(),
        prop::sample::select(vec![0usize, 2, 4]),
        any::<bool>(),
        "[A-Za-z0-9]{12,24}",
    )
        .prop_map(|(host, path, key_at, writer, indent, crlf, k)| Spec {
            host,
            path,
            key_at,
            writer,
            indent,
            crlf,
            key: format!("sk-cp-{k}"),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn apply_is_idempotent_lossless_and_reversible(spec in spec()) {
        let sb = Sandbox::new();
        let st = fixtures::build(&sb.path().join("s"), &spec);
        let before = tree(&st, false);
        let creds = fixtures::credentials(&st);
        let out = sb.run(&["migrate", "--yes"], &st);
        let blocked = spec.key_at == KeyAt::Nowhere;
        prop_assert_eq!(out.status.code(), Some(if blocked { 2 } else { 0 }), "{}", stdout(&out));
        if blocked {
            // Applied up to the blocked migration (V0002): no profile, nothing of V0003.
            let after = tree(&st, false);
            for f in ["agents/main/agent/auth-profiles.json", "agents/minimax-cn/agent/auth-profiles.json"] {
                prop_assert_eq!(&after[std::path::Path::new(f)], &before[std::path::Path::new(f)]);
            }
            prop_assert_eq!(sb.run(&["migrate", "--yes"], &st).status.code(), Some(2));
            prop_assert_eq!(tree(&st, false), after.clone(), "a second blocked run wrote more");
            if after != before {
                let rb = sb.run(&["rollback", "--yes"], &st);
                prop_assert_eq!(rb.status.code(), Some(0), "{}", stdout(&rb));
                prop_assert_eq!(tree(&st, false), before);
            }
            return Ok(());
        }
        // Idempotent: the second run plans nothing.
        let again = sb.run(&["migrate", "--check"], &st);
        prop_assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
        // Nothing lost.
        let after = fixtures::credentials(&st);
        for (agent, keys) in &creds {
            for k in keys {
                prop_assert!(after[agent].contains(k), "agent {} lost a key", agent);
            }
        }
        // Line endings and indentation of the agent files are kept.
        let auth = read(st.join("agents/minimax-cn/agent/auth-profiles.json"));
        prop_assert_eq!(auth.contains("\r\n"), spec.crlf);
        // Reversible, byte for byte (when anything was written).
        if tree(&st, false) != before {
            let rb = sb.run(&["rollback", "--yes"], &st);
            prop_assert_eq!(rb.status.code(), Some(0), "{}", stdout(&rb));
            prop_assert_eq!(tree(&st, false), before);
        }
    }
}

/// A key of the kinds that look like something else: upper case (`QSECRET999`), digits only,
/// a few characters, or an ordinary one.
fn odd_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][A-Z0-9]{5,24}",
        "[1-9][0-9]{5,12}",
        "[A-Z][a-z][0-9][A-Za-z0-9]{1,3}",
        "sk-cp-[A-Za-z0-9]{12,24}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Issue 16, item 9: wherever the key sits (models.json, a profile, `env.vars`, a `?key=` of
    /// the config's baseUrl, or nowhere but the URL so that the install needs input) and whatever
    /// it looks like, no output shows it: human diff and findings, JSON, the saved plan, and the
    /// error of a broken sibling holding it.
    #[test]
    fn odd_keys_never_show_in_any_output(
        key in odd_key(),
        key_at in prop::sample::select(vec![
            KeyAt::CnModelsApiKey,
            KeyAt::CnModelsHeader,
            KeyAt::MainProfile,
            KeyAt::ConfigEnvRef,
            KeyAt::Nowhere,
        ]),
        in_url in any::<bool>(),
    ) {
        let sb = Sandbox::new();
        let fleet = sb.path().join("fleet");
        let spec = Spec { key_at, key: key.clone(), ..Spec::default() };
        let st = fixtures::build(&fleet.join("a"), &spec);
        if in_url || key_at == KeyAt::Nowhere {
            let cfg = st.join("openclaw.json");
            let text = read(&cfg).replace(
                "baseUrl: \"https://api.minimax.io/anthropic\",",
                &format!("baseUrl: \"https://api.minimax.io/anthropic?key={key}\","),
            );
            let url = format!("?key={key}");
            prop_assert!(text.contains(&url));
            write(&cfg, &text);
        }
        // A sibling whose models.json breaks right after the key.
        let broken = fixtures::build(&fleet.join("b"), &Spec { key_at: KeyAt::CnModelsApiKey, ..spec.clone() });
        let models = broken.join("agents/minimax-cn/agent/models.json");
        let text = read(&models).replace(&format!("\"{key}\""), &format!("\"{key}\" {key}"));
        write(&models, &text);

        let fleet_arg = fleet.to_str().unwrap();
        let plan = sb.path().join("plan.json");
        let plan_arg = plan.to_str().unwrap();
        let runs: Vec<Vec<&str>> = vec![
            vec!["migrate", "--dry-run", "-v", "--fleet", fleet_arg],
            vec!["migrate", "--dry-run", "--format", "json", "--fleet", fleet_arg],
            vec!["migrate", "--dry-run", "--plan-out", plan_arg, "--state-dir", st.to_str().unwrap()],
            vec!["status", "--format", "json", "--fleet", fleet_arg],
        ];
        for args in runs {
            let out = sb.cmd().args(&args).output().unwrap();
            let text = format!("{}{}", stdout(&out), stderr(&out));
            prop_assert!(text.contains("models.json"), "{:?}: {}", args, text);
            prop_assert!(!text.contains(&key), "{:?} shows {}:\n{}", args, key, text);
        }
        if plan.exists() {
            prop_assert!(!read(&plan).contains(&key), "saved plan shows {}", key);
        }
        // Needs input exactly when no key is anywhere but the URL.
        let out = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
        let doc = json_of(&out).to_string();
        prop_assert_eq!(doc.contains("needs-input"), key_at == KeyAt::Nowhere, "{}", doc);
    }
}
