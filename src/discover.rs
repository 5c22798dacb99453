//! Finds installs (state dir + config file) the way OpenClaw resolves them, and the agents of each.
use crate::error::Kind;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Config file names, current first, then the legacy ones OpenClaw still reads.
pub const CONFIG_NAMES: [&str; 4] = [
    "openclaw.json",
    "clawdbot.json",
    "moldbot.json",
    "moltbot.json",
];
const STATE_DIR_NAMES: [&str; 4] = [".openclaw", ".clawdbot", ".moldbot", ".moltbot"];

/// How many levels below a `--fleet` directory installs are looked for, unless told.
pub const DEFAULT_FLEET_DEPTH: usize = 4;

/// What the operator asked to migrate.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub state_dirs: Vec<PathBuf>,
    pub fleets: Vec<PathBuf>,
    pub fleet_depth: usize,
    pub profile: Option<String>,
    /// A `--fleet` holding no install is fine (otherwise it is an error: a mistyped or
    /// unmounted path must not pass as "0 installs").
    pub allow_empty: bool,
    /// Config files named with `migrate --config`: templates (see [`InstallRoot::template`]).
    pub configs: Vec<PathBuf>,
}

impl Target {
    /// No target named: the install OpenClaw itself would use (read from the environment).
    pub fn is_default(&self) -> bool {
        self.state_dirs.is_empty() && self.fleets.is_empty() && self.configs.is_empty()
    }
}

/// One install: a state dir and the config file OpenClaw reads for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InstallRoot {
    pub state_dir: PathBuf,
    /// The config file, which exists: a directory without one is not an install.
    pub config_path: PathBuf,
    /// A config template (`migrate --config FILE`, say one kept in git): an install with no
    /// agents, whose state dir is only the folder its file is in (its names are relative to it,
    /// and no change may leave it). Nothing of this tool is kept beside it: no ledger, no
    /// backups, no lock; git holds its history.
    pub template: bool,
}

impl InstallRoot {
    /// The template `file` (see [`InstallRoot::template`]): whether it exists and is a file is
    /// found out when it is loaded, so the error names it like any other unreadable config.
    pub fn template(file: &Path) -> InstallRoot {
        InstallRoot {
            state_dir: crate::fsio::dir_of(file).to_path_buf(),
            config_path: file.to_path_buf(),
            template: true,
        }
    }

    /// The path that names this install to the operator: its state dir, or a template's file.
    pub fn shown_path(&self) -> &Path {
        if self.template {
            &self.config_path
        } else {
            &self.state_dir
        }
    }

    /// The install whose state dir is `dir`, with the config OpenClaw reads there; an error
    /// naming `dir` when it is not a directory or holds no config, ending with `hint` (what to do).
    pub fn at(dir: &Path, hint: &str) -> Result<InstallRoot, TargetError> {
        let fail = |why: String| TargetError {
            target: dir.display().to_string(),
            kind: Kind::NotFound,
            message: format!("{why}; {hint}"),
        };
        if let Some(why) = not_a_dir(dir) {
            return Err(fail(why.into()));
        }
        let config_path = existing_config(dir).ok_or_else(|| {
            fail(format!(
                "not an OpenClaw install: it holds no config ({})",
                CONFIG_NAMES.join(", ")
            ))
        })?;
        Ok(InstallRoot {
            state_dir: dir.to_path_buf(),
            config_path,
            template: false,
        })
    }
}

/// An agent and the directory holding its `auth-profiles.json` and `models.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: String,
    pub dir: PathBuf,
    /// Listed in `agents.list[]` (or the implicit `main`), as opposed to found only by the scan.
    pub listed: bool,
    /// Where its entry is in the config: `["agents", "list", "1"]` (up to 2026.5) or
    /// `["agents", "entries", "<id>"]` (2026.6+), when it has one.
    pub entry: Option<Vec<String>>,
}

/// Reads an environment variable (injected so tests and fleet runs need no process env).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A target that could not be resolved to an install.
#[derive(Debug, Clone)]
pub struct TargetError {
    pub target: String,
    pub kind: crate::error::Kind,
    pub message: String,
}

pub fn home_dir(env: Env) -> PathBuf {
    if let Some(h) = env("OPENCLAW_HOME").filter(|s| !s.is_empty()) {
        let base = env("HOME").map(PathBuf::from).unwrap_or_default();
        return expand_tilde(&h, &base);
    }
    env("HOME")
        .or_else(|| env("USERPROFILE"))
        .map(PathBuf::from)
        // Without HOME (cron, systemd): the user's home from passwd, never the working directory.
        .or_else(crate::owner::own_home)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// A path OpenClaw takes from its environment, resolved as it resolves it (`path.resolve`): once,
/// here, so nothing recorded later depends on the working directory.
fn from_env(p: &str, home: &Path) -> PathBuf {
    let p = expand_tilde(p, home);
    std::path::absolute(&p).unwrap_or(p)
}

/// Expands a leading `~` against `home`.
pub fn expand_tilde(p: &str, home: &Path) -> PathBuf {
    if p == "~" {
        home.to_path_buf()
    } else if let Some(rest) = p.strip_prefix("~/") {
        home.join(rest)
    } else {
        PathBuf::from(p)
    }
}

/// The first config file that exists in `dir`, if any.
/// Anything but a directory counts (a FIFO or device too), so such a config is reported when it
/// is read, never silently skipped.
fn existing_config(dir: &Path) -> Option<PathBuf> {
    CONFIG_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| !m.is_dir()))
}

/// The install OpenClaw itself would use (`src/config/paths.ts`), honouring `--profile`.
pub fn default_install(profile: Option<&str>, env: Env) -> Result<InstallRoot, TargetError> {
    let home = home_dir(env);
    let env_state = env("OPENCLAW_STATE_DIR")
        .or_else(|| env("CLAWDBOT_STATE_DIR"))
        .filter(|s| !s.is_empty());
    let env_config = env("OPENCLAW_CONFIG_PATH")
        .or_else(|| env("CLAWDBOT_CONFIG_PATH"))
        .filter(|s| !s.is_empty());
    let profile = profile.filter(|p| *p != "default");
    if let Some(p) = profile
        && !p
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(TargetError {
            target: format!("--profile {p}"),
            kind: Kind::Usage,
            message: "profile names may hold only letters, digits, '_' and '-'".into(),
        });
    }
    let state_dir = match (&env_state, profile) {
        (Some(s), _) => from_env(s, &home),
        (None, Some(p)) => home.join(format!(".openclaw-{p}")),
        (None, None) => STATE_DIR_NAMES
            .iter()
            .map(|n| home.join(n))
            .find(|d| d.is_dir())
            .unwrap_or_else(|| home.join(STATE_DIR_NAMES[0])),
    };
    let config_path = match (&env_config, profile, &env_state) {
        (Some(c), _, _) => from_env(c, &home),
        (None, Some(_), None) => state_dir.join(CONFIG_NAMES[0]),
        _ => {
            let mut candidates = Vec::new();
            if env_state.is_some() {
                candidates.extend(CONFIG_NAMES.iter().map(|n| state_dir.join(n)));
            }
            for d in STATE_DIR_NAMES {
                candidates.extend(CONFIG_NAMES.iter().map(|n| home.join(d).join(n)));
            }
            candidates
                .into_iter()
                .find(|p| p.is_file())
                .unwrap_or_else(|| state_dir.join(CONFIG_NAMES[0]))
        }
    };
    if !state_dir.is_dir() && !config_path.is_file() {
        return Err(TargetError {
            target: state_dir.display().to_string(),
            kind: Kind::NotFound,
            message: "no OpenClaw install here; pass --state-dir DIR or --fleet DIR, or set OPENCLAW_STATE_DIR".into(),
        });
    }
    if !config_path.is_file() {
        return Err(TargetError {
            target: config_path.display().to_string(),
            kind: Kind::NotFound,
            message: "no such config, so there is no install to migrate; pass --state-dir DIR or --fleet DIR, or set OPENCLAW_STATE_DIR or OPENCLAW_CONFIG_PATH".into(),
        });
    }
    Ok(InstallRoot {
        state_dir,
        config_path,
        template: false,
    })
}

/// An explicit `--state-dir`.
pub fn state_dir_install(dir: &Path) -> Result<InstallRoot, TargetError> {
    InstallRoot::at(
        dir,
        "check the --state-dir path (the directory holding openclaw.json), or use --fleet DIR for a tree of installs",
    )
}

/// Why `dir` cannot be a target directory: it does not exist, or is something else.
fn not_a_dir(dir: &Path) -> Option<&'static str> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => None,
        Ok(_) => Some("not a directory"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("does not exist"),
        Err(_) => Some("not a directory that can be read"),
    }
}

/// A `--fleet` directory below which the walk found no install (and no part it could not read):
/// an error unless the operator allowed it (`--allow-empty`), so a mistyped or unmounted path
/// does not pass a monitor as "0 installs".
pub fn empty_fleet(dir: &Path, depth: usize) -> TargetError {
    TargetError {
        target: dir.display().to_string(),
        kind: Kind::NotFound,
        message: format!(
            "no OpenClaw install found in it or up to {depth} levels below (a directory holding {}); check the --fleet path and --fleet-depth, or pass --allow-empty if it may hold none",
            CONFIG_NAMES.join(", ")
        ),
    }
}

/// What a fleet walk hands on: an install, or a part of the tree it could not search.
pub type Found = Result<InstallRoot, TargetError>;

/// Every install below `dir` (a directory holding a config file), at most `depth` levels down;
/// the walk does not descend into an install once found, nor into `node_modules` or `.git`.
/// Symlinks are followed (OpenClaw follows them too). Each install is handed to `found` as soon
/// as it is seen, in a stable order; so is every directory the walk could not read and every
/// symlink loop, as an error naming it, so no install silently drops out of the count.
pub fn fleet_walk(dir: &Path, depth: usize, found: &mut dyn FnMut(Found)) {
    if let Some(why) = not_a_dir(dir) {
        return found(Err(TargetError {
            target: dir.display().to_string(),
            kind: Kind::NotFound,
            message: format!("{why}; check the --fleet path"),
        }));
    }
    let mut walk = walkdir::WalkDir::new(dir)
        .max_depth(depth)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walk.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                found(Err(walk_error(&e, dir)));
                continue;
            }
        };
        if !entry.file_type().is_dir() {
            continue;
        }
        if let Some(e) = foreign_link(&entry) {
            found(Err(e));
            walk.skip_current_dir();
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if entry.depth() > 0 && (name == "node_modules" || name == ".git" || name == ".clawmigrate")
        {
            walk.skip_current_dir();
            continue;
        }
        if let Some(config_path) = existing_config(entry.path()) {
            found(Ok(InstallRoot {
                state_dir: entry.path().to_path_buf(),
                config_path,
                template: false,
            }));
            walk.skip_current_dir();
        }
    }
}

/// A link in the fleet to a folder its owner does not own (say a user's link to another user's
/// home, or to root's): not followed out of the fleet, but reported, so nothing drops silently.
fn foreign_link(entry: &walkdir::DirEntry) -> Option<TargetError> {
    use std::os::unix::fs::MetadataExt;
    if !entry.path_is_symlink() {
        return None;
    }
    let link = std::fs::symlink_metadata(entry.path()).ok()?.uid();
    let target = std::fs::metadata(entry.path()).ok()?.uid();
    (link != target).then(|| TargetError {
        target: entry.path().display().to_string(),
        kind: Kind::Confinement,
        message: format!(
            "a link owned by uid {link} to a folder owned by uid {target}; clawmigrate does not follow a link to someone else's files. Name the target with --state-dir to migrate it"
        ),
    })
}

/// A fleet walk error as a failed target naming the path and what to do.
fn walk_error(e: &walkdir::Error, fleet: &Path) -> TargetError {
    let target = e.path().unwrap_or(fleet).display().to_string();
    let kind = match e.io_error() {
        _ if e.loop_ancestor().is_some() => Kind::Io,
        Some(io) => Kind::of_io(io),
        None => Kind::Io,
    };
    let message = if let Some(ancestor) = e.loop_ancestor() {
        format!(
            "a symlink loop back to {}; nothing below it was searched: remove the link, or point --fleet below it",
            ancestor.display()
        )
    } else if e
        .io_error()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
    {
        "a symlink whose target does not exist; an install it named is missing: fix or remove the link".into()
    } else {
        let why = e
            .io_error()
            .map_or_else(|| e.to_string(), ToString::to_string);
        format!(
            "cannot search this part of the fleet ({why}), so installs below it were not found: give the user running clawmigrate read access, or move it out of the fleet"
        )
    };
    TargetError {
        target,
        kind,
        message,
    }
}

/// The installs named directly: each `--state-dir`, each `--config` template, or the default
/// install when no target is given. Fleets are walked separately ([`fleet_walk`]), so planning
/// can start while they are.
pub fn direct_installs(target: &Target, env: Env) -> (Vec<InstallRoot>, Vec<TargetError>) {
    let (mut roots, mut errors) = (Vec::new(), Vec::new());
    for d in &target.state_dirs {
        match state_dir_install(d) {
            Ok(r) => roots.push(r),
            Err(e) => errors.push(e),
        }
    }
    roots.extend(target.configs.iter().map(|f| InstallRoot::template(f)));
    if target.is_default() {
        match default_install(target.profile.as_deref(), env) {
            Ok(r) => roots.push(r),
            Err(e) => errors.push(e),
        }
    }
    (roots, errors)
}

/// A filter that drops an install already seen: the same directory reached twice (through a
/// symlink, or under two targets) is one install, handled once, under the first path found; so
/// is a template file named twice (templates in one folder are each their own).
///
/// A directory is known by its device and inode: one `stat`, where resolving its real path
/// would read every link on the way (every install of a fleet passes here).
pub fn dedup() -> impl FnMut(&InstallRoot) -> bool {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    move |r| match std::fs::metadata(if r.template {
        &r.config_path
    } else {
        &r.state_dir
    }) {
        Ok(m) => seen.insert((m.dev(), m.ino())),
        // Not there: its load reports it.
        Err(_) => true,
    }
}

/// OpenClaw's agent id normalisation: lower case, `[a-z0-9_-]`, at most 64 characters.
pub fn normalize_agent_id(id: &str) -> String {
    let s: String = id
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').chars().take(64).collect::<String>();
    if s.is_empty() { "main".into() } else { s }
}

/// One configured agent: its id, its entry's place in the config, the entry itself.
fn configured(config: &Value) -> Vec<(String, Vec<String>, &Value)> {
    let mut out = Vec::new();
    if let Some(list) = config.pointer("/agents/list").and_then(Value::as_array) {
        for (i, entry) in list.iter().enumerate() {
            if let Some(raw) = entry.get("id").and_then(Value::as_str) {
                let at = vec!["agents".into(), "list".into(), i.to_string()];
                out.push((normalize_agent_id(raw), at, entry));
            }
        }
    }
    // OpenClaw 2026.6+ keys the agents by id (`doctor --fix` rewrites `list` into this).
    if let Some(entries) = config.pointer("/agents/entries").and_then(Value::as_object) {
        for (id, entry) in entries {
            let at = vec!["agents".into(), "entries".into(), id.clone()];
            out.push((normalize_agent_id(id), at, entry));
        }
    }
    out
}

/// The default agent's id: `agents.defaults.systemAgent.agentId`, else the configured entry
/// marked `default`, else the first configured, else `main`.
pub fn default_agent_id(config: &Value) -> String {
    let configured = configured(config);
    let marked = || {
        configured
            .iter()
            .find(|(_, _, e)| e.get("default").and_then(Value::as_bool) == Some(true))
    };
    config
        .pointer("/agents/defaults/systemAgent/agentId")
        .and_then(Value::as_str)
        .map(normalize_agent_id)
        .or_else(|| marked().or(configured.first()).map(|(id, ..)| id.clone()))
        .unwrap_or_else(|| "main".into())
}

/// The agents of an install: the configured ones (`agents.list[]` or `agents.entries`,
/// honouring `agentDir`) plus a scan of `agents/*/agent/`. Returns the agents and the id of the
/// default agent.
pub fn agents(root: &InstallRoot, config: &Value, home: &Path) -> (Vec<Agent>, String) {
    let agents_dir = root.state_dir.join("agents");
    let mut out: Vec<Agent> = Vec::new();
    let default = default_agent_id(config);
    for (id, at, entry) in configured(config) {
        let dir = match entry.get("agentDir").and_then(Value::as_str) {
            Some(d) => {
                let p = expand_tilde(d, home);
                if p.is_relative() {
                    root.state_dir.join(p)
                } else {
                    p
                }
            }
            None => agents_dir.join(&id).join("agent"),
        };
        if !out.iter().any(|a| a.id == id) {
            out.push(Agent {
                id,
                dir,
                listed: true,
                entry: Some(at),
            });
        }
    }
    if out.is_empty() {
        out.push(Agent {
            id: "main".into(),
            dir: agents_dir.join("main").join("agent"),
            listed: true,
            entry: None,
        });
    }
    if let Ok(rd) = std::fs::read_dir(&agents_dir) {
        let mut scanned: Vec<_> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("agent").is_dir())
            .collect();
        scanned.sort_by_key(|e| e.file_name());
        // Listed agents at a custom agentDir may still live under agents/: compare real paths,
        // resolving each only once.
        let custom: Vec<PathBuf> = out
            .iter()
            .filter(|a| a.dir != agents_dir.join(&a.id).join("agent"))
            .filter_map(|a| std::fs::canonicalize(&a.dir).ok())
            .collect();
        for e in scanned {
            let dir = e.path().join("agent");
            let id = e.file_name().to_string_lossy().into_owned();
            if out.iter().any(|a| a.id == id || a.dir == dir) {
                continue;
            }
            if !custom.is_empty() && std::fs::canonicalize(&dir).is_ok_and(|c| custom.contains(&c))
            {
                continue;
            }
            out.push(Agent {
                id,
                dir,
                listed: false,
                entry: None,
            });
        }
    }
    (out, default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids_are_normalised() {
        assert_eq!(normalize_agent_id(" Coder Bot "), "coder-bot");
        assert_eq!(normalize_agent_id("minimax-cn"), "minimax-cn");
        assert_eq!(normalize_agent_id("///"), "main");
    }

    #[test]
    fn nothing_defaults_to_the_working_directory() {
        // No HOME (cron, systemd): passwd's home, not ".".
        let none = |_: &str| None;
        let home = home_dir(&none);
        assert!(home.is_absolute(), "{}", home.display());
        assert_eq!(Some(home), crate::owner::own_home());
        // A relative OPENCLAW_STATE_DIR is resolved once, as OpenClaw resolves it.
        let env = |k: &str| (k == "OPENCLAW_STATE_DIR").then(|| "rel/st".to_string());
        // (There is no install there: the error names where it looked, made absolute.)
        let looked = match default_install(None, &env) {
            Ok(root) => root.state_dir,
            Err(e) => PathBuf::from(e.target),
        };
        assert!(looked.is_absolute(), "{}", looked.display());
        assert!(looked.ends_with("rel/st"));
    }

    #[test]
    fn profile_names_are_checked() {
        let env = |_: &str| None;
        assert!(default_install(Some("../x"), &env).is_err());
    }
}
