//! Loads an install: its config (and the files it includes) and every agent's auth store (a
//! JSON file or a SQLite cell, by era) and models.json.
use crate::discover::{self, Agent, InstallRoot};
use crate::document::{Document, FileKind, ReadError};
use crate::storage::Store;
use crate::storage::stores::{self, Era};
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
    /// Where its auth profiles live.
    pub era: Era,
    /// Set when the install's layout is not one this tool knows (nothing of it is touched).
    pub unsupported: Option<String>,
    /// How the config pulls in other files (`$include`), whose documents follow the config's.
    pub includes: Option<crate::document::include::Includes>,
}

#[derive(Debug, Clone)]
pub struct LoadedAgent {
    pub agent: Agent,
    /// Its auth store (agents reading one shared store share the document).
    pub auth: usize,
    pub models: usize,
    /// The routing state beside its auth store (`auth-state.json`, or the state cell; absent
    /// in the JSON era, whose store file holds it), shared as the store is.
    pub state: usize,
    /// The store, as the operator knows it (`state/openclaw.sqlite: authProfiles.store`).
    pub store: String,
}

/// The config's index among an install's documents (defined where `$include` numbers them).
pub use crate::document::include::CONFIG;

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
/// will be written), with an error naming the file, the position and what to do. A template
/// is its config and the files it includes: no agents, no stores.
pub fn load(root: &InstallRoot, home: &Path) -> Result<Install, ReadError> {
    if root.template {
        template_file(&root.config_path)?;
    }
    let config = Document::read(&root.config_path, FileKind::Config, None).map_err(|e| {
        match e.kind {
            // A template has no `.bak` beside it: its history is in git.
            crate::error::Kind::Parse if root.template && e.hint.contains(".bak") => ReadError {
                hint: "fix the JSON5 syntax at that position (`git diff` shows what changed), then run clawmigrate again".into(),
                ..e
            },
            _ => e,
        }
    })?;
    let included = crate::document::include::load(&config)?;
    let merged = included.as_ref().map_or(&config.value, |(_, i)| &i.merged);
    let (agents, default_agent) = if root.template {
        (Vec::new(), discover::default_agent_id(merged))
    } else {
        discover::agents(root, merged, home)
    };
    let mut docs = vec![config];
    let includes = included.map(|(files, i)| {
        docs.extend(files);
        i
    });
    let mut install = Install {
        root: root.clone(),
        docs: Vec::new(),
        agents: Vec::new(),
        default_agent,
        era: Era::Json,
        unsupported: None,
        includes,
    };
    if root.template {
        install.docs = docs;
        return Ok(install);
    }
    // Each database is opened once: the state database is asked for its layout, then read.
    let mut dbs = crate::storage::cell::Databases::default();
    let layout = match stores::layout(root, &agents, &install.default_agent, &mut dbs) {
        Ok(l) => l,
        Err(e) if e.what.kind() == crate::error::Kind::Unsupported => {
            install.unsupported = Some(e.to_string());
            install.docs = docs;
            return Ok(install);
        }
        Err(e) => {
            return Err(ReadError {
                kind: e.what.kind(),
                ..ReadError::new(
                    &e.db,
                    e.what.to_string(),
                    "check the state database (its permissions, and that no other program holds it); nothing of this install was written",
                )
            });
        }
    };
    install.era = layout.era;
    let mut opened: Vec<(Store, usize)> = Vec::new();
    // Each store (and state) is read once, however many agents share it.
    let mut open = |store: &Store,
                    kind: FileKind,
                    id: &Option<String>,
                    docs: &mut Vec<Document>| {
        if let Some((_, i)) = opened.iter().find(|(s, _)| s == store) {
            return Ok(*i);
        }
        docs.push(match store {
            Store::File(p) => Document::read(p, kind, id.clone())?,
            Store::Cell(db, c) => Document::read_cell(db, c.clone(), kind, id.clone(), &mut dbs)?,
        });
        opened.push((store.clone(), docs.len() - 1));
        Ok::<usize, ReadError>(docs.len() - 1)
    };
    for (agent, store) in agents.into_iter().zip(layout.stores) {
        let id = Some(agent.id.clone());
        let auth = open(&store, FileKind::AuthProfiles, &id, &mut docs)?;
        let state_store = store
            .state()
            .expect("every auth store has a state beside it");
        docs.push(Document::read(
            &agent.dir.join("models.json"),
            FileKind::Models,
            id.clone(),
        )?);
        let models = docs.len() - 1;
        let state = open(&state_store, FileKind::AuthState, &id, &mut docs)?;
        install.agents.push(LoadedAgent {
            store: store.name(&root.state_dir),
            agent,
            auth,
            models,
            state,
        });
    }
    install.docs = docs;
    Ok(install)
}

/// Refuses a template named with `--config` that is not there or not a file, naming it (a
/// missing install config reads as absent; a missing template is a mistyped path).
fn template_file(path: &Path) -> Result<(), ReadError> {
    let not = |message: &str, hint: &str, kind| ReadError {
        kind,
        ..ReadError::new(path, message, hint)
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(not(
            "a directory, not a config file",
            "--config takes config files (openclaw.json or a template of it); for an install's folder use --state-dir DIR",
            crate::error::Kind::Usage,
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not(
            "no such file",
            "check the path given to --config",
            crate::error::Kind::NotFound,
        )),
        Err(e) => Err(not(
            &format!("cannot read: {e}"),
            "give the user running clawmigrate read access to it",
            crate::error::Kind::of_io(&e),
        )),
    }
}

#[cfg(test)]
impl Install {
    /// A small install for unit tests, built from texts rather than read from disk: the config
    /// (its `$include`s read relative to `state_dir`, which need not exist otherwise) and, by
    /// agent id, its auth store and models.json (`None`: the file does not exist). The agents
    /// are those the config lists (`main` when none), each with a store of its own.
    pub(crate) fn in_memory(
        state_dir: &Path,
        config: &str,
        files: &[(&str, Option<&str>, Option<&str>)],
    ) -> Install {
        let root = InstallRoot {
            state_dir: state_dir.to_path_buf(),
            config_path: state_dir.join("openclaw.json"),
            template: false,
        };
        let doc = |path: &Path, kind: FileKind, agent: &str, text: Option<&str>| match text {
            Some(t) => Document::from_bytes(path, kind, Some(agent.into()), t.into()),
            None => Document::read(path, kind, Some(agent.into())),
        };
        let config = Document::from_bytes(&root.config_path, FileKind::Config, None, config.into())
            .expect("the test config parses");
        let included = crate::document::include::load(&config).expect("the includes load");
        let merged = included.as_ref().map_or(&config.value, |(_, i)| &i.merged);
        let (agents, default_agent) = discover::agents(&root, merged, Path::new("/"));
        let mut docs = vec![config];
        let includes = included.map(|(files, i)| {
            docs.extend(files);
            i
        });
        let mut loaded = Vec::new();
        for agent in agents {
            let (_, auth, models) = files
                .iter()
                .find(|(id, ..)| *id == agent.id)
                .copied()
                .unwrap_or((&agent.id, None, None));
            let store = Store::File(agent.dir.join("auth-profiles.json"));
            let id = agent.id.clone();
            docs.push(doc(store.path(), FileKind::AuthProfiles, &id, auth).expect("auth parses"));
            let models_path = agent.dir.join("models.json");
            docs.push(doc(&models_path, FileKind::Models, &id, models).expect("models parses"));
            let state_path = agent.dir.join("auth-state.json");
            docs.push(doc(&state_path, FileKind::AuthState, &id, None).expect("no state"));
            loaded.push(LoadedAgent {
                store: store.name(state_dir),
                agent,
                auth: docs.len() - 3,
                models: docs.len() - 2,
                state: docs.len() - 1,
            });
        }
        Install {
            root,
            docs,
            agents: loaded,
            default_agent,
            era: Era::Json,
            unsupported: None,
            includes,
        }
    }

    /// The same install with document `doc` holding `text` (an agent's `auth-state.json`, say).
    pub(crate) fn with_text(mut self, doc: usize, text: &str) -> Install {
        let d = &self.docs[doc];
        self.docs[doc] = Document::from_bytes(d.path(), d.kind, d.agent.clone(), text.into())
            .expect("the test document parses");
        self
    }
}
