#!/usr/bin/env bash
# Install the json5 npm package OpenClaw reads openclaw.json with (the differential fuzzer's
# oracle, tests/it/json5_diff.rs) into DEST, cached:
#
#   .ci/install-json5.sh DEST        ->  DEST/node_modules/json5, DEST/.stamp
#
# The version is the one openclaw@2026.9.6 pins (its package.json: "json5": "2.2.3").
# Idempotent: exits at once when DEST/.stamp matches. Builds in a temp sibling and renames it
# into place; concurrent callers serialise on DEST.lock (flock). Needs bash, npm, flock.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 DEST" >&2
  exit 2
fi

VERSION="2.2.3"
RECIPE="v1 json5@${VERSION}"

mkdir -p "$(dirname -- "$1")"
DEST="$(cd -- "$(dirname -- "$1")" && pwd)/$(basename -- "$1")"
STAMP="$DEST/.stamp"
is_complete() { [[ -f "$STAMP" ]] && [[ "$(cat -- "$STAMP")" == "$RECIPE" ]]; }

is_complete && exit 0
exec 9>"$DEST.lock"
flock 9
is_complete && exit 0

TMP="$DEST.tmp.$$"
cleanup() { rm -rf -- "$TMP"; }
trap cleanup EXIT
rm -rf -- "$TMP"
mkdir -p "$TMP"
echo '{ "name": "json5-oracle", "private": true }' > "$TMP/package.json"
(cd "$TMP" && npm install --no-audit --no-fund --no-update-notifier --loglevel=error \
  --ignore-scripts --save-exact "json5@$VERSION" >&2)
got="$(node -p 'require(process.argv[1]).version' "$TMP/node_modules/json5/package.json")"
[[ "$got" == "$VERSION" ]] || { echo "install-json5: got json5 $got, wanted $VERSION" >&2; exit 1; }
rm -rf -- "$DEST"
mv -- "$TMP" "$DEST"
trap - EXIT
printf '%s' "$RECIPE" > "$DEST/.stamp"
echo "install-json5: json5@$VERSION -> $DEST" >&2
