//! Builds OpenClaw installs from a few choices: hosts, where keys live, agents, formatting.
#![allow(dead_code)]
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Where the China key lives before a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyAt {
    /// apiKey in the cn agent's models.json block.
    CnModelsApiKey,
    /// An x-api-key header in the cn agent's models.json block.
    CnModelsHeader,
    /// Both apiKey and header (same key).
    CnModelsBoth,
    /// Already a minimax-cn:default profile in main's auth-profiles.json only.
    MainProfile,
    /// `${MINIMAX_CN_KEY}` in the config, the key in `env.vars`.
    ConfigEnvRef,
    /// Nowhere.
    Nowhere,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub host: &'static str,
    pub path: &'static str,
    pub key_at: KeyAt,
    /// A third agent on another provider (`writer`, anthropic).
    pub writer: bool,
    /// Indent of the agent JSON files: 2, 4 or 0 (tab).
    pub indent: usize,
    pub crlf: bool,
    pub key: String,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            host: "api.minimax.io",
            path: "/anthropic",
            key_at: KeyAt::CnModelsApiKey,
            writer: false,
            indent: 2,
            crlf: false,
            key: "sk-cp-TESTKEY-a1b2c3d4e5f6a7b8".into(),
        }
    }
}

pub const GLOBAL_KEY: &str = "sk-api-GLOBALKEY-0f1e2d3c4b5a6978";
pub const WRITER_KEY: &str = "sk-ant-WRITERKEY-99887766554433";

fn render(v: &Value, spec: &Spec) -> String {
    let indent = if spec.indent == 0 {
        b"\t".to_vec()
    } else {
        vec![b' '; spec.indent]
    };
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut buf,
        serde_json::ser::PrettyFormatter::with_indent(&indent),
    );
    serde::Serialize::serialize(v, &mut ser).unwrap();
    let mut s = String::from_utf8(buf).unwrap();
    s.push('\n');
    if spec.crlf {
        s.replace('\n', "\r\n")
    } else {
        s
    }
}

fn model_block(spec: &Spec, with_key: bool, header: bool) -> Value {
    let mut b = json!({
        "baseUrl": format!("https://{}{}", spec.host, spec.path),
        "api": "anthropic-messages",
        "models": [{"id": "MiniMax-M2.1", "name": "MiniMax M2.1", "reasoning": false, "input": ["text"], "contextWindow": 200000, "maxTokens": 8192}]
    });
    if with_key {
        b["apiKey"] = json!(spec.key);
    }
    if header {
        b["headers"] = json!({"x-api-key": spec.key});
    }
    b
}

fn write(p: &Path, s: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, s).unwrap();
}

/// Writes the install under `dir` and returns it.
pub fn build(dir: &Path, spec: &Spec) -> PathBuf {
    let env_ref = spec.key_at == KeyAt::ConfigEnvRef;
    let api_key_line = if env_ref {
        "        apiKey: \"${MINIMAX_CN_KEY}\",\n"
    } else {
        ""
    };
    let env_block = if env_ref {
        format!(
            "  env: {{ vars: {{ MINIMAX_CN_KEY: \"{}\" }} }},\n",
            spec.key
        )
    } else {
        String::new()
    };
    let writer_entry = if spec.writer {
        "      { id: \"writer\", model: \"anthropic/claude-sonnet-4-5\" },\n"
    } else {
        ""
    };
    let config = format!(
        r#"// test install: {key_at:?}
{{
  meta: {{ lastTouchedVersion: "2026.2.3" }},
{env_block}  auth: {{
    profiles: {{
      "minimax:default": {{ provider: "minimax", mode: "api_key" }},
    }},
  }},
  models: {{
    mode: "merge",
    providers: {{
      /* the China account */
      "minimax-cn": {{
        baseUrl: "https://{host}{path}",
{api_key_line}        api: "anthropic-messages",
        models: [{{ id: "MiniMax-M2.1", name: "MiniMax M2.1", reasoning: false, input: ["text"], contextWindow: 200000, maxTokens: 8192 }}],
      }},
    }},
  }},
  agents: {{
    defaults: {{
      model: {{ primary: "minimax-cn/MiniMax-M2.1" }},
      models: {{ "minimax-cn/MiniMax-M2.1": {{ alias: "mm-cn" }} }},
    }},
    list: [
      {{ id: "main", default: true }},
      {{ id: "minimax-cn" }},
{writer_entry}    ],
  }},
}}
"#,
        key_at = spec.key_at,
        host = spec.host,
        path = spec.path,
    );
    write(&dir.join("openclaw.json"), &config);
    let mut main_profiles =
        json!({"minimax:default": {"type": "api_key", "provider": "minimax", "key": GLOBAL_KEY}});
    if spec.key_at == KeyAt::MainProfile {
        main_profiles["minimax-cn:default"] =
            json!({"type": "api_key", "provider": "minimax-cn", "key": spec.key});
    }
    let store = |profiles: &Value| json!({"version": 1, "profiles": profiles, "usageStats": {"minimax:default": {"lastUsed": 1770282764120u64, "errorCount": 0}}});
    let agents = dir.join("agents");
    write(
        &agents.join("main/agent/auth-profiles.json"),
        &render(&store(&main_profiles), spec),
    );
    let cn_profiles =
        json!({"minimax:default": {"type": "api_key", "provider": "minimax", "key": GLOBAL_KEY}});
    write(
        &agents.join("minimax-cn/agent/auth-profiles.json"),
        &render(&store(&cn_profiles), spec),
    );
    let (k, h) = match spec.key_at {
        KeyAt::CnModelsApiKey => (true, false),
        KeyAt::CnModelsHeader => (false, true),
        KeyAt::CnModelsBoth => (true, true),
        _ => (false, false),
    };
    let mut cn_block = model_block(spec, k, h);
    if env_ref {
        cn_block["apiKey"] = json!("MINIMAX_CN_KEY");
    }
    write(
        &agents.join("minimax-cn/agent/models.json"),
        &render(&json!({"providers": {"minimax-cn": cn_block}}), spec),
    );
    write(
        &agents.join("main/agent/models.json"),
        &render(
            &json!({"providers": {"minimax-cn": model_block(spec, false, false)}}),
            spec,
        ),
    );
    if spec.writer {
        let p = json!({"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": WRITER_KEY}});
        write(
            &agents.join("writer/agent/auth-profiles.json"),
            &render(&store(&p), spec),
        );
        let hand = json!({"providers": {"my-proxy": {"baseUrl": "http://127.0.0.1:9999/v1", "apiKey": "sk-proxy-HANDADDED-123456", "api": "openai-completions", "models": []}}});
        write(
            &agents.join("writer/agent/models.json"),
            &render(&hand, spec),
        );
    }
    dir.to_path_buf()
}

/// Every literal credential value per agent, across its auth-profiles.json and models.json.
pub fn credentials(
    state: &Path,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(state.join("agents")).unwrap() {
        let e = e.unwrap();
        let id = e.file_name().to_string_lossy().into_owned();
        let mut set = std::collections::BTreeSet::new();
        for f in ["auth-profiles.json", "models.json"] {
            if let Ok(t) = std::fs::read_to_string(e.path().join("agent").join(f)) {
                collect(&serde_json::from_str(&t).unwrap(), &mut set);
            }
        }
        out.insert(id, set);
    }
    out
}

fn collect(v: &Value, set: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::String(s)
                        if ["key", "apiKey", "token", "x-api-key", "Authorization"]
                            .contains(&k.as_str())
                            && s.starts_with("sk-") =>
                    {
                        set.insert(s.clone());
                    }
                    _ => collect(v, set),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect(v, set)),
        _ => {}
    }
}
