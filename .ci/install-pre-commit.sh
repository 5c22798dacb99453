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
# version and the requirements' sha256); built in place (lib.sh: cache_venv). Concurrent
# callers serialise on DEST.lock (flock).
# Needs: bash, python3 (>= 3.10, with venv), flock (util-linux), git, network access to PyPI.
set -euo pipefail

# shellcheck source=.ci/lib.sh
. "$(dirname -- "$0")/lib.sh"
cache_open "$@"

REQS="$(cd -- "$(dirname -- "$0")" && pwd)/pre-commit-requirements.txt"
RECIPE="v1 $(sha256sum -- "$REQS" | cut -d' ' -f1)"

cache_lock
cache_venv 3.10 "$REQS" '^pre_commit==' pre-commit
