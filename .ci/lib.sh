# Sourced by the .ci/install-*.sh scripts: a cached install at DEST, complete when DEST/.stamp
# holds the script's RECIPE, built by one caller at a time (flock on DEST.lock).
#
#   cache_open "$@"        usage check; sets DEST (absolute) and STAMP
#   cache_lock             exits 0 when complete; else takes DEST.lock and checks again
#   cache_build_in_temp    sets TMP=DEST.tmp.PID (stale temps removed, removed on exit)
#   cache_move_into_place  replaces DEST with TMP
#   cache_stamp            marks DEST complete (last)
#   cache_venv PY_MIN REQS PKG_RE BIN...
#                          (after cache_lock) builds DEST as a virtualenv of REQS (pinned pip
#                          requirements; logs the lines matching PKG_RE) with a Python of at least
#                          PY_MIN, checks each BIN runs, and stamps it
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

# A virtualenv cannot be moved (its scripts name it in their #! line), so it is built in place and
# the stamp, written last, marks it complete: an interrupted run leaves no stamp, and the next run
# starts over.
cache_venv() {
  local min="$1" reqs="$2" pkgs="$3" name start=$SECONDS py="${PYTHON:-python3}"
  shift 3
  name="$(basename -- "$0" .sh)"
  "$py" -c 'import sys; sys.exit(sys.version_info < tuple(map(int, sys.argv[1].split("."))))' "$min" || {
    echo "$name: $py is $("$py" --version 2>&1); $(basename -- "$reqs") needs Python $min or newer" >&2
    exit 1
  }
  echo "$name: installing $(grep -E "$pkgs" "$reqs" | tr '\n' ' ')into $DEST" >&2
  rm -rf -- "$DEST"
  "$py" -m venv "$DEST" || {
    echo "$name: $py has no working venv module (apt install python3-venv)" >&2
    exit 1
  }
  "$DEST/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$reqs" >&2
  local bin
  for bin in "$@"; do "$DEST/bin/$bin" --version >/dev/null; done
  cache_stamp
  echo "$name: done in $((SECONDS - start)) s -> $DEST" >&2
}
