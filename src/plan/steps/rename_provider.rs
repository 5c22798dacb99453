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
        let target = to.first().map(|k| &map[*k]);
        let Some(key) = from.first() else {
            // Only the target here: fine when it is what the move makes of the config's block.
            let differs = |c: &Value, t: &Value| {
                c.get("baseUrl") != t.get("baseUrl") || !super::block_credentials(t).is_empty()
            };
            if let Some(t) = target
                && config_moved.is_some_and(|c| differs(c, t))
            {
                let m = format!(
                    "{file} already defines provider {} ({place}.{}) with other values than the {} block the move makes; another {} setup must not be merged into the {} one",
                    self.p.to, to[0], self.p.from, self.p.to, self.p.from
                );
                self.conflict(doc, m);
            }
            return;
        };
        self.found = true;
        let (moved, url) = self.moved_block(&map[*key]);
        match target {
            Some(t) if *t == moved => self.edits.push(Edit::Remove(doc, child(&at, key))),
            Some(_) => {
                let m = format!(
                    "{file} already defines provider {} ({place}.{}) beside {}, with other values; another {} setup must not be merged into the {} one",
                    self.p.to, to[0], key, self.p.to, self.p.from
                );
                self.conflict(doc, m);
            }
            None => {
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
        for r in refs {
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

fn quoted(keys: &[&String]) -> String {
    keys.iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn run(ws: &mut Workspace, p: Params) -> Result<(), StepError> {
    let (edits, conflicts, pinned) = {
        let mut pl = Planner {
            p: &p,
            ws,
            edits: Vec::new(),
            conflicts: Vec::new(),
            found: false,
            moved: Vec::new(),
            others: Vec::new(),
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
        let pinned = pl.pin();
        (pl.edits, pl.conflicts, pinned)
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
    if let Some(note) = pinned {
        ws.finding(FindingKind::Note, None, note, None);
    }
    Ok(())
}
