#!/usr/bin/env python3
"""Hand-fix an era-D install (made by openclaw@2026.9.6 doctor --fix) the way clawmigrate will.

    hand-fix.py STATE CN_KEY AGENT...

* openclaw.json (plain JSON after doctor): models.providers["minimax-cn"].baseUrl = China host;
  rewritten with json.dumps(indent=2), like OpenClaw's own writes.
* adds {"type":"api_key","provider":"minimax-cn","key":CN_KEY} as "minimax-cn:default" to the
  store cell each AGENT reads: its own agents/<id>/agent/openclaw-agent.sqlite
  (auth_profile_store, store_key 'primary') when that file exists, else the shared
  state/openclaw.sqlite (config_machine_state, state_key 'authProfiles.store').
  One BEGIN IMMEDIATE transaction per database, checking the cell did not change; the cell is
  written compact (separators=(',', ':')), key order kept, the new profile appended.
* removes the literal key (apiKey, headers x-api-key) of minimax-cn from every agent's models.json.
Test scaffolding only: it proves what OpenClaw accepts; it is not clawmigrate.
"""
import json, os, sqlite3, sys

CN_HOST = "https://api.minimaxi.com/anthropic"
state, key, agents = sys.argv[1], sys.argv[2], sys.argv[3:]

cfg_path = os.path.join(state, "openclaw.json")
cfg = json.load(open(cfg_path))
cfg["models"]["providers"]["minimax-cn"]["baseUrl"] = CN_HOST
open(cfg_path, "w").write(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")

profile = {"type": "api_key", "provider": "minimax-cn", "key": key}
SHARED = ("state/openclaw.sqlite", "config_machine_state", "value_json", "state_key", "authProfiles.store")
done = set()
for agent in agents:
    own = f"agents/{agent}/agent/openclaw-agent.sqlite"
    if os.path.exists(os.path.join(state, own)):
        target = (own, "auth_profile_store", "store_json", "store_key", "primary")
    else:
        target = SHARED
    if target in done:
        continue
    done.add(target)
    db, table, col, keycol, keyval = target
    c = sqlite3.connect(os.path.join(state, db), isolation_level=None, timeout=5)
    c.execute("PRAGMA busy_timeout=5000")
    c.execute("BEGIN IMMEDIATE")
    (old,) = c.execute(f"SELECT {col} FROM {table} WHERE {keycol}=?", (keyval,)).fetchone()
    store = json.loads(old)
    store["profiles"]["minimax-cn:default"] = profile
    new = json.dumps(store, separators=(",", ":"), ensure_ascii=False)
    n = c.execute(f"UPDATE {table} SET {col}=? WHERE {keycol}=? AND {col}=?", (new, keyval, old)).rowcount
    assert n == 1, target
    c.execute("COMMIT")
    c.close()
    print(f"{db}: {table}[{keyval}] += minimax-cn:default (agent {agent})")

for agent in sorted(os.listdir(os.path.join(state, "agents"))):
    p = os.path.join(state, "agents", agent, "agent", "models.json")
    if not os.path.exists(p):
        continue
    m = json.load(open(p))
    b = m.get("providers", {}).get("minimax-cn")
    if not b:
        continue
    changed = b.pop("apiKey", None) is not None
    h = b.get("headers") or {}
    for k in [k for k in h if k.lower() == "x-api-key"]:
        del h[k]
        changed = True
    if "headers" in b and not b["headers"]:
        del b["headers"]
    if changed:
        open(p, "w").write(json.dumps(m, indent=2, ensure_ascii=False) + "\n")
        print(f"agents/{agent}/agent/models.json: literal key removed")
