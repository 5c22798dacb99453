#!/usr/bin/env bash
# Install the real ansible-core and ansible-lint (pinned in .ci/ansible-requirements.txt) from
# PyPI into a virtualenv at DEST, for tests/it/ansible.rs.
#
#   .ci/install-ansible.sh DEST
#
# Layout produced:
#   DEST/bin/ansible-playbook, ansible-galaxy, ansible-doc, ansible-lint, python
#   DEST/.stamp        written last; its presence (with this recipe) = complete
#
# Idempotent and cached: exits at once when DEST/.stamp matches the recipe (this script's
# version and the requirements' sha256); built in place (lib.sh: cache_venv). Concurrent
# callers serialise on DEST.lock (flock).
# Needs: bash, python3 (>= 3.11, with venv), flock (util-linux), network access to PyPI.
set -euo pipefail

# shellcheck source=.ci/lib.sh
. "$(dirname -- "$0")/lib.sh"
cache_open "$@"

REQS="$(cd -- "$(dirname -- "$0")" && pwd)/ansible-requirements.txt"
RECIPE="v1 $(sha256sum -- "$REQS" | cut -d' ' -f1)"

cache_lock
cache_venv 3.11 "$REQS" '^ansible-(core|lint)==' ansible-playbook ansible-lint
