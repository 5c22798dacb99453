//! Step `drop_unusable_hosts`: drops the items of a host list that OpenClaw cannot use as an
//! exact hostname (a URL, a wildcard, a port, a non-string), and the list when none is left. It
//! judges as OpenClaw does (`net.isIP`, then the WHATWG host parser's `domainToASCII`, then
//! LDH labels); a host only IDNA could judge (non-ASCII, or a punycode `xn--` label) leaves its
//! list as it is, with a conflict, rather than guessing.
use super::path::{Guard, Path, all_hold, lookup};
use crate::document::patch::pointer;
use crate::load::CONFIG;
use crate::plan::workspace::{FindingKind, StepError, Workspace};
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What OpenClaw makes of one list item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Usable,
    Unusable,
    /// Only an IDNA implementation could say.
    Unknown,
}

pub fn run(ws: &mut Workspace, path: &Path, when: &[Guard]) -> Result<(), StepError> {
    for m in path.matches(ws.config()).into_iter().rev() {
        let config = ws.config();
        let Some(Value::Array(items)) = lookup(config, &m.tokens) else {
            continue;
        };
        if !all_hold(when, config, &m.captures) {
            continue;
        }
        let verdicts: Vec<Verdict> = items.iter().map(judge).collect();
        let at = m.tokens.join(".");
        if let Some(i) = verdicts.iter().position(|v| *v == Verdict::Unknown) {
            ws.finding(
                FindingKind::Conflict,
                None,
                format!(
                    "{at}[{i}] is an internationalised hostname: whether OpenClaw can use it \
                     depends on IDNA rules clawmigrate does not implement, so {at} was left as \
                     it is"
                ),
                Some(format!(
                    "write {at}[{i}] in its ASCII (punycode) form, or remove it, then run \
                     migrate again"
                )),
            );
            continue;
        }
        let dropped: Vec<usize> = (0..items.len())
            .filter(|&i| verdicts[i] == Verdict::Unusable)
            .collect();
        if dropped.len() == items.len() {
            ws.remove(CONFIG, pointer(&m.tokens))?;
            continue;
        }
        for &i in dropped.iter().rev() {
            let mut item = m.tokens.clone();
            item.push(i.to_string());
            ws.remove(CONFIG, pointer(&item))?;
        }
    }
    Ok(())
}

fn judge(v: &Value) -> Verdict {
    let Value::String(raw) = v else {
        return Verdict::Unusable;
    };
    if !raw.is_ascii() {
        // A scheme, path, port or wildcard rules it out whatever the IDNA rules say.
        return if raw.contains(['*', ':', '/', '?', '#', '@']) {
            Verdict::Unusable
        } else {
            Verdict::Unknown
        };
    }
    let host = raw.trim().to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    if host.contains('*') {
        return Verdict::Unusable;
    }
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if is_ip(host) {
        return Verdict::Usable;
    }
    if host.is_empty()
        || host.contains([':', '/', '?', '#', '@'])
        || host.contains(|c: char| c.is_ascii_whitespace() || c == '\x0b')
    {
        return Verdict::Unusable;
    }
    match domain_to_ascii(host) {
        Err(verdict) => verdict,
        Ok(ascii) => {
            let ldh = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            };
            if ascii.len() <= 253 && ascii.split('.').all(ldh) {
                Verdict::Usable
            } else {
                Verdict::Unusable
            }
        }
    }
}

/// Node's `net.isIP`: dotted-quad IPv4 without leading zeros, or IPv6 with an optional zone.
fn is_ip(s: &str) -> bool {
    if s.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    let (addr, zone) = match s.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (s, None),
    };
    let zone_ok = zone.is_none_or(|z| {
        !z.is_empty()
            && z.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':'))
    });
    zone_ok && addr.parse::<Ipv6Addr>().is_ok()
}

/// The WHATWG host parser on an ASCII domain: percent-decoded, lowercased, and read as an
/// IPv4 address when its last label is a number. `Err` when it fails (`Unusable`) or when the
/// result needs IDNA (`Unknown`).
fn domain_to_ascii(host: &str) -> Result<String, Verdict> {
    let decoded = percent_decode(host);
    let Ok(decoded) = String::from_utf8(decoded) else {
        return Err(Verdict::Unknown);
    };
    if !decoded.is_ascii() {
        return Err(Verdict::Unknown);
    }
    let domain = decoded.to_ascii_lowercase();
    if domain.split('.').any(|l| l.starts_with("xn--")) {
        return Err(Verdict::Unknown);
    }
    if ends_in_number(&domain) {
        return ipv4(&domain)
            .map(|a| a.to_string())
            .ok_or(Verdict::Unusable);
    }
    Ok(domain)
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(b.len()), 0);
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The host parser's "ends in a number": its last label (a trailing empty one aside) is all
/// digits or a `0x` hex number.
fn ends_in_number(domain: &str) -> bool {
    let mut parts: Vec<&str> = domain.split('.').collect();
    if parts.last() == Some(&"") {
        if parts.len() == 1 {
            return false;
        }
        parts.pop();
    }
    let last = parts.last().copied().unwrap_or("");
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    last.strip_prefix("0x")
        .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The host parser's IPv4 reading (decimal, `0x` hex and leading-`0` octal parts, 1 to 4 of
/// them, the last filling the remaining bytes).
fn ipv4(domain: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = domain.split('.').collect();
    if parts.last() == Some(&"") && parts.len() > 1 {
        parts.pop();
    }
    if parts.len() > 4 {
        return None;
    }
    let numbers: Vec<u64> = parts.iter().map(|p| number(p)).collect::<Option<_>>()?;
    let (last, rest) = numbers.split_last()?;
    if rest.iter().any(|n| *n > 255) || *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let mut v = *last;
    for (i, n) in rest.iter().enumerate() {
        v += n << (8 * (3 - i));
    }
    Some(Ipv4Addr::from(u32::try_from(v).ok()?))
}

fn number(p: &str) -> Option<u64> {
    if p.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x") {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Too large for 64 bits is too large for an address part too.
    Some(u64::from_str_radix(digits, radix).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use super::{Verdict, judge};
    use serde_json::json;

    const STEP: &str =
        r#"{"kind": "drop_unusable_hosts", "path": "secrets.egressProxy.allowedHosts"}"#;

    /// Each checked against Node's `net.isIP` and `url.domainToASCII` as OpenClaw uses them.
    #[test]
    fn judges_ascii_hosts_as_openclaw_does() {
        let usable = [
            "api.openai.com",
            " API.OpenAI.com. ",
            "[::1]",
            "fe80::1%eth0",
            "10.0.0.1",
            "0x7f.1",
            "1.2.3",
            "%61pi.com",
            "ab--c.com",
            "a.0x1g",
            "1e.com",
        ];
        let unusable = [
            "https://api.anthropic.com/",
            "*.example.com",
            "proxy:3128",
            "999.1.1.1",
            "1.2.3.4.5",
            "a.1",
            "a.09",
            "01.2.3.4.5",
            "foo_bar.com",
            "-a.com",
            "a..b",
            "exa mple",
            "a%2e",
            "",
            "bücher.de/x",
        ];
        for h in usable {
            assert_eq!(judge(&json!(h)), Verdict::Usable, "{h}");
        }
        for h in unusable {
            assert_eq!(judge(&json!(h)), Verdict::Unusable, "{h}");
        }
        assert_eq!(judge(&json!(7)), Verdict::Unusable);
        for h in ["bücher.de", "xn--bcher-kva.de", "%C3%BC.de"] {
            assert_eq!(judge(&json!(h)), Verdict::Unknown, "{h}");
        }
    }

    #[test]
    fn drops_unusable_items_and_the_list_when_none_is_left() {
        let out = after(
            "{secrets: {egressProxy: {allowedHosts: ['a.com', '*.b.com', 7, 'C.com']}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"secrets": {"egressProxy": {"allowedHosts": ["a.com", "C.com"]}}})
        );
        plans_nothing(&out, STEP);
        let out = after(
            "{secrets: {egressProxy: {url: 'x', allowedHosts: ['*']}}}",
            STEP,
        );
        assert_eq!(
            value(&out),
            json!({"secrets": {"egressProxy": {"url": "x"}}})
        );
    }

    #[test]
    fn an_internationalised_host_leaves_its_list_alone() {
        plans_nothing(
            "{secrets: {egressProxy: {allowedHosts: ['bücher.de', 'https://x/']}}}",
            STEP,
        );
    }
}
