//! OpenClaw release versions (`2026.2.3`, `2026.9.6-beta.1`, `2026.1.29-1`), compared numerically.
use std::cmp::Ordering;

/// A release as OpenClaw writes it in `meta.lastTouchedVersion`: dot-separated numbers, then
/// an optional suffix after `-`. A suffix that starts with a letter (`-beta.1`, `-rc.2`) is a
/// prerelease, older than the release itself; a numeric one (`-1`) is a later build of it.
#[derive(Debug, Clone)]
pub struct Release {
    text: String,
    nums: Vec<u64>,
    /// 0 prerelease, 1 the release itself, 2 a later build.
    rank: u8,
    /// The suffix's dot-separated parts (numbers compared as numbers).
    suffix: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Num(u64),
    Word(String),
}

impl Release {
    /// `None` when the text is not a release (OpenClaw writes `YYYY.M.D`, maybe with a suffix).
    pub fn parse(text: &str) -> Option<Release> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let (core, suffix) = match t.split_once('-') {
            Some((c, s)) => (c, Some(s)),
            None => (t, None),
        };
        let nums = core
            .split('.')
            .map(|p| {
                (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| p.parse().ok())
                    .flatten()
            })
            .collect::<Option<Vec<u64>>>()?;
        if nums.len() < 2 {
            return None;
        }
        let parts: Vec<Part> = match suffix {
            None => Vec::new(),
            Some("") => return None,
            Some(s) => s
                .split(['.', '-'])
                .map(|p| match p.parse() {
                    Ok(n) => Part::Num(n),
                    Err(_) => Part::Word(p.to_ascii_lowercase()),
                })
                .collect(),
        };
        let rank = match parts.first() {
            None => 1,
            Some(Part::Num(_)) => 2,
            Some(Part::Word(_)) => 0,
        };
        Some(Release {
            text: t.to_string(),
            nums,
            rank,
            suffix: parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Ord for Release {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.nums.len().max(other.nums.len());
        let num = |r: &Release, i: usize| r.nums.get(i).copied().unwrap_or(0);
        (0..len)
            .map(|i| num(self, i).cmp(&num(other, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then(self.rank.cmp(&other.rank))
            .then_with(|| self.suffix.cmp(&other.suffix))
    }
}

impl PartialEq for Release {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Release {}

impl PartialOrd for Release {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::Release;

    fn r(s: &str) -> Release {
        Release::parse(s).unwrap()
    }

    #[test]
    fn compares_numerically_with_prereleases_before_and_builds_after() {
        assert!(r("2026.2.3") < r("2026.9.6"));
        assert!(r("2026.9.6") < r("2026.10.1"), "numbers, not text");
        assert!(r("2026.9.6-beta.1") < r("2026.9.6"));
        assert!(r("2026.9.6-beta.2") < r("2026.9.6-beta.10"));
        assert!(r("2026.9.6") < r("2026.9.6-1"));
        assert!(r("2026.9.5-3") < r("2026.9.6-beta.1"));
        assert_eq!(r("2026.9.6"), r(" 2026.9.6 "));
        assert_eq!(r("2026.9").cmp(&r("2026.9.0")), std::cmp::Ordering::Equal);
        assert_eq!(r("v2026.1.5").as_str(), "2026.1.5");
    }

    #[test]
    fn refuses_what_is_no_release() {
        for s in ["", "2026", "latest", "2026.x.1", "2026.1.2-", "2026..1"] {
            assert!(Release::parse(s).is_none(), "{s:?}");
        }
    }
}
