//! Migration definitions: the data files of `migrations/`, their checksums and the registry. Its
//! part: the `path`s and guards a step is written with.
pub mod path;
pub mod provider_catalog;
pub mod tool_catalog;

use crate::document::FileKind;
use crate::error::{Error, Kind};
use crate::hash::sha256_hex;
use crate::release::Release;
use path::{Guard, Path, Seg};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_migrations.rs"));
}

/// Which agents a step applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentSelector {
    /// Agents whose model refs (own or inherited) or models.json name the provider.
    UsingProvider,
    /// Every agent found.
    All,
}

/// Where a credential may be taken from, tried in the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// A literal key in this agent's models.json block for the provider (apiKey or auth header).
    OwnModelsJson,
    /// Another agent's existing profile with the same id.
    OtherAgentProfile,
    /// A literal key in another agent's models.json block for the provider.
    OtherModelsJson,
    /// A key the operator supplies for the run (`--key-file PROVIDER=FILE`).
    Operator,
}

/// The unit a bare number of a duration is read in (`remove_zero_duration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationUnit {
    Ms,
    S,
    M,
    H,
    D,
}

/// Which transcriber commands doctor accepts (`audio_transcriber_to_media_model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TranscriberAccept {
    /// 2026.2.3: an executable named `whisper` (any directory); the arguments are stringified.
    Whisper,
    /// 2026.9.6: any executable without shell syntax, every part a string; `{input}` in the
    /// arguments becomes `{{AttachmentPath}}`.
    SafeExecutable,
}

/// Where a transcriber's media model entry goes (`audio_transcriber_to_media_model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TranscriberInto {
    /// 2026.2.3: `tools.media.audio.models = [entry]` and `enabled: true`, unless that list
    /// already holds a model.
    AudioModels,
    /// 2026.9.6: appended to `tools.media.models` tagged `capabilities: ["audio"]`, with
    /// `tools.media.audio` `enabled: true` and `preferredModel: "cli:<command>"`, unless an
    /// audio-capable model exists in either list.
    MediaModels,
}

/// Where a provider block moved by `rename_provider` must point: a `baseUrl` on one of
/// `from_hosts` moves to `to_host` (path kept); a block without a `baseUrl` gets `default`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseUrlRule {
    pub from_hosts: Vec<String>,
    pub to_host: String,
    pub default: String,
}

/// The step vocabulary. Each kind is guarded: on an already-fixed install it plans nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Moves a URL field of a provider, wherever the provider is defined (config
    /// `models.providers` and every models.json), from one host to another, keeping the path.
    RewriteUrlHost {
        provider: String,
        field: String,
        from_hosts: Vec<String>,
        to_host: String,
        files: Vec<FileKind>,
    },
    /// Gives selected agents an auth profile for a provider when they have none, taking the
    /// key from the first source that has one; never writes a profile without a key.
    EnsureAuthProfile {
        provider: String,
        profile: String,
        agents: AgentSelector,
        include_default_agent: bool,
        /// Metadata added to `auth.profiles` in the config when that map exists.
        config_metadata: Option<Value>,
        key_sources: Vec<KeySource>,
        /// A non-empty `models.providers.<provider>.apiKey` in the config (a key, `${VAR}` or
        /// an env var name) already gives every agent the key, so no profile is needed.
        #[serde(default)]
        satisfied_by_config_api_key: bool,
    },
    /// In every models.json: removes literal credentials the agent keeps in its auth profiles,
    /// and provider blocks the config also defines that add nothing but credentials and
    /// fields OpenClaw regenerates.
    CleanModelsJson {
        /// Fields OpenClaw rebuilds on its next run, so a block holding them adds nothing.
        regenerated_fields: Vec<String>,
        remove_redundant_blocks: bool,
    },
    /// In the config: moves (renames) the value at every place `from` matches to `to` (its `*`s
    /// bound to what `from`'s matched), with its comments; `if_target_exists` says who wins.
    Move {
        from: Path,
        to: Path,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        #[serde(default)]
        if_target_exists: TargetPolicy,
        /// Maps the value as it moves; a value the map does not name is not moved.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        map: Option<Vec<ValuePair>>,
        /// Trims a string value as it moves.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        trim: bool,
        /// How many ancestors of `from` to remove when the step leaves them empty objects.
        #[serde(default, skip_serializing_if = "is_zero")]
        prune_empty_parents: u8,
        /// Copies: the value is written at `to` and also stays at `from` (doctor spreads one
        /// legacy value over several channels before it deletes it).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        copy: bool,
        /// With `merge_missing`: members of these names are never merged in, at any depth
        /// (they go with the source), as doctor's merge skips `__proto__`, `prototype` and
        /// `constructor`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skip_keys: Vec<String>,
    },
    /// In the config: removes the value at every place `path` matches (and the comment above it).
    Remove {
        path: Path,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        /// How many ancestors to remove when the step leaves them empty objects.
        #[serde(default, skip_serializing_if = "is_zero")]
        prune_empty_parents: u8,
    },
    /// In the config: replaces a value the map names by the value it maps to.
    MapValue {
        path: Path,
        map: Vec<ValuePair>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        /// Strings match a `from` string ignoring case and surrounding whitespace.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        loose: bool,
    },
    /// In the config: rewrites the items of an array (renames, drops with a `null` `to`, and
    /// with `dedupe` removes a string repeating an earlier one).
    RewriteList {
        path: Path,
        map: Vec<ValuePair>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        /// Strings compare ignoring case and surrounding whitespace.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        loose: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        dedupe: bool,
    },
    /// In the config: merges the array at `from` into the one at `to` (the target's items, then
    /// the source's; with `keep`, only items of that shape; with `dedupe`, no primitive twice),
    /// replacing a `to` that is not an array, and removes `from`. A `from` that is not an array
    /// is left alone.
    AppendList {
        from: Path,
        to: Path,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keep: Option<path::Type>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        dedupe: bool,
    },
    /// In the config: seeds `gateway.controlUi.allowedOrigins` with the local origins (and the
    /// custom bind host's) when the gateway binds beyond loopback and names no origin.
    SeedControlUiOrigins {
        modes: Vec<String>,
        #[serde(default)]
        aliases: Vec<ValuePair>,
        default_port: u32,
    },
    /// In the config: turns a legacy audio transcriber (`{command: [exe, ...args]}`) at `from`
    /// into a CLI media model entry the way doctor does, and removes it.
    AudioTranscriberToMediaModel {
        from: Path,
        accept: TranscriberAccept,
        into: TranscriberInto,
        #[serde(default, skip_serializing_if = "is_zero")]
        prune_empty_parents: u8,
    },
    /// In the config: where an agent scope's `agentRuntime.id` is one of `runtimes` (runtime id
    /// -> provider), the scope's selected models of that provider get the runtime as their
    /// `models["<ref>"].agentRuntime.id`.
    CliRuntimeToModelPolicy {
        scope: Path,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        runtimes: std::collections::BTreeMap<String, String>,
    },
    /// In the config: moves the object at `from` to member `to` of the default agent's
    /// `agents.list[]` entry, resolved as 2026.2.3's doctor does (created when missing); a
    /// member already there wins.
    MoveToDefaultAgent { from: Path, to: String },
    /// In the config: turns 2026.2.3's keyed `routing.agents.<id>` and `routing.defaultAgentId`
    /// into `agents.list[]` entries, as that release's doctor does.
    RoutingAgentsToList,
    /// In the config: 2026.2.3's legacy model settings of the first of `scopes` that is an
    /// object (string models, fallback and allow lists, aliases) rebuilt into `{primary,
    /// fallbacks}` and the `models` map.
    LegacyModelLists { scopes: Vec<Path> },
    /// In the config: sets `value` at `path` when the key is absent and the guards hold; with
    /// `overwrite`, also replaces a value that differs.
    SetDefault {
        path: Path,
        value: Value,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        overwrite: bool,
    },
    /// In the config: removes a duration at `path` that OpenClaw parses to zero (a bare number
    /// read in `default_unit`).
    RemoveZeroDuration {
        path: Path,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        default_unit: DurationUnit,
    },
    /// In the config: stamps `agents.ownership: "explicit"` on a keyed roster of two or more
    /// agents none of which is marked default.
    AgentsExplicitOwnership {},
    /// In the config: the keys of a legacy `agents.defaults.models` map become
    /// `agents.defaults.modelPolicy.allow` and `meta.migrations.modelPolicyAllowlist` is stamped,
    /// unless a key fails OpenClaw's model-policy ref grammar (then nothing changes).
    LegacyModelsToModelPolicyAllow {},
    /// In the config: OpenClaw 2026.9.6's `runtime.utility-model-separation`: with no default
    /// primary set, the implicit one (`default_provider/default_model`, the release's default,
    /// unless another configured provider's first model stood in for it) is pinned as
    /// `agents.defaults.model.primary` (or per agent that sets a `utilityModel`) and
    /// `meta.migrations.utilityModelSeparation` is stamped.
    PinImplicitPrimary {
        default_provider: String,
        default_model: String,
    },
    /// In the config: legacy vLLM `params.qwenThinkingFormat` (from default model entries, the
    /// vLLM rows and provider, the defaults and every agent) moved, translated, to the
    /// `compat.thinkingFormat` of the vLLM model rows its scope's refs name.
    VllmQwenThinkingToCompat {},
    /// In the config: legacy spellings of each MCP server (`disabled`, timeout aliases in
    /// seconds, snake_case aliases, CLI `type`) rewritten to the canonical keys.
    McpServersCanonicalize {},
    /// In the config: a multi-agent roster without a system-agent owner gets
    /// `agents.defaults.systemAgent.agentId` (and the heartbeat owner when none is configured):
    /// the explicit default agent or the `main` one, as OpenClaw 2026.9.6's doctor picks it.
    LegacySystemAgentOwner {},
    /// In the config: the retired QMD memory backend removed as OpenClaw 2026.9.6's doctor
    /// removes it (root, `agents.defaults` and every agent), its session indexing and external
    /// paths carried into `memory.search`, `agents.defaults.memory.search` merged up to the root.
    MemoryQmdRetired {},
    /// In the config: the `models` of each `tools.media.<capability>` (in the order given) moved
    /// to the front of `tools.media.models`, tagged with that capability and deduplicated, as
    /// OpenClaw 2026.9.6's doctor consolidates them.
    MediaModelsConsolidate { capabilities: Vec<String> },
    /// In the config: runs `steps` (paths relative) under every prefix built by taking one
    /// fragment of each level of `prefixes` in turn (`""` adds nothing), all of the steps at one
    /// prefix before the next; `when` (absolute paths, the prefix's `*`s captured first) is
    /// added to each step's guards.
    Under {
        prefixes: Vec<Vec<String>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        steps: Vec<Step>,
    },
    /// In the config: turns `agents.list` into keyed `agents.entries` (ids normalised and
    /// deduplicated as OpenClaw does), refusing when doctor would pin a workspace from the host.
    AgentsListToEntries {},
    /// In the config: drops the items of the host list at `path` that OpenClaw cannot use as
    /// an exact hostname (URLs, wildcards, ports, non-strings), the list when none is left; a
    /// list with a host only IDNA could judge is left as it is, with a conflict.
    DropUnusableHosts {
        path: Path,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
    },
    /// In the config: runs `steps` only when the upgrades of the migration's own release change
    /// the config otherwise in this run: doctor's clean-ups that happen whenever its run writes
    /// the file (an empty `ui.prefs` it deletes then), never on their own.
    WhenReleaseWrites { steps: Vec<Step> },
    /// In the config: OpenClaw 2026.9.6's collapse of a per-account key: `key` on
    /// `channels.<channel>` and on each of its accounts is removed, and one value (the default
    /// account's, else the `default` account's, else the channel's, else the first account's by
    /// id; only non-negative integers count) is set at `to` unless `to` is already set.
    CollapseAccountKey {
        channel: String,
        key: String,
        to: Path,
    },
    /// In the config: replaces the value at every place `path` matches (and the guards hold) by
    /// a list holding it first, then the values of `append` (`"--resume"` becomes
    /// `["--resume", "{sessionId}"]`).
    WrapInList {
        path: Path,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        when: Vec<Guard>,
        #[serde(default)]
        append: Vec<Value>,
    },
    /// In the config: the retired `httpHost`/`httpPort` of `channels.signal` and of each of its
    /// accounts (an account inheriting the root's) become the `httpUrl` OpenClaw builds from them
    /// (with `autoStart: true` unless set), or just go where an `httpUrl` is set or inherited.
    SignalHostPortToUrl {},
    /// In the config: `tools.exec.security`/`ask` of the root and of every agent (an agent's
    /// missing half inherited from the root's policy) become the `tools.exec.mode` they stand
    /// for exactly, or just go where a `mode` is set.
    ExecPolicyToMode {},
    /// In the config: every model ref doctor recognises rewritten to its canonical form, as
    /// OpenClaw 2026.9.6 does: strings under `string_keys`, the strings of lists under
    /// `array_keys`, the keys of maps under `map_keys` (a retired key merging into the canonical
    /// one), `provider`/`model` pairs and provider catalog row ids; `renames` is the release's
    /// table of retired models (provider -> retired model -> canonical model, lower-case).
    CanonicalizeModelRefs {
        string_keys: Vec<String>,
        array_keys: Vec<String>,
        map_keys: Vec<String>,
        renames: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    },
    /// In the config: the legacy Codex provider routes (`models.providers.codex`,
    /// `openai-codex`) moved or merged into `models.providers.openai` where OpenClaw 2026.9.6
    /// finds that safe, and `api: "openai-codex-responses"` renamed `openai-chatgpt-responses`.
    CodexRoutesToOpenai {},
    /// Across the install: provider `from` becomes provider `to` (its config and models.json
    /// blocks, pointed at `base_url`'s host), its profiles take the ids `profiles` gives them
    /// (config metadata, every auth store and its routing state), and every model ref
    /// `from/<model>` becomes `to/<model>`; refused (a conflict) where `to` or a new id is taken
    /// by other values. With `pin_order`, `auth.order.<to>` names the moved profiles when the
    /// install holds other profiles of `to`.
    RenameProvider {
        from: String,
        to: String,
        profiles: std::collections::BTreeMap<String, String>,
        base_url: BaseUrlRule,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pin_order: bool,
    },
    /// In the config: renames tool `from` to `to` in every tool policy list under `roots`
    /// (`allow`/`alsoAllow`/`deny` of a tools scope, `toolsAllow`), appending `to` where only a
    /// glob covered `from`, so that coverage stays the same.
    RenameToolInPolicies {
        roots: Vec<String>,
        from: String,
        to: String,
    },
    /// In the config: OpenClaw 2026.9.6's repair of a tools scope (global, per agent, their
    /// `byProvider` policies) whose profile filters out tools its `allow` grants for configured
    /// `sections`: `allow` becomes the profile's covered tools, the plugin entries and those
    /// grants, `alsoAllow` is merged in and `profile` becomes `full`.
    ProfileSectionGrants {
        sections: Vec<tool_catalog::SectionGrants>,
        catalog: tool_catalog::ToolCatalog,
    },
    /// In the config: a tool policy scope under `roots` with both `allow` and `alsoAllow` gets
    /// `alsoAllow` merged into `allow` (and emptied), when every profile taking its extras
    /// already grants them and none of them reaches a `sensitive_tools` tool.
    MergeAlsoAllow {
        roots: Vec<String>,
        sensitive_tools: Vec<String>,
        catalog: tool_catalog::ToolCatalog,
    },
    /// In the config: OpenClaw 2026.9.6's clean-up of model `compat` overrides: the retired
    /// `dead_keys` go, and so does every capability equal to the one the release's provider
    /// `catalog` gives that model on the same route; a `compat` left empty goes too.
    ModelCompatCatalog {
        dead_keys: Vec<String>,
        catalog: provider_catalog::ProviderCatalog,
    },
}

/// `steps` with each `under` (at any depth) replaced by what it stands for. The registry has
/// checked that every `under` expands.
fn expanded(steps: &[Step]) -> Vec<Step> {
    steps
        .iter()
        .flat_map(|s| match s {
            Step::Under { .. } => s.expand().unwrap_or_default(),
            Step::WhenReleaseWrites { steps } => vec![Step::WhenReleaseWrites {
                steps: expanded(steps),
            }],
            other => vec![other.clone()],
        })
        .collect()
}

impl Step {
    /// The steps an `under` stands for, each path prefixed (any other step: itself). A step
    /// `under` cannot prefix, or a fragment that is no path, is the error.
    pub fn expand(&self) -> Result<Vec<Step>, String> {
        let Step::Under {
            prefixes,
            when,
            steps,
        } = self
        else {
            return Ok(vec![self.clone()]);
        };
        let mut heads: Vec<Vec<Seg>> = vec![Vec::new()];
        for level in prefixes {
            let mut next = Vec::new();
            for head in &heads {
                for frag in level {
                    let mut segs = head.clone();
                    if !frag.is_empty() {
                        segs.extend(Path::try_from(frag.clone())?.segs);
                    }
                    next.push(segs);
                }
            }
            heads = next;
        }
        let mut out = Vec::new();
        for head in heads.iter().filter(|h| !h.is_empty()) {
            let at = |p: &Path| Path::from_segs([head.clone(), p.segs.clone()].concat());
            let guards = |w: &[Guard]| -> Vec<Guard> {
                let mut g: Vec<Guard> = w
                    .iter()
                    .map(|g| Guard {
                        path: at(&g.path),
                        equals_path: g.equals_path.as_ref().map(at),
                        ..g.clone()
                    })
                    .collect();
                g.extend(when.iter().cloned());
                g
            };
            for step in steps.iter().map(Step::expand) {
                for mut step in step? {
                    match &mut step {
                        Step::Move { from, to, when, .. }
                        | Step::AppendList { from, to, when, .. } => {
                            (*from, *to, *when) = (at(from), at(to), guards(when));
                        }
                        Step::Remove { path, when, .. }
                        | Step::MapValue { path, when, .. }
                        | Step::RewriteList { path, when, .. }
                        | Step::SetDefault { path, when, .. }
                        | Step::RemoveZeroDuration { path, when, .. }
                        | Step::WrapInList { path, when, .. } => {
                            (*path, *when) = (at(path), guards(when));
                        }
                        other => {
                            let kind = serde_json::to_value(&*other)
                                .ok()
                                .and_then(|v| v["kind"].as_str().map(str::to_string))
                                .unwrap_or_default();
                            return Err(format!("under: a {kind} step has no path to prefix"));
                        }
                    }
                    out.push(step);
                }
            }
        }
        Ok(out)
    }
}

impl Step {
    /// What is wrong with a step as written, beyond its JSON shape.
    fn problem(&self) -> Option<String> {
        let (captured, when) = match self {
            Step::Under { .. } => {
                return match self.expand() {
                    Err(e) => Some(e),
                    Ok(steps) if steps.is_empty() => {
                        Some("under: no prefix, or no step to run under it".into())
                    }
                    Ok(steps) => steps.iter().find_map(Step::problem),
                };
            }
            Step::WhenReleaseWrites { steps } => {
                if steps.is_empty() {
                    return Some("when_release_writes: no step to run".into());
                }
                return steps.iter().find_map(Step::problem);
            }
            Step::CollapseAccountKey { to, .. } => {
                return (to.wildcards() > 0)
                    .then(|| format!("collapse_account_key to {to}: the target cannot hold *"));
            }
            Step::Move {
                from,
                to,
                when,
                copy,
                if_target_exists,
                prune_empty_parents,
                skip_keys,
                ..
            } => {
                if to.wildcards() > from.wildcards() {
                    return Some(format!("move to {to}: more * than {from} captures"));
                }
                if !skip_keys.is_empty() && *if_target_exists != TargetPolicy::MergeMissing {
                    return Some(format!("move from {from}: skip_keys needs merge_missing"));
                }
                if *copy
                    && (*if_target_exists == TargetPolicy::MergeMissing || *prune_empty_parents > 0)
                {
                    return Some(format!(
                        "copy from {from}: merge_missing and prune_empty_parents need a move"
                    ));
                }
                (from.wildcards(), when)
            }
            Step::AppendList { from, to, when, .. } => {
                if to.wildcards() > from.wildcards() {
                    return Some(format!("append_list to {to}: more * than {from} captures"));
                }
                (from.wildcards(), when)
            }
            Step::Remove { path, when, .. }
            | Step::MapValue { path, when, .. }
            | Step::RemoveZeroDuration { path, when, .. }
            | Step::DropUnusableHosts { path, when }
            | Step::WrapInList { path, when, .. }
            | Step::RewriteList { path, when, .. } => (path.wildcards(), when),
            Step::CliRuntimeToModelPolicy { scope, when, .. } => (scope.wildcards(), when),
            Step::SetDefault { path, when, .. } => {
                if path.segs.last() == Some(&Seg::Any) {
                    return Some(format!("set_default {path}: the last key cannot be *"));
                }
                (path.wildcards(), when)
            }
            _ => return None,
        };
        when.iter().find_map(|g| g.problem(captured))
    }
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// Which value wins when a `move` finds its target taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetPolicy {
    /// The target stays; the source is removed (doctor's "already set").
    #[default]
    KeepTarget,
    /// Both objects: members the target lacks move in (recursively); the target wins.
    MergeMissing,
    /// Both stay as they are.
    Skip,
    /// The source replaces the target.
    Replace,
}

/// One entry of a value map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuePair {
    pub from: Value,
    pub to: Value,
}

/// The JSON form of a migration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationFile {
    pub version: u32,
    pub name: String,
    pub summary: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The OpenClaw issue or release this migration answers, for the operator.
    #[serde(default)]
    pub reference: Option<String>,
    /// For an upgrade: the OpenClaw release whose doctor ships it and the upstream ids it
    /// carries. A migration without it is a repair, which runs whatever the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Upstream>,
    /// A repair that never runs by default: only when `--only` names it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opt_in: bool,
    pub steps: Vec<Step>,
}

/// Where an upgrade comes from: `{"openclaw": "2026.9.6", "ids": ["..."]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    pub openclaw: String,
    pub ids: Vec<String>,
}

/// Whether a migration repairs (any release), upgrades (to a release, with `--to`) or is an
/// opt-in repair (only when `--only` names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationKind {
    Repair,
    Upgrade,
    OptIn,
}

/// A validated migration.
#[derive(Debug, Clone)]
pub struct Migration {
    pub file_name: String,
    pub def: MigrationFile,
    /// `sha256:` over the canonical form (sorted keys, no whitespace).
    pub checksum: String,
    /// The release of an upgrade (parsed from `upstream.openclaw`).
    pub release: Option<Release>,
    /// The steps as they run: each `under` replaced, once at load, by the steps it stands for.
    pub steps: Vec<Step>,
}

impl Migration {
    /// `V0001`, the tag ops carry.
    pub fn tag(&self) -> String {
        format!("V{:04}", self.def.version)
    }

    pub fn kind(&self) -> MigrationKind {
        match (&self.release, self.def.opt_in) {
            (Some(_), _) => MigrationKind::Upgrade,
            (None, true) => MigrationKind::OptIn,
            (None, false) => MigrationKind::Repair,
        }
    }

    /// Whether it runs on an install whose config was last touched by `floor` (an upgrade only
    /// when its release is newer; a repair always).
    pub fn in_window(&self, floor: Option<&Release>) -> bool {
        match (&self.release, floor) {
            (Some(r), Some(f)) => r > f,
            _ => true,
        }
    }

    pub fn id(&self) -> String {
        format!("{}__{}", self.tag(), self.def.name)
    }

    pub fn files(&self) -> Vec<FileKind> {
        let mut kinds: Vec<FileKind> = self
            .def
            .steps
            .iter()
            .flat_map(|s| match s {
                Step::RewriteUrlHost { files, .. } => files.clone(),
                Step::EnsureAuthProfile {
                    config_metadata, ..
                } => {
                    let mut v = vec![FileKind::AuthProfiles];
                    if config_metadata.is_some() {
                        v.push(FileKind::Config);
                    }
                    v
                }
                Step::CleanModelsJson { .. } => vec![FileKind::Models],
                Step::RenameProvider { .. } => vec![
                    FileKind::Config,
                    FileKind::AuthProfiles,
                    FileKind::AuthState,
                    FileKind::Models,
                ],
                Step::Move { .. }
                | Step::Remove { .. }
                | Step::MapValue { .. }
                | Step::SetDefault { .. }
                | Step::RemoveZeroDuration { .. }
                | Step::AgentsExplicitOwnership {}
                | Step::LegacyModelsToModelPolicyAllow {}
                | Step::PinImplicitPrimary { .. }
                | Step::VllmQwenThinkingToCompat {}
                | Step::McpServersCanonicalize {}
                | Step::LegacySystemAgentOwner {}
                | Step::MemoryQmdRetired {}
                | Step::MediaModelsConsolidate { .. }
                | Step::Under { .. }
                | Step::AgentsListToEntries {}
                | Step::DropUnusableHosts { .. }
                | Step::RenameToolInPolicies { .. }
                | Step::ProfileSectionGrants { .. }
                | Step::MergeAlsoAllow { .. }
                | Step::ModelCompatCatalog { .. }
                | Step::WhenReleaseWrites { .. }
                | Step::CollapseAccountKey { .. }
                | Step::WrapInList { .. }
                | Step::SignalHostPortToUrl {}
                | Step::CanonicalizeModelRefs { .. }
                | Step::CodexRoutesToOpenai {}
                | Step::ExecPolicyToMode {}
                | Step::RewriteList { .. }
                | Step::AppendList { .. }
                | Step::SeedControlUiOrigins { .. }
                | Step::AudioTranscriberToMediaModel { .. }
                | Step::CliRuntimeToModelPolicy { .. }
                | Step::MoveToDefaultAgent { .. }
                | Step::RoutingAgentsToList
                | Step::LegacyModelLists { .. } => vec![FileKind::Config],
            })
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<_> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Checksum over the canonical form, so reformatting a file does not change it.
pub fn checksum(v: &Value) -> String {
    format!("sha256:{}", sha256_hex(canonical(v).to_string().as_bytes()))
}

/// A migration file that is not a valid definition (the embedded ones are checked by the tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct DefinitionError {
    pub file: String,
    pub problem: String,
}

/// A migration as the operator names it (`--only`, `--rebless`): its version, and the name when
/// given as a full id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Only {
    pub version: u32,
    pub name: Option<String>,
}

/// The ordered set of migrations.
#[derive(Debug, Clone)]
pub struct Registry {
    pub migrations: Vec<Migration>,
}

fn parse_name(file: &str) -> Result<(u32, &str), DefinitionError> {
    let bad = |problem: &str| DefinitionError {
        file: file.to_string(),
        problem: problem.to_string(),
    };
    let stem = file
        .strip_suffix(".json")
        .ok_or_else(|| bad("migration files end in .json"))?;
    let rest = stem
        .strip_prefix('V')
        .ok_or_else(|| bad("names look like V0001__snake_name.json"))?;
    let (num, name) = rest
        .split_once("__")
        .ok_or_else(|| bad("names look like V0001__snake_name.json (two underscores)"))?;
    if num.len() != 4 || !num.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("the version is four digits, like V0001"));
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(bad("the name is snake_case (a-z, 0-9, _)"));
    }
    Ok((num.parse().unwrap(), name))
}

impl Registry {
    /// The migrations built into this binary.
    pub fn embedded() -> Registry {
        Registry::from_sources(embedded::EMBEDDED)
            .expect("the embedded migrations are checked by the test suite")
    }

    /// Validates names, contents, uniqueness and order.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Registry, DefinitionError> {
        let mut migrations: Vec<Migration> = Vec::new();
        for (file, text) in sources {
            let bad = |problem: String| DefinitionError {
                file: file.to_string(),
                problem,
            };
            let (version, name) = parse_name(file)?;
            let raw: Value =
                serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
            let def: MigrationFile =
                serde_json::from_value(raw.clone()).map_err(|e| bad(e.to_string()))?;
            if def.version != version || def.name != name {
                return Err(bad(format!(
                    "the file says version {} name {:?}; they must match the file name",
                    def.version, def.name
                )));
            }
            if def.steps.is_empty() {
                return Err(bad("a migration needs at least one step".into()));
            }
            if let Some((i, p)) = def
                .steps
                .iter()
                .enumerate()
                .find_map(|(i, s)| s.problem().map(|p| (i, p)))
            {
                return Err(bad(format!("step {}: {p}", i + 1)));
            }
            if let Some(prev) = migrations.last() {
                if prev.def.version == version {
                    return Err(bad(format!(
                        "version {version} is used twice ({} and {file})",
                        prev.file_name
                    )));
                }
                if prev.def.version > version {
                    return Err(bad(format!(
                        "versions must increase ({} comes before it)",
                        prev.file_name
                    )));
                }
            }
            if def.opt_in && def.upstream.is_some() {
                return Err(bad(
                    "an opt-in migration is a repair: it names no upstream release".into(),
                ));
            }
            let release = match &def.upstream {
                None => None,
                Some(u) => {
                    let r = Release::parse(&u.openclaw).ok_or_else(|| {
                        bad(format!(
                            "upstream.openclaw {:?} is not an OpenClaw release (like 2026.9.6)",
                            u.openclaw
                        ))
                    })?;
                    if u.ids.is_empty() {
                        return Err(bad(
                            "upstream.ids names at least one doctor migration".into()
                        ));
                    }
                    Some(r)
                }
            };
            let tidies = def
                .steps
                .iter()
                .any(|s| matches!(s, Step::WhenReleaseWrites { .. }));
            if tidies && release.is_none() {
                return Err(bad(
                    "when_release_writes runs with a release's upgrades: it needs upstream".into(),
                ));
            }
            if let (Some(r), Some(prev)) = (
                &release,
                migrations
                    .iter()
                    .rev()
                    .find_map(|m| m.release.as_ref().map(|p| (p, m))),
            ) && prev.0 > r
            {
                return Err(bad(format!(
                    "an upgrade of OpenClaw {r} comes after {} (of {}): upgrades run oldest release first, so their versions follow the releases",
                    prev.1.file_name, prev.0
                )));
            }
            migrations.push(Migration {
                file_name: file.to_string(),
                checksum: checksum(&raw),
                steps: expanded(&def.steps),
                def,
                release,
            });
        }
        Ok(Registry { migrations })
    }

    /// The releases whose doctor migrations this binary carries, oldest first.
    pub fn releases(&self) -> Vec<&Release> {
        let mut out: Vec<&Release> = Vec::new();
        for r in self.migrations.iter().filter_map(|m| m.release.as_ref()) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out.sort();
        out
    }

    /// The release `--to` names, which must be one this binary carries (a usage error listing
    /// them otherwise).
    pub fn target(&self, to: &str) -> Result<Release, Error> {
        let carried = self.releases();
        let listed = carried
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        match Release::parse(to) {
            Some(r) if carried.contains(&&r) => Ok(r),
            _ => Err(Error::new(
                Kind::Usage,
                format!(
                    "--to {to}: clawmigrate carries no doctor migrations of OpenClaw {to}; it carries: {listed}"
                ),
            )),
        }
    }

    /// The migrations a run considers: every repair, and with `--to` the upgrades of releases
    /// not newer than it (which of them apply to an install depends on its
    /// `meta.lastTouchedVersion`, see [`Migration::in_window`]), narrowed by `--only` (an
    /// upgrade `--to` does not reach is a usage error there).
    pub fn select_to(&self, only: &[Only], to: Option<&Release>) -> Result<Vec<&Migration>, Error> {
        let reach = |m: &Migration| match (&m.release, to) {
            (None, _) => true,
            (Some(r), Some(t)) => r <= t,
            (Some(_), None) => false,
        };
        let chosen = self.select(only)?;
        if let Some(m) = chosen.iter().find(|m| !only.is_empty() && !reach(m)) {
            let release = m.release.as_ref().expect("only upgrades are out of reach");
            return Err(Error::new(
                Kind::Usage,
                format!(
                    "--only {}: an upgrade to OpenClaw {release}, which runs only with --to {release} (or a later release)",
                    m.id()
                ),
            ));
        }
        Ok(chosen.into_iter().filter(|m| reach(m)).collect())
    }

    /// The upgrades `--to <newest>` would consider (what `status` reports as available).
    pub fn upgrades(&self) -> Vec<&Migration> {
        self.migrations
            .iter()
            .filter(|m| m.release.is_some())
            .collect()
    }

    /// The migrations selected by `--only` (all when empty); an unknown version, or a full id
    /// whose name is not that version's, is an error.
    pub fn select(&self, only: &[Only]) -> Result<Vec<&Migration>, Error> {
        for o in only {
            let Some(m) = self.migrations.iter().find(|m| m.def.version == o.version) else {
                return Err(Error::new(
                    Kind::Usage,
                    format!(
                        "--only {}: no such migration; `clawmigrate list` shows them",
                        o.version
                    ),
                ));
            };
            if let Some(name) = o.name.as_deref().filter(|n| *n != m.def.name) {
                return Err(Error::new(
                    Kind::Usage,
                    format!(
                        "--only V{:04}__{name}: migration V{:04} is {}; `clawmigrate list` shows them",
                        o.version,
                        o.version,
                        m.id()
                    ),
                ));
            }
        }
        Ok(self
            .migrations
            .iter()
            .filter(|m| match only.is_empty() {
                true => !m.def.opt_in,
                false => only.iter().any(|o| o.version == m.def.version),
            })
            .collect())
    }

    /// The opt-in migrations a selection leaves out (what `status` and the dry run report as
    /// available).
    pub fn opt_ins_left_out(&self, selected: &[&Migration]) -> Vec<&Migration> {
        self.migrations
            .iter()
            .filter(|m| m.def.opt_in)
            .filter(|m| !selected.iter().any(|s| s.def.version == m.def.version))
            .collect()
    }

    /// The providers migrations can take an operator's key for (`--key-file PROVIDER=FILE`):
    /// those of `ensure_auth_profile` steps with the `operator` key source.
    pub fn operator_providers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .migrations
            .iter()
            .flat_map(|m| &m.def.steps)
            .filter_map(|s| match s {
                Step::EnsureAuthProfile {
                    provider,
                    key_sources,
                    ..
                } if key_sources.contains(&KeySource::Operator) => Some(provider.as_str()),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"version":1,"name":"a_b","summary":"s","steps":[{"kind":"clean_models_json","regenerated_fields":[],"remove_redundant_blocks":false}]}"#;

    #[test]
    fn embedded_registry_is_valid() {
        let r = Registry::from_sources(embedded::EMBEDDED).unwrap();
        assert!(r.migrations.len() >= 3);
    }

    #[test]
    fn rejects_bad_names_duplicates_and_disorder() {
        assert!(
            Registry::from_sources(&[("V1__a_b.json", OK)])
                .unwrap_err()
                .to_string()
                .contains("four digits")
        );
        assert!(
            Registry::from_sources(&[("V0001_a_b.json", OK)])
                .unwrap_err()
                .to_string()
                .contains("two underscores")
        );
        assert!(
            Registry::from_sources(&[("V0001__A-b.json", OK)])
                .unwrap_err()
                .to_string()
                .contains("snake_case")
        );
        assert!(
            Registry::from_sources(&[("V0002__a_b.json", OK)])
                .unwrap_err()
                .to_string()
                .contains("must match")
        );
        let two = OK.replace("\"version\":1", "\"version\":2");
        assert!(
            Registry::from_sources(&[("V0002__a_b.json", &two), ("V0001__a_b.json", OK)])
                .unwrap_err()
                .to_string()
                .contains("increase")
        );
        assert!(
            Registry::from_sources(&[("V0001__a_b.json", OK), ("V0001__a_b.json", OK)])
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let unknown = OK.replace("clean_models_json", "frobnicate");
        assert!(
            Registry::from_sources(&[("V0001__a_b.json", &unknown)])
                .unwrap_err()
                .to_string()
                .contains("frobnicate")
        );
    }

    #[test]
    fn a_copy_that_would_merge_or_prune_is_refused() {
        for extra in [
            r#""if_target_exists":"merge_missing""#,
            r#""prune_empty_parents":1"#,
        ] {
            let m = format!(
                r#"{{"version":1,"name":"a_b","summary":"s","steps":[{{"kind":"move","from":"a","to":"b","copy":true,{extra}}}]}}"#
            );
            let e = Registry::from_sources(&[("V0001__a_b.json", &m)]).unwrap_err();
            assert!(e.to_string().contains("need a move"), "{e}");
        }
    }

    #[test]
    fn under_prefixes_every_path_of_its_steps_level_by_level() {
        let step: Step = serde_json::from_str(
            r#"{"kind": "under", "prefixes": [["tts", "channels.*.tts"], ["", "personas.*"]],
                "when": [{"path": "channels.*", "key_not_one_of": ["discord"]}],
                "steps": [{"kind": "move", "from": "voice", "to": "speakerVoice",
                           "when": [{"path": "speakerVoice", "exists": false}]}]}"#,
        )
        .unwrap();
        let moves: Vec<(String, String, Vec<String>)> = step
            .expand()
            .unwrap()
            .into_iter()
            .map(|s| match s {
                Step::Move { from, to, when, .. } => (
                    from.to_string(),
                    to.to_string(),
                    when.iter().map(|g| g.path.to_string()).collect(),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        let guards = |p: &str| vec![format!("{p}.speakerVoice"), "channels.*".to_string()];
        assert_eq!(
            moves,
            [
                "tts",
                "tts.personas.*",
                "channels.*.tts",
                "channels.*.tts.personas.*"
            ]
            .map(|p| (format!("{p}.voice"), format!("{p}.speakerVoice"), guards(p)))
        );
        let bad = OK.replace(
            r#"{"kind":"clean_models_json","regenerated_fields":[],"remove_redundant_blocks":false}"#,
            r#"{"kind":"under","prefixes":[["a"]],"steps":[{"kind":"clean_models_json","regenerated_fields":[],"remove_redundant_blocks":false}]}"#,
        );
        let e = Registry::from_sources(&[("V0001__a_b.json", &bad)]).unwrap_err();
        assert!(e.to_string().contains("no path to prefix"), "{e}");
        let empty = bad.replace(r#"[["a"]]"#, "[[\"\"]]");
        let e = Registry::from_sources(&[("V0001__a_b.json", &empty)]).unwrap_err();
        assert!(e.to_string().contains("no prefix"), "{e}");
    }

    #[test]
    fn an_opt_in_migration_runs_only_when_named() {
        let two = OK
            .replace("\"version\":1", "\"version\":2")
            .replace("\"summary\"", "\"opt_in\":true,\"summary\"");
        let three = OK.replace("\"version\":1", "\"version\":3");
        let reg = Registry::from_sources(&[
            ("V0001__a_b.json", OK),
            ("V0002__a_b.json", &two),
            ("V0003__a_b.json", &three),
        ])
        .unwrap();
        let versions = |ms: Vec<&Migration>| ms.iter().map(|m| m.def.version).collect::<Vec<_>>();
        assert_eq!(versions(reg.select(&[]).unwrap()), [1, 3]);
        assert_eq!(versions(reg.select_to(&[], None).unwrap()), [1, 3]);
        let only = |v| Only {
            version: v,
            name: None,
        };
        assert_eq!(versions(reg.select(&[only(2)]).unwrap()), [2]);
        assert_eq!(versions(reg.select(&[only(1), only(2)]).unwrap()), [1, 2]);
        let default = reg.select(&[]).unwrap();
        assert_eq!(versions(reg.opt_ins_left_out(&default)), [2]);
        assert!(
            reg.opt_ins_left_out(&reg.select(&[only(2)]).unwrap())
                .is_empty()
        );
        assert_eq!(reg.migrations[1].kind(), MigrationKind::OptIn);
        assert_eq!(reg.migrations[0].kind(), MigrationKind::Repair);
        // An opt-in migration is a repair: it names no release.
        let upgrade = two.replace(
            "\"steps\"",
            "\"upstream\":{\"openclaw\":\"2026.9.6\",\"ids\":[\"x\"]},\"steps\"",
        );
        let e = Registry::from_sources(&[("V0002__a_b.json", &upgrade)]).unwrap_err();
        assert!(
            e.to_string().contains("opt-in migration is a repair"),
            "{e}"
        );
    }

    #[test]
    fn checksum_ignores_formatting_but_not_content() {
        let a: Value = serde_json::from_str(OK).unwrap();
        let b: Value = serde_json::from_str(&OK.replace(",", " ,\n ")).unwrap();
        assert_eq!(checksum(&a), checksum(&b));
        let c: Value = serde_json::from_str(&OK.replace("\"s\"", "\"t\"")).unwrap();
        assert_ne!(checksum(&a), checksum(&c));
    }
}
