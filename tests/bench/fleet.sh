#!/usr/bin/env bash
# fleet.sh [--installs N] [--agents K] [--seed S] [--runs R] [--jq-runs R] [--skip-jq] [--keep]
#
# Benchmarks clawmigrate on a generated fleet (default 1000 installs x 5 agents, 40% broken like
# openclaw#7621) against the floors of the work it does and against a plain bash + jq script:
#   read floor        find FLEET -name '*.json' | xargs cat > /dev/null
#   write floor       cp the files the migration changes into a scratch dir, then one `sync`
#   dry-run           clawmigrate migrate --dry-run --fleet FLEET --format json > /dev/null
#   apply             clawmigrate migrate --yes --fleet FLEET --format json > /dev/null
#                     (full durability: fsync of backups, files, dirs and ledger)
#   rollback          clawmigrate rollback --yes --fleet FLEET --format json > /dev/null on a
#                     clone the migration was applied to (untimed)
#   jq script         tests/bench/jq_fix.sh FLEET
# Each step runs under /usr/bin/time -f '%e %M' (peak RSS); seconds are taken with bash's
# EPOCHREALTIME around it (ms resolution; %e has only 10 ms). A step that writes gets a fresh
# `cp -a` clone of the generated fleet, synced before timing so it does not pay for the clone's
# dirty pages; clone and sync are not timed. Page caches cannot be dropped here, so every step
# runs warm: one untimed `cat` over its fleet first. Steps run --runs times (default 3; the jq
# script --jq-runs, default 1), taking turns round by round so that a slow spell of the machine
# falls on all of them; the table shows the median seconds and the highest peak.
#
# Targets (from the issue): dry-run <= 2x the read floor; apply <= 3x (read floor + write floor);
# rollback no slower than apply; clawmigrate's peak RSS < 100 MB; "well ahead of the jq script", taken here as clawmigrate apply
# at least 2x faster than jq_fix.sh. Exit status 0 when every target passes, 1 otherwise.
#
# Everything goes in one mktemp dir under $BENCH_DIR (default target/bench), removed at the end
# unless --keep.
set -euo pipefail

installs=1000 agents=5 seed=7621 runs=3 jq_runs=1 skip_jq=0 keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --installs) installs=$2; shift 2 ;;
    --agents) agents=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --jq-runs) jq_runs=$2; shift 2 ;;
    --skip-jq) skip_jq=1; shift ;;
    --keep) keep=1; shift ;;
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
(cd "$root" && cargo build --release --quiet)
bin=$root/target/release/clawmigrate

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
# applied_copy: a fresh clone with the migration applied (untimed), for the rollback step.
applied_copy() {
  n_clone=$((n_clone + 1)); FLEET=$work/rb.$n_clone; clone "$FLEET"
  "$bin" migrate --yes --quiet --fleet "$FLEET" > /dev/null
  sync
  warm "$FLEET"
}

# ------------------------------------------------------------------ the files the run changes
"$bin" migrate --dry-run --format json --fleet "$gen" > "$work/plan.json" || {
  echo "fleet.sh: clawmigrate migrate --dry-run failed (exit $?)" >&2
  exit 1
}
jq -j '.installs[].files[].path + "\u0000"' "$work/plan.json" > "$work/changed.list"
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
  once write scratch bash -c 'xargs -0 cp --parents -t "$2" < "$1" && sync' _ "$work/changed.list" {SCRATCH}
  once dry use_gen "$bin" migrate --dry-run --fleet {FLEET} --format json
  once apply apply_copy "$bin" migrate --yes --fleet {FLEET} --format json
  applied=$FLEET # the last apply run's fleet
  once rollback applied_copy "$bin" rollback --yes --fleet {FLEET} --format json
done
for key in read write dry apply rollback; do summarise $key; done
rolled_back=$FLEET # the last rollback run's fleet: byte for byte the generated one again
set +e
"$bin" migrate --check --fleet "$applied" > "$work/check.out" 2>&1
check_rc=$?
set -e
changed=$(find "$applied" -path '*/.clawmigrate/ledger.json' | wc -l)
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
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print 1e9 }'; }
# verdict KEY RATIO LIMIT CMP: sets V to PASS/FAIL from RATIO CMP LIMIT (le or ge), the peak
# RSS (< 100 MB, clawmigrate rows only) and the exit status; clears ok on FAIL.
verdict() {
  local key=$1 r=$2 lim=$3 cmp=$4 why=()
  if [ "$cmp" = le ]; then awk -v a="$r" -v b="$lim" 'BEGIN { exit !(a <= b) }' || why+=(time)
  else awk -v a="$r" -v b="$lim" 'BEGIN { exit !(a >= b) }' || why+=(time); fi
  [ "$key" = jq ] || [ "${M[$key]}" -lt $((100 * 1024)) ] || why+=(memory)
  [ "${R[$key]}" = 0 ] || why+=("exit ${R[$key]}")
  if [ ${#why[@]} = 0 ]; then V=PASS; else V="FAIL (${why[*]})"; ok=0; fi
}

echo
echo "clawmigrate fleet benchmark: $installs installs x $agents agents (seed $seed): $found found by --fleet, $pending broken"
echo "$n_files files, $(awk -v b="$n_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB; $n_changed files changed by the migration; $(nproc) cores"
echo "warm page cache (caches cannot be dropped here; each run follows an untimed cat over its fleet);"
echo "seconds (wall) and cpu s (user+sys): medians of $runs runs (jq script: $jq_runs); peak MB: highest peak RSS"
echo "other work on the machine: CPUs ${busy0}% busy before the timings, $(busy)% after (wall times assume ~0)"
echo
row step seconds "cpu s" "peak MB" ratio target result
row "(a) read floor: find|xargs cat" "${S[read]}" "${C[read]}" "$(mb "${M[read]}")" "" "" ""
row "(b) durable-write floor: cp+sync" "${S[write]}" "${C[write]}" "$(mb "${M[write]}")" "" "" ""
r=$(div "${S[dry]}" "${S[read]}"); verdict dry "$r" 2 le
row "(c) clawmigrate migrate --dry-run" "${S[dry]}" "${C[dry]}" "$(mb "${M[dry]}")" "${r}x" "<=2x (a), <100MB" "$V"
r=$(div "${S[apply]}" "$floor_rw"); verdict apply "$r" 3 le
row "(d) clawmigrate migrate --yes" "${S[apply]}" "${C[apply]}" "$(mb "${M[apply]}")" "${r}x" "<=3x (a)+(b), <100MB" "$V"
r=$(div "${S[rollback]}" "${S[apply]}"); verdict rollback "$r" 1 le
row "(f) clawmigrate rollback --yes" "${S[rollback]}" "${C[rollback]}" "$(mb "${M[rollback]}")" "${r}x" "<=1x (d), <100MB" "$V"
if [ "$skip_jq" = 0 ]; then
  r=$(div "${S[jq]}" "${S[apply]}"); verdict jq "$r" 2 ge
  row "(e) jq_fix.sh (bash+jq+node)" "${S[jq]}" "${C[jq]}" "$(mb "${M[jq]}")" "${r}x" "(e) >=2x (d)" "$V"
fi
echo
echo "ratio: (c) / (a); (d) / ((a)+(b) = ${floor_rw}s); (f) / (d)$([ "$skip_jq" = 1 ] || echo '; (e) / (d)')"
echo "after (d): $changed installs have a ledger (want $pending); clawmigrate migrate --check on the result exited $check_rc (want 0)"
echo "after (f): the rolled-back fleet equals the generated one byte for byte (outside .clawmigrate): $rb_same (want yes)"
[ "$changed" = "$pending" ] || ok=0
[ "$rb_same" = yes ] || ok=0
[ "$check_rc" = 0 ] || ok=0
if [ "$skip_jq" = 0 ]; then
  echo "after (e): jq_fix.sh result vs clawmigrate's, compared parsed (JSON5/JSON, key order ignored): $cmp_line"
  sed 's/^/  /' "$work/compare.err"
fi
[ "$ok" = 1 ]
