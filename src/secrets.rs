//! Recognises credential values and masks them in everything the tool prints or records.
//!
//! Masking is by value: every credential the install holds (any string of an auth store's
//! profiles, any value under a key-like name, any URL query parameter or password with such a
//! name, the operator's `--key-file` keys) is collected once per install, then searched for in
//! every text the tool prints or saves in each encoding it can take there: raw, JSON-escaped,
//! `\uXXXX`/`\xHH`-escaped as in a JSON5 source line, split by a JSON5 line continuation,
//! percent-encoded, as a JSON Pointer token, and after `Bearer `.
//!
//! What counts as a credential follows how OpenClaw reads a value in a credential position (a
//! secret field, an auth header, a credential query parameter). It reads `${NAME}` (NAME as
//! `/^[A-Z_][A-Z0-9_]*$/`, `src/config/env-substitution.ts`) as an env reference in openclaw.json.
//! In models.json it reads a bare upper-case name as an env var name only when the name is one it
//! knows (`isNonSecretApiKeyMarker` in `src/agents/model-auth-markers.ts`: "Do not treat arbitrary
//! ALL_CAPS values as markers"), and the 2026.2 releases write `VAR` there for a config
//! `${VAR}`; pi reads any other string as the literal key unless an env var of exactly that name
//! is set. Two questions follow, answered in opposite directions because their errors cost
//! differently:
//! - **Shown** (masking, [`Redactor`]): only what is certainly a reference: `${NAME}`, a marker,
//!   or a bare name OpenClaw knows ([`KNOWN_ENV_NAMES`]) or the install declares (a `${NAME}`,
//!   an `env`/`env.vars` entry, an env SecretRef id). Anything else there is masked: a wrong mask
//!   costs nothing, a wrong reveal leaks a key (`QSECRET999`, `MMXCNKEY7F3A9B2C4D5E6F70`).
//! - **A key to move** (planning, [`is_literal_secret`]): a bare name counts as an env var name,
//!   not a key, when OpenClaw knows it or it has a name's shape (words joined by `_`, as every
//!   name OpenClaw knows has: `MINIMAX_CN_KEY`); copying a name into a profile as its key would
//!   break auth. An upper-case string without `_` (`MMXCNKEY7F3A9B2C4D5E6F70`) is a key, as
//!   current OpenClaw reads it.
use crate::hash::sha256_hex;
use serde_json::Value;

/// Field names whose string values are credentials.
const SECRET_FIELDS: [&str; 8] = [
    "key",
    "apikey",
    "token",
    "access",
    "refresh",
    "x-api-key",
    "authorization",
    "password",
];

/// Values that name a credential without being one (OpenClaw markers and pi conventions).
const MARKERS: [&str; 6] = [
    "minimax-oauth",
    "qwen-oauth",
    "ollama-local",
    "custom-local",
    "gcp-vertex-credentials",
    "secretref-managed",
];

/// Values a key-like field holds when it names a kind of auth rather than a credential
/// (`models.providers.X.auth: "api-key"`, a profile's `type: "api_key"`).
const MODE_VALUES: [&str; 9] = [
    "api-key", "api_key", "apikey", "aws-sdk", "bearer", "header", "oauth", "token", "basic",
];

/// What a name must contain (once lowercased, `_` and `-` removed) to hold a credential.
const KEY_WORDS: [&str; 8] = [
    "key",
    "secret",
    "token",
    "password",
    "passwd",
    "credential",
    "auth",
    "signature",
];

/// Names that hold a credential without containing one of [`KEY_WORDS`].
const KEY_NAMES: [&str; 7] = ["access", "refresh", "sig", "pass", "pwd", "pw", "jwt"];

/// The env var names OpenClaw itself reads a bare models.json `apiKey` as (its
/// `listKnownEnvApiKeyMarkers`: the provider candidates of `src/agents/model-auth-env-vars.ts`,
/// the legacy markers and the AWS SDK markers of `src/agents/model-auth-markers.ts`).
pub const KNOWN_ENV_NAMES: [&str; 52] = [
    "COPILOT_GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "ANTHROPIC_OAUTH_TOKEN",
    "ANTHROPIC_API_KEY",
    "CHUTES_OAUTH_TOKEN",
    "CHUTES_API_KEY",
    "ZAI_API_KEY",
    "Z_AI_API_KEY",
    "OPENCODE_API_KEY",
    "OPENCODE_ZEN_API_KEY",
    "QWEN_OAUTH_TOKEN",
    "QWEN_PORTAL_API_KEY",
    "VOLCANO_ENGINE_API_KEY",
    "BYTEPLUS_API_KEY",
    "MINIMAX_OAUTH_TOKEN",
    "MINIMAX_API_KEY",
    "KIMI_API_KEY",
    "KIMICODE_API_KEY",
    "HUGGINGFACE_HUB_TOKEN",
    "HF_TOKEN",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "VOYAGE_API_KEY",
    "GROQ_API_KEY",
    "DEEPGRAM_API_KEY",
    "CEREBRAS_API_KEY",
    "XAI_API_KEY",
    "OPENROUTER_API_KEY",
    "LITELLM_API_KEY",
    "AI_GATEWAY_API_KEY",
    "CLOUDFLARE_AI_GATEWAY_API_KEY",
    "MOONSHOT_API_KEY",
    "NVIDIA_API_KEY",
    "XIAOMI_API_KEY",
    "SYNTHETIC_API_KEY",
    "VENICE_API_KEY",
    "MISTRAL_API_KEY",
    "TOGETHER_API_KEY",
    "QIANFAN_API_KEY",
    "AIPING_API_KEY",
    "OLLAMA_API_KEY",
    "VLLM_API_KEY",
    "KILOCODE_API_KEY",
    "GOOGLE_API_KEY",
    "DEEPSEEK_API_KEY",
    "PERPLEXITY_API_KEY",
    "FIREWORKS_API_KEY",
    "NOVITA_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_API_KEY",
    "MINIMAX_CODE_PLAN_KEY",
];

/// OpenClaw's AWS SDK markers: names, never keys.
const AWS_SDK_MARKERS: [&str; 3] = [
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
];

/// Endings of a key-like name that make it name a marker, a place or a kind, not a credential
/// (`authMode`, `tokenUrl`, `apiKeyEnv`, `authHeader`, `keyFile`).
const MARKER_ENDINGS: [&str; 23] = [
    "mode",
    "type",
    "kind",
    "provider",
    "url",
    "uri",
    "endpoint",
    "host",
    "header",
    "name",
    "source",
    "env",
    "var",
    "file",
    "path",
    "dir",
    "command",
    "method",
    "scheme",
    "profile",
    "override",
    "order",
    "profileid",
];

/// Fields of an auth store's profile whose strings are markers, not credentials.
const STORE_MARKER_FIELDS: [&str; 5] = ["type", "mode", "provider", "source", "id"];

/// The shortest value treated as a credential: a key of a few characters is still masked; one
/// of 1 to 3 characters is not (no provider issues such keys, and masking it by value would hide
/// that text wherever it occurs in the output).
const MIN_SECRET: usize = 4;

pub fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Whether a field (or URL query parameter) name holds a credential: case-insensitive, `_` and
/// `-` ignored, containing key/secret/token/password/credential/auth (`apiKey`, `api_key`,
/// `apiSecret`, `x-goog-api-key`, `clientSecret`, `access_token`), but not a name of a marker,
/// place or kind (`authMode`, `tokenUrl`, `apiKeyEnv`).
pub fn is_key_like(name: &str) -> bool {
    // Every object key of every file passes here: short ASCII names are normalised on the
    // stack, without an allocation.
    let mut buf = [0u8; 64];
    let mut len = 0;
    if name.is_ascii() && name.len() <= buf.len() {
        for b in name.bytes().filter(|b| *b != b'_' && *b != b'-') {
            buf[len] = b.to_ascii_lowercase();
            len += 1;
        }
        let n = std::str::from_utf8(&buf[..len]).expect("ASCII is UTF-8");
        return key_like_normalised(n);
    }
    let n: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    key_like_normalised(&n)
}

fn key_like_normalised(n: &str) -> bool {
    if KEY_NAMES.contains(&n) {
        return true;
    }
    has_key_word(n) && !MARKER_ENDINGS.iter().any(|e| n.ends_with(e))
}

/// The bytes a word of [`KEY_WORDS`] starts with.
const KEY_WORD_STARTS: [bool; 256] = {
    let mut starts = [false; 256];
    let mut i = 0;
    while i < KEY_WORDS.len() {
        starts[KEY_WORDS[i].as_bytes()[0] as usize] = true;
        i += 1;
    }
    starts
};

/// Whether `n` contains one of [`KEY_WORDS`]. Every object key of every file passes here, so
/// only a position holding a byte some word starts with is tried against the words (a
/// `str::contains` per word builds a searcher each time, a tenth of a fleet dry run's CPU).
fn has_key_word(n: &str) -> bool {
    let b = n.as_bytes();
    (0..b.len()).any(|i| {
        KEY_WORD_STARTS[usize::from(b[i])]
            && KEY_WORDS
                .iter()
                .any(|w| w.as_bytes()[0] == b[i] && b[i..].starts_with(w.as_bytes()))
    })
}

/// Whether a string is a literal credential to plan with (copy into a profile, remove from
/// models.json), not an env reference (`${VAR}`), an env var name (see [`names_an_env_var`]), an
/// OpenClaw marker (`minimax-oauth`, `secretref-…`, `oauth:…`) or a shell command (`!cmd`).
pub fn is_literal_secret(s: &str) -> bool {
    let v = key_of(s);
    !(v.is_empty() || is_reference_or_marker(v) || names_an_env_var(v))
}

/// Whether a value is an env reference (`${NAME}` anywhere in it, NAME as OpenClaw's
/// substitution recognises it), an OpenClaw marker or a pi shell command (`!cmd`).
fn is_reference_or_marker(v: &str) -> bool {
    is_env_reference(v)
        || v.starts_with('!')
        || v.starts_with("secretref-")
        || v.starts_with("oauth:")
        || MARKERS.contains(&v)
        || AWS_SDK_MARKERS.contains(&v)
}

/// Whether `s` holds a `${NAME}` that OpenClaw substitutes (`/^[A-Z_][A-Z0-9_]*$/`; a `${x}` with
/// another name stays literal text).
pub fn is_env_reference(s: &str) -> bool {
    env_references(s).next().is_some()
}

/// The names of the `${NAME}` references in `s`.
fn env_references(s: &str) -> impl Iterator<Item = &str> {
    // Every string of every file passes here, and most hold no `$`: no searcher for those.
    let s = if memchr::memchr(b'$', s.as_bytes()).is_some() {
        s
    } else {
        ""
    };
    s.split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| is_env_name(name))
}

/// Whether a string has the syntax of an env var name OpenClaw substitutes.
fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Whether OpenClaw reads a bare value as an env var name whatever the install says: one of
/// [`KNOWN_ENV_NAMES`].
fn is_known_env_name(s: &str) -> bool {
    KNOWN_ENV_NAMES.contains(&s)
}

/// Whether a bare value is to be planned with as an env var name rather than a key: a name
/// OpenClaw knows, or one with a name's shape, upper-case words joined by `_` (every name
/// OpenClaw knows has it, and 2026.2 writes a config `${VAR}` into models.json as `VAR`). An
/// upper-case string with no `_` (`QSECRET999`) is a key, as OpenClaw reads it.
pub fn names_an_env_var(s: &str) -> bool {
    is_known_env_name(s) || (is_env_name(s) && s.split('_').filter(|w| !w.is_empty()).count() >= 2)
}

/// The key a credential string carries (`Bearer sk-…` carries `sk-…`).
pub fn key_of(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix("Bearer ").unwrap_or(s).trim()
}

/// The credential an `Authorization`-style value carries: without its scheme word
/// (`Bearer`, `Basic`, `Token`, `Bot`, any case).
fn bare(s: &str) -> &str {
    let s = s.trim();
    for scheme in ["bearer ", "basic ", "token ", "bot "] {
        if s.len() > scheme.len()
            && s.is_char_boundary(scheme.len())
            && s[..scheme.len()].eq_ignore_ascii_case(scheme)
        {
            return s[scheme.len()..].trim();
        }
    }
    s
}

/// Whether a string found in a credential position is to be masked: anything but what OpenClaw
/// certainly reads as no key (a `${VAR}` reference, a marker, a bare env var name it knows or the
/// install declares), a kind of auth (`api-key`), a placeholder word (`minimax`, `changeme`:
/// lowercase letters only, short) or a URL (whose query keys are taken apart).
fn is_credential_value(s: &str, declared: &std::collections::BTreeSet<String>) -> bool {
    let v = bare(s);
    v.len() >= MIN_SECRET
        && !is_reference_or_marker(v)
        && !(is_env_name(v) && (is_known_env_name(v) || declared.contains(v)))
        && !MODE_VALUES.iter().any(|m| m.eq_ignore_ascii_case(v))
        && !(v.len() <= 12
            && v.bytes()
                .all(|b| b.is_ascii_lowercase() || matches!(b, b'-' | b'_' | b'.' | b':')))
        && !v.contains("://")
}

/// Percent-decodes (`+` as a space); `None` when the bytes are not UTF-8.
fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() && hex(b[i + 1]).is_some() && hex(b[i + 2]).is_some() => {
                out.push(hex(b[i + 1]).unwrap() * 16 + hex(b[i + 2]).unwrap());
                i += 3;
                continue;
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The credentials a URL carries: the password of its userinfo and every query (or fragment)
/// parameter with a key-like name (`?key=`, `token=`, `access_token=`, `api_key=`, `sig=`).
pub fn url_secrets(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Every string of every file passes here, and most hold no `:`: no searcher for those.
    if memchr::memchr(b':', s.as_bytes()).is_none() {
        return out;
    }
    let Some((_, rest)) = s.split_once("://") else {
        return out;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if let Some((userinfo, _)) = rest[..end].rsplit_once('@')
        && let Some((_, pass)) = userinfo.split_once(':')
    {
        out.push(pass.to_string());
    }
    let Some(q) = rest.find(['?', '#']) else {
        return out;
    };
    for pair in rest[q + 1..].split(['&', ';', '?', '#']) {
        if let Some((name, value)) = pair.split_once('=')
            && is_key_like(&url_decode(name).unwrap_or_else(|| name.to_string()))
        {
            out.push(value.to_string());
        }
    }
    out.into_iter()
        .flat_map(|raw| {
            let dec = url_decode(&raw);
            std::iter::once(raw).chain(dec)
        })
        .collect()
}

/// A masked form that still tells keys apart: a short prefix and a fingerprint, never the key.
pub fn mask(secret: &str) -> String {
    let keep = (secret.chars().count() / 4).min(6);
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}…[{}]", &sha256_hex(secret.as_bytes())[..8])
}

/// Masks every known secret in text. Secrets are collected from the files of a run.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a key that contains another is masked whole; each with its searcher,
    /// built once and reused for every string the run prints.
    secrets: Vec<(String, memchr::memmem::Finder<'static>)>,
    /// Whether a secret holds a space (so `+` may encode part of it) or a `/` or `~` (so a JSON
    /// Pointer's `~1`/`~0` may): kept as secrets are added, not worked out per text redacted.
    space: bool,
    pointer: bool,
    /// The env var names the install declares (see [`declare`](Self::declare)): a bare one of
    /// these in a credential position is a reference, shown as it is.
    declared: std::collections::BTreeSet<String>,
}

impl Redactor {
    /// Adds a credential to mask (an operator's key, or a value collected from the install).
    pub fn add(&mut self, secret: &str) {
        let k = bare(secret);
        if k.len() >= MIN_SECRET && !self.secrets.iter().any(|(s, _)| s == k) {
            let finder = memchr::memmem::Finder::new(k.as_bytes()).into_owned();
            // Kept longest first by inserting in place (no sort of the whole list per secret).
            let at = self.secrets.partition_point(|(s, _)| s.len() >= k.len());
            self.secrets.insert(at, (k.to_string(), finder));
            self.space |= k.contains(' ');
            self.pointer |= k.contains(['/', '~']);
        }
    }

    /// Adds a string found in the install when it is a credential value (see
    /// [`is_credential_value`]).
    fn add_found(&mut self, s: &str) {
        if is_credential_value(s, &self.declared) {
            self.add(s);
        }
    }

    /// Records the env var names a file of the install declares, before any file is collected:
    /// every `${NAME}` it references, the names its `env` and `env.vars` set (OpenClaw copies them
    /// into its environment), and the `id` of every env SecretRef (`{source: "env", id}`, an auth
    /// store's `keyRef`). A bare one of these in a credential position is what OpenClaw 2026.2
    /// writes for a config `${NAME}`, so it is shown; any other bare name there is masked.
    pub fn declare(&mut self, v: &Value) {
        if let Some(env) = v.get("env").and_then(Value::as_object) {
            for (k, e) in env {
                match e {
                    Value::String(_) if k != "shellEnv" => {
                        self.declared.insert(k.clone());
                    }
                    Value::Object(vars) if k == "vars" => {
                        self.declared.extend(vars.keys().cloned());
                    }
                    _ => {}
                }
            }
        }
        fn walk(names: &mut std::collections::BTreeSet<String>, v: &Value) {
            match v {
                Value::String(s) => names.extend(env_references(s).map(str::to_string)),
                Value::Array(a) => a.iter().for_each(|v| walk(names, v)),
                Value::Object(m) => {
                    if m.get("source").and_then(Value::as_str) == Some("env")
                        && let Some(id) = m.get("id").and_then(Value::as_str)
                    {
                        names.insert(id.trim().to_string());
                    }
                    m.values().for_each(|v| walk(names, v));
                }
                _ => {}
            }
        }
        walk(&mut self.declared, v);
    }

    /// Collects every credential anywhere in a tree: the literal values under a key-like name
    /// (directly or in an array), and the credentials of every URL.
    pub fn collect(&mut self, v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if is_key_like(k) || is_secret_field(k) {
                        match v {
                            Value::String(s) => self.add_found(s),
                            Value::Array(a) => a
                                .iter()
                                .filter_map(Value::as_str)
                                .for_each(|s| self.add_found(s)),
                            _ => {}
                        }
                    }
                    self.collect(v);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| self.collect(v)),
            Value::String(s) => {
                // OpenClaw reads no env var name out of a URL: only `${VAR}` is a reference there.
                for secret in url_secrets(s) {
                    if !is_env_reference(&secret) {
                        self.add(&secret);
                    }
                }
            }
            _ => {}
        }
    }

    /// Collects an auth store (`auth-profiles.json`): every string under `profiles` except the
    /// markers (`type`, `mode`, `provider`, a reference's `source` and `id`), and whatever
    /// [`collect`](Self::collect) finds elsewhere in it.
    pub fn collect_store(&mut self, store: &Value) {
        fn walk(r: &mut Redactor, v: &Value) {
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        if !(v.is_string() && STORE_MARKER_FIELDS.contains(&k.as_str())) {
                            walk(r, v);
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|v| walk(r, v)),
                Value::String(s) => r.add_found(s),
                _ => {}
            }
        }
        if let Some(p) = store.get("profiles") {
            walk(self, p);
        }
        self.collect(store);
    }

    /// Also collects the literal values of `env` in the config (`env.vars` and inline entries),
    /// which hold keys that `${VAR}` references resolve to.
    pub fn collect_env(&mut self, config: &Value) {
        let Some(env) = config.get("env").and_then(Value::as_object) else {
            return;
        };
        for (k, v) in env {
            match v {
                Value::String(s) if k != "shellEnv" && !is_reference_or_marker(s) => self.add(s),
                Value::Object(vars) if k == "vars" => vars
                    .values()
                    .filter_map(Value::as_str)
                    .filter(|s| !is_reference_or_marker(s))
                    .for_each(|s| self.add(s)),
                _ => {}
            }
        }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Masks every occurrence of every secret in `text`, in any encoding it can take there
    /// (see the module doc). Line breaks inside a masked span (a JSON5 line continuation) are
    /// kept, so the text keeps its lines.
    pub fn redact(&self, text: &str) -> String {
        if self.secrets.is_empty() {
            return text.to_string();
        }
        let spans = self.spans(text);
        if spans.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, i) in spans {
            out.push_str(&text[at..start]);
            out.push_str(&mask(&self.secrets[i].0));
            // A key split by a line continuation: keep the continuations, hence the lines.
            let span = &text[start..end];
            let mut k = 0;
            while let Some(p) = span[k..].find('\\') {
                let rest = &span[k + p + 1..];
                let nl = ["\r\n", "\n", "\r", "\u{2028}", "\u{2029}"]
                    .into_iter()
                    .find(|n| rest.starts_with(n));
                match nl {
                    Some(n) => {
                        out.push('\\');
                        out.push_str(n);
                        k += p + 1 + n.len();
                    }
                    None => k += p + 1 + rest.chars().next().map_or(0, char::len_utf8),
                }
            }
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// The spans of `text` to mask: `(start, end, secret index)`, sorted, not overlapping.
    fn spans(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let t = text.as_bytes();
        let mut spans = Vec::new();
        for (i, (_, finder)) in self.secrets.iter().enumerate() {
            spans.extend(
                finder
                    .find_iter(t)
                    .map(|at| (at, at + finder.needle().len(), i)),
            );
        }
        // Encoded forms: a match holds at least one escape, and before the first one only raw
        // bytes, so it starts at most the longest secret's length before an escape.
        let longest = self.secrets.first().map_or(0, |(s, _)| s.len());
        let (space, pointer) = (self.space, self.pointer);
        let mut scanned = 0; // every start below this was tried
        for (e, &b) in t.iter().enumerate() {
            let opens = b == b'\\' || b == b'%' || (space && b == b'+') || (pointer && b == b'~');
            if !opens {
                continue;
            }
            for start in scanned.max(e.saturating_sub(longest))..=e {
                if !text.is_char_boundary(start) {
                    continue;
                }
                for (i, (s, _)) in self.secrets.iter().enumerate() {
                    if let Some(end) = match_encoded(t, start, s.as_bytes(), 0) {
                        spans.push((start, end, i));
                    }
                }
            }
            scanned = e + 1;
        }
        // Earliest first, then longest; drop any span overlapping one kept.
        spans.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
        let mut kept: Vec<(usize, usize, usize)> = Vec::with_capacity(spans.len());
        for sp in spans {
            if kept.last().is_none_or(|&(_, end, _)| sp.0 >= end) {
                kept.push(sp);
            }
        }
        kept
    }

    /// Masks secrets inside a JSON value (for JSON output and saved plans): every string and
    /// every member name.
    pub fn redact_value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(a) => Value::Array(a.iter().map(|v| self.redact_value(v)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (self.redact(k), self.redact_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    pub fn merge(&mut self, other: &Redactor) {
        for (s, _) in &other.secrets {
            self.add(s);
        }
    }
}

/// Where `secret[j..]` ends when it matches `t` from `i` on, each byte either raw or encoded
/// (`\uXXXX` and surrogate pairs, `\u{X}`, `\xHH`, `\n` and the other one-letter escapes, `\c`
/// for any other `c`, a line continuation `\`+newline as nothing, `%HH`, `+` for a space,
/// `~0`/`~1`). A byte that could be raw or open an escape tries both.
fn match_encoded(t: &[u8], mut i: usize, s: &[u8], mut j: usize) -> Option<usize> {
    while j < s.len() {
        let b = *t.get(i)?;
        let opens = matches!(b, b'\\' | b'%' | b'+' | b'~');
        if b == s[j] && !opens {
            i += 1;
            j += 1;
            continue;
        }
        if b == s[j]
            && let Some(end) = match_encoded(t, i + 1, s, j + 1)
        {
            return Some(end);
        }
        let (bytes, next) = decode_unit(t, i)?;
        if !s[j..].starts_with(&bytes) {
            return None;
        }
        if bytes.is_empty() && j == 0 {
            return None; // a match starts with the secret's first byte
        }
        i = next;
        j += bytes.len();
    }
    Some(i)
}

/// One encoded unit at `t[i]`: the text it stands for and where it ends.
fn decode_unit(t: &[u8], i: usize) -> Option<(Vec<u8>, usize)> {
    let ch = |c: char| c.to_string().into_bytes();
    let hex_at = |from: usize, n: usize| -> Option<u32> {
        let h = t.get(from..from + n)?;
        let h = std::str::from_utf8(h).ok()?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(h, 16).ok()
    };
    match t[i] {
        b'%' => {
            let v = hex_at(i + 1, 2)? as u8;
            // One byte of a UTF-8 sequence: matched byte-wise.
            Some((vec![v], i + 3))
        }
        b'+' => Some((vec![b' '], i + 1)),
        b'~' => match t.get(i + 1)? {
            b'0' => Some((vec![b'~'], i + 2)),
            b'1' => Some((vec![b'/'], i + 2)),
            _ => None,
        },
        b'\\' => {
            let c = *t.get(i + 1)?;
            let one = |b: u8| Some((vec![b], i + 2));
            match c {
                b'u' if t.get(i + 2) == Some(&b'{') => {
                    let close = t[i + 3..].iter().position(|&b| b == b'}')?;
                    let v = hex_at(i + 3, close)?;
                    Some((ch(char::from_u32(v)?), i + 4 + close))
                }
                b'u' => {
                    let hi = hex_at(i + 2, 4)?;
                    if (0xD800..0xDC00).contains(&hi) {
                        if t.get(i + 6..i + 8)? != b"\\u" {
                            return None;
                        }
                        let lo = hex_at(i + 8, 4)?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return None;
                        }
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        return Some((ch(char::from_u32(c)?), i + 12));
                    }
                    Some((ch(char::from_u32(hi)?), i + 6))
                }
                b'x' => Some((ch(char::from_u32(hex_at(i + 2, 2)?)?), i + 4)),
                b'n' => one(b'\n'),
                b't' => one(b'\t'),
                b'r' => one(b'\r'),
                b'b' => one(8),
                b'f' => one(12),
                b'v' => one(11),
                b'0' => one(0),
                b'\n' => Some((Vec::new(), i + 2)),
                b'\r' if t.get(i + 2) == Some(&b'\n') => Some((Vec::new(), i + 3)),
                b'\r' => Some((Vec::new(), i + 2)),
                _ => {
                    let rest = std::str::from_utf8(&t[i + 1..(i + 5).min(t.len())])
                        .or_else(|e| std::str::from_utf8(&t[i + 1..i + 1 + e.valid_up_to()]))
                        .ok()?;
                    let c = rest.chars().next()?;
                    let next = i + 1 + c.len_utf8();
                    if matches!(c, '\u{2028}' | '\u{2029}') {
                        return Some((Vec::new(), next));
                    }
                    Some((ch(c), next))
                }
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markers_and_env_refs_are_not_keys() {
        for s in [
            "${MINIMAX_CN_KEY}",
            "MINIMAX_API_KEY",
            "minimax-oauth",
            "secretref-env:X",
            "!pass show x",
            "",
        ] {
            assert!(!is_literal_secret(s), "{s}");
        }
        assert!(is_literal_secret("sk-cp-abc123"));
        assert!(is_literal_secret("Bearer sk-cp-abc123"));
    }

    #[test]
    fn masks_hide_keys_but_tell_them_apart() {
        let (a, b) = (
            mask("sk-cp-1111111111111111"),
            mask("sk-cp-2222222222222222"),
        );
        assert_ne!(a, b);
        assert!(!a.contains("1111111111"));
        let mut r = Redactor::default();
        r.collect(&json!({"headers": {"x-api-key": "Bearer sk-cp-1111111111111111"}}));
        assert_eq!(r.redact("x sk-cp-1111111111111111 y"), format!("x {a} y"));
    }
}

#[cfg(test)]
mod by_value {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const K: &str = "sk-Zq8-4fT2pL9xWv7Rb3Nc";

    fn with(v: Value) -> Redactor {
        let mut r = Redactor::default();
        r.collect(&v);
        r
    }

    /// Every form of `k` that output can carry.
    fn encodings(k: &str) -> Vec<String> {
        let json = serde_json::to_string(k).unwrap();
        let u: String = k.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        let mixed: String = k
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 3 == 1 {
                    format!("\\u{:04X}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect();
        let pct: String = k.bytes().map(|b| format!("%{b:02X}")).collect();
        let half = k.len() / 2;
        vec![
            k.to_string(),
            json[1..json.len() - 1].to_string(),
            u,
            mixed,
            pct,
            format!("Bearer {k}"),
            format!("{}\\\n{}", &k[..half], &k[half..]),
        ]
    }

    #[test]
    fn key_words_are_found_anywhere_in_a_name() {
        for n in [
            "apikey",
            "xsecret",
            "mytokens",
            "authorization",
            "passwd",
            "credentials",
        ] {
            assert!(has_key_word(n), "{n}");
            assert_eq!(
                has_key_word(n),
                KEY_WORDS.iter().any(|w| n.contains(w)),
                "{n}"
            );
        }
        for n in ["models", "baseurl", "", "k", "ke", "sec", "tok", "pass"] {
            assert_eq!(
                has_key_word(n),
                KEY_WORDS.iter().any(|w| n.contains(w)),
                "{n}"
            );
        }
    }

    #[test]
    fn key_like_names() {
        for n in [
            "apiKey",
            "api_key",
            "apiSecret",
            "x-goog-api-key",
            "clientSecret",
            "accessToken",
            "access_token",
            "Authorization",
            "password",
            "botToken",
            "key",
            "access",
            "refresh",
            "GEMINI_API_KEY",
        ] {
            assert!(is_key_like(n), "{n}");
        }
        for n in [
            "mode",
            "type",
            "provider",
            "authMode",
            "tokenUrl",
            "apiKeyEnv",
            "authHeader",
            "keyFile",
            "baseUrl",
            "authProfileOverride",
        ] {
            assert!(!is_key_like(n), "{n}");
        }
    }

    #[test]
    fn keys_under_any_key_like_name_are_masked_in_every_encoding() {
        for name in [
            "api_key",
            "apiSecret",
            "x-goog-api-key",
            "clientSecret",
            "accessToken",
        ] {
            let r = with(json!({"providers": {"p": {"headers": {name: K}}}}));
            for e in encodings(K) {
                let out = r.redact(&format!("  \"{name}\": \"{e}\","));
                assert!(
                    !out.contains(K) && !out.contains(&K[4..12]),
                    "{name} {e}: {out}"
                );
                assert!(out.contains(&mask(K)), "{name} {e}: {out}");
            }
        }
    }

    #[test]
    fn url_query_keys_and_passwords_are_masked() {
        for q in [
            "key",
            "token",
            "secret",
            "access_token",
            "api_key",
            "apikey",
            "sig",
            "signature",
            "X-Amz-Signature",
            "X-Amz-Security-Token",
            "password",
            "pwd",
            "client_secret",
            "jwt",
        ] {
            let url = format!("https://h.example/v1?alt=sse&{q}={K}#x");
            let r = with(json!({"models": {"providers": {"p": {"baseUrl": url}}}}));
            let out = r.redact(&url);
            assert!(!out.contains(K), "{q}: {out}");
            assert!(out.contains("alt=sse"), "{out}");
        }
        let r = with(json!({"u": format!("https://user:{K}@h.example/")}));
        assert!(
            !r.redact(&format!("https://user:{K}@h.example/"))
                .contains(K)
        );
        // Percent-encoded in the URL: masked raw and decoded.
        let enc = "sk%2Fabc%2Bdef123";
        let r = with(json!({"u": format!("https://h/?key={enc}")}));
        assert!(!r.redact(enc).contains(enc));
        assert!(!r.redact("sk/abc+def123").contains("sk/abc+def123"));
    }

    #[test]
    fn every_string_of_an_auth_store_profile_is_a_credential_but_markers_are_not() {
        let mut r = Redactor::default();
        r.collect_store(&json!({"version": 1, "profiles": {"p:default": {
            "type": "api_key", "provider": "openrouter", "mode": "api_key",
            "weird": K, "keyRef": {"source": "env", "provider": "default", "id": "OPENROUTER_KEY"},
        }}}));
        assert!(!r.redact(K).contains(K));
        for kept in [
            "api_key",
            "openrouter",
            "OPENROUTER_KEY",
            "default",
            "p:default",
        ] {
            assert_eq!(r.redact(kept), kept);
        }
    }

    #[test]
    fn markers_refs_and_placeholders_are_not_masked() {
        let r = with(json!({"models": {"providers": {"minimax": {
            "apiKey": "minimax", "auth": "api-key", "authHeader": true,
        }, "x": {"apiKey": "${X_KEY}", "token": "OPENAI_API_KEY", "tokenUrl": "https://auth.example/token"},
           "y": {"baseUrl": "https://h.example/v1?key=${Y_KEY}", "apiKey": "AWS_PROFILE"}}}}));
        assert!(r.is_empty(), "{r:?}");
    }

    /// Issue 16, item 9: an upper-case value is shown only when OpenClaw reads it as an env var
    /// name: one it knows, or one the install declares. In a URL, never.
    #[test]
    fn bare_upper_case_values_are_masked_unless_openclaw_reads_them_as_env_names() {
        let models = json!({"providers": {"a": {"apiKey": "MMXCNKEY7F3A9B2C4D5E6F70"},
            "b": {"apiKey": "MY_PROXY_TOKEN"}, "c": {"apiKey": "MINIMAX_CN_KEY"},
            "d": {"apiKey": "MINIMAX_API_KEY", "baseUrl": "https://h.example/?key=QSECRET999"},
            "e": {"apiKey": "GATEWAY_KEY"}}});
        let config = json!({"env": {"vars": {"GATEWAY_KEY": "sk-gw-0123456789"}},
            "models": {"providers": {"c": {"apiKey": "${MINIMAX_CN_KEY}"}}}});
        let mut r = Redactor::default();
        r.declare(&models);
        r.declare(&config);
        r.collect(&models);
        r.collect(&config);
        for hidden in [
            "MMXCNKEY7F3A9B2C4D5E6F70",
            "QSECRET999",
            "MY_PROXY_TOKEN",
            "sk-gw-0123456789",
        ] {
            assert!(!r.redact(hidden).contains(hidden), "{hidden}");
        }
        for shown in ["MINIMAX_CN_KEY", "MINIMAX_API_KEY", "GATEWAY_KEY"] {
            assert_eq!(r.redact(shown), shown);
        }
    }

    #[test]
    fn what_planning_takes_for_a_key() {
        for key in ["MMXCNKEY7F3A9B2C4D5E6F70", "QSECRET999", "123456", "Ab1x"] {
            assert!(is_literal_secret(key), "{key}");
        }
        for name in [
            "MINIMAX_CN_KEY",
            "MY_PROXY_TOKEN",
            "HF_TOKEN",
            "${QSECRET999}",
        ] {
            assert!(!is_literal_secret(name), "{name}");
        }
        // `${x}` with a name OpenClaw does not substitute stays literal text.
        assert!(is_literal_secret("${lower}-abc123"));
    }

    #[test]
    fn operator_keys_and_bearer_values() {
        let mut r = Redactor::default();
        r.add("Bearer abcdef123456");
        assert!(
            !r.redact("Authorization: Bearer abcdef123456")
                .contains("abcdef123456")
        );
        r.add("basic dXNlcjpwYXNz");
        assert!(!r.redact("dXNlcjpwYXNz").contains("dXNlcjpwYXNz"));
    }

    #[test]
    fn json_values_and_member_names_are_masked() {
        let r = with(json!({"apiKey": K}));
        let v =
            r.redact_value(&json!({"op": "add", "value": {K: [K, {"k": format!("Bearer {K}")}]}}));
        assert!(!v.to_string().contains(K), "{v}");
    }

    #[test]
    fn a_line_continuation_keeps_its_lines() {
        let r = with(json!({"apiKey": K}));
        let text = format!("a: \"{}\\\n{}\",\nb: 1\n", &K[..5], &K[5..]);
        let out = r.redact(&text);
        assert!(!out.contains(&K[5..]), "{out}");
        assert_eq!(out.lines().count(), text.lines().count());
    }

    proptest! {
        /// Any key: mixed, upper-case (`QSECRET999`), digits only (`123456`) or short (`Ab1x`),
        /// in every encoding, in text and in JSON values (patches, saved plans).
        #[test]
        fn any_key_under_any_key_like_name_never_shows(
            key in prop_oneof![
                "[A-Za-z0-9][A-Za-z0-9_./+=:~-]{9,40}",
                "[A-Z][A-Z0-9]{3,30}",
                "[0-9]{4,16}",
                "[A-Za-z0-9]{4,6}",
            ],
            name in prop::sample::select(vec!["apiKey", "api_key", "apiSecret", "x-goog-api-key",
                "clientSecret", "accessToken", "refresh_token", "password", "Authorization"]),
            prefix in "[a-z \":{]{0,8}",
        ) {
            // Only what OpenClaw reads as no key (a known env name, a lowercase placeholder) is
            // left out; an upper-case key is not.
            prop_assume!(is_credential_value(&key, &Default::default()));
            let r = with(json!({"a": [{"b": {name: key.clone()}}]}));
            let shown = json!({name: key.clone()}).to_string();
            for e in encodings(&key).into_iter().chain([shown]) {
                let out = r.redact(&format!("{prefix}{e} tail"));
                prop_assert!(!out.contains(&key), "{} -> {}", e, out);
            }
            let v = r.redact_value(&json!({"value": key.clone(), "u": format!("x?key={key}")}));
            prop_assert!(!v.to_string().contains(&key));
        }

        #[test]
        fn any_key_in_a_credential_query_parameter_never_shows(
            key in prop_oneof![
                "[A-Za-z0-9][A-Za-z0-9._~-]{9,30}",
                "[A-Z][A-Z0-9_]{3,30}",
                "[0-9]{4,16}",
            ],
            q in prop::sample::select(vec!["key", "api_key", "apikey", "token", "access_token",
                "sig", "signature", "secret", "password", "X-Amz-Signature"]),
        ) {
            let url = format!("https://h.example/v1?alt=sse&{q}={key}");
            let r = with(json!({"models": {"providers": {"p": {"baseUrl": url.clone()}}}}));
            let out = r.redact(&format!("baseUrl: \"{url}\""));
            prop_assert!(!out.contains(&format!("={key}")), "{}", out);
            prop_assert!(out.contains("alt=sse"));
        }
    }
}
