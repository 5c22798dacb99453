# Sourced by the .ci/install-*.sh scripts: a cached install at DEST, complete when DEST/.stamp
# holds the script's RECIPE, built by one caller at a time (flock on DEST.lock).
#
#   cache_open "$@"        usage check; sets DEST (absolute) and STAMP
#   cache_lock             exits 0 when complete; else takes DEST.lock and checks again
#   cache_build_in_temp    sets TMP=DEST.tmp.PID (stale temps removed, removed on exit)
#   cache_move_into_place  replaces DEST with TMP
#   cache_stamp            marks DEST complete (last)
# The caller sets RECIPE before cache_lock.

cache_open() {
  if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 DEST" >&2
    exit 2
  fi
  mkdir -p "$(dirname -- "$1")"
  DEST="$(cd -- "$(dirname -- "$1")" && pwd)/$(basename -- "$1")"
  STAMP="$DEST/.stamp"
}

cache_is_complete() { [[ -f "$STAMP" ]] && [[ "$(cat -- "$STAMP")" == "$RECIPE" ]]; }

cache_lock() {
  cache_is_complete && exit 0
  # Serialise concurrent installers (e.g. parallel test binaries).
  exec 9>"$DEST.lock"
  flock 9
  cache_is_complete && exit 0
  return 0
}

cache_build_in_temp() {
  TMP="$DEST.tmp.$$"
  trap 'rm -rf -- "$TMP"' EXIT
  rm -rf -- "$TMP" "$DEST".tmp.*
  mkdir -p "$TMP"
}

cache_move_into_place() {
  rm -rf -- "$DEST"
  mv -- "$TMP" "$DEST"
  trap - EXIT
}

cache_stamp() { printf '%s' "$RECIPE" > "$STAMP"; }
