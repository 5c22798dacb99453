//! Step `rename_provider`: moves an install from one provider id to another, as upstream's
//! unification of `minimax-cn` into `minimax` (profile `minimax:cn`) asks: the provider blocks
//! (config and every models.json, pointed at the right host), the profiles (config metadata,
//! every auth store and the routing state beside it, in every era) and every model ref. Where
//! the new names are already taken by other values it plans nothing and reports a conflict:
//! another setup of the target provider is never merged into the moved one.
use super::provider_refs::{self, model_of};
use super::rewrite_host::swap_host;
use super::{agent_uses, profile_secret};
use crate::document::patch::{AtPath, pointer};
use crate::load::CONFIG;
use crate::migration::BaseUrlRule;
use crate::plan::workspace::{FindingKind, StepError, Workspace};
use crate::secrets::mask;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub struct Params<'a> {
    pub from: &'a str,
    pub to: &'a str,
    /// Old profile id → new profile id.
    pub profiles: &'a BTreeMap<String, String>,
    pub base_url: &'a BaseUrlRule,
    pub pin_order: bool,
}

/// One change, applied in the order planned (each path valid at its turn).
enum Edit {
    Rename(usize, Vec<String>, Vec<String>),
    Replace(usize, Vec<String>, Value),
    Remove(usize, Vec<String>),
    Add(usize, Vec<String>, Value),
}

/// A reason the move cannot be made on this install.
struct Conflict {
    agent: Option<String>,
    message: String,
}

/// What the step found and plans, before anything is emitted.
struct Planner<'p, 'w, 'a> {
    p: &'p Params<'p>,
    ws: &'w Workspace<'a>,
    edits: Vec<Edit>,
    conflicts: Vec<Conflict>,
    /// Something of the old provider is there (else the step has nothing to do).
    found: bool,
    /// The new ids of the profiles moved, in the order met.
    moved: Vec<String>,
    /// Profiles of the target provider that were there before (another account).
    others: Vec<String>,
    /// What the operator should know of the move (by agent, for a store's).
    notes: Vec<(Option<String>, String)>,
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

fn toks(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn child(at: &[String], key: &str) -> Vec<String> {
    let mut v = at.to_vec();
    v.push(key.to_string());
    v
}

impl<'p, 'w, 'a> Planner<'p, 'w, 'a> {
    fn name(&self, doc: usize) -> String {
        let install = self.ws.install;
        if doc == CONFIG {
            return "openclaw.json".into();
        }
        install.docs[doc].name(&install.root.state_dir)
    }

    fn agent_of(&self, doc: usize) -> Option<String> {
        (doc != CONFIG)
            .then(|| self.ws.install.docs[doc].agent.clone())
            .flatten()
    }

    fn conflict(&mut self, doc: usize, message: String) {
        let agent = self.agent_of(doc);
        self.conflicts.push(Conflict { agent, message });
    }

    fn new_id(&self, id: &str) -> Option<&'p str> {
        self.p.profiles.get(id).map(String::as_str)
    }

    /// A provider block moved to the target: its URL on the target's host.
    fn moved_block(&self, block: &Value) -> (Value, Option<(bool, String)>) {
        let rule = self.p.base_url;
        let mut out = block.clone();
        let url = match block.get("baseUrl") {
            Some(Value::String(u)) => {
                swap_host(u, &rule.from_hosts, &rule.to_host).map(|n| (true, n))
            }
            None => Some((false, rule.default.clone())),
            Some(_) => None,
        };
        if let (Some((_, u)), Value::Object(m)) = (&url, &mut out) {
            m.insert("baseUrl".into(), Value::String(u.clone()));
        }
        (out, url)
    }

    /// The provider block of `doc` at `providers` (config `models.providers`, models.json
    /// `providers`): renamed to the target, refused when the target is another setup.
    fn provider_block(&mut self, doc: usize, providers: &[&str], config_moved: Option<&Value>) {
        let at = toks(providers);
        let Some(map) = self
            .ws
            .value(doc)
            .at_path(providers)
            .and_then(Value::as_object)
        else {
            return;
        };
        let from: Vec<&String> = map.keys().filter(|k| norm(k) == self.p.from).collect();
        let to: Vec<&String> = map.keys().filter(|k| norm(k) == self.p.to).collect();
        let file = self.name(doc);
        let place = if doc == CONFIG {
            "models.providers"
        } else {
            "providers"
        };
        if from.len() > 1 {
            self.found = true;
            let m = format!(
                "{file} defines provider {} twice ({}); keep one",
                self.p.from,
                quoted(&from)
            );
            return self.conflict(doc, m);
        }
        let target = to.first().map(|k| (to[0].as_str(), &map[*k]));
        // A block OpenClaw generated from this agent's own profiles of the target (2026.2
        // writes one per provider it holds a key for) is rebuilt from the config once the
        // moved block is there: it gives way, and says so.
        let generated = target.is_some_and(|(_, t)| doc != CONFIG && self.generated(doc, t));
        let Some(key) = from.first() else {
            // Only the target here: fine when it is what the move makes of the config's block.
            let differs = |c: &Value, t: &Value| {
                c.get("baseUrl") != t.get("baseUrl") || !super::block_credentials(t).is_empty()
            };
            match (target, config_moved) {
                (Some((tk, t)), Some(c)) if differs(c, t) && generated => {
                    self.gives_way(doc, &at, tk, t);
                }
                (Some((tk, t)), Some(c)) if differs(c, t) => {
                    let m = format!(
                        "{file} already defines provider {} ({place}.{tk}) with other values than the {} block the move makes; another {} setup must not be merged into the {} one",
                        self.p.to, self.p.from, self.p.to, self.p.from
                    );
                    self.conflict(doc, m);
                }
                _ => {}
            }
            return;
        };
        self.found = true;
        let (moved, url) = self.moved_block(&map[*key]);
        match target {
            Some((_, t)) if *t == moved => self.edits.push(Edit::Remove(doc, child(&at, key))),
            Some((tk, _)) if !generated => {
                let m = format!(
                    "{file} already defines provider {} ({place}.{tk}) beside {}, with other values; another {} setup must not be merged into the {} one",
                    self.p.to, key, self.p.to, self.p.from
                );
                self.conflict(doc, m);
            }
            _ => {
                if let Some((tk, t)) = target {
                    self.gives_way(doc, &at, tk, t);
                }
                let new = child(&at, self.p.to);
                self.edits
                    .push(Edit::Rename(doc, child(&at, key), new.clone()));
                match url {
                    Some((true, u)) => self.edits.push(Edit::Replace(
                        doc,
                        child(&new, "baseUrl"),
                        Value::String(u),
                    )),
                    Some((false, u)) => {
                        self.edits
                            .push(Edit::Add(doc, child(&new, "baseUrl"), Value::String(u)))
                    }
                    None => {}
                }
            }
        }
    }

    /// Whether a models.json block of the target is what OpenClaw generates from the agent's
    /// own profiles of it: every literal key it holds is one of them (so nothing is lost when it
    /// goes; OpenClaw rebuilds the block from the config).
    fn generated(&self, doc: usize, block: &Value) -> bool {
        let install = self.ws.install;
        let Some(agent) = install.agents.iter().find(|a| a.models == doc) else {
            return false;
        };
        let store = self.ws.value(agent.auth);
        let held: Vec<&str> = super::provider_profiles(store, self.p.to)
            .into_iter()
            .filter_map(|(_, p)| profile_secret(p))
            .collect();
        !held.is_empty()
            && super::block_credentials(block)
                .iter()
                .all(|c| held.contains(&c.key.as_str()))
    }

    /// A generated block of the target in a models.json is removed (see [`Self::generated`]).
    fn gives_way(&mut self, doc: usize, at: &[String], key: &str, block: &Value) {
        let url = block
            .get("baseUrl")
            .and_then(Value::as_str)
            .unwrap_or("no baseUrl");
        let note = format!(
            "{}: the {key} block OpenClaw generated from this agent's own {} profiles ({url}) is removed; OpenClaw rebuilds it from openclaw.json, where {} now stands for the moved {} account",
            self.name(doc),
            self.p.to,
            self.p.to,
            self.p.from
        );
        self.notes.push((self.agent_of(doc), note));
        self.edits.push(Edit::Remove(doc, child(at, key)));
    }

    /// The profiles map of `doc` at `at` (config `auth.profiles`, a store's `profiles`): each
    /// profile of the old provider takes its new id and the new provider.
    fn profiles(&mut self, doc: usize, at: &[&str]) {
        let path = toks(at);
        let Some(map) = self.ws.value(doc).at_path(at).and_then(Value::as_object) else {
            return;
        };
        let file = self.name(doc);
        let of = |p: &Value, provider: &str| {
            p.get("provider")
                .and_then(Value::as_str)
                .is_some_and(|x| norm(x) == provider)
        };
        for (id, prof) in map {
            if of(prof, self.p.to) && !self.p.profiles.values().any(|n| n == id) {
                self.others.push(id.clone());
            }
        }
        for (id, prof) in map.iter().filter(|(_, p)| of(p, self.p.from)) {
            self.found = true;
            let Some(new) = self.new_id(id) else {
                let names: Vec<String> = self
                    .p
                    .profiles
                    .iter()
                    .map(|(a, b)| format!("{a} → {b}"))
                    .collect();
                let m = format!(
                    "{file}: profile {id} of provider {} has no new name (this migration renames {}); rename or remove it by hand",
                    self.p.from,
                    names.join(", ")
                );
                self.conflict(doc, m);
                continue;
            };
            let mut moved = prof.clone();
            moved["provider"] = Value::String(self.p.to.to_string());
            if !self.moved.iter().any(|m| m == new) {
                self.moved.push(new.to_string());
            }
            match map.get(new) {
                Some(t) if *t == moved => self.edits.push(Edit::Remove(doc, child(&path, id))),
                Some(t) => {
                    let keys = match (profile_secret(prof), profile_secret(t)) {
                        (Some(a), Some(b)) if a != b => {
                            format!(" (it holds {}, {id} holds {})", mask(b), mask(a))
                        }
                        _ => String::new(),
                    };
                    let m = format!(
                        "{file} already holds a profile {new} with other values than {id}{keys}; it is kept apart"
                    );
                    self.conflict(doc, m);
                }
                None => {
                    let to = child(&path, new);
                    self.edits
                        .push(Edit::Rename(doc, child(&path, id), to.clone()));
                    self.edits.push(Edit::Replace(
                        doc,
                        child(&to, "provider"),
                        Value::String(self.p.to.to_string()),
                    ));
                }
            }
        }
    }

    /// A profile id list with the moved ids renamed.
    fn mapped_list(&self, v: &Value) -> Value {
        match v {
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| match x.as_str().and_then(|s| self.new_id(s)) {
                        Some(n) => Value::String(n.into()),
                        None => x.clone(),
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A profile id, or a list of them, with the moved ids renamed.
    fn mapped(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => self
                .new_id(s)
                .map_or_else(|| v.clone(), |n| Value::String(n.into())),
            other => self.mapped_list(other),
        }
    }

    /// Whether an order names a profile that is not one of the moved ones (once they are
    /// renamed).
    fn names_others(&self, v: &Value) -> bool {
        self.mapped_list(v).as_array().is_some_and(|a| {
            a.iter().any(|x| {
                x.as_str()
                    .is_some_and(|s| !self.moved.iter().any(|m| m == s))
            })
        })
    }

    /// A map keyed by provider (`order`, `lastGood`): the old provider's entry moves to the new
    /// one, its profile ids renamed; every other entry's ids renamed too.
    fn by_provider(&mut self, doc: usize, at: &[&str], what: &str) {
        let path = toks(at);
        let Some(map) = self.ws.value(doc).at_path(at).and_then(Value::as_object) else {
            return;
        };
        let file = self.name(doc);
        let target = map.iter().find(|(k, _)| norm(k) == self.p.to);
        for (k, v) in map {
            let new = self.mapped(v);
            if norm(k) == self.p.from {
                self.found = true;
                match target {
                    Some((_, t)) if self.mapped(t) == new => {
                        self.edits.push(Edit::Remove(doc, child(&path, k)))
                    }
                    // The last profile that worked for the target is bookkeeping OpenClaw rewrites
                    // after every call; once the old provider's account is the target's, its
                    // entry is the one that holds.
                    Some((tk, t)) if what == "lastGood" => {
                        let note = format!(
                            "{file}: lastGood.{tk} becomes {} (it was {}, a profile the moved {} account replaces; OpenClaw rewrites lastGood after every call)",
                            show(&new),
                            show(t),
                            self.p.from
                        );
                        self.notes.push((self.agent_of(doc), note));
                        self.edits
                            .push(Edit::Replace(doc, child(&path, tk), new.clone()));
                        self.edits.push(Edit::Remove(doc, child(&path, k)));
                    }
                    Some((tk, _)) => {
                        let m = format!(
                            "{file}: {what}.{tk} is already set, to other profiles than {what}.{k}; another {} setup must not be merged into the {} one",
                            self.p.to, self.p.from
                        );
                        self.conflict(doc, m);
                    }
                    None => {
                        let to = child(&path, self.p.to);
                        self.edits
                            .push(Edit::Rename(doc, child(&path, k), to.clone()));
                        if new != *v {
                            self.edits.push(Edit::Replace(doc, to, new));
                        }
                    }
                }
            } else if new != *v {
                self.found = true;
                self.edits.push(Edit::Replace(doc, child(&path, k), new));
            }
        }
    }

    /// `usageStats` (keyed by profile id): the moved profiles' entries take their new ids.
    fn usage(&mut self, doc: usize) {
        let Some(map) = self
            .ws
            .value(doc)
            .get("usageStats")
            .and_then(Value::as_object)
        else {
            return;
        };
        let file = self.name(doc);
        for (id, v) in map {
            let Some(new) = self.new_id(id) else { continue };
            self.found = true;
            match map.get(new) {
                Some(t) if t == v => self
                    .edits
                    .push(Edit::Remove(doc, toks(&["usageStats", id]))),
                Some(_) => {
                    let m = format!("{file}: usageStats already holds {new}, other than {id}'s");
                    self.conflict(doc, m);
                }
                None => self.edits.push(Edit::Rename(
                    doc,
                    toks(&["usageStats", id]),
                    toks(&["usageStats", new]),
                )),
            }
        }
    }

    /// A store's order for the target that names another profile would keep that one in use
    /// (a store's order comes before the config's).
    fn store_order(&mut self, doc: usize) {
        let Some((k, v)) = self
            .ws
            .value(doc)
            .get("order")
            .and_then(Value::as_object)
            .and_then(|m| m.iter().find(|(k, _)| norm(k) == self.p.to))
        else {
            return;
        };
        if self.names_others(v) {
            let m = format!(
                "{}: order.{k} already names other profiles ({}), which would keep serving the {} models; another {} setup must not be merged into the {} one",
                self.name(doc),
                v,
                self.p.from,
                self.p.to,
                self.p.from
            );
            self.conflict(doc, m);
        }
    }

    /// Every model ref of the old provider becomes one of the new; refs of the new provider
    /// already in use mean another setup of it, which the move would take over.
    fn refs(&mut self, block_moves: bool) {
        let config = self.ws.config();
        let taken = provider_refs::find(config, self.p.to);
        let refs = provider_refs::find(config, self.p.from);
        if refs.is_empty() {
            return;
        }
        self.found = true;
        if !block_moves {
            let m = format!(
                "openclaw.json names {} models ({} = {}) but defines no models.providers.{}: moved to {} they would use its built-in endpoint, not the one this account needs; add the provider block (baseUrl {}) first",
                self.p.from,
                refs[0].dotted(),
                refs[0].text.trim(),
                self.p.from,
                self.p.to,
                self.p.base_url.default
            );
            return self.conflict(CONFIG, m);
        }
        if !taken.is_empty() {
            let at: Vec<String> = taken
                .iter()
                .take(3)
                .map(|r| format!("{} = {}", r.dotted(), r.text.trim()))
                .collect();
            let m = format!(
                "openclaw.json already uses provider {} ({}{}); moving the {} models onto it would send both to one endpoint and one key",
                self.p.to,
                at.join(", "),
                if taken.len() > 3 { ", …" } else { "" },
                self.p.from
            );
            return self.conflict(CONFIG, m);
        }
        for r in provider_refs::in_edit_order(refs) {
            let model = model_of(&r.text, self.p.from).expect("found as a ref");
            let new = format!("{}/{model}", self.p.to);
            if r.is_key {
                let mut to = r.at.clone();
                *to.last_mut().expect("a key has a path") = new;
                self.edits.push(Edit::Rename(CONFIG, r.at, to));
            } else {
                self.edits
                    .push(Edit::Replace(CONFIG, r.at, Value::String(new)));
            }
        }
    }

    /// An agent that uses the old provider with no profile of it, but profiles of the new one,
    /// would be served those (another account's key) once its refs move.
    fn agents_left_on_others(&mut self) {
        let ws = self.ws;
        for agent in &ws.install.agents {
            if !agent_uses(ws, agent, self.p.from) {
                continue;
            }
            let store = ws.value(agent.auth);
            let is_moved = |id: &str| self.p.profiles.values().any(|n| n == id);
            let has_from = !super::provider_profiles(store, self.p.from).is_empty()
                || self
                    .p
                    .profiles
                    .values()
                    .any(|n| store.at_path(&["profiles", n]).is_some());
            let has_other = super::provider_profiles(store, self.p.to)
                .iter()
                .any(|(id, _)| !is_moved(id));
            if !has_from && has_other {
                let id = agent.agent.id.clone();
                self.conflicts.push(Conflict {
                    agent: Some(id.clone()),
                    message: format!(
                        "agent {id} uses {} but its store ({}) holds no {} profile, only {} ones: once its models move to {} it would be served another account's key",
                        self.p.from, agent.store, self.p.from, self.p.to, self.p.to
                    ),
                });
            }
        }
    }

    /// `auth.order.<to>` naming the moved profiles, when other profiles of the target exist
    /// (OpenClaw would otherwise take turns between them).
    fn pin(&mut self) -> Option<String> {
        if !self.p.pin_order || self.moved.is_empty() {
            return None;
        }
        self.others.sort();
        self.others.dedup();
        if self.others.is_empty() {
            return None;
        }
        let config = self.ws.config();
        let order = config
            .at_path(&["auth", "order"])
            .and_then(Value::as_object);
        let from_key = order.and_then(|m| m.iter().find(|(k, _)| norm(k) == self.p.from));
        let to_key = order.and_then(|m| m.iter().find(|(k, _)| norm(k) == self.p.to));
        match (from_key, to_key) {
            // The order moved from the old provider names only moved profiles.
            (Some(_), _) => None,
            (None, Some((k, v))) if self.names_others(v) => {
                let m = format!(
                    "openclaw.json: auth.order.{k} already names other profiles ({v}), which would keep serving the {} models; another {} setup must not be merged into the {} one",
                    self.p.from, self.p.to, self.p.from
                );
                self.conflict(CONFIG, m);
                None
            }
            (None, Some(_)) => None,
            (None, None) => {
                let ids = Value::Array(self.moved.iter().cloned().map(Value::String).collect());
                let mut one = Map::new();
                one.insert(self.p.to.to_string(), ids);
                let (at, value) = match (config.get("auth"), order) {
                    (_, Some(_)) => (toks(&["auth", "order", self.p.to]), one[self.p.to].clone()),
                    (Some(Value::Object(_)), None) => {
                        (toks(&["auth", "order"]), Value::Object(one))
                    }
                    _ => (toks(&["auth"]), serde_json::json!({ "order": one })),
                };
                self.edits.push(Edit::Add(CONFIG, at, value));
                Some(format!(
                    "auth.order.{} is set to {}: the install also holds other {} profiles ({}), which must not serve the {} models",
                    self.p.to,
                    self.moved.join(", "),
                    self.p.to,
                    self.others.join(", "),
                    self.p.from
                ))
            }
        }
    }
}

/// A profile id (or a list of them) as the operator reads it.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn quoted(keys: &[&String]) -> String {
    keys.iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn run(ws: &mut Workspace, p: Params) -> Result<(), StepError> {
    let (edits, conflicts, notes) = {
        let mut pl = Planner {
            p: &p,
            ws,
            edits: Vec::new(),
            conflicts: Vec::new(),
            found: false,
            moved: Vec::new(),
            others: Vec::new(),
            notes: Vec::new(),
        };
        pl.provider_block(CONFIG, &["models", "providers"], None);
        let config_moved = pl
            .ws
            .config()
            .at_path(&["models", "providers"])
            .and_then(Value::as_object)
            .and_then(|m| m.iter().find(|(k, _)| norm(k) == p.from))
            .map(|(_, b)| pl.moved_block(b).0);
        let mut seen = Vec::new();
        for agent in &pl.ws.install.agents {
            if !seen.contains(&agent.models) {
                seen.push(agent.models);
                pl.provider_block(agent.models, &["providers"], config_moved.as_ref());
            }
        }
        pl.profiles(CONFIG, &["auth", "profiles"]);
        pl.by_provider(CONFIG, &["auth", "order"], "auth.order");
        let mut stores = Vec::new();
        for agent in &pl.ws.install.agents {
            for doc in [agent.auth, agent.state] {
                if !stores.contains(&doc) && pl.ws.exists(doc) {
                    stores.push(doc);
                }
            }
        }
        for &doc in &stores {
            pl.profiles(doc, &["profiles"]);
        }
        for &doc in &stores {
            pl.by_provider(doc, &["order"], "order");
            pl.by_provider(doc, &["lastGood"], "lastGood");
            pl.usage(doc);
        }
        pl.refs(config_moved.is_some());
        if !pl.found {
            // Nothing of the old provider: the install is moved already, or never used it.
            return Ok(());
        }
        for &doc in &stores {
            pl.store_order(doc);
        }
        pl.agents_left_on_others();
        if let Some(pin) = pl.pin() {
            pl.notes.insert(0, (None, pin));
        }
        (pl.edits, pl.conflicts, pl.notes)
    };
    if !conflicts.is_empty() {
        let fix = format!(
            "this migration changes nothing here: settle what the message names by hand and run it again, or leave the install on {} (OpenClaw still reads it)",
            p.from
        );
        for c in conflicts {
            ws.finding(
                FindingKind::Conflict,
                c.agent.as_deref(),
                c.message,
                Some(fix.clone()),
            );
        }
        return Ok(());
    }
    for e in edits {
        let ptr = |at: &[String]| pointer(&at.iter().map(String::as_str).collect::<Vec<_>>());
        match e {
            Edit::Rename(doc, from, to) => ws.move_value(doc, ptr(&from), ptr(&to))?,
            Edit::Replace(doc, at, v) => ws.replace(doc, ptr(&at), v)?,
            Edit::Remove(doc, at) => ws.remove(doc, ptr(&at))?,
            Edit::Add(doc, at, v) => ws.add(doc, ptr(&at), v)?,
        }
    }
    for (agent, note) in notes {
        ws.finding(FindingKind::Note, agent.as_deref(), note, None);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Params, run};
    use crate::load::Install;
    use crate::migration::BaseUrlRule;
    use crate::plan::workspace::{FindingKind, Inputs, Workspace};
    use crate::secrets::mask;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;
    use std::path::Path;

    const CN_KEY: &str = "sk-cp-unit-china-00000001";
    const GLOBAL_KEY: &str = "sk-api-unit-global-0000002";
    const OTHER_KEY: &str = "sk-cp-unit-other-000000003";
    const GLOBAL: &str = "https://api.minimax.io/anthropic";
    const CHINA: &str = "https://api.minimaxi.com/anthropic";

    fn rule() -> BaseUrlRule {
        BaseUrlRule {
            from_hosts: vec!["api.minimax.io".into(), "api.minimax.chat".into()],
            to_host: "api.minimaxi.com".into(),
            default: CHINA.into(),
        }
    }

    fn ids() -> BTreeMap<String, String> {
        [("minimax-cn:default".to_string(), "minimax:cn".to_string())].into()
    }

    /// Runs the step (V0004's parameters) on a fresh workspace.
    fn convert<'a>(install: &'a Install, inputs: &'a Inputs) -> Workspace<'a> {
        let (profiles, base_url) = (ids(), rule());
        let mut ws = Workspace::new(install, inputs);
        ws.tag = "V0004".into();
        run(
            &mut ws,
            Params {
                from: "minimax-cn",
                to: "minimax",
                profiles: &profiles,
                base_url: &base_url,
                pin_order: true,
            },
        )
        .unwrap();
        ws
    }

    fn cn(key: &str) -> Value {
        json!({"type": "api_key", "provider": "minimax-cn", "key": key})
    }

    fn global(key: &str) -> Value {
        json!({"type": "api_key", "provider": "minimax", "key": key})
    }

    /// The demo's shape once V0001–V0003 ran: a China block (on the global host here, which the
    /// move fixes too), the alias `mm-cn`, a global profile beside the China one in every store.
    fn config() -> Value {
        json!({
            "auth": {"profiles": {
                "minimax:default": {"provider": "minimax", "mode": "api_key"},
                "minimax-cn:default": {"provider": "minimax-cn", "mode": "api_key"},
            }},
            "models": {"providers": {"minimax-cn": {"baseUrl": GLOBAL, "api": "anthropic-messages", "models": [{"id": "MiniMax-M2"}]}}},
            "agents": {
                "defaults": {
                    "model": {"primary": "minimax-cn/MiniMax-M2", "fallbacks": ["minimax-cn/MiniMax-M1"]},
                    "imageModel": "minimax-cn/MiniMax-VL",
                    "models": {"minimax-cn/MiniMax-M2": {"alias": "mm-cn"}},
                },
                "list": [{"id": "main", "default": true}, {"id": "coder", "model": "mm-cn", "workspace": "minimax-cn/work"}],
            },
        })
    }

    fn store() -> String {
        json!({"version": 1, "profiles": {"minimax:default": global(GLOBAL_KEY), "minimax-cn:default": cn(CN_KEY)},
               "lastGood": {"minimax": "minimax:default"}})
        .to_string()
    }

    fn models() -> String {
        json!({"providers": {"minimax-cn": {"baseUrl": GLOBAL, "api": "anthropic-messages"}}})
            .to_string()
    }

    fn install(config: &Value, main: &str, coder: &str) -> Install {
        let m = models();
        Install::in_memory(
            Path::new("/nonexistent/st"),
            &config.to_string(),
            &[("main", Some(main), Some(&m)), ("coder", Some(coder), None)],
        )
    }

    /// The install as it is once the step's working copies are written.
    fn after(install: &Install, ws: &Workspace) -> Install {
        let mut next = install.clone();
        for (i, ops) in ws.ops.iter().enumerate() {
            if !ops.is_empty() {
                next = next.with_text(i, &ws.value(i).to_string());
            }
        }
        next
    }

    fn conflicts(ws: &Workspace) -> Vec<String> {
        ws.findings
            .iter()
            .filter(|f| f.kind == FindingKind::Conflict)
            .map(|f| f.message.clone())
            .collect()
    }

    #[test]
    fn moves_the_provider_its_profiles_and_every_ref_and_pins_the_china_profile() {
        let (s, inputs) = (store(), Inputs::default());
        let install = install(&config(), &s, &s);
        let ws = convert(&install, &inputs);
        assert!(conflicts(&ws).is_empty(), "{:?}", ws.findings);
        let c = ws.config();
        assert_eq!(
            c["models"]["providers"],
            json!({"minimax": {"baseUrl": CHINA, "api": "anthropic-messages", "models": [{"id": "MiniMax-M2"}]}})
        );
        assert_eq!(
            c["auth"],
            json!({
                "profiles": {
                    "minimax:default": {"provider": "minimax", "mode": "api_key"},
                    "minimax:cn": {"provider": "minimax", "mode": "api_key"},
                },
                "order": {"minimax": ["minimax:cn"]},
            })
        );
        let d = &c["agents"]["defaults"];
        assert_eq!(
            d["model"],
            json!({"primary": "minimax/MiniMax-M2", "fallbacks": ["minimax/MiniMax-M1"]})
        );
        assert_eq!(d["imageModel"], "minimax/MiniMax-VL");
        assert_eq!(
            d["models"],
            json!({"minimax/MiniMax-M2": {"alias": "mm-cn"}})
        );
        // The alias itself and a path that looks like a ref stay.
        assert_eq!(c["agents"]["list"][1]["model"], "mm-cn");
        assert_eq!(c["agents"]["list"][1]["workspace"], "minimax-cn/work");
        for a in &install.agents {
            // Key order kept: the China profile stays where it was, renamed.
            let store = ws.value(a.auth);
            let ids: Vec<&String> = store["profiles"].as_object().unwrap().keys().collect();
            assert_eq!(ids, ["minimax:default", "minimax:cn"], "{}", a.agent.id);
            assert_eq!(store["profiles"]["minimax:cn"], global(CN_KEY));
            assert_eq!(store["lastGood"], json!({"minimax": "minimax:default"}));
        }
        let main = install.agent("main").unwrap();
        assert_eq!(
            ws.value(main.models),
            &json!({"providers": {"minimax": {"baseUrl": CHINA, "api": "anthropic-messages"}}})
        );
        // The pin is said, and no key is.
        let [note] = &ws.findings[..] else {
            panic!("one note: {:?}", ws.findings)
        };
        assert_eq!(note.kind, FindingKind::Note);
        assert_eq!(
            note.message,
            "auth.order.minimax is set to minimax:cn: the install also holds other minimax profiles (minimax:default), which must not serve the minimax-cn models"
        );
        // Every replaced or removed value is guarded, every op tagged.
        let ops = serde_json::to_value(&ws.ops[main.auth]).unwrap();
        assert_eq!(
            ops,
            json!([
                {"op": "test", "path": "/profiles/minimax-cn:default", "value": cn(CN_KEY), "migration": "V0004"},
                {"op": "move", "from": "/profiles/minimax-cn:default", "path": "/profiles/minimax:cn", "migration": "V0004"},
                {"op": "test", "path": "/profiles/minimax:cn/provider", "value": "minimax-cn", "migration": "V0004"},
                {"op": "replace", "path": "/profiles/minimax:cn/provider", "value": "minimax", "migration": "V0004"},
            ])
        );
        // Once written, it plans nothing.
        let next = after(&install, &ws);
        let again = convert(&next, &inputs);
        assert!(again.ops.iter().all(Vec::is_empty), "{:?}", again.ops);
        assert!(again.findings.is_empty(), "{:?}", again.findings);
    }

    #[test]
    fn no_pin_without_another_profile_of_the_target() {
        let mut config = config();
        config["auth"]["profiles"]
            .as_object_mut()
            .unwrap()
            .shift_remove("minimax:default");
        let s = json!({"version": 1, "profiles": {"minimax-cn:default": cn(CN_KEY)}}).to_string();
        let inputs = Inputs::default();
        let install = install(&config, &s, &s);
        let ws = convert(&install, &inputs);
        assert!(ws.findings.is_empty(), "{:?}", ws.findings);
        assert_eq!(ws.config()["auth"].get("order"), None);
        assert_eq!(
            ws.config()["auth"]["profiles"],
            json!({"minimax:cn": {"provider": "minimax", "mode": "api_key"}})
        );
    }

    #[test]
    fn the_routing_state_follows_the_profile_in_the_store_and_beside_it() {
        let s = json!({"version": 1, "profiles": {"minimax-cn:default": cn(CN_KEY)},
                       "order": {"minimax-cn": ["minimax-cn:default"]}})
        .to_string();
        let state = json!({"version": 1,
            "order": {"minimax-cn": ["minimax-cn:default"], "openai": ["openai:x"]},
            "lastGood": {"minimax-cn": "minimax-cn:default"},
            "usageStats": {"minimax-cn:default": {"lastUsed": 5}, "openai:x": {"lastUsed": 6}}})
        .to_string();
        let inputs = Inputs::default();
        let base = install(&config(), &s, &s);
        let main_state = base.agent("main").unwrap().state;
        let install = base.with_text(main_state, &state);
        let ws = convert(&install, &inputs);
        assert!(conflicts(&ws).is_empty(), "{:?}", ws.findings);
        let main = install.agent("main").unwrap();
        assert_eq!(
            ws.value(main.auth)["order"],
            json!({"minimax": ["minimax:cn"]})
        );
        assert_eq!(
            ws.value(main.state),
            &json!({"version": 1,
                "order": {"minimax": ["minimax:cn"], "openai": ["openai:x"]},
                "lastGood": {"minimax": "minimax:cn"},
                "usageStats": {"minimax:cn": {"lastUsed": 5}, "openai:x": {"lastUsed": 6}}})
        );
        // A store's own order pins the China profile already; the config gets the pin for the
        // other agents, which read the config's.
        assert_eq!(
            ws.config()["auth"]["order"],
            json!({"minimax": ["minimax:cn"]})
        );
    }

    #[test]
    fn the_last_good_profile_of_the_target_becomes_the_moved_one_and_says_so() {
        let s = json!({"version": 1, "profiles": {"minimax:default": global(GLOBAL_KEY), "minimax-cn:default": cn(CN_KEY)},
                       "lastGood": {"minimax": "minimax:default", "minimax-cn": "minimax-cn:default"}})
        .to_string();
        let inputs = Inputs::default();
        let install = install(&config(), &s, &store());
        let ws = convert(&install, &inputs);
        assert!(conflicts(&ws).is_empty(), "{:?}", ws.findings);
        let main = install.agent("main").unwrap();
        assert_eq!(
            ws.value(main.auth)["lastGood"],
            json!({"minimax": "minimax:cn"})
        );
        let note = ws
            .findings
            .iter()
            .find(|f| f.agent.as_deref() == Some("main"))
            .expect("a note for main");
        assert_eq!(note.kind, FindingKind::Note);
        assert_eq!(
            note.message,
            "agents/main/agent/auth-profiles.json: lastGood.minimax becomes minimax:cn (it was minimax:default, a profile the moved minimax-cn account replaces; OpenClaw rewrites lastGood after every call)"
        );
    }

    /// What OpenClaw 2026.2 writes into an agent's models.json for the global profile it holds.
    fn generated_global(key: &str) -> Value {
        json!({"baseUrl": "https://api.minimax.chat/v1", "api": "openai-completions", "apiKey": key})
    }

    #[test]
    fn a_models_json_block_generated_from_the_agents_own_profile_gives_way() {
        let mut models: Value = serde_json::from_str(&models()).unwrap();
        models["providers"]["minimax"] = generated_global(GLOBAL_KEY);
        let (s, inputs) = (store(), Inputs::default());
        let install = Install::in_memory(
            Path::new("/nonexistent/st"),
            &config().to_string(),
            &[
                ("main", Some(&s), Some(&models.to_string())),
                ("coder", Some(&s), None),
            ],
        );
        let ws = convert(&install, &inputs);
        assert!(conflicts(&ws).is_empty(), "{:?}", ws.findings);
        let main = install.agent("main").unwrap();
        assert_eq!(
            ws.value(main.models),
            &json!({"providers": {"minimax": {"baseUrl": CHINA, "api": "anthropic-messages"}}})
        );
        assert!(
            ws.findings.iter().any(|f| f.message
                == "agents/main/agent/models.json: the minimax block OpenClaw generated from this agent's own minimax profiles (https://api.minimax.chat/v1) is removed; OpenClaw rebuilds it from openclaw.json, where minimax now stands for the moved minimax-cn account"),
            "{:?}",
            ws.findings
        );
        // A block whose key the agent does not hold is the only copy of it: refused.
        models["providers"]["minimax"] = generated_global(OTHER_KEY);
        let install = Install::in_memory(
            Path::new("/nonexistent/st"),
            &config().to_string(),
            &[
                ("main", Some(&s), Some(&models.to_string())),
                ("coder", Some(&s), None),
            ],
        );
        let ws = convert(&install, &inputs);
        assert!(ws.ops.iter().all(Vec::is_empty));
        assert_eq!(
            conflicts(&ws),
            [
                "agents/main/agent/models.json already defines provider minimax (providers.minimax) beside minimax-cn, with other values; another minimax setup must not be merged into the minimax-cn one"
            ]
        );
    }

    #[test]
    fn a_profile_already_there_with_the_same_values_stands_for_the_moved_one() {
        let s = json!({"version": 1, "profiles": {"minimax-cn:default": cn(CN_KEY), "minimax:cn": global(CN_KEY)}})
            .to_string();
        let inputs = Inputs::default();
        let install = install(&config(), &s, &s);
        let ws = convert(&install, &inputs);
        assert!(conflicts(&ws).is_empty(), "{:?}", ws.findings);
        let main = install.agent("main").unwrap();
        assert_eq!(
            ws.value(main.auth)["profiles"],
            json!({"minimax:cn": global(CN_KEY)})
        );
    }

    #[test]
    fn a_block_without_a_url_gets_the_china_host_and_a_proxy_stays() {
        let mut config = config();
        config["models"]["providers"]["minimax-cn"]
            .as_object_mut()
            .unwrap()
            .shift_remove("baseUrl");
        let (s, inputs) = (store(), Inputs::default());
        let bare = install(&config, &s, &s);
        let ws = convert(&bare, &inputs);
        assert_eq!(
            ws.config()["models"]["providers"]["minimax"]["baseUrl"],
            CHINA
        );
        let mut config = self::config();
        config["models"]["providers"]["minimax-cn"]["baseUrl"] = json!("https://proxy.example/mm");
        let install = install(&config, &s, &s);
        let ws = convert(&install, &inputs);
        assert_eq!(
            ws.config()["models"]["providers"]["minimax"]["baseUrl"],
            "https://proxy.example/mm"
        );
    }

    #[test]
    fn an_install_without_the_old_provider_plans_nothing_whatever_it_holds() {
        let config = json!({
            "models": {"providers": {"minimax": {"baseUrl": GLOBAL}}},
            "agents": {"defaults": {"model": "minimax/MiniMax-M2"}},
        });
        let s =
            json!({"version": 1, "profiles": {"minimax:default": global(GLOBAL_KEY)}}).to_string();
        let inputs = Inputs::default();
        let install = Install::in_memory(
            Path::new("/nonexistent/st"),
            &config.to_string(),
            &[("main", Some(&s), None)],
        );
        let ws = convert(&install, &inputs);
        assert!(ws.ops.iter().all(Vec::is_empty) && ws.findings.is_empty());
    }

    /// What a case changes in the config and in main's store.
    type Edit = dyn Fn(&mut Value, &mut Value);

    /// Each case: what makes the install refuse the move, and the message that says so.
    #[test]
    fn a_taken_target_is_refused_naming_it_and_nothing_is_planned() {
        let cases: Vec<(&str, Box<Edit>, &str)> = vec![
            (
                "global provider block",
                Box::new(|c, _| c["models"]["providers"]["minimax"] = json!({"baseUrl": GLOBAL})),
                "openclaw.json already defines provider minimax (models.providers.minimax) beside minimax-cn, with other values; another minimax setup must not be merged into the minimax-cn one",
            ),
            (
                "global refs",
                Box::new(|c, _| {
                    c["agents"]["defaults"]["model"]["fallbacks"] = json!(["minimax/MiniMax-M2"])
                }),
                "openclaw.json already uses provider minimax (agents.defaults.model.fallbacks.0 = minimax/MiniMax-M2); moving the minimax-cn models onto it would send both to one endpoint and one key",
            ),
            (
                "minimax:cn in the config",
                Box::new(|c, _| {
                    c["auth"]["profiles"]["minimax:cn"] =
                        json!({"provider": "minimax", "mode": "oauth"})
                }),
                "openclaw.json already holds a profile minimax:cn with other values than minimax-cn:default; it is kept apart",
            ),
            (
                "minimax:cn with another key",
                Box::new(|_, s| s["profiles"]["minimax:cn"] = global(OTHER_KEY)),
                "agents/main/agent/auth-profiles.json already holds a profile minimax:cn with other values than minimax-cn:default (it holds OTHER, minimax-cn:default holds CN); it is kept apart",
            ),
            (
                "a store order for the global account",
                Box::new(|_, s| s["order"] = json!({"minimax": ["minimax:default"]})),
                "agents/main/agent/auth-profiles.json: order.minimax already names other profiles ([\"minimax:default\"]), which would keep serving the minimax-cn models; another minimax setup must not be merged into the minimax-cn one",
            ),
            (
                "a config order for the global account",
                Box::new(|c, _| c["auth"]["order"] = json!({"minimax": ["minimax:default"]})),
                "openclaw.json: auth.order.minimax already names other profiles ([\"minimax:default\"]), which would keep serving the minimax-cn models; another minimax setup must not be merged into the minimax-cn one",
            ),
            (
                "a profile with no new name",
                Box::new(|_, s| s["profiles"]["minimax-cn:work"] = cn(OTHER_KEY)),
                "agents/main/agent/auth-profiles.json: profile minimax-cn:work of provider minimax-cn has no new name (this migration renames minimax-cn:default → minimax:cn); rename or remove it by hand",
            ),
            (
                "no provider block",
                Box::new(|c, _| {
                    c["models"]["providers"].as_object_mut().unwrap().clear();
                }),
                "openclaw.json names minimax-cn models (agents.defaults.model.primary = minimax-cn/MiniMax-M2) but defines no models.providers.minimax-cn: moved to minimax they would use its built-in endpoint, not the one this account needs; add the provider block (baseUrl https://api.minimaxi.com/anthropic) first",
            ),
        ];
        let inputs = Inputs::default();
        for (what, edit, want) in cases {
            let (mut c, mut s) = (config(), serde_json::from_str::<Value>(&store()).unwrap());
            edit(&mut c, &mut s);
            let install = install(&c, &s.to_string(), &store());
            let ws = convert(&install, &inputs);
            assert!(ws.ops.iter().all(Vec::is_empty), "{what}: {:?}", ws.ops);
            let want = want
                .replace("OTHER", &mask(OTHER_KEY))
                .replace("CN", &mask(CN_KEY));
            let got = conflicts(&ws);
            assert!(got.contains(&want), "{what}:\n{got:#?}\nwant {want}");
            for f in &ws.findings {
                for k in [CN_KEY, GLOBAL_KEY, OTHER_KEY] {
                    assert!(!f.message.contains(k), "{what}: a key in {}", f.message);
                }
                assert!(
                    f.fix
                        .as_deref()
                        .unwrap()
                        .contains("leave the install on minimax-cn")
                );
            }
        }
    }

    #[test]
    fn an_agent_left_with_only_the_global_profile_is_refused() {
        // coder runs on the China models, but its store holds only the global key.
        let only_global =
            json!({"version": 1, "profiles": {"minimax:default": global(GLOBAL_KEY)}}).to_string();
        let inputs = Inputs::default();
        let install = install(&config(), &store(), &only_global);
        let ws = convert(&install, &inputs);
        assert!(ws.ops.iter().all(Vec::is_empty));
        let f = ws
            .findings
            .iter()
            .find(|f| f.agent.as_deref() == Some("coder"))
            .expect("coder's conflict");
        assert_eq!(
            f.message,
            "agent coder uses minimax-cn but its store (agents/coder/agent/auth-profiles.json) holds no minimax-cn profile, only minimax ones: once its models move to minimax it would be served another account's key"
        );
    }
}
