//! Where a file is, as this tool records it: relative to the install root, never to the working
//! directory, and resolved back against that root with every recorded path treated as hostile.
//!
//! Three forms:
//! - `agents/main/agent/models.json`: a path inside the state dir (plain components only);
//! - `@config`: the install's config file, wherever OpenClaw resolves it;
//! - `@agent/<id>/<file>`: a file in an agent's dir that `agents.list[].agentDir` puts outside the
//!   state dir, resolved again through the install's config, as OpenClaw itself does.
use crate::discover::{self, InstallRoot};
use crate::error::{Error, Kind};
use std::path::{Component, Path, PathBuf};

const CONFIG: &str = "@config";
const AGENT: &str = "@agent/";

/// A path made only of plain names (no `..`, no root, no `.`), as every recorded path must be.
fn plain(rel: &Path) -> bool {
    rel.components().next().is_some() && rel.components().all(|c| matches!(c, Component::Normal(_)))
}

/// One plain file name, as an agent file or a backup copy is named.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && plain(Path::new(name)) && !name.contains('/')
}

/// The location to record for `path`, a file of the install `root` (of agent `agent`, if any).
pub fn record(root: &InstallRoot, path: &Path, agent: Option<&str>) -> Result<String, Error> {
    if let Ok(rel) = path.strip_prefix(&root.state_dir)
        && plain(rel)
        && let Some(s) = rel.to_str()
    {
        return Ok(s.to_string());
    }
    if path == root.config_path {
        return Ok(CONFIG.into());
    }
    if let (Some(id), Some(name)) = (agent, path.file_name().and_then(|n| n.to_str())) {
        return Ok(format!("{AGENT}{id}/{name}"));
    }
    Err(Error::new(
        Kind::Confinement,
        format!(
            "{}: lies outside the install {} and belongs to no agent; clawmigrate records only files of the install",
            path.display(),
            root.state_dir.display()
        ),
    ))
}

/// Resolves a recorded location against its install. `agent_dir` finds an agent's dir the way
/// OpenClaw does (through the config). Refuses anything that would leave the install.
pub fn resolve(
    root: &InstallRoot,
    loc: &str,
    agent_dir: &mut dyn FnMut(&str) -> Option<PathBuf>,
) -> Result<PathBuf, Error> {
    let refuse = |why: &str| {
        Err(Error::new(
            Kind::Confinement,
            format!(
                "{}: the ledger records the path {loc:?}, which {why}; clawmigrate will not follow it. Check the install's .clawmigrate folder for tampering",
                root.state_dir.display()
            ),
        ))
    };
    if loc == CONFIG {
        return Ok(root.config_path.clone());
    }
    if let Some(rest) = loc.strip_prefix(AGENT) {
        let Some((id, name)) = rest.split_once('/') else {
            return refuse("names no agent file");
        };
        if discover::normalize_agent_id(id) != id || !plain_name(name) {
            return refuse("is not an agent file");
        }
        return match agent_dir(id) {
            Some(dir) => Ok(dir.join(name)),
            None => refuse("names an agent the install's config no longer has"),
        };
    }
    if !plain(Path::new(loc)) {
        return refuse("is not a plain path inside the install");
    }
    if let Some(link) = foreign_link(&root.state_dir, Path::new(loc)) {
        return refuse(&format!(
            "passes through the link {}, which leads to files its owner does not own",
            link.display()
        ));
    }
    Ok(root.state_dir.join(loc))
}

/// The first folder on the way to `rel` that is a symbolic link to something the install's
/// owner does not own. A link the owner made to their own files (as OpenClaw would follow) is
/// fine; one planted towards someone else's is not.
fn foreign_link(state_dir: &Path, rel: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(state_dir).ok()?.uid();
    let mut at = state_dir.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        at.push(part);
        let is_link = std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink());
        if is_link && std::fs::metadata(&at).map_or(true, |m| m.uid() != owner) {
            return Some(at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> InstallRoot {
        InstallRoot {
            state_dir: "/srv/st".into(),
            config_path: "/etc/oc/openclaw.json".into(),
            template: false,
        }
    }

    #[test]
    fn records_relative_to_the_root_and_resolves_back() {
        let r = root();
        let p = Path::new("/srv/st/agents/main/agent/models.json");
        let loc = record(&r, p, Some("main")).unwrap();
        assert_eq!(loc, "agents/main/agent/models.json");
        assert_eq!(resolve(&r, &loc, &mut |_| None).unwrap(), p);
        assert_eq!(record(&r, &r.config_path, None).unwrap(), "@config");
        let out = Path::new("/elsewhere/cn/models.json");
        let loc = record(&r, out, Some("cn")).unwrap();
        assert_eq!(loc, "@agent/cn/models.json");
        let found = resolve(&r, &loc, &mut |id| {
            (id == "cn").then(|| PathBuf::from("/elsewhere/cn"))
        });
        assert_eq!(found.unwrap(), out);
    }

    #[test]
    fn hostile_locations_are_refused() {
        let r = root();
        for bad in [
            "/etc/passwd",
            "../other/openclaw.json",
            "agents/../../x",
            "./x",
            "",
            "@agent/main/../../x",
            "@agent/../models.json",
            "@agent/main/.ssh",
        ] {
            assert!(
                resolve(&r, bad, &mut |_| Some("/srv/st/a".into())).is_err(),
                "{bad:?} was accepted"
            );
        }
        assert!(record(&r, Path::new("/srv/st/../x/y"), None).is_err());
    }
}
