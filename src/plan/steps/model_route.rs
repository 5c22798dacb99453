//! A model's route as OpenClaw 2026.9.6 compares it with a catalog row's (`modelTransportRoutesMatch`):
//! the `api` trimmed and lower-cased, the `baseUrl` read as a URL with the trailing slashes of its
//! path dropped, an empty side standing for the catalog's. Base URLs in the plain forms
//! (`http(s)://host[:port]/path`, letters, digits and the path's unreserved marks) are decided here
//! exactly; a form only the full WHATWG URL parser can judge is reported as undecided.
use crate::js;
use serde_json::Value;

/// A base URL as OpenClaw normalises it, or `Undecided` when that takes the full URL parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Url {
    Known(String),
    Undecided,
}

/// `normalizeLowercaseStringOrEmpty`: a string trimmed and lower-cased; anything else is empty.
pub fn api(v: Option<&Value>) -> String {
    v.and_then(Value::as_str)
        .map(|s| js::trim(s).to_lowercase())
        .unwrap_or_default()
}

/// `normalizeBaseUrl`: empty for a non-string or blank value, else the URL with its path's
/// trailing slashes dropped (`/` for none).
pub fn base_url(v: Option<&Value>) -> Url {
    let Some(s) = v.and_then(Value::as_str) else {
        return Url::Known(String::new());
    };
    let t = js::trim(s);
    if t.is_empty() {
        return Url::Known(String::new());
    }
    // The URL parser drops tabs and newlines and reads escapes and non-ASCII: not decided here.
    if !t.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Url::Undecided;
    }
    if !t.to_ascii_lowercase().starts_with("http") {
        // Whether it parses or not, it cannot come out as an http(s) URL: kept as written.
        return Url::Known(t.to_string());
    }
    plain(t).map_or(Url::Undecided, Url::Known)
}

/// The normal form of a plain `http(s)://host[:port][/path]`, or `None` for any other form.
fn plain(t: &str) -> Option<String> {
    const FORBIDDEN: &[u8] = b"\\%@?#[]\"<>^`{}|";
    if t.bytes().any(|b| FORBIDDEN.contains(&b)) {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    let (scheme, default_port) = if lower.starts_with("https://") {
        ("https", 443)
    } else if lower.starts_with("http://") {
        ("http", 80)
    } else {
        return None;
    };
    let rest = &t[scheme.len() + 3..];
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let (host, port) = match authority.split_once(':') {
        None => (authority, None),
        Some((h, p)) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 5 {
                return None;
            }
            let n: u32 = p.parse().ok()?;
            (n <= 65535).then_some(())?;
            (h, (n != default_port).then_some(n))
        }
    };
    let host = host_name(host)?;
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return None;
    }
    let path = match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    let port = port.map(|n| format!(":{n}")).unwrap_or_default();
    Some(format!("{scheme}://{host}{port}{path}"))
}

/// A host of letter-digit-hyphen labels, lower-cased; a dotted-quad IPv4 address as written.
/// Other numeric forms, punycode labels and empty labels need the full parser.
fn host_name(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && !l.starts_with("xn--")
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !labels.iter().all(label_ok) {
        return None;
    }
    let last = labels.last()?;
    let numeric = last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x");
    if numeric {
        let octet = |l: &&str| {
            l.bytes().all(|b| b.is_ascii_digit())
                && (*l == "0" || !l.starts_with('0'))
                && l.parse::<u16>().is_ok_and(|n| n <= 255)
        };
        (labels.len() == 4 && labels.iter().all(octet)).then_some(())?;
    }
    Some(host)
}

/// Whether a configured route (`api`, `baseUrl`, either absent) is the catalog row's route;
/// `None` when the configured base URL is a form this module does not decide.
pub fn matches(
    row_api: Option<&Value>,
    row_base: Option<&Value>,
    api_cfg: Option<&Value>,
    base_cfg: Option<&Value>,
) -> Option<bool> {
    let catalog_api = api(row_api);
    let configured = api(api_cfg);
    let configured = if configured.is_empty() {
        &catalog_api
    } else {
        &configured
    };
    if *configured != catalog_api {
        return Some(false);
    }
    let Url::Known(catalog_base) = base_url(row_base) else {
        return None;
    };
    match base_url(base_cfg) {
        Url::Known(b) if b.is_empty() => Some(true),
        Url::Known(b) => Some(b == catalog_base),
        Url::Undecided => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(s: &str) -> Url {
        base_url(Some(&json!(s)))
    }

    fn known(s: &str) -> Url {
        Url::Known(s.to_string())
    }

    #[test]
    fn plain_urls_normalise_as_the_url_parser_does() {
        assert_eq!(
            url("https://api.openai.com/v1"),
            known("https://api.openai.com/v1")
        );
        assert_eq!(
            url(" HTTPS://API.OpenAI.com/v1// "),
            known("https://api.openai.com/v1")
        );
        assert_eq!(
            url("https://api.anthropic.com"),
            known("https://api.anthropic.com/")
        );
        assert_eq!(
            url("https://api.anthropic.com/"),
            known("https://api.anthropic.com/")
        );
        assert_eq!(url("https://ollama.com:443"), known("https://ollama.com/"));
        assert_eq!(
            url("http://127.0.0.1:11434/"),
            known("http://127.0.0.1:11434/")
        );
        assert_eq!(url("http://host:80/x"), known("http://host/x"));
    }

    #[test]
    fn blank_and_non_strings_are_empty_and_other_schemes_kept() {
        assert_eq!(base_url(None), known(""));
        assert_eq!(base_url(Some(&json!(5))), known(""));
        assert_eq!(url("   "), known(""));
        assert_eq!(url("ws://a/"), known("ws://a/"));
    }

    #[test]
    fn forms_for_the_full_parser_are_undecided() {
        for s in [
            "https://%61pi.openai.com/v1",
            "https://user@api.openai.com/v1",
            "https://api.openai.com/v1?x",
            "https://0x7f.1/v1",
            "https://1.2.3/v1",
            "https://xn--nxasmq6b.com/",
            "https://api.openai.com/v1/../v1",
            "https:api.openai.com",
            "https://api.openai.com:/v1",
            "https://a..b/",
            "https://api.openai.com/\tv1",
        ] {
            assert_eq!(url(s), Url::Undecided, "{s}");
        }
    }

    #[test]
    fn routes_match_with_empty_sides_standing_for_the_catalog() {
        let (a, b) = (
            json!("openai-responses"),
            json!("https://api.openai.com/v1"),
        );
        let m = |api: Option<Value>, base: Option<Value>| {
            matches(Some(&a), Some(&b), api.as_ref(), base.as_ref())
        };
        assert_eq!(m(None, None), Some(true));
        assert_eq!(
            m(
                Some(json!(" OpenAI-Responses ")),
                Some(json!("https://api.openai.com/v1/"))
            ),
            Some(true)
        );
        assert_eq!(m(Some(json!("")), Some(json!(""))), Some(true));
        assert_eq!(m(Some(json!("openai-completions")), None), Some(false));
        assert_eq!(
            m(None, Some(json!("https://proxy.example/v1"))),
            Some(false)
        );
        assert_eq!(
            m(
                Some(json!("openai-completions")),
                Some(json!("https://%61"))
            ),
            Some(false)
        );
        assert_eq!(m(None, Some(json!("https://%61pi.openai.com/v1"))), None);
    }
}
