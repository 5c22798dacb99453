//! The model-ref normalizer of OpenClaw 2026.9.6's doctor (`models.canonical-model-refs`): what a
//! configured ref (`provider/model@profile`) or a provider catalog row's model id becomes. The
//! release's table of retired models per provider comes from the migration file; the rest is the
//! release's code: an auth-profile suffix split off (not a date or a quantization tag), Google and
//! Together ids renamed (a `google/` prefix anywhere, the provider lower-cased), and retired Claude
//! snapshots upgraded to the family's current model (opus 4.7, sonnet 4.6; 4.6 for opus on Venice
//! and Vercel's gateway; dotted versions on Copilot) for Anthropic-served providers or bare ids.
use crate::js;
use std::collections::BTreeMap;

/// Retired model ids per provider (both lower-case): `{"xai": {"grok-4-0709": "grok-4.3"}}`.
pub type Renames = BTreeMap<String, BTreeMap<String, String>>;

/// JavaScript's `value.trim().toLowerCase()`.
fn lower(s: &str) -> String {
    js::trim(s).to_lowercase()
}

const GOOGLE: [&str; 3] = ["google", "google-gemini-cli", "google-vertex"];

/// A ref split into the model part and a trailing `@profile` (a date `@20250101` or a
/// quantization tag `@q4_k_m`/`@8bit` after the last `/` belongs to the model).
pub fn split_profile(raw: &str) -> (String, Option<String>) {
    let trimmed = js::trim(raw);
    let whole = || (trimmed.to_string(), None);
    if trimmed.is_empty() {
        return whole();
    }
    let after_slash = trimmed.rfind('/').map_or(0, |i| i + 1);
    let Some(mut at) = trimmed[after_slash..].find('@').map(|i| i + after_slash) else {
        return whole();
    };
    if at == 0 {
        return whole();
    }
    if is_date(&trimmed[at + 1..]) {
        match trimmed.get(at + 9..).and_then(|s| s.find('@')) {
            Some(i) => at = at + 9 + i,
            None => return whole(),
        }
    }
    if is_quantization(&trimmed[at + 1..]) {
        match trimmed[at + 1..].find('@') {
            Some(i) => at = at + 1 + i,
            None => return whole(),
        }
    }
    let model = js::trim(&trimmed[..at]);
    let profile = js::trim(&trimmed[at + 1..]);
    if model.is_empty() || profile.is_empty() {
        return whole();
    }
    (model.to_string(), Some(profile.to_string()))
}

/// The text up to the next `@` (or the end).
fn segment(s: &str) -> &str {
    s.split('@').next().unwrap_or_default()
}

/// `^\d{8}(?:@|$)`.
fn is_date(s: &str) -> bool {
    let seg = segment(s);
    seg.len() == 8 && seg.bytes().all(|b| b.is_ascii_digit())
}

/// `^(?:i?q\d+(?:_[a-z0-9]+)*|\d+bit)(?:@|$)`, any case.
fn is_quantization(s: &str) -> bool {
    let seg = segment(s).to_ascii_lowercase();
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if let Some(n) = seg.strip_suffix("bit")
        && digits(n)
    {
        return true;
    }
    let q = seg.strip_prefix('i').unwrap_or(&seg);
    let Some(rest) = q.strip_prefix('q') else {
        return false;
    };
    let mut parts = rest.split('_');
    digits(parts.next().unwrap_or_default())
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// JavaScript's `s.indexOf("/") > 0`: the provider and model around the first slash.
fn provider_split(s: &str) -> Option<(&str, &str)> {
    s.find('/')
        .filter(|i| *i > 0)
        .map(|i| (&s[..i], &s[i + 1..]))
}

fn google_preview(id: &str) -> String {
    if let Some(rest) = id.strip_prefix("google/") {
        let n = google_preview(rest);
        return if n == rest {
            id.to_string()
        } else {
            format!("google/{n}")
        };
    }
    match id {
        "gemini-3-pro" | "gemini-3-pro-preview" | "gemini-3.1-pro" => "gemini-3.1-pro-preview",
        "gemini-3-flash" | "gemini-3.1-flash" | "gemini-3.1-flash-preview" => {
            "gemini-3-flash-preview"
        }
        "gemini-3.1-flash-lite-preview" => "gemini-3.1-flash-lite",
        "gemma-4-26b" => "gemma-4-26b-a4b-it",
        other => other,
    }
    .to_string()
}

fn together(id: &str) -> String {
    match id {
        "moonshotai/Kimi-K2.5" => "moonshotai/Kimi-K2.6",
        other => other,
    }
    .to_string()
}

/// A strict `provider/model` ref: both parts non-blank (trimmed), the provider lower-cased.
fn parse_catalog_ref(value: &str) -> Option<(String, String)> {
    let (p, m) = provider_split(js::trim(value))?;
    let (p, m) = (js::trim(p), js::trim(m));
    (!p.is_empty() && !m.is_empty()).then(|| (p.to_lowercase(), m.to_string()))
}

/// OpenClaw's `normalizeAgentModelRefForConfig`: Google and Together ids renamed.
fn agent_ref_for_config(model: &str) -> String {
    let trimmed = js::trim(model);
    let Some((provider, id)) = parse_catalog_ref(trimmed) else {
        return trimmed.to_string();
    };
    let id = if GOOGLE.contains(&provider.as_str()) || id.starts_with("google/") {
        google_preview(&id)
    } else if provider == "together" {
        together(&id)
    } else {
        id
    };
    format!("{provider}/{id}")
}

/// OpenClaw's `normalizeConfiguredProviderCatalogModelRef`: a `google/` model id renamed.
fn configured_catalog_ref(pm: &str) -> String {
    if let Some(id) = pm.strip_prefix("google/") {
        let n = google_preview(id);
        return if n == id {
            pm.to_string()
        } else {
            format!("google/{n}")
        };
    }
    match parse_catalog_ref(pm) {
        Some((p, id)) if id.starts_with("google/") => {
            let n = google_preview(&id);
            if n == id {
                pm.to_string()
            } else {
                format!("{p}/{n}")
            }
        }
        _ => pm.to_string(),
    }
}

fn claude_separator(provider: &str) -> char {
    if matches!(provider, "github-copilot" | "copilot-proxy") {
        '.'
    } else {
        '-'
    }
}

fn claude_target(family: &str, sep: char, provider: &str) -> String {
    let opus_current = family == "opus" && !matches!(provider, "venice" | "vercel-ai-gateway");
    let version = if opus_current { "4.7" } else { "4.6" };
    let version = if sep == '.' {
        version.to_string()
    } else {
        version.replace('.', "-")
    };
    format!("claude-{family}-{version}")
}

fn retired_version(n: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        n == *p
            || n.strip_prefix(p)
                .is_some_and(|rest| rest.starts_with(['-', '.', ':', '@']))
    })
}

/// `^claude-<family>-4-20\d{6}`: a dated Claude 4.0 snapshot.
fn dated_4_0(n: &str, family: &str) -> bool {
    n.strip_prefix(&format!("claude-{family}-4-20"))
        .is_some_and(|rest| rest.len() >= 6 && rest.as_bytes()[..6].iter().all(u8::is_ascii_digit))
}

/// The current model a retired Claude id (one token) upgrades to, if it is one.
fn claude_token(token: &str, sep: char, provider: &str) -> Option<String> {
    let n = lower(token);
    if n.is_empty() {
        return None;
    }
    let opus = claude_target("opus", sep, provider);
    let sonnet = claude_target("sonnet", sep, provider);
    let current = [
        "claude-opus-4-7",
        "claude-opus-4.7",
        "claude-opus-4-6",
        "claude-opus-4.6",
        "claude-sonnet-4-6",
        "claude-sonnet-4.6",
        "claude-haiku-4-5",
        "claude-haiku-4.5",
    ];
    if current.iter().any(|c| n.starts_with(c)) {
        return None;
    }
    let old = |family: &str| {
        let v = ["4-5", "4.5", "4-1", "4.1", "4-0", "4.0"].map(|v| format!("claude-{family}-{v}"));
        n == format!("claude-{family}-4")
            || retired_version(&n, &v.each_ref().map(String::as_str))
            || dated_4_0(&n, family)
    };
    if old("opus") {
        return Some(opus);
    }
    if old("sonnet") {
        return Some(sonnet);
    }
    if n.starts_with("claude-3") && n.contains("opus") {
        return Some(opus);
    }
    if n.starts_with("claude-3") && (n.contains("sonnet") || n.contains("haiku")) {
        return Some(sonnet);
    }
    let bedrock = matches!(provider, "amazon-bedrock" | "amazon-bedrock-mantle");
    if n.starts_with("anthropic.claude-opus-") {
        if bedrock
            || n.starts_with("anthropic.claude-opus-4-7")
            || n.starts_with("anthropic.claude-opus-4-6")
        {
            return None;
        }
        return Some(format!(
            "anthropic.{}",
            claude_target("opus", '-', provider)
        ));
    }
    if n.starts_with("anthropic.claude-sonnet-") || n.starts_with("anthropic.claude-haiku-") {
        if bedrock || n.starts_with("anthropic.claude-sonnet-4-6") {
            return None;
        }
        return Some(format!(
            "anthropic.{}",
            claude_target("sonnet", '-', provider)
        ));
    }
    if ["opus-4.5", "opus-4.1", "opus-4", "opus-3"].contains(&n.as_str()) {
        return Some(opus);
    }
    let sonnets = [
        "sonnet-4.5",
        "sonnet-4.1",
        "sonnet-4.0",
        "sonnet-4",
        "sonnet-3.7",
        "sonnet-3.5",
        "sonnet-3",
        "haiku-3.5",
        "haiku-3",
    ];
    sonnets.contains(&n.as_str()).then_some(sonnet)
}

/// The model part with its last `/` segment (else the whole) upgraded, if it is a retired Claude.
fn claude_model(model: &str, provider: &str) -> Option<String> {
    let sep = claude_separator(provider);
    let parts: Vec<&str> = model.split('/').collect();
    if let Some(last) = parts.last().filter(|l| !l.is_empty())
        && let Some(up) = claude_token(last, sep, provider)
    {
        let mut out: Vec<&str> = parts[..parts.len() - 1].to_vec();
        out.push(&up);
        return Some(out.join("/"));
    }
    claude_token(model, sep, provider)
}

/// The release's retired and noncanonical model rules, with its table of retired models.
pub struct Normalizer<'a> {
    pub renames: &'a Renames,
}

impl Normalizer<'_> {
    /// OpenClaw's `canonicalizeKnownModelRef`: the ref a retired one upgrades to.
    fn canonical(&self, value: &str) -> Option<String> {
        let trimmed = js::trim(value);
        if trimmed.is_empty() {
            return None;
        }
        let (model_ref, profile) = split_profile(trimmed);
        let (provider, model) = match provider_split(&model_ref) {
            Some((p, m)) => (Some(js::trim(p)), js::trim(m)),
            None => (None, model_ref.as_str()),
        };
        let np = lower(provider.unwrap_or_default());
        let nm = lower(model);
        let suffix = profile.map(|p| format!("@{p}")).unwrap_or_default();
        if let Some(to) = self.renames.get(&np).and_then(|t| t.get(&nm)) {
            return Some(format!("{}/{to}{suffix}", provider.unwrap_or_default()));
        }
        let anthropic_served = matches!(
            np.as_str(),
            "" | "anthropic" | "github-copilot" | "copilot-proxy" | "venice" | "vercel-ai-gateway"
        );
        if !anthropic_served {
            return None;
        }
        let up = claude_model(model, &np).filter(|u| u != model)?;
        Some(match provider.filter(|p| !p.is_empty()) {
            Some(p) => format!("{p}/{up}{suffix}"),
            None => format!("{up}{suffix}"),
        })
    }

    /// OpenClaw's `normalizeKnownModelRef`: what a configured ref becomes (`None`: it stays).
    /// Whitespace around it goes, so a blank ref becomes `""`.
    pub fn model_ref(&self, value: &str) -> Option<String> {
        let trimmed = js::trim(value);
        if trimmed.is_empty() {
            return (value != trimmed).then(String::new);
        }
        let (model, profile) = split_profile(trimmed);
        let (provider, id) = match provider_split(&model) {
            Some((p, m)) => (lower(p), m),
            None => (String::new(), model.as_str()),
        };
        let renamed_ids = GOOGLE.contains(&provider.as_str())
            || provider == "together"
            || lower(id).starts_with("google/");
        let base = if renamed_ids {
            agent_ref_for_config(&model)
        } else {
            model.clone()
        };
        let normalized = match profile {
            Some(p) => format!("{base}@{p}"),
            None => base,
        };
        self.canonical(&normalized)
            .or_else(|| (normalized != value).then_some(normalized))
    }

    /// OpenClaw's `normalizeProviderCatalogModelId`: the id a catalog row of `provider` gets.
    pub fn catalog_id(&self, provider: &str, id: &str) -> String {
        let trimmed = js::trim(id);
        let np = lower(provider);
        let normalized = if GOOGLE.contains(&np.as_str())
            || np == "together"
            || lower(trimmed).starts_with("google/")
        {
            let id = if GOOGLE.contains(&np.as_str()) {
                google_preview(trimmed)
            } else if np == "together" {
                together(trimmed)
            } else {
                trimmed.to_string()
            };
            configured_catalog_ref(&id)
        } else {
            trimmed.to_string()
        };
        match self.canonical(&format!("{provider}/{normalized}")) {
            Some(up) => match provider_split(&up) {
                Some((p, m)) if lower(p) == np => m.to_string(),
                _ => normalized,
            },
            None => normalized,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Renames {
        let mut t = Renames::new();
        t.entry("openai".into())
            .or_default()
            .insert("gpt-4o".into(), "gpt-5.5".into());
        t
    }

    #[test]
    fn profiles_split_off_but_not_dates_or_quantizations() {
        assert_eq!(
            split_profile(" a/b @ work "),
            ("a/b".into(), Some("work".into()))
        );
        assert_eq!(split_profile("a/b@20250101"), ("a/b@20250101".into(), None));
        assert_eq!(
            split_profile("a/b@20250101@work"),
            ("a/b@20250101".into(), Some("work".into()))
        );
        assert_eq!(
            split_profile("ollama/qwen@Q4_K_M"),
            ("ollama/qwen@Q4_K_M".into(), None)
        );
        assert_eq!(
            split_profile("mlx/m@8bit@me"),
            ("mlx/m@8bit".into(), Some("me".into()))
        );
        assert_eq!(split_profile("@x"), ("@x".into(), None));
        assert_eq!(split_profile("a@b/c"), ("a@b/c".into(), None));
    }

    #[test]
    fn refs_upgrade_as_the_release_says() {
        let t = table();
        let n = Normalizer { renames: &t };
        let r = |s: &str| n.model_ref(s);
        assert_eq!(
            r("anthropic/claude-opus-4-5"),
            Some("anthropic/claude-opus-4-7".into())
        );
        assert_eq!(
            r("Anthropic/Claude-Sonnet-4-5@work"),
            Some("Anthropic/claude-sonnet-4-6@work".into())
        );
        assert_eq!(
            r("github-copilot/claude-3.5-sonnet"),
            Some("github-copilot/claude-sonnet-4.6".into())
        );
        assert_eq!(
            r("venice/claude-opus-4-1"),
            Some("venice/claude-opus-4-6".into())
        );
        assert_eq!(r("openrouter/anthropic/claude-3-opus"), None);
        assert_eq!(r("opus-4"), Some("claude-opus-4-7".into()));
        assert_eq!(r("claude-opus-4-20250514"), Some("claude-opus-4-7".into()));
        assert_eq!(r("anthropic/claude-opus-4-6"), None);
        assert_eq!(r("OpenAI/GPT-4o@me"), Some("OpenAI/gpt-5.5@me".into()));
        assert_eq!(r(" openai/gpt-5.5 "), Some("openai/gpt-5.5".into()));
        assert_eq!(r("  "), Some(String::new()));
        assert_eq!(r(""), None);
        assert_eq!(
            r("Google/gemini-3-pro"),
            Some("google/gemini-3.1-pro-preview".into())
        );
        assert_eq!(
            r("openrouter/google/gemini-3-flash"),
            Some("openrouter/google/gemini-3-flash-preview".into())
        );
        assert_eq!(r("bedrock/anthropic.claude-3-opus"), None);
        assert_eq!(
            r("anthropic/anthropic.claude-haiku-3"),
            Some("anthropic/anthropic.claude-sonnet-4-6".into())
        );
    }

    #[test]
    fn catalog_ids_keep_their_provider() {
        let t = table();
        let n = Normalizer { renames: &t };
        assert_eq!(n.catalog_id("openai", " gpt-4o "), "gpt-5.5");
        assert_eq!(
            n.catalog_id("google", "gemini-3-pro"),
            "gemini-3.1-pro-preview"
        );
        assert_eq!(
            n.catalog_id("anthropic", "claude-3-5-sonnet"),
            "claude-sonnet-4-6"
        );
        assert_eq!(
            n.catalog_id("together", "moonshotai/Kimi-K2.5"),
            "moonshotai/Kimi-K2.6"
        );
        assert_eq!(n.catalog_id("mistral", "x"), "x");
    }
}
