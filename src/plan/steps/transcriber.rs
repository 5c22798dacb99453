//! Step `audio_transcriber_to_media_model`: turns a legacy audio transcriber (`{command: [exe,
//! ...args], timeoutSeconds}`) into a CLI media model entry, as doctor does, and removes it. Data
//! cannot say it: the entry is built from the parts of the command array, and whether it is
//! accepted depends on the executable's name.
use super::move_key::prune_empty;
use super::path::{Path, lookup};
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::plan::workspace::{StepError, Workspace};
use serde_json::{Map, Value, json};

pub use crate::migration::{TranscriberAccept as Accept, TranscriberInto as Into};

pub fn run(
    ws: &mut Workspace,
    from: &Path,
    accept: Accept,
    into: Into,
    prune: u8,
) -> Result<(), StepError> {
    for m in from.matches(ws.config()) {
        let Some(source) = lookup(ws.config(), &m.tokens) else {
            continue;
        };
        if let Some(entry) = entry(source, accept) {
            match into {
                Into::AudioModels => to_audio_models(ws, entry)?,
                Into::MediaModels => to_media_models(ws, entry)?,
            }
        }
        ws.remove(CONFIG, pointer(&m.tokens))?;
        prune_empty(ws, &m.tokens, prune)?;
    }
    Ok(())
}

/// The CLI model entry doctor makes of a transcriber, or `None` when it refuses the command.
fn entry(source: &Value, accept: Accept) -> Option<Map<String, Value>> {
    let t = source.as_object()?;
    let command = t.get("command")?.as_array().filter(|c| !c.is_empty())?;
    let (exe, args): (String, Vec<String>) = match accept {
        Accept::Whisper => {
            let exe = js::trim(&js::string(&command[0])).to_string();
            let name = exe.rsplit(['/', '\\']).next().unwrap_or(&exe);
            if exe.is_empty() || name != "whisper" {
                return None;
            }
            (exe, command[1..].iter().map(js::string).collect())
        }
        Accept::SafeExecutable => {
            let parts: Vec<&str> = command.iter().map(Value::as_str).collect::<Option<_>>()?;
            let exe = js::trim(parts[0]).to_string();
            if !safe_executable(&exe) {
                return None;
            }
            let args = parts[1..]
                .iter()
                .map(|a| a.replace("{input}", "{{AttachmentPath}}"))
                .collect();
            (exe, args)
        }
    };
    let mut out = Map::new();
    out.insert("command".into(), Value::String(exe));
    out.insert("type".into(), json!("cli"));
    if !args.is_empty() {
        out.insert("args".into(), json!(args));
    }
    if let Some(n) = t.get("timeoutSeconds").filter(|v| v.is_number()) {
        out.insert("timeoutSeconds".into(), n.clone());
    }
    Some(out)
}

/// OpenClaw's check that an executable cannot smuggle shell syntax (`isSafeExecutableValue`).
fn safe_executable(v: &str) -> bool {
    if v.is_empty()
        || v.contains([
            '\0', '\r', '\n', ';', '&', '|', '`', '$', '<', '>', '"', '\'',
        ])
    {
        return false;
    }
    let b = v.as_bytes();
    let drive =
        b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    if v.starts_with(['.', '~']) || v.contains(['/', '\\']) || drive {
        return true;
    }
    !v.starts_with('-')
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
}

fn toks(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

/// Makes `path` an object as doctor's `ensureRecord` does: created when absent, replaced when
/// it holds something else.
fn ensure_record(ws: &mut Workspace, path: &[&str]) -> Result<(), StepError> {
    for i in 1..=path.len() {
        let at = toks(&path[..i]);
        match lookup(ws.config(), &at) {
            Some(Value::Object(_)) => {}
            Some(_) => ws.replace(CONFIG, pointer(&at), json!({}))?,
            None => ws.add(CONFIG, pointer(&at), json!({}))?,
        }
    }
    Ok(())
}

/// Sets `path` to `value` unless it already holds it.
fn set(ws: &mut Workspace, path: &[&str], value: Value) -> Result<(), StepError> {
    let at = toks(path);
    match lookup(ws.config(), &at) {
        Some(v) if *v == value => Ok(()),
        Some(_) => ws.replace(CONFIG, pointer(&at), value),
        None => ws.add(CONFIG, pointer(&at), value),
    }
}

fn to_audio_models(ws: &mut Workspace, entry: Map<String, Value>) -> Result<(), StepError> {
    ensure_record(ws, &["tools", "media", "audio"])?;
    let taken = lookup(ws.config(), &toks(&["tools", "media", "audio", "models"]))
        .and_then(Value::as_array)
        .is_some_and(|m| !m.is_empty());
    if !taken {
        set(ws, &["tools", "media", "audio", "enabled"], json!(true))?;
        set(ws, &["tools", "media", "audio", "models"], json!([entry]))?;
    }
    Ok(())
}

fn to_media_models(ws: &mut Workspace, mut entry: Map<String, Value>) -> Result<(), StepError> {
    ensure_record(ws, &["tools", "media", "audio"])?;
    let audio_capable = |v: &Value| {
        v.as_object().is_some_and(|m| match m.get("capabilities") {
            Some(Value::Array(c)) => c.contains(&json!("audio")),
            _ => true,
        })
    };
    let list = |ws: &Workspace, path: &[&str]| -> Option<Vec<Value>> {
        lookup(ws.config(), &toks(path))
            .and_then(Value::as_array)
            .cloned()
    };
    let audio_models = list(ws, &["tools", "media", "audio", "models"]).unwrap_or_default();
    let models = list(ws, &["tools", "media", "models"]);
    if audio_models.iter().any(audio_capable) || models.iter().flatten().any(audio_capable) {
        return Ok(());
    }
    let preferred = format!("cli:{}", entry["command"].as_str().unwrap_or_default());
    set(ws, &["tools", "media", "audio", "enabled"], json!(true))?;
    set(
        ws,
        &["tools", "media", "audio", "preferredModel"],
        json!(preferred),
    )?;
    entry.insert("capabilities".into(), json!(["audio"]));
    match models {
        Some(m) => {
            let at = toks(&["tools", "media", "models"]);
            ws.add(
                CONFIG,
                format!("{}/{}", pointer(&at), m.len()),
                Value::Object(entry),
            )
        }
        None => set(ws, &["tools", "media", "models"], json!([entry])),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, plans_nothing, value};
    use super::*;
    use serde_json::json;

    const V2: &str = r#"{"kind": "audio_transcriber_to_media_model", "from": "routing.transcribeAudio", "accept": "whisper", "into": "audio_models"}"#;
    const V9: &str = r#"{"kind": "audio_transcriber_to_media_model", "from": "audio.transcription", "accept": "safe_executable", "into": "media_models", "prune_empty_parents": 1}"#;

    #[test]
    fn a_whisper_command_becomes_the_audio_model_list() {
        let out = after(
            "{routing: {transcribeAudio: {command: ['/usr/bin/whisper', '--model', 2], timeoutSeconds: 45}}}",
            V2,
        );
        assert_eq!(
            value(&out),
            json!({"routing": {}, "tools": {"media": {"audio": {"enabled": true, "models": [
                {"command": "/usr/bin/whisper", "type": "cli", "args": ["--model", "2"], "timeoutSeconds": 45}]}}}})
        );
        plans_nothing(&out, V2);
        // another CLI is dropped; a set list wins
        assert_eq!(
            value(&after(
                "{routing: {transcribeAudio: {command: ['vosk']}, x: 1}}",
                V2
            )),
            json!({"routing": {"x": 1}})
        );
        assert_eq!(
            value(&after(
                "{routing: {transcribeAudio: {command: ['whisper']}}, tools: {media: {audio: {models: [{}]}}}}",
                V2
            )),
            json!({"routing": {}, "tools": {"media": {"audio": {"models": [{}]}}}})
        );
    }

    #[test]
    fn a_safe_command_is_appended_to_the_media_models_once() {
        let out = after(
            "{audio: {transcription: {command: ['whisper', '{input}']}}, tools: {media: {models: [{type: 'cli', command: 'x', capabilities: ['image']}]}}}",
            V9,
        );
        assert_eq!(
            value(&out),
            json!({"tools": {"media": {"models": [
                {"type": "cli", "command": "x", "capabilities": ["image"]},
                {"command": "whisper", "type": "cli", "args": ["{{AttachmentPath}}"], "capabilities": ["audio"]}],
                "audio": {"enabled": true, "preferredModel": "cli:whisper"}}}})
        );
        plans_nothing(&out, V9);
        assert_eq!(
            value(&after(
                "{audio: {transcription: {command: ['rm -rf /; x']}}}",
                V9
            )),
            json!({})
        );
        assert_eq!(
            value(&after(
                "{audio: {transcription: {command: ['whisper']}, keep: 1}, tools: {media: {models: [{command: 'y'}]}}}",
                V9
            )),
            json!({"audio": {"keep": 1}, "tools": {"media": {"audio": {}, "models": [{"command": "y"}]}}})
        );
    }

    #[test]
    fn executables_are_judged_as_openclaw_does() {
        for ok in ["whisper", "./bin/w", "~/w", "C:\\w.exe", "whisper-cpp.v2+x"] {
            assert!(safe_executable(ok), "{ok}");
        }
        for bad in ["", "-w", "w x", "w;x", "w$x", "'w'", "w\nx"] {
            assert!(!safe_executable(bad), "{bad}");
        }
        assert_eq!(js::string(&json!([1, null, "a"])), "1,,a");
        assert_eq!(js::string(&json!(2.5)), "2.5");
    }
}
