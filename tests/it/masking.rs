//! Issue 9, defect 10: keys are masked by value, whatever name holds them and however the text
//! encodes them, on every output path: human diff, JSON patches and findings, saved plans,
//! status, and failure messages (migrate, status and rollback).
use crate::support::*;
use std::path::Path;

/// In a `?key=` of the minimax-cn `baseUrl` (a line the first migration changes).
const K_URL: &str = "AIzaSyURLq-7c0ffee1234567";
/// Written with `\u` escapes in the config's JSON5 text, under `api_key`.
const K_ESC: &str = "sk-unicode-escaped-9f8e7d6c";
/// Under `apiSecret` in the config.
const K_SECRET: &str = "apisecret-Xy9-00112233";
/// Under an `x-goog-api-key` header in models.json, partly `\u`-escaped.
const K_GOOG: &str = "AIzaGoogHeader-4455667788";
/// Under `clientSecret` in models.json.
const K_CLIENT: &str = "client-secret-VV-998877";
/// Under `accessToken` in models.json.
const K_ACCESS: &str = "ya29.access-token-ABCDEF012";
/// In `token=` and `access_token=` of a models.json URL.
const K_TOK: &str = "tok-in-query-1234567890abc";
const K_TOK2: &str = "tok-in-query-access-Zz55";
/// Under an unlisted field of an auth store's profile.
const K_STORE: &str = "store-credential-QQ-24680";
/// The demo's China key (in models.json, copied to the profiles).
const K_CN: &str = "sk-cp-demo-china-fedcba9876543210";

const ALL: [&str; 10] = [
    K_URL, K_ESC, K_SECRET, K_GOOG, K_CLIENT, K_ACCESS, K_TOK, K_TOK2, K_STORE, K_CN,
];

/// `\u`-escapes every other character (as a hand-edited file might).
fn half_escaped(k: &str) -> String {
    k.chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                format!("\\u{:04x}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The forms a key could leak in: raw, a distinctive middle part, fully `\u`-escaped (either
/// case), the half-escaped source form, and percent-encoded.
fn forms(k: &str) -> Vec<String> {
    let u: String = k.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
    let pct: String = k.bytes().map(|b| format!("%{b:02X}")).collect();
    let mid = k.len() / 2;
    vec![
        k.to_string(),
        k[mid - 5..mid + 5].to_string(),
        u.clone(),
        u.to_uppercase().replace("\\U", "\\u"),
        half_escaped(k),
        pct,
    ]
}

fn assert_masked(what: &str, text: &str) {
    for k in ALL {
        for f in forms(k) {
            assert!(!text.contains(&f), "{what}: shows {f:?} (key {k}):\n{text}");
        }
    }
}

/// The demo install with keys under unlisted names and encodings.
fn install(st: &Path) {
    copy_tree(Path::new(DEMO), st);
    let cfg = st.join("openclaw.json");
    let text = read(&cfg).replace(
        "baseUrl: \"https://api.minimax.io/anthropic\", // copied from the global docs",
        &format!(
            "baseUrl: \"https://api.minimax.io/anthropic?key={K_URL}\", // copied from the global docs\n        api_key: \"{}\",\n        apiSecret: \"{K_SECRET}\",",
            half_escaped(K_ESC)
        ),
    );
    assert!(text.contains(K_URL));
    write(&cfg, &text);
    let models = st.join("agents/minimax-cn/agent/models.json");
    let text = read(&models).replace(
        "\"x-api-key\": \"sk-cp-demo-china-fedcba9876543210\"",
        &format!(
            "\"x-api-key\": \"{K_CN}\",\n        \"x-goog-api-key\": \"{}\",\n        \"clientSecret\": \"{K_CLIENT}\",\n        \"accessToken\": \"{K_ACCESS}\",\n        \"X-Callback\": \"https://cb.example/hook?token={K_TOK}&access_token={K_TOK2}\"",
            half_escaped(K_GOOG)
        ),
    );
    assert!(text.contains(K_CLIENT));
    write(&models, &text);
    let store = st.join("agents/main/agent/auth-profiles.json");
    let mut v = json(&store);
    v["profiles"]["google:default"] =
        serde_json::json!({"type": "api_key", "provider": "google", "credential": K_STORE});
    write(&store, &serde_json::to_string_pretty(&v).unwrap());
}

fn seen(out: &std::process::Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

#[test]
fn keys_under_unlisted_names_and_encodings_never_show() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    let st = fleet.join("keys");
    install(&st);
    // The dry run must actually show the lines holding the keys (else the test proves nothing).
    let out = sb.run(&["migrate", "--dry-run"], &st);
    let human = seen(&out);
    assert!(human.contains("?key=AIzaSy"), "{human}");
    assert!(
        human.contains("api_key: \"") && human.contains("x-goog-api-key"),
        "{human}"
    );
    assert!(
        human.contains("\"credential\"") || human.contains("[V0002]"),
        "{human}"
    );
    assert_masked("migrate --dry-run", &human);

    let out = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    let doc = json_of(&out);
    assert!(doc.to_string().contains("\"patch\""), "{doc}");
    assert_masked("migrate --dry-run --format json", &seen(&out));

    let plan = sb.path().join("plan.json");
    let out = sb.run(
        &["migrate", "--dry-run", "--plan-out", plan.to_str().unwrap()],
        &st,
    );
    assert_masked("--plan-out output", &seen(&out));
    assert_masked("saved plan", &read(&plan));

    for args in [
        vec!["status"],
        vec!["status", "--format", "json"],
        vec!["migrate", "--check", "--format", "json"],
        vec!["migrate", "--yes", "--format", "json"],
        vec!["rollback", "--list"],
        vec!["rollback", "--yes", "--format", "json"],
    ] {
        let out = sb.run(&args, &st);
        assert_masked(&args.join(" "), &seen(&out));
    }
}

#[test]
fn failure_messages_quote_no_key() {
    let sb = Sandbox::new();
    let fleet = sb.path().join("fleet");
    // A ledger holding a key where a list belongs: serde would quote it in its error.
    let ledger = fleet.join("ledger");
    install(&ledger);
    write(
        ledger.join(".clawmigrate/ledger.json"),
        &format!("{{\"schema\": 1, \"runs\": \"{K_CN}\"}}"),
    );
    // A config that does not parse, right after a key.
    let broken = fleet.join("broken");
    install(&broken);
    let cfg = broken.join("openclaw.json");
    write(
        &cfg,
        &read(&cfg).replace(
            &format!("apiSecret: \"{K_SECRET}\","),
            &format!("apiSecret: \"{K_SECRET}\" {K_SECRET}"),
        ),
    );
    // A backup manifest holding a key where a run id belongs.
    let manifest = fleet.join("manifest");
    install(&manifest);
    let out = sb.run(&["migrate", "--yes"], &manifest);
    assert!(out.status.success(), "{}", seen(&out));
    let set = only_backup_set(&manifest);
    let m = set.join("manifest.json");
    let mut v = json(&m);
    v["files"] = serde_json::json!(K_CN);
    write(&m, &v.to_string());

    for args in [
        vec!["migrate", "--dry-run"],
        vec!["migrate", "--dry-run", "--format", "json"],
        vec!["status", "--format", "json"],
        vec!["migrate", "--yes"],
        vec!["rollback", "--yes"],
        vec!["rollback", "--yes", "--format", "json"],
    ] {
        let out = sb
            .cmd()
            .args(&args)
            .arg("--fleet")
            .arg(&fleet)
            .output()
            .unwrap();
        let text = seen(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains("ledger"), "{args:?}: {text}");
        assert_masked(&args.join(" "), &text);
    }
    // Also a saved plan that is not a plan.
    let bogus = sb.path().join("bogus.json");
    write(&bogus, &format!("{{\"schema\": \"{K_CN}\"}}"));
    let out = sb
        .cmd()
        .args(["migrate", "--plan", bogus.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_masked("--plan bogus", &seen(&out));
}

/// Issue 16, item 9: credential query parameters whose values look like env var names, digits
/// or a few characters: OpenClaw reads no env var name out of a URL, so each is masked.
const URL_KEYS: [(&str, &str); 8] = [
    ("key", "QSECRET999"),
    ("api_key", "907153"),
    ("apikey", "Qx7k"),
    ("token", "UPPER_TOKEN_42"),
    ("access_token", "AT0011223344"),
    ("sig", "SIGVALUE8"),
    ("X-Amz-Signature", "5a5b5c5d5e"),
    ("password", "Pw9z"),
];

fn assert_hidden(what: &str, text: &str, keys: &[&str]) {
    for k in keys {
        assert!(!text.contains(k), "{what}: shows {k:?}:\n{text}");
    }
}

#[test]
fn upper_case_digit_and_short_query_keys_never_show() {
    let sb = Sandbox::new();
    let st = sb.path().join("url");
    copy_tree(Path::new(DEMO), &st);
    let cfg = st.join("openclaw.json");
    let query: Vec<String> = URL_KEYS.iter().map(|(q, k)| format!("{q}={k}")).collect();
    let text = read(&cfg).replace(
        "baseUrl: \"https://api.minimax.io/anthropic\",",
        &format!(
            "baseUrl: \"https://api.minimax.io/anthropic?alt=sse&{}\",",
            query.join("&")
        ),
    );
    assert!(text.contains("QSECRET999"));
    write(&cfg, &text);
    let keys: Vec<&str> = URL_KEYS.iter().map(|(_, k)| *k).collect();

    // The diff shows the line (else the test proves nothing), with every value masked.
    let out = sb.run(&["migrate", "--dry-run"], &st);
    let human = seen(&out);
    assert!(human.contains("?alt=sse&key="), "{human}");
    assert_hidden("migrate --dry-run", &human, &keys);

    let out = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    assert!(json_of(&out).to_string().contains("alt=sse&key="));
    assert_hidden("--format json", &seen(&out), &keys);

    let plan = sb.path().join("plan.json");
    let out = sb.run(
        &["migrate", "--dry-run", "--plan-out", plan.to_str().unwrap()],
        &st,
    );
    assert_hidden("--plan-out output", &seen(&out), &keys);
    assert!(read(&plan).contains("alt=sse&key="));
    assert_hidden("saved plan", &read(&plan), &keys);

    // An error right after the URL: the message masks it too.
    write(&cfg, &text.replace("alt=sse&", "alt=sse&\" x \""));
    for args in [
        vec!["migrate", "--dry-run"],
        vec!["status", "--format", "json"],
    ] {
        let out = sb.run(&args, &st);
        assert_eq!(out.status.code(), Some(2), "{}", seen(&out));
        assert_hidden(&args.join(" "), &seen(&out), &keys);
    }
}

/// Issue 16, item 9: an upper-case models.json key is a key, as OpenClaw reads it (it takes a
/// bare name for an env var only when it knows the name): it is masked everywhere, and planned
/// as the hardcoded key it is (copied into the profile), not reported as needing input.
#[test]
fn an_upper_case_models_json_key_is_a_masked_key() {
    const K: &str = "MMXCNKEY7F3A9B2C4D5E6F70";
    let sb = Sandbox::new();
    let st = sb.path().join("upper");
    copy_tree(Path::new(DEMO), &st);
    let models = st.join("agents/minimax-cn/agent/models.json");
    write(&models, &read(&models).replace(K_CN, K));

    let out = sb.run(&["migrate", "--dry-run"], &st);
    let human = seen(&out);
    assert!(!human.contains("needs input"), "{human}");
    assert!(human.contains("minimax-cn:default"), "{human}");
    assert_hidden("migrate --dry-run", &human, &[K, &K[4..16]]);

    let out = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    let doc = json_of(&out);
    assert!(!doc.to_string().contains("needs-input"), "{doc}");
    assert_hidden("--format json", &seen(&out), &[K, &K[4..16]]);

    let plan = sb.path().join("plan.json");
    let out = sb.run(
        &["migrate", "--dry-run", "--plan-out", plan.to_str().unwrap()],
        &st,
    );
    assert_hidden("--plan-out", &seen(&out), &[K]);
    assert_hidden("saved plan", &read(&plan), &[K, &K[4..16]]);

    let out = sb.run(&["migrate", "--yes"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", seen(&out));
    assert_hidden("migrate --yes", &seen(&out), &[K]);
    for agent in ["main", "minimax-cn"] {
        let store = json(st.join(format!("agents/{agent}/agent/auth-profiles.json")));
        assert_eq!(
            store["profiles"]["minimax-cn:default"]["key"], K,
            "{agent}: {store}"
        );
    }
}
