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

# shellcheck source=.ci/lib.sh
. "$(dirname -- "$0")/lib.sh"
cache_open "$@"

VERSION="2.2.3"
RECIPE="v1 json5@${VERSION}"

cache_lock
cache_build_in_temp
echo '{ "name": "json5-oracle", "private": true }' > "$TMP/package.json"
(cd "$TMP" && npm install --no-audit --no-fund --no-update-notifier --loglevel=error \
  --ignore-scripts --save-exact "json5@$VERSION" >&2)
got="$(node -p 'require(process.argv[1]).version' "$TMP/node_modules/json5/package.json")"
[[ "$got" == "$VERSION" ]] || { echo "install-json5: got json5 $got, wanted $VERSION" >&2; exit 1; }
cache_move_into_place
cache_stamp
echo "install-json5: json5@$VERSION -> $DEST" >&2
