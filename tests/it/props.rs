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
