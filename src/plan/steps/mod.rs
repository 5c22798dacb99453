//! The step kinds migrations are written in, and what they share: model refs and credentials.
mod agents_entries;
mod append_list;
mod canonical_refs;
mod clean_models;
mod codex_routes;
mod collapse_account_key;
mod default_agent;
mod drop_hosts;
mod ensure_profile;
mod exec_mode;
mod explicit_ownership;
mod implicit_primary;
mod map_value;
mod mcp_servers;
mod media_models;
mod memory_qmd;
mod merge_also_allow;
mod model_compat_catalog;
mod model_lists;
mod model_policy_allow;
mod model_refs;
mod model_route;
mod move_key;
// Paths and guards are part of a migration's definition (its data); the step kinds evaluate them.
pub use crate::migration::path;
mod provider_refs;
mod remove;
mod rename_provider;
mod rename_tool;
mod rewrite;
mod rewrite_host;
mod rewrite_list;
mod routing_agents;
mod runtime_policy;
mod section_grants;
mod seed_origins;
mod set_default;
mod signal_url;
mod system_agent;
#[cfg(test)]
mod testing;
mod tool_policy;
pub mod transcriber;
mod vllm_qwen_thinking;
mod when_release_writes;
mod wrap_list;
pub mod zero_duration;

use crate::document::patch::AtPath;
use crate::load::LoadedAgent;
use crate::migration::Step;
use crate::plan::workspace::{StepError, Workspace};
use crate::secrets;
use serde_json::Value;

/// Runs one step over the workspace.
pub fn run(step: &Step, ws: &mut Workspace) -> Result<(), StepError> {
    match step {
        Step::RewriteUrlHost {
            provider,
            field,
            from_hosts,
            to_host,
            files,
        } => rewrite_host::run(ws, provider, field, from_hosts, to_host, files),
        Step::EnsureAuthProfile {
            provider,
            profile,
            agents,
            include_default_agent,
            config_metadata,
            key_sources,
            satisfied_by_config_api_key,
        } => ensure_profile::run(
            ws,
            ensure_profile::Params {
                provider,
                profile,
                agents: *agents,
                include_default_agent: *include_default_agent,
                config_metadata: config_metadata.as_ref(),
                key_sources,
                satisfied_by_config_api_key: *satisfied_by_config_api_key,
            },
        ),
        Step::CleanModelsJson {
            regenerated_fields,
            remove_redundant_blocks,
        } => clean_models::run(ws, regenerated_fields, *remove_redundant_blocks),
        Step::Move {
            from,
            to,
            when,
            if_target_exists,
            map,
            trim,
            prune_empty_parents,
            copy,
            skip_keys,
        } => move_key::run(
            ws,
            from,
            to,
            when,
            *if_target_exists,
            &move_key::Transform {
                map: map.as_deref(),
                trim: *trim,
                copy: *copy,
                skip_keys,
            },
            *prune_empty_parents,
        ),
        Step::Remove {
            path,
            when,
            prune_empty_parents,
        } => remove::run(ws, path, when, *prune_empty_parents),
        Step::MapValue {
            path,
            map,
            when,
            loose,
        } => map_value::run(ws, path, map, when, *loose),
        Step::RemoveZeroDuration {
            path,
            when,
            default_unit,
        } => zero_duration::run(ws, path, when, *default_unit),
        Step::AgentsExplicitOwnership {} => explicit_ownership::run(ws),
        Step::LegacyModelsToModelPolicyAllow {} => model_policy_allow::run(ws),
        Step::PinImplicitPrimary {
            default_provider,
            default_model,
        } => implicit_primary::run(ws, default_provider, default_model),
        Step::VllmQwenThinkingToCompat {} => vllm_qwen_thinking::run(ws),
        Step::McpServersCanonicalize {} => mcp_servers::run(ws),
        Step::LegacySystemAgentOwner {} => system_agent::run(ws),
        Step::MemoryQmdRetired {} => memory_qmd::run(ws),
        Step::MediaModelsConsolidate { capabilities } => media_models::run(ws, capabilities),
        Step::WrapInList { path, when, append } => wrap_list::run(ws, path, when, append),
        Step::SignalHostPortToUrl {} => signal_url::run(ws),
        Step::ExecPolicyToMode {} => exec_mode::run(ws),
        Step::CodexRoutesToOpenai {} => codex_routes::run(ws),
        Step::CanonicalizeModelRefs {
            string_keys,
            array_keys,
            map_keys,
            renames,
        } => canonical_refs::run(
            ws,
            &canonical_refs::Params {
                string_keys,
                array_keys,
                map_keys,
                renames,
            },
        ),
        Step::Under { .. } => {
            // The registry refuses an `under` that does not expand.
            for s in step.expand().unwrap_or_default() {
                run(&s, ws)?;
            }
            Ok(())
        }
        Step::AgentsListToEntries {} => agents_entries::run(ws),
        Step::DropUnusableHosts { path, when } => drop_hosts::run(ws, path, when),
        Step::RenameToolInPolicies { roots, from, to } => rename_tool::run(ws, roots, from, to),
        Step::ProfileSectionGrants { sections, catalog } => {
            section_grants::run(ws, sections, catalog)
        }
        Step::MergeAlsoAllow {
            roots,
            sensitive_tools,
            catalog,
        } => merge_also_allow::run(ws, roots, sensitive_tools, catalog),
        Step::ModelCompatCatalog { dead_keys, catalog } => {
            model_compat_catalog::run(ws, dead_keys, catalog)
        }
        Step::WhenReleaseWrites { steps } => when_release_writes::run(ws, steps),
        Step::CollapseAccountKey { channel, key, to } => {
            collapse_account_key::run(ws, channel, key, to)
        }
        Step::RenameProvider {
            from,
            to,
            profiles,
            base_url,
            pin_order,
        } => rename_provider::run(
            ws,
            rename_provider::Params {
                from,
                to,
                profiles,
                base_url,
                pin_order: *pin_order,
            },
        ),
        Step::SeedControlUiOrigins {
            modes,
            aliases,
            default_port,
        } => seed_origins::run(
            ws,
            &seed_origins::Params {
                modes,
                aliases,
                default_port: *default_port,
            },
        ),
        Step::RewriteList {
            path,
            map,
            when,
            loose,
            dedupe,
        } => rewrite_list::run(
            ws,
            path,
            map,
            when,
            &rewrite_list::Options {
                loose: *loose,
                dedupe: *dedupe,
            },
        ),
        Step::AppendList {
            from,
            to,
            when,
            keep,
            dedupe,
        } => append_list::run(
            ws,
            from,
            to,
            when,
            &append_list::Options {
                keep: *keep,
                dedupe: *dedupe,
            },
        ),
        Step::SetDefault {
            path,
            value,
            when,
            overwrite,
        } => set_default::run(ws, path, value, when, *overwrite),
        Step::AudioTranscriberToMediaModel {
            from,
            accept,
            into,
            prune_empty_parents,
        } => transcriber::run(ws, from, *accept, *into, *prune_empty_parents),
        Step::CliRuntimeToModelPolicy {
            scope,
            when,
            runtimes,
        } => runtime_policy::run(ws, scope, when, runtimes),
        Step::MoveToDefaultAgent { from, to } => default_agent::run(ws, from, to),
        Step::RoutingAgentsToList => routing_agents::run(ws),
        Step::LegacyModelLists { scopes } => model_lists::run(ws, scopes),
    }
}

/// The refs of a model setting: a string, or `{primary, fallbacks}`.
fn model_refs(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(m)) => {
            let mut out: Vec<String> = m
                .get("primary")
                .and_then(Value::as_str)
                .map(str::to_string)
                .into_iter()
                .collect();
            if let Some(f) = m.get("fallbacks").and_then(Value::as_array) {
                out.extend(f.iter().filter_map(Value::as_str).map(str::to_string));
            }
            out
        }
        _ => vec![],
    }
}

/// The provider a ref names: `provider/model`, or an alias from `agents.defaults.models`.
fn provider_of(r: &str, config: &Value) -> Option<String> {
    if let Some((p, _)) = r.split_once('/') {
        return Some(p.trim().to_lowercase());
    }
    let models = config
        .at_path(&["agents", "defaults", "models"])?
        .as_object()?;
    models.iter().find_map(|(key, entry)| {
        let alias = entry.get("alias")?.as_str()?;
        alias
            .eq_ignore_ascii_case(r.trim())
            .then(|| key.split_once('/').map(|(p, _)| p.to_lowercase()))
            .flatten()
    })
}

/// Every model ref an agent runs with: its own model (or the defaults' primary), its own
/// fallbacks (or the defaults'), and the image and subagent models it has or inherits.
fn agent_refs(config: &Value, agent: &LoadedAgent) -> Vec<String> {
    let entry = agent.agent.entry.as_ref().and_then(|at| config.at_path(at));
    let own = entry.and_then(|e| e.get("model"));
    let defaults = config.at_path(&["agents", "defaults"]);
    let default_model = defaults.and_then(|d| d.get("model"));
    let mut refs = Vec::new();
    let own_refs = model_refs(own);
    let own_has_fallbacks = matches!(own, Some(Value::Object(m)) if m.contains_key("fallbacks"));
    let own_has_primary = match own {
        Some(Value::String(_)) => true,
        Some(Value::Object(m)) => m.contains_key("primary"),
        _ => false,
    };
    refs.extend(own_refs);
    let inherited = model_refs(default_model);
    match default_model {
        Some(Value::Object(m)) => {
            if !own_has_primary {
                refs.extend(m.get("primary").and_then(Value::as_str).map(str::to_string));
            }
            if !own_has_fallbacks {
                refs.extend(
                    m.get("fallbacks")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_string),
                );
            }
        }
        Some(Value::String(_)) if !own_has_primary => refs.extend(inherited),
        _ => {}
    }
    let own_image = entry.and_then(|e| e.get("imageModel"));
    refs.extend(model_refs(
        own_image.or_else(|| defaults.and_then(|d| d.get("imageModel"))),
    ));
    let sub = entry
        .and_then(|e| e.at_path(&["subagents", "model"]))
        .or_else(|| defaults.and_then(|d| d.at_path(&["subagents", "model"])));
    refs.extend(model_refs(sub));
    refs
}

/// Whether an agent uses a provider: through its model refs, or a block in its models.json.
pub(crate) fn agent_uses(ws: &Workspace, agent: &LoadedAgent, provider: &str) -> bool {
    let config = ws.config();
    agent_refs(config, agent)
        .iter()
        .any(|r| provider_of(r, config).as_deref() == Some(provider))
        || ws
            .value(agent.models)
            .at_path(&["providers", provider])
            .is_some()
}

/// A literal credential in a models.json provider block: where it is and the key it carries.
#[derive(Debug, Clone)]
pub(crate) struct BlockCredential {
    /// Tokens below the block: `["apiKey"]` or `["headers", "x-api-key"]`.
    pub at: Vec<String>,
    pub key: String,
}

pub(crate) fn is_auth_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("x-api-key") || name.eq_ignore_ascii_case("authorization")
}

pub(crate) fn block_credentials(block: &Value) -> Vec<BlockCredential> {
    let mut out = Vec::new();
    if let Some(k) = block
        .get("apiKey")
        .and_then(Value::as_str)
        .filter(|k| secrets::is_literal_secret(k))
    {
        out.push(BlockCredential {
            at: vec!["apiKey".into()],
            key: secrets::key_of(k).to_string(),
        });
    }
    if let Some(h) = block.get("headers").and_then(Value::as_object) {
        for (name, v) in h {
            if let Some(k) = v
                .as_str()
                .filter(|k| is_auth_header(name) && secrets::is_literal_secret(k))
            {
                out.push(BlockCredential {
                    at: vec!["headers".into(), name.clone()],
                    key: secrets::key_of(k).to_string(),
                });
            }
        }
    }
    out
}

/// The literal keys of a provider's block in a models.json.
pub(crate) fn models_keys(models: &Value, provider: &str) -> Vec<String> {
    let mut keys: Vec<String> = models
        .at_path(&["providers", provider])
        .map(block_credentials)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.key)
        .collect();
    keys.dedup();
    keys
}

/// The literal secret a profile holds (`key` of an api_key profile, `token` of a token profile).
pub(crate) fn profile_secret(profile: &Value) -> Option<&str> {
    profile
        .get("key")
        .or_else(|| profile.get("token"))
        .and_then(Value::as_str)
        .filter(|k| secrets::is_literal_secret(k))
}

/// The profiles of an auth store that belong to a provider.
pub(crate) fn provider_profiles<'v>(
    store: &'v Value,
    provider: &str,
) -> Vec<(&'v String, &'v Value)> {
    store
        .get("profiles")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, p)| p.get("provider").and_then(Value::as_str) == Some(provider))
                .collect()
        })
        .unwrap_or_default()
}
