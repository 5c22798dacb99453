//! Loads an install: its config (and the files it includes) and every agent's auth-profiles.json
//! and models.json.
use crate::discover::{self, Agent, InstallRoot};
use crate::document::{Document, FileKind, ReadError};
use std::path::Path;

/// The files of one install as read from disk.
#[derive(Debug, Clone)]
pub struct Install {
    pub root: InstallRoot,
    /// Every document: the config first, then the files it includes, then per agent its auth
    /// profiles and models.
    pub docs: Vec<Document>,
    pub agents: Vec<LoadedAgent>,
    pub default_agent: String,
    /// Set when the install is of an era this tool must not touch.
    pub unsupported: Option<String>,
    /// How the config pulls in other files (`$include`), whose documents follow the config's.
    pub includes: Option<crate::include::Includes>,
}

#[derive(Debug, Clone)]
pub struct LoadedAgent {
    pub agent: Agent,
    pub auth: usize,
    pub models: usize,
}

pub const CONFIG: usize = 0;

impl Install {
    pub fn config(&self) -> &Document {
        &self.docs[CONFIG]
    }

    /// The config as OpenClaw sees it: with every `$include` resolved.
    pub fn config_value(&self) -> &serde_json::Value {
        self.includes
            .as_ref()
            .map_or(&self.config().value, |i| &i.merged)
    }

    pub fn agent(&self, id: &str) -> Option<&LoadedAgent> {
        self.agents.iter().find(|a| a.agent.id == id)
    }
}

/// Reads every file of the install. Any unreadable file fails the whole install (nothing of it
/// will be written), with an error naming the file, the position and what to do.
pub fn load(root: &InstallRoot, home: &Path) -> Result<Install, ReadError> {
    let config = Document::read(&root.config_path, FileKind::Config, None)?;
    let included = crate::include::load(&config)?;
    let merged = included.as_ref().map_or(&config.value, |(_, i)| &i.merged);
    let (agents, default_agent) = discover::agents(root, merged, home);
    let mut docs = vec![config];
    let includes = included.map(|(files, i)| {
        docs.extend(files);
        i
    });
    let mut loaded = Vec::new();
    let unsupported = discover::unsupported_reason(root, &agents);
    if unsupported.is_none() {
        for agent in agents {
            let auth = Document::read(
                &agent.dir.join("auth-profiles.json"),
                FileKind::AuthProfiles,
                Some(agent.id.clone()),
            )?;
            let models = Document::read(
                &agent.dir.join("models.json"),
                FileKind::Models,
                Some(agent.id.clone()),
            )?;
            docs.push(auth);
            docs.push(models);
            loaded.push(LoadedAgent {
                agent,
                auth: docs.len() - 2,
                models: docs.len() - 1,
            });
        }
    }
    Ok(Install {
        root: root.clone(),
        docs,
        agents: loaded,
        default_agent,
        unsupported,
        includes,
    })
}
