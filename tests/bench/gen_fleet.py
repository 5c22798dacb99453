#!/usr/bin/env python3
"""Generates a deterministic fleet of era-B OpenClaw installs for benchmarking clawmigrate.

    gen_fleet.py FLEET_DIR [--installs N] [--agents K] [--seed S] [--broken-share F]

Each install is `FLEET_DIR/customer-XXXX/` or, for about a quarter of them,
`FLEET_DIR/host-YY/customer-XXXX/.openclaw/` (three levels down, within clawmigrate's default
--fleet-depth 4). An install holds a JSON5 `openclaw.json` (comments, unquoted keys, trailing
commas, a few KB of realistic settings) and per agent `agents/<id>/agent/auth-profiles.json` and
`agents/<id>/agent/models.json`, written as OpenClaw writes them (JSON.stringify(v, null, 2)),
files mode 0600 in dirs mode 0700.

About 40% of the installs (exactly round(N * F)) are broken like openclaw/openclaw#7621 and the
seed fixture tests/fixtures/seed-7621: the minimax-cn provider's baseUrl is on the global host
api.minimax.io (config and models.json), the agents using minimax-cn have no minimax-cn:default
profile, and the minimax-cn agent's models.json holds the install's China key (sk-cp-..., unique
per install) as a literal apiKey and an x-api-key header. The rest are healthy: already fixed
(China host, profiles present, no minimax-cn block in models.json) or not using minimax-cn at all.

About 30% (exactly round(N * L), --legacy-share L) also carry config shapes from before OpenClaw
2026.9.6 that the doctor migrations clawmigrate carries change under `migrate --to 2026.9.6`
(see tests/doctor/cases/ for each shape): two to five of them per install, each with its comment,
and a meta.lastTouchedVersion that says which releases' lists apply (2026.1.x: 2026.2.3's and
2026.9.6's; 2026.2.3 to 2026.6.x: 2026.9.6's alone; none: from the oldest carried release).
They draw from their own random stream, so the other installs' bytes do not depend on L.

Same arguments, same bytes. Python 3 standard library only. Counts go to stderr.
"""
import argparse
import datetime
import hashlib
import json
import os
import random
import re
import sys

CN = "minimax-cn"
CN_PROFILE = "minimax-cn:default"
BASE_TS = 1769904000000  # 2026-02-01T00:00:00Z in ms; every timestamp derives from it

AGENT_POOL = [
    ("support", "Support Desk", "🎧"),
    ("research", "Researcher", "🔬"),
    ("coder", "Code Helper", "💻"),
    ("ops", "Ops Bot", "🛠️"),
    ("sales", "Sales Assistant", "📈"),
    ("writer", "Copywriter", "✍️"),
    ("triage", "Inbox Triage", "📥"),
    ("finance", "Bookkeeper", "📒"),
    ("devops", "On-call", "🚨"),
    ("family", "Family Helper", "🏠"),
    ("scheduler", "Scheduler", "📅"),
    ("translator", "Translator", "🌐"),
    ("legal", "Contracts", "⚖️"),
    ("hr", "People Ops", "🧑‍💼"),
]

CN_MODELS = [
    {
        "id": "MiniMax-M2.1",
        "name": "MiniMax M2.1",
        "reasoning": False,
        "input": ["text"],
        "cost": {"input": 15, "output": 60, "cacheRead": 2, "cacheWrite": 10},
        "contextWindow": 200000,
        "maxTokens": 8192,
    },
    {
        "id": "MiniMax-M2.5",
        "name": "MiniMax M2.5",
        "reasoning": True,
        "input": ["text"],
        "cost": {"input": 30, "output": 120, "cacheRead": 3, "cacheWrite": 15},
        "contextWindow": 204800,
        "maxTokens": 16384,
    },
]

ANTHROPIC_MODELS = [
    ("claude-opus-4-5", "Claude Opus 4.5", True, ["text", "image"], (5, 25, 0.5, 6.25), 200000, 64000),
    ("claude-sonnet-4-5", "Claude Sonnet 4.5", True, ["text", "image"], (3, 15, 0.3, 3.75), 200000, 64000),
    ("claude-haiku-4-5", "Claude Haiku 4.5", False, ["text", "image"], (1, 5, 0.1, 1.25), 200000, 64000),
    ("claude-sonnet-4", "Claude Sonnet 4", True, ["text", "image"], (3, 15, 0.3, 3.75), 200000, 64000),
    ("claude-3-7-sonnet-latest", "Claude 3.7 Sonnet", True, ["text", "image"], (3, 15, 0.3, 3.75), 200000, 64000),
]

OPENROUTER_MODELS = [
    ("google/gemini-2.5-pro", "Gemini 2.5 Pro", True, ["text", "image"], (1.25, 10, 0.31, 0), 1048576, 65536),
    ("google/gemini-2.5-flash", "Gemini 2.5 Flash", True, ["text", "image"], (0.3, 2.5, 0.075, 0), 1048576, 65535),
    ("openai/gpt-5", "GPT-5", True, ["text", "image"], (1.25, 10, 0.125, 0), 400000, 128000),
    ("openai/gpt-5-mini", "GPT-5 mini", True, ["text", "image"], (0.25, 2, 0.025, 0), 400000, 128000),
    ("deepseek/deepseek-chat-v3.1", "DeepSeek V3.1", False, ["text"], (0.2, 0.8, 0, 0), 163840, 32768),
    ("qwen/qwen3-coder", "Qwen3 Coder", False, ["text"], (0.22, 0.95, 0, 0), 262144, 65536),
    ("moonshotai/kimi-k2", "Kimi K2", False, ["text"], (0.5, 2.4, 0, 0), 131072, 32768),
    ("x-ai/grok-4", "Grok 4", True, ["text", "image"], (3, 15, 0.75, 0), 256000, 64000),
    ("meta-llama/llama-4-maverick", "Llama 4 Maverick", False, ["text", "image"], (0.15, 0.6, 0, 0), 1048576, 16384),
]

OLLAMA_MODELS = [
    ("llama3.3:70b", "Llama 3.3 70B", False, ["text"], 131072, 8192),
    ("qwen2.5-coder:32b", "Qwen2.5 Coder 32B", False, ["text"], 32768, 8192),
    ("gpt-oss:20b", "gpt-oss 20B", True, ["text"], 131072, 16384),
    ("mistral-small3.2:24b", "Mistral Small 3.2", False, ["text", "image"], 131072, 8192),
]


def model_entry(spec):
    mid, name, reasoning, inputs, cost, ctx, max_tokens = spec
    i, o, cr, cw = cost
    return {
        "id": mid,
        "name": name,
        "reasoning": reasoning,
        "input": list(inputs),
        "cost": {"input": i, "output": o, "cacheRead": cr, "cacheWrite": cw},
        "contextWindow": ctx,
        "maxTokens": max_tokens,
    }


def ollama_entry(spec):
    mid, name, reasoning, inputs, ctx, max_tokens = spec
    return {
        "id": mid,
        "name": name,
        "reasoning": reasoning,
        "input": list(inputs),
        "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
        "contextWindow": ctx,
        "maxTokens": max_tokens,
    }


def token(seed_text, n, alphabet="0123456789abcdef"):
    """A deterministic fake secret of n characters."""
    out, counter = [], 0
    while len(out) < n:
        h = hashlib.sha256(f"{seed_text}:{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in h)
        counter += 1
    return "".join(out[:n])


B62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


# ---------------------------------------------------------------- JSON5 writer
class Comment:
    """A `// text` line inside an object (a key whose value is a Comment)."""

    def __init__(self, text):
        self.text = text


IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def j5_key(k):
    return k if IDENT.match(k) else json.dumps(k, ensure_ascii=False)


def j5_inline(v):
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{j5_key(k)}: {j5_inline(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(j5_inline(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def has_comment(v):
    if isinstance(v, dict):
        return any(isinstance(x, Comment) or has_comment(x) for x in v.values())
    if isinstance(v, list):
        return any(has_comment(x) for x in v)
    return False


def j5(v, indent=0, width=96):
    """Hand-edited-looking JSON5: unquoted keys, trailing commas, short values inline."""
    pad = "  " * indent
    if not isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if not has_comment(v):
        inline = j5_inline(v)
        if len(inline) + len(pad) <= width and len(inline) <= 72:
            return inline
    inner = "  " * (indent + 1)
    lines = []
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, Comment):
                lines.append(f"{inner}// {x.text}")
            else:
                lines.append(f"{inner}{j5_key(k)}: {j5(x, indent + 1, width)},")
        return "{\n" + "\n".join(lines) + f"\n{pad}}}"
    for x in v:
        lines.append(f"{inner}{j5(x, indent + 1, width)},")
    return "[\n" + "\n".join(lines) + f"\n{pad}]"


# ---------------------------------------------------------------- legacy shapes
# Releases an install may have last been touched by, and whether 2026.2.3's doctor list still
# applies to it (it does to installs older than 2026.2.3, and to those with no version at all).
LEGACY_VERSIONS = [("2026.1.30", True), ("2026.2.1", True), (None, True),
                   ("2026.2.3", False), ("2026.5.1", False), ("2026.6.2", False)]


def rename_key(d, old, new):
    """d with key old renamed to new, in place of it (key order kept)."""
    items = [(new if k == old else k, v) for k, v in d.items()]
    d.clear()
    d.update(items)


def legacy_2_3(config, rng, cust):
    """Shapes 2026.2.3's doctor changes (tests/doctor/cases/001, 008, 009, 014, 015)."""
    def tools_bash():
        tools = config["tools"]
        rename_key(tools, "exec", "bash")
        items = list(tools.items())
        tools.clear()
        for k, v in items:
            if k == "bash":
                tools["c9"] = Comment("shell tool settings (OpenClaw calls it exec now)")
            tools[k] = v

    def gateway_token():
        gw = config["gateway"]
        token = gw["auth"].pop("token")
        del gw["auth"]
        gw["c9"] = Comment("shared secret for remote clients")
        gw["token"] = token

    def tts_enabled():
        config["messages"]["tts"] = {"c9": Comment("speak every reply"), "enabled": True,
                                     "provider": rng.choice(["elevenlabs", "openai"])}

    def telegram_mention():
        tg = config["channels"].get("telegram")
        if tg is None:
            return
        del tg["groups"]
        tg["c9"] = Comment("groups: reply only when mentioned")
        tg["requireMention"] = True

    def bindings_provider():
        for b in config["bindings"]:
            rename_key(b["match"], "channel", "provider")

    return [tools_bash, gateway_token, tts_enabled, telegram_mention, bindings_provider]


def legacy_9_6(config, rng, cust):
    """Shapes 2026.9.6's doctor changes (tests/doctor/cases/035, 039, 040, 044, 054, 058, 067, 086)."""
    def memory_search():
        config["c8"] = Comment("semantic memory over the workspace notes")
        # provider "auto" is left out: a top-level memorySearch with provider auto (moved, then
        # mapped to openai) fails to plan today ("no member search", reported with the benchmark);
        # the draw stays so that the stream, and every later byte, is what it was.
        config["memorySearch"] = {"enabled": True, "provider": rng.choice(["openai", "openai"]),
                                  "model": "text-embedding-3-small"}

    def typing_mode():
        mode = config["agents"]["defaults"].pop("typingMode")
        config["session"]["c9"] = Comment("show typing while thinking")
        config["session"]["typingMode"] = mode

    def heartbeat():
        hb = config["agents"]["defaults"].pop("heartbeat")
        config["c9"] = Comment("one heartbeat for every agent (old builds kept it at the root)")
        config["heartbeat"] = hb

    def cron_webhook():
        config["cron"] = {"enabled": True, "c9": Comment("global fallback, replaced by per-job delivery"),
                          "webhook": f"https://hooks.example.net/cron/{cust}"}

    def bind_alias():
        gw = config["gateway"]
        if gw["bind"] == "loopback":
            gw["bind"] = "localhost"

    def models_pricing():
        config["models"]["c9"] = Comment("fetch prices on start (retired)")
        config["models"]["pricing"] = {"enabled": True}

    def codex_plugin():
        config["plugins"]["c9"] = Comment("allowlist from the Codex era")
        config["plugins"]["allow"] = ["openai-codex", "memory-core"]

    def session_aliases():
        config["session"]["maintenance"] = {"mode": "enforce", "pruneDays": rng.choice([14, 30, 90])}

    return [memory_search, typing_mode, heartbeat, cron_webhook, bind_alias, models_pricing,
            codex_plugin, session_aliases]


def add_legacy_shapes(config, rng, cust):
    """Turns a current config into one last touched by an older release: sets (or drops)
    meta.lastTouchedVersion and applies two to five legacy shapes that release could hold."""
    version, before_2_3 = rng.choice(LEGACY_VERSIONS)
    if version is None:
        del config["meta"]["lastTouchedVersion"]
    else:
        config["meta"]["lastTouchedVersion"] = version
    shapes = legacy_9_6(config, rng, cust) + (legacy_2_3(config, rng, cust) if before_2_3 else [])
    for shape in rng.sample(shapes, rng.randint(2, 5)):
        shape()


# ---------------------------------------------------------------- one install
def build_install(idx, seed, broken, agents_n, legacy=False):
    rng = random.Random(f"clawmigrate-fleet:{seed}:{idx}")
    cust = f"customer-{idx:04d}"
    # Which kind of install: broken, healthy (fixed by hand), or healthy without minimax-cn.
    uses_cn = broken or rng.random() < 0.75
    style = rng.choice(["defaults", "per-agent", "per-agent"]) if uses_cn else "none"

    # Agents: main (default), the minimax-cn agent, then some from the pool.
    ids = ["main"]
    names = {"main": ("Assistant", "🦞")}
    if agents_n >= 2:
        if uses_cn:
            ids.append(CN)
            names[CN] = ("MiniMax CN", "🐉")
        pool = rng.sample(AGENT_POOL, min(len(AGENT_POOL), agents_n - len(ids)))
        for aid, name, emoji in pool:
            ids.append(aid)
            names[aid] = (name, emoji)
        while len(ids) < agents_n:  # more agents than the pool: numbered helpers
            aid = f"helper-{len(ids)}"
            ids.append(aid)
            names[aid] = (f"Helper {len(ids)}", "🤖")
    cn_agent = CN if CN in ids else "main"

    cn_key = "sk-cp-" + token(f"{seed}:{idx}:cn", 40, B62)
    global_key = "sk-api-" + token(f"{seed}:{idx}:global", 40, B62)
    ant_key = "sk-ant-api03-" + token(f"{seed}:{idx}:ant", 64, B62 + "-_")
    or_key = "sk-or-v1-" + token(f"{seed}:{idx}:or", 64)
    cn_path = rng.choice(["/anthropic", "/anthropic", "/v1"])
    cn_api = "anthropic-messages" if cn_path == "/anthropic" else "openai-completions"
    cn_base = ("https://api.minimax.io" if broken else "https://api.minimaxi.com") + cn_path
    cn_models = CN_MODELS[: rng.choice([1, 2, 2])]
    ollama_cfg_models = [ollama_entry(OLLAMA_MODELS[0])]
    has_ollama = rng.random() < 0.5

    # Model refs: which agents use minimax-cn.
    default_model = (
        {"primary": f"{CN}/MiniMax-M2.1", "fallbacks": ["anthropic/claude-sonnet-4-5"]}
        if style == "defaults"
        else {"primary": "anthropic/claude-sonnet-4-5", "fallbacks": ["openrouter/google/gemini-2.5-pro"]}
    )
    agent_model = {}
    for aid in ids:
        if style == "per-agent" and aid == cn_agent:
            agent_model[aid] = rng.choice(["mm-cn", f"{CN}/MiniMax-M2.1", {"primary": f"{CN}/MiniMax-M2.1"}])
        elif style == "per-agent" and aid != "main" and rng.random() < 0.3:
            agent_model[aid] = {"primary": "anthropic/claude-opus-4-5", "fallbacks": [f"{CN}/MiniMax-M2.1"]}
        elif aid != cn_agent and aid != "main" and rng.random() < 0.25:
            agent_model[aid] = rng.choice(["opus", "openrouter/openai/gpt-5", "anthropic/claude-haiku-4-5"])

    def uses(aid):
        m = agent_model.get(aid)
        if m is None:
            refs = [default_model["primary"]] + default_model["fallbacks"]
        elif isinstance(m, str):
            refs = [m] + default_model["fallbacks"]
        else:
            refs = [m["primary"]] + m.get("fallbacks", default_model["fallbacks"])
        return any(r == "mm-cn" or r.startswith(CN + "/") for r in refs)

    using = [a for a in ids if uses_cn and uses(a)]
    # Broken installs: OpenClaw's merge wrote the config's minimax-cn block into most agents'
    # models.json (the minimax-cn agent's with the key the operator pasted there).
    cn_block_in = set()
    if broken:
        cn_block_in.add(cn_agent)
        for a in ids:
            if a != cn_agent and (rng.random() < (0.6 if a in using else 0.15)):
                cn_block_in.add(a)
    needs_profile = set()
    if not broken and uses_cn and using:
        needs_profile = set(using) | {"main"}

    # ------------------------------------------------------------ openclaw.json
    ts = BASE_TS + rng.randrange(0, 40 * 86400_000)
    def iso(ms):
        t = datetime.datetime.fromtimestamp(ms // 1000, tz=datetime.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"
    auth_profiles = {
        "minimax:default": {"provider": "minimax", "mode": "api_key"},
        "anthropic:default": {"provider": "anthropic", "mode": "api_key"},
        "openrouter:default": {"provider": "openrouter", "mode": "api_key"},
    }
    if uses_cn and not broken:
        auth_profiles[CN_PROFILE] = {"provider": CN, "mode": "api_key"}
    providers = {}
    if uses_cn:
        providers["c1"] = Comment("China account: its key only works on the China host.")
        providers[CN] = {
            "baseUrl": cn_base,
            "api": cn_api,
            "models": cn_models,
        }
    if has_ollama:
        providers["c2"] = Comment("Local GPU box in the office; no key needed.")
        providers["ollama"] = {
            "baseUrl": f"http://10.{idx % 250}.{rng.randrange(1, 250)}.{rng.randrange(2, 250)}:11434/v1",
            "api": "openai-completions",
            "apiKey": "ollama-local",
            "models": ollama_cfg_models,
        }
    aliases = {
        "anthropic/claude-opus-4-5": {"alias": "opus"},
        "anthropic/claude-sonnet-4-5": {"alias": "sonnet"},
        "openrouter/google/gemini-2.5-pro": {"alias": "gemini"},
    }
    if uses_cn:
        aliases[f"{CN}/MiniMax-M2.1"] = {"alias": "mm-cn"}
    agent_list = []
    for n, aid in enumerate(ids):
        name, emoji = names[aid]
        entry = {"id": aid}
        if aid == "main":
            entry["default"] = True
        entry["name"] = name
        entry["workspace"] = f"~/.openclaw/workspace-{aid}" if aid != "main" else "~/.openclaw/workspace"
        if aid in agent_model:
            entry["model"] = agent_model[aid]
        entry["identity"] = {"name": name, "emoji": emoji, "theme": rng.choice(["calm", "crisp", "playful", "formal"])}
        entry["groupChat"] = {"mentionPatterns": [f"@{aid}", f"{name.split()[0].lower()}"]}
        if rng.random() < 0.5:
            entry["tools"] = {
                "profile": rng.choice(["coding", "messaging", "full"]),
                "deny": rng.sample(["browser", "canvas", "nodes", "cron", "gateway"], 2),
            }
        if rng.random() < 0.3:
            entry["sandbox"] = {"mode": "non-main", "workspaceAccess": "ro", "scope": "agent"}
        agent_list.append(entry)
    bindings = []
    channels_used = rng.sample(["telegram", "discord", "slack", "whatsapp"], rng.choice([2, 3]))
    for n, aid in enumerate(ids[1:], start=1):
        ch = channels_used[n % len(channels_used)]
        bindings.append({"agentId": aid, "match": {"channel": ch, "accountId": f"{aid}-{ch}"}})
    channels = {}
    if "telegram" in channels_used:
        channels["telegram"] = {
            "enabled": True,
            "botToken": f"{rng.randrange(10**9, 10**10)}:{token(f'{seed}:{idx}:tg', 35, B62)}",
            "dmPolicy": "pairing",
            "groups": {"*": {"requireMention": True}},
            "streamMode": "partial",
        }
    if "discord" in channels_used:
        channels["discord"] = {
            "enabled": True,
            "token": token(f"{seed}:{idx}:dc", 70, B62 + "._-"),
            "dm": {"enabled": True, "policy": "pairing"},
            "guilds": {str(rng.randrange(10**17, 10**18)): {"slug": cust, "requireMention": True}},
        }
    if "slack" in channels_used:
        channels["slack"] = {
            "enabled": True,
            "mode": "socket",
            "botToken": "xoxb-" + token(f"{seed}:{idx}:sb", 50, B62),
            "appToken": "xapp-" + token(f"{seed}:{idx}:sa", 60, B62),
            "channels": {"#ops": {"allow": True, "requireMention": True}},
        }
    if "whatsapp" in channels_used:
        channels["whatsapp"] = {
            "dmPolicy": "allowlist",
            "allowFrom": [f"+1555{rng.randrange(1000000, 9999999)}" for _ in range(rng.choice([1, 2, 3]))],
            "groups": {"*": {"requireMention": True}},
        }
    config = {
        "meta": {"lastTouchedVersion": rng.choice(["2026.1.30", "2026.2.1", "2026.2.3"]), "lastTouchedAt": iso(ts)},
        "wizard": {"lastRunAt": iso(ts - 86400_000 * 3), "lastRunVersion": "2026.1.29", "lastRunCommand": "onboard", "lastRunMode": "local"},
        "c0": Comment(f"Managed by the ops team for {cust}. Keys live in each agent's auth-profiles.json."),
        "auth": {"profiles": auth_profiles, "order": {"anthropic": ["anthropic:default"]}},
        "models": {"mode": "merge", "providers": providers},
        "agents": {
            "defaults": {
                "model": default_model,
                "models": aliases,
                "workspace": "~/.openclaw/workspace",
                "userTimezone": rng.choice(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Singapore"]),
                "contextPruning": {"mode": "cache-ttl", "ttl": "1h"},
                "compaction": {"mode": "safeguard", "memoryFlush": {"enabled": True}},
                "heartbeat": {"every": rng.choice(["30m", "1h", "2h"]), "target": "last"},
                "maxConcurrent": rng.choice([2, 4, 8]),
                "subagents": {"maxConcurrent": 8},
                "typingMode": "thinking",
            },
            "c3": Comment("One agent per team; ids are folder names under agents/."),
            "list": agent_list,
        },
        "bindings": bindings,
        "messages": {"ackReactionScope": "group-mentions", "queue": {"mode": "collect", "debounceMs": 1500}},
        "commands": {"native": "auto", "nativeSkills": "auto", "restart": True},
        "session": {"dmScope": "per-channel-peer", "reset": {"mode": "idle", "idleMinutes": rng.choice([60, 240, 1440])}},
        "hooks": {"internal": {"enabled": True, "entries": {"session-memory": {"enabled": True}, "command-logger": {"enabled": rng.random() < 0.5}}}},
        "tools": {"web": {"search": {"enabled": True, "maxResults": 5}, "fetch": {"enabled": True}}, "exec": {"security": "allowlist", "ask": "on-miss"}},
        "channels": channels,
        "gateway": {
            "mode": "local",
            "port": 18789,
            "bind": rng.choice(["loopback", "loopback", "lan"]),
            "auth": {"mode": "token", "token": token(f"{seed}:{idx}:gw", 48)},
            "tailscale": {"mode": "off", "resetOnExit": False},
            "controlUi": {"enabled": True},
        },
        "skills": {"install": {"nodeManager": "npm"}, "entries": {"weather": {"enabled": True}, "github": {"enabled": rng.random() < 0.5}}},
        "plugins": {"entries": {"memory-core": {"enabled": True}}},
        "logging": {"level": "info", "redactSensitive": "tools"},
    }
    header = (
        f"// OpenClaw config for {cust} (generated by tests/bench/gen_fleet.py; all keys are fake).\n"
        "// Hand-edited JSON5: comments, unquoted keys and trailing commas are legal.\n"
    )
    if legacy:
        add_legacy_shapes(config, random.Random(f"clawmigrate-fleet:{seed}:{idx}:legacy"), cust)
    config_text = header + j5(config) + "\n"
    if broken:
        # The hand edit behind the bug, with its tell-tale trailing comment (as in the seed).
        config_text = config_text.replace(
            f'baseUrl: "{cn_base}",', f'baseUrl: "{cn_base}", // copied from the global docs', 1
        )

    files = {"openclaw.json": config_text}

    # ------------------------------------------------------------ per agent
    for aid in ids:
        profiles = {
            "minimax:default": {"type": "api_key", "provider": "minimax", "key": global_key},
            "anthropic:default": {"type": "api_key", "provider": "anthropic", "key": ant_key},
        }
        if rng.random() < 0.6:
            profiles["openrouter:default"] = {"type": "api_key", "provider": "openrouter", "key": or_key}
        if aid in needs_profile:
            profiles[CN_PROFILE] = {"type": "api_key", "provider": CN, "key": cn_key}
        last_good = {p["provider"]: pid for pid, p in profiles.items()}
        usage = {}
        for pid in profiles:
            u = {"lastUsed": ts - rng.randrange(0, 7 * 86400_000), "errorCount": rng.choice([0, 0, 0, 1, 2])}
            if u["errorCount"]:
                u["lastFailureAt"] = u["lastUsed"] - rng.randrange(1000, 3600_000)
                u["failureCounts"] = {rng.choice(["rate_limit", "timeout", "auth"]): u["errorCount"]}
            usage[pid] = u
        auth = {"version": 1, "profiles": profiles, "lastGood": last_good, "usageStats": usage}

        mproviders = {}
        if aid in cn_block_in:
            block = {"baseUrl": cn_base}
            if aid == cn_agent:
                block["apiKey"] = cn_key
            block["api"] = cn_api
            if aid == cn_agent:
                block["headers"] = {"x-api-key": cn_key}
            block["models"] = json.loads(json.dumps(cn_models))
            mproviders[CN] = block
        mproviders["anthropic"] = {
            "baseUrl": "https://api.anthropic.com",
            "apiKey": "ANTHROPIC_API_KEY",
            "api": "anthropic-messages",
            "models": [model_entry(m) for m in ANTHROPIC_MODELS[: rng.randrange(2, len(ANTHROPIC_MODELS) + 1)]],
        }
        if rng.random() < 0.8:
            mproviders["openrouter"] = {
                "baseUrl": "https://openrouter.ai/api/v1",
                "apiKey": "OPENROUTER_API_KEY",
                "api": "openai-completions",
                "models": [model_entry(m) for m in rng.sample(OPENROUTER_MODELS, rng.randrange(3, len(OPENROUTER_MODELS) + 1))],
            }
        if has_ollama:
            # More models than the config lists (pulled on the box since), so never redundant.
            mproviders["ollama"] = {
                "baseUrl": providers["ollama"]["baseUrl"],
                "apiKey": "ollama-local",
                "api": "openai-completions",
                "models": [ollama_entry(m) for m in OLLAMA_MODELS[: rng.randrange(2, len(OLLAMA_MODELS) + 1)]],
            }
        models = {"providers": mproviders}
        d = f"agents/{aid}/agent"
        files[f"{d}/auth-profiles.json"] = json.dumps(auth, indent=2, ensure_ascii=False) + "\n"
        files[f"{d}/models.json"] = json.dumps(models, indent=2, ensure_ascii=False) + "\n"
    return files


def private_dirs(d):
    """Like os.makedirs, but every directory it creates is mode 0700 (as OpenClaw makes them)."""
    if d and not os.path.isdir(d):
        private_dirs(os.path.dirname(d))
        os.mkdir(d, 0o700)


def write_private(path, text):
    private_dirs(os.path.dirname(path))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return len(text.encode("utf-8"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fleet_dir")
    ap.add_argument("--installs", type=int, default=1000)
    ap.add_argument("--agents", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7621)
    ap.add_argument("--broken-share", type=float, default=0.4)
    ap.add_argument("--nested-share", type=float, default=0.25,
                    help="share of installs laid out as host-YY/customer-XXXX/.openclaw/")
    ap.add_argument("--legacy-share", type=float, default=0.3,
                    help="share of installs that carry config shapes from before OpenClaw 2026.9.6")
    a = ap.parse_args()
    if a.installs < 1 or a.agents < 1:
        ap.error("--installs and --agents must be at least 1")
    if os.path.exists(a.fleet_dir) and os.listdir(a.fleet_dir):
        ap.error(f"{a.fleet_dir} exists and is not empty")
    pick = random.Random(f"clawmigrate-fleet:{a.seed}")
    broken = set(pick.sample(range(a.installs), round(a.installs * a.broken_share)))
    nested = set(pick.sample(range(a.installs), round(a.installs * a.nested_share)))
    legacy = set(pick.sample(range(a.installs), round(a.installs * a.legacy_share)))
    private_dirs(os.path.abspath(a.fleet_dir))
    n_files = n_bytes = 0
    for i in range(a.installs):
        cust = f"customer-{i:04d}"
        root = (
            os.path.join(a.fleet_dir, f"host-{i % 16:02d}", cust, ".openclaw")
            if i in nested
            else os.path.join(a.fleet_dir, cust)
        )
        for rel, text in build_install(i, a.seed, i in broken, a.agents, i in legacy).items():
            n_bytes += write_private(os.path.join(root, rel), text)
            n_files += 1
    print(
        f"gen_fleet: {a.installs} installs ({len(broken)} broken, {a.installs - len(broken)} healthy; "
        f"{len(nested)} nested as host-YY/customer-XXXX/.openclaw; {len(legacy)} with pre-2026.9.6 "
        f"shapes), {a.agents} agents each, "
        f"{n_files} files, {n_bytes} bytes ({n_bytes / 1e6:.1f} MB) in {a.fleet_dir}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
