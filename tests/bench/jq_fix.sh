#!/usr/bin/env bash
# jq_fix.sh FLEET_DIR: the openclaw#7621 fix as an operator would script it with bash + jq,
# the baseline clawmigrate is benchmarked against (tests/bench/fleet.sh). Per install:
#   1. point provider minimax-cn's baseUrl at the China host (api.minimax.io|api.minimax.chat
#      -> api.minimaxi.com) in openclaw.json;
#   2. give every agent that uses minimax-cn (its model refs or the defaults it inherits, aliases
#      resolved, or a minimax-cn block in its models.json), plus the default agent, a
#      minimax-cn:default api_key profile with the key found in the install (an agent's
#      models.json apiKey / x-api-key, or an existing minimax-cn:default profile), and list the
#      profile under auth.profiles in openclaw.json;
#   3. delete the minimax-cn block from every agent's models.json.
#
# Deliberately plain, the way such scripts are written under time pressure:
# - jq cannot read JSON5 (comments, unquoted keys, trailing commas), and sed can strip comments
#   but not the rest, so openclaw.json goes through a one-line node helper that eval()s it as a
#   JS object literal (node is on every OpenClaw host anyway). The config is written back as
#   plain JSON: its comments and formatting are lost (OpenClaw still reads it). eval() runs
#   whatever the file holds.
# - Writes are `jq ... > f.tmp && mv f.tmp f`: atomic against readers, but NOT durable (no fsync
#   of the file or its directory; after a power loss a file can be empty or old), no backups, no
#   lock against a running gateway, and the new file gets the umask's mode (0644 under umask 022)
#   instead of the original 0600, so keys become world-readable.
# - One install at a time, one node and several jq processes per install.
set -u
fleet=${1:?usage: jq_fix.sh FLEET_DIR}
CN=minimax-cn
PROFILE=minimax-cn:default

# JSON5 -> JSON on stdout.
json5() { node -e 'const fs=require("fs");process.stdout.write(JSON.stringify(eval("("+fs.readFileSync(process.argv[1],"utf8")+")")))' "$1"; }

# The ids of the agents in agents.list that use minimax-cn through their model refs.
USING='
  (.agents.defaults // {}) as $d
  | ($d.models // {}) as $aliases
  | def prov: if contains("/") then split("/")[0] | ascii_downcase
      else . as $r | [$aliases | to_entries[] | select((.value.alias // "") | ascii_downcase == ($r | ascii_downcase)) | .key | split("/")[0] | ascii_downcase][0]
      end;
  def primary: if type == "string" then . elif type == "object" then .primary else null end;
  .agents.list[]?
  | (.model | primary // ($d.model | primary)) as $p
  | (if (.model | type) == "object" and (.model | has("fallbacks")) then .model.fallbacks
     else (if ($d.model | type) == "object" then $d.model.fallbacks // [] else [] end) end) as $f
  | select([$p // empty, $f[]] | map(prov) | index($ENV.CN))
  | .id'

installs=0 fixed=0 skipped=0
while IFS= read -r cfg; do
  installs=$((installs + 1))
  dir=$(dirname "$cfg")
  conf=$(json5 "$cfg") || { echo "jq_fix: $cfg: cannot parse, skipped" >&2; skipped=$((skipped + 1)); continue; }
  # Installs that do not define minimax-cn are left alone.
  echo "$conf" | jq -e --arg p "$CN" '.models.providers[$p]' >/dev/null || continue

  ids=$(echo "$conf" | jq -r '.agents.list[]?.id')
  [ -n "$ids" ] || ids=main
  default=$(echo "$conf" | jq -r '[.agents.list[]? | select(.default == true) | .id][0] // .agents.list[0].id // "main"')

  # One look at each agent's models.json: does it hold a minimax-cn block, and a key?
  key="" blocks=""
  for a in $ids; do
    m="$dir/agents/$a/agent/models.json"
    [ -f "$m" ] || continue
    read -r has k < <(jq -r --arg p "$CN" '.providers[$p] | if . then "yes \(.apiKey // .headers["x-api-key"] // "")" else "no" end' "$m")
    [ "$has" = yes ] && blocks="$blocks $a"
    [ -z "$key" ] && [ -n "${k:-}" ] && key=$k
  done
  # No key in models.json: reuse an existing minimax-cn:default profile's.
  if [ -z "$key" ]; then
    for a in $ids; do
      p="$dir/agents/$a/agent/auth-profiles.json"
      [ -f "$p" ] && key=$(jq -r --arg p "$PROFILE" '.profiles[$p].key // empty' "$p")
      [ -n "$key" ] && break
    done
  fi

  # Agents that need the profile: model refs, a minimax-cn block in models.json, the default.
  need="$(echo "$conf" | CN=$CN jq -r "$USING") $blocks"
  [ -n "${need// /}" ] && need="$need $default"
  need=$(printf '%s\n' $need | sort -u)

  changed=0
  # Fix 2: the profile in each agent's auth-profiles.json.
  for a in $need; do
    p="$dir/agents/$a/agent/auth-profiles.json"
    if [ -f "$p" ] && jq -e --arg p "$CN" '[.profiles[]? | select(.provider == $p)] | length > 0' "$p" >/dev/null; then
      continue
    fi
    if [ -z "$key" ]; then
      echo "jq_fix: $dir: agent $a needs a $CN key and none was found; skipped" >&2
      continue
    fi
    if [ -f "$p" ]; then
      jq --arg id "$PROFILE" --arg p "$CN" --arg k "$key" \
        '.profiles[$id] = {type: "api_key", provider: $p, key: $k}' "$p" > "$p.tmp" && mv "$p.tmp" "$p"
    else
      mkdir -p "$(dirname "$p")"
      jq -n --arg id "$PROFILE" --arg p "$CN" --arg k "$key" \
        '{version: 1, profiles: {($id): {type: "api_key", provider: $p, key: $k}}}' > "$p"
    fi
    changed=1
  done

  # Fix 1 (and 2's config side): baseUrl host and the auth.profiles entry in openclaw.json.
  new=$(echo "$conf" | jq --arg p "$CN" --arg id "$PROFILE" --arg have "$need" '
    .models.providers[$p].baseUrl |= (if type == "string"
      then sub("^(?<s>[a-zA-Z]+://)(?<u>[^/@]*@)?(api\\.minimax\\.io|api\\.minimax\\.chat)(?<r>[:/?#]|$)"; "\(.s)\(.u // "")api.minimaxi.com\(.r)"; "i")
      else . end)
    | if $have != "" and (.auth.profiles | type) == "object" and (.auth.profiles[$id] == null)
      then .auth.profiles[$id] = {provider: $p, mode: "api_key"} else . end')
  if [ "$new" != "$(echo "$conf" | jq .)" ]; then
    echo "$new" > "$cfg.tmp" && mv "$cfg.tmp" "$cfg"
    changed=1
  fi

  # Fix 3: the redundant minimax-cn block in models.json (after the key was read from it).
  for a in $blocks; do
    m="$dir/agents/$a/agent/models.json"
    jq --arg p "$CN" 'del(.providers[$p])' "$m" > "$m.tmp" && mv "$m.tmp" "$m"
    changed=1
  done
  fixed=$((fixed + changed))
done < <(find "$fleet" -maxdepth 5 -type f -name openclaw.json -not -path '*/.clawmigrate/*' | sort)

echo "jq_fix: $installs installs, $fixed changed, $skipped skipped" >&2
