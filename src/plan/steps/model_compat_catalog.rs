//! Step `model_compat_catalog`: OpenClaw 2026.9.6's doctor removes, from the `compat` of each
//! model row under `models.providers`, the retired `dead_keys` and every capability equal to the
//! one the release's bundled provider catalog gives that model on the same route (`api` and
//! `baseUrl`, the model's own or else its provider's); a `compat` left empty goes. The catalog row
//! is the model's (provider key and id compared trimmed and lower-cased, a `provider/` prefix of
//! the id dropped), and only when exactly one row serves that route: two provider keys naming the
//! same provider make every row of it ambiguous, as they do for doctor.
use super::model_route::matches;
use crate::document::patch::pointer;
use crate::js;
use crate::load::CONFIG;
use crate::migration::provider_catalog::{CatalogRow, ProviderCatalog};
use crate::plan::workspace::{FindingKind, StepError, Workspace};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A model row's `compat` and what goes of it.
struct Removal {
    at: Vec<String>,
    whole: bool,
    keys: Vec<String>,
}

pub fn run(
    ws: &mut Workspace,
    dead_keys: &[String],
    catalog: &ProviderCatalog,
) -> Result<(), StepError> {
    let Some(providers) = ws
        .config()
        .get("models")
        .and_then(|m| m.get("providers"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    if !providers.values().any(has_compat) {
        return Ok(());
    }
    let mut copies: HashMap<String, usize> = HashMap::new();
    for key in providers.keys() {
        *copies.entry(provider_id(key)).or_default() += 1;
    }
    let blank_key = copies.contains_key("");
    let mut removals = Vec::new();
    let mut undecided = Vec::new();
    for (pid, pv) in providers {
        let Some(provider) = pv.as_object() else {
            continue;
        };
        let Some(models) = provider.get("models").and_then(Value::as_array) else {
            continue;
        };
        let norm = provider_id(pid);
        // A blank provider key reads the catalog unfiltered, which lists each provider's rows
        // once more (an alias provider's aside).
        let extra = usize::from(blank_key && !catalog.alias_providers.contains(&norm));
        let repeat = copies[&norm] + extra;
        for (i, mv) in models.iter().enumerate() {
            let Some(model) = mv.as_object() else {
                continue;
            };
            let (Some(compat), Some(id)) = (
                model.get("compat").and_then(Value::as_object),
                model
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty()),
            ) else {
                continue;
            };
            let mut keys: Vec<String> = dead_keys
                .iter()
                .filter(|k| compat.contains_key(*k))
                .cloned()
                .collect();
            let rows = catalog
                .providers
                .get(&norm)
                .and_then(|p| p.get(&model_key(&norm, id)));
            let at = vec![
                "models".to_string(),
                "providers".to_string(),
                pid.clone(),
                "models".to_string(),
                i.to_string(),
                "compat".to_string(),
            ];
            match unique_row(rows, provider, model, repeat) {
                Some(Some(row)) => keys.extend(
                    compat
                        .iter()
                        .filter(|(k, v)| {
                            !dead_keys.contains(k)
                                && row.compat.get(*k).is_some_and(|c| js::deep_equal(v, c))
                        })
                        .map(|(k, _)| k.clone()),
                ),
                Some(None) => {}
                None => undecided.push(at[..5].join(".")),
            }
            if !keys.is_empty() {
                removals.push(Removal {
                    whole: keys.len() == compat.len(),
                    at,
                    keys,
                });
            }
        }
    }
    for at in undecided {
        ws.finding(
            FindingKind::Note,
            None,
            format!(
                "{at}.compat is kept as it is: its baseUrl is in a form whose comparison with the \
                 provider catalog's route is not decided here"
            ),
            Some(format!(
                "write {at}'s baseUrl (or its provider's) as a plain http(s)://host/path URL, \
                 or remove the compat values the provider catalog already gives it"
            )),
        );
    }
    for r in removals {
        if r.whole {
            ws.remove(CONFIG, pointer(&r.at))?;
        } else {
            for k in &r.keys {
                ws.remove(
                    CONFIG,
                    pointer(&[r.at.as_slice(), std::slice::from_ref(k)].concat()),
                )?;
            }
        }
    }
    Ok(())
}

/// Whether some model row of a provider holds a `compat` object.
fn has_compat(provider: &Value) -> bool {
    provider
        .get("models")
        .and_then(Value::as_array)
        .is_some_and(|ms| {
            ms.iter()
                .any(|m| m.get("compat").is_some_and(Value::is_object))
        })
}

/// `normalizeProviderId`: trimmed and lower-cased.
fn provider_id(key: &str) -> String {
    js::trim(key).to_lowercase()
}

/// The catalog's key of a model: its id trimmed and lower-cased, without a `<provider>/` prefix.
fn model_key(provider: &str, id: &str) -> String {
    let id = js::trim(id).to_lowercase();
    match id.strip_prefix(&format!("{provider}/")) {
        Some(rest) => rest.to_string(),
        None => id,
    }
}

/// The member JavaScript's `a ?? b` reads: the first present and not `null`.
fn either<'v>(
    a: &'v Map<String, Value>,
    b: &'v Map<String, Value>,
    key: &str,
) -> Option<&'v Value> {
    a.get(key)
        .filter(|v| !v.is_null())
        .or_else(|| b.get(key).filter(|v| !v.is_null()))
}

/// The one catalog row serving the model's route (`Some(None)`: none, or more than one), each
/// row counted `repeat` times; `None` when a route comparison is not decided.
fn unique_row<'c>(
    rows: Option<&'c Vec<CatalogRow>>,
    provider: &Map<String, Value>,
    model: &Map<String, Value>,
    repeat: usize,
) -> Option<Option<&'c CatalogRow>> {
    let api = either(model, provider, "api");
    let base = either(model, provider, "baseUrl");
    let mut found = None;
    let mut count = 0;
    for row in rows.into_iter().flatten() {
        let row_api = row.api.clone().map(Value::String);
        let row_base = row.base_url.clone().map(Value::String);
        if matches(row_api.as_ref(), row_base.as_ref(), api, base)? {
            found = Some(row);
            count += repeat;
        }
    }
    Some(found.filter(|_| count == 1))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{after, findings, plans_nothing, value};
    use serde_json::json;

    fn step() -> String {
        json!({
            "kind": "model_compat_catalog",
            "dead_keys": ["nativeWebSearchTool", "requiresMistralToolIds"],
            "catalog": {
                "alias_providers": ["azure-openai-responses"],
                "providers": {
                    "openai": {"gpt-5.5": [{"api": "openai-responses",
                        "baseUrl": "https://api.openai.com/v1",
                        "compat": {"codeMode": "preferred", "supportsTemperature": false,
                                   "supportedReasoningEfforts": ["low", "high"]}}]},
                    "azure-openai-responses": {"gpt-5.5": [{"api": "azure-openai-responses",
                        "baseUrl": "https://api.openai.com/v1", "compat": {"codeMode": "preferred"}}]}
                }
            }
        })
        .to_string()
    }

    #[test]
    fn values_equal_to_the_catalog_go_and_an_empty_compat_with_them() {
        let text = r#"{
  models: {
    providers: {
      OpenAI: {
        api: 'openai-responses',
        models: [
          {
            id: 'OpenAI/GPT-5.5',
            // capabilities
            compat: { codeMode: 'preferred', supportedReasoningEfforts: ['low', 'high'] },
          },
          { id: 'gpt-5.5', baseUrl: 'https://api.openai.com/v1/', compat: { codeMode: 'capable', supportsTemperature: false } },
        ],
      },
    },
  },
}"#;
        let out = after(text, &step());
        assert_eq!(
            value(&out)["models"]["providers"]["OpenAI"]["models"],
            json!([{"id": "OpenAI/GPT-5.5"},
                   {"id": "gpt-5.5", "baseUrl": "https://api.openai.com/v1/",
                    "compat": {"codeMode": "capable"}}])
        );
        assert!(!out.contains("// capabilities"));
    }

    #[test]
    fn dead_keys_go_whatever_the_catalog_says() {
        let text = r#"{models: {providers: {mistral: {models: [
  {id: 'mistral-large', compat: {requiresMistralToolIds: true, supportsTools: true}},
]}}}}"#;
        let out = after(text, &step());
        assert_eq!(
            value(&out)["models"]["providers"]["mistral"]["models"][0],
            json!({"id": "mistral-large", "compat": {"supportsTools": true}})
        );
    }

    #[test]
    fn another_route_or_two_keys_for_one_provider_keep_the_overrides() {
        // A proxy base URL is another route.
        plans_nothing(
            r#"{models: {providers: {openai: {baseUrl: 'https://proxy.example/v1',
              models: [{id: 'gpt-5.5', compat: {codeMode: 'preferred'}}]}}}}"#,
            &step(),
        );
        // Another api on the model wins over the provider's.
        plans_nothing(
            r#"{models: {providers: {openai: {models: [{id: 'gpt-5.5',
              api: 'openai-completions', compat: {codeMode: 'preferred'}}]}}}}"#,
            &step(),
        );
        // openai and OpenAI: each row is read twice, so none is the one.
        plans_nothing(
            r#"{models: {providers: {openai: {models: [{id: 'gpt-5.5', compat: {codeMode: 'preferred'}}]},
              OpenAI: {models: []}}}}"#,
            &step(),
        );
        // A blank provider key reads the catalog unfiltered: openai's rows twice.
        plans_nothing(
            r#"{models: {providers: {openai: {models: [{id: 'gpt-5.5', compat: {codeMode: 'preferred'}}]},
              ' ': {}}}}"#,
            &step(),
        );
        // No compat object, an empty one, or a model without an id: nothing to do.
        plans_nothing(
            r#"{models: {providers: {openai: {models: [{id: 'gpt-5.5', compat: {}},
              {compat: {nativeWebSearchTool: true}}, {id: 'gpt-5.5', compat: 'x'}]}}}}"#,
            &step(),
        );
    }

    #[test]
    fn an_alias_provider_is_not_doubled_by_a_blank_key() {
        let text = r#"{models: {providers: {'azure-openai-responses': {models: [
  {id: 'gpt-5.5', compat: {codeMode: 'preferred'}}]}, '': {}}}}"#;
        let out = after(text, &step());
        assert_eq!(
            value(&out)["models"]["providers"]["azure-openai-responses"]["models"][0],
            json!({"id": "gpt-5.5"})
        );
    }

    #[test]
    fn an_undecided_base_url_keeps_the_compat_and_says_why() {
        let text = r#"{models: {providers: {openai: {baseUrl: 'https://%61pi.openai.com/v1',
          models: [{id: 'gpt-5.5', compat: {codeMode: 'preferred'}}]}}}}"#;
        plans_nothing(text, &step());
        let f = findings(text, &step());
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("models.providers.openai.models.0.compat")
        );
    }
}
