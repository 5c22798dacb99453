//! Migration definitions: the data files of `migrations/`, their checksums and the registry.
use crate::document::{FileKind, sha256_hex};
use crate::error::{Error, Kind};
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
    pub steps: Vec<Step>,
}

/// A validated migration.
#[derive(Debug, Clone)]
pub struct Migration {
    pub file_name: String,
    pub def: MigrationFile,
    /// `sha256:` over the canonical form (sorted keys, no whitespace).
    pub checksum: String,
}

impl Migration {
    /// `V0001`, the tag ops carry.
    pub fn tag(&self) -> String {
        format!("V{:04}", self.def.version)
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
            migrations.push(Migration {
                file_name: file.to_string(),
                checksum: checksum(&raw),
                def,
            });
        }
        Ok(Registry { migrations })
    }

    /// The migrations selected by `--only` (all when empty); an unknown version, or a full id
    /// whose name is not that version's, is an error.
    pub fn select(&self, only: &[crate::cli::Only]) -> Result<Vec<&Migration>, Error> {
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
            .filter(|m| only.is_empty() || only.iter().any(|o| o.version == m.def.version))
            .collect())
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
    fn checksum_ignores_formatting_but_not_content() {
        let a: Value = serde_json::from_str(OK).unwrap();
        let b: Value = serde_json::from_str(&OK.replace(",", " ,\n ")).unwrap();
        assert_eq!(checksum(&a), checksum(&b));
        let c: Value = serde_json::from_str(&OK.replace("\"s\"", "\"t\"")).unwrap();
        assert_ne!(checksum(&a), checksum(&c));
    }
}
