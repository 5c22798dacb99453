#!/usr/bin/env bash
# Install the real pre-commit (pinned in .ci/pre-commit-requirements.txt) from PyPI into a
# virtualenv at DEST, for tests/it/precommit.rs (the hooks of .pre-commit-hooks.yaml).
#
#   .ci/install-pre-commit.sh DEST
#
# Layout produced:
#   DEST/bin/pre-commit, python
#   DEST/.stamp        written last; its presence (with this recipe) = complete
#
# Idempotent and cached: exits at once when DEST/.stamp matches the recipe (this script's
# version and the requirements' sha256). A virtualenv cannot be moved (its scripts name it in
# their #! line), so it is built in place and the stamp, written last, marks it complete: an
# interrupted run leaves no stamp, and the next run starts over. Concurrent callers serialise
# on DEST.lock (flock).
# Needs: bash, python3 (>= 3.10, with venv), flock (util-linux), git, network access to PyPI.
set -euo pipefail

# shellcheck source=.ci/lib.sh
. "$(dirname -- "$0")/lib.sh"
cache_open "$@"

HERE="$(cd -- "$(dirname -- "$0")" && pwd)"
REQS="$HERE/pre-commit-requirements.txt"
RECIPE="v1 $(sha256sum -- "$REQS" | cut -d' ' -f1)"

log() { echo "install-pre-commit: $*" >&2; }

cache_lock

start=$SECONDS
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || {
  log "$PY is $("$PY" --version 2>&1); pre-commit 4 needs Python 3.10 or newer"
  exit 1
}
log "installing $(grep -E '^pre_commit==' "$REQS") into $DEST"
rm -rf -- "$DEST"
"$PY" -m venv "$DEST" || { log "$PY has no working venv module (apt install python3-venv)"; exit 1; }
"$DEST/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQS" >&2
"$DEST/bin/pre-commit" --version >/dev/null

cache_stamp
log "done in $((SECONDS - start)) s -> $DEST"
