#!/usr/bin/env bash
# Creates (or completes) the Proton Beam schema on a ClickHouse server over its HTTP interface:
# clickhouse/schema.sql, then the statements of clickhouse/extras.sql that the server's version supports.
# Idempotent: run it again at any time. --drop-existing drops the database first (asks unless --yes).
#
# Usage: clickhouse/bootstrap.sh [--host H] [--port P] [--user U] [--password PW] [--database DB]
#                                [--secure] [--insecure] [--schema FILE] [--no-extras]
#                                [--drop-existing [--yes]] [--dry-run]
# Environment: CLICKHOUSE_HOST, CLICKHOUSE_PORT, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD,
# CLICKHOUSE_DATABASE, CLICKHOUSE_SECURE (options win over the environment). Needs curl and awk.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOST=${CLICKHOUSE_HOST:-localhost}
PORT=${CLICKHOUSE_PORT:-8123}
CH_USER=${CLICKHOUSE_USER:-default}
PASSWORD=${CLICKHOUSE_PASSWORD:-}
DB=${CLICKHOUSE_DATABASE:-nostr}
SECURE=${CLICKHOUSE_SECURE:-0}
INSECURE=0
SCHEMA=$HERE/schema.sql
EXTRAS=$HERE/extras.sql
DROP=0
YES=0
DRY=0

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --host) HOST=$2; shift ;;
    --port) PORT=$2; shift ;;
    --user) CH_USER=$2; shift ;;
    --password) PASSWORD=$2; shift ;;
    --database) DB=$2; shift ;;
    --secure) SECURE=1 ;;
    --insecure) INSECURE=1 ;;
    --schema) SCHEMA=$2; shift ;;
    --no-extras) EXTRAS= ;;
    --drop-existing) DROP=1 ;;
    --yes|-y) YES=1 ;;
    --dry-run) DRY=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bootstrap.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case $SECURE in 1|true|yes) SCHEME=https ;; *) SCHEME=http ;; esac
[[ $DB =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "bootstrap.sh: database name must be an identifier: $DB" >&2; exit 2; }
CURL=(curl -sS --fail-with-body --user "$CH_USER:$PASSWORD")
[ "$INSECURE" = 1 ] && CURL+=(-k)
URL="$SCHEME://$HOST:$PORT/"

# run SQL: one statement; prints the result, fails with the server's message.
run() {
  if [ "$DRY" = 1 ]; then printf '%s;\n\n' "$1" >&3; return 0; fi
  "${CURL[@]}" "$URL" --data-binary "$1"
}
exec 3>&1  # --dry-run prints the statements here
# statements FILE [MIN_VERSION_FILTER]: the file's statements, NUL-separated, with `nostr` renamed to
# $DB; with a version, only the '-- @requires' sections at or below it.
statements() {
  awk -v have="${2:-}" -v db="$DB" '
    function ver(s,  a) { split(s, a, "."); return a[1] * 1000 + a[2] }
    /^[[:space:]]*-- @requires / { ok = (have == "" || ver(have) >= ver($3)); next }
    /^[[:space:]]*--/ { next }
    BEGIN { ok = 1 }
    {
      if (!ok) next
      line = $0
      if (buf == "" && line ~ /^[[:space:]]*$/) next
      # rename the database: "nostr." prefixes and the CREATE DATABASE statement
      out = ""; while (match(line, /nostr\./)) {
        pre = substr(line, 1, RSTART - 1); c = substr(pre, length(pre), 1)
        out = out pre ((c ~ /[A-Za-z0-9_]/) ? "nostr." : db ".")
        line = substr(line, RSTART + RLENGTH)
      }
      line = out line
      sub(/DATABASE IF NOT EXISTS nostr;/, "DATABASE IF NOT EXISTS " db ";", line)
      buf = buf line "\n"
      if (line ~ /;[[:space:]]*$/) { sub(/;[[:space:]]*\n$/, "", buf); printf "%s%c", buf, 0; buf = "" }
    }' "$1"
}

if [ "$DRY" = 1 ]; then VERSION=${CLICKHOUSE_VERSION:-18.16}; else
  VERSION=$("${CURL[@]}" "$URL" --data-binary 'SELECT version()') || {
    echo "bootstrap.sh: cannot reach ClickHouse at $URL" >&2; exit 1; }
fi
echo "ClickHouse $VERSION at $URL, database $DB" >&2

if [ "$DROP" = 1 ]; then
  if [ "$YES" != 1 ]; then
    [ -t 0 ] || { echo "bootstrap.sh: --drop-existing needs --yes when not run from a terminal" >&2; exit 2; }
    read -r -p "Drop database $DB on $HOST:$PORT with all its data? Type the database name to confirm: " answer
    [ "$answer" = "$DB" ] || { echo "not confirmed; nothing dropped" >&2; exit 1; }
  fi
  run "DROP DATABASE IF EXISTS $DB" > /dev/null
  echo "dropped database $DB" >&2
fi

n=0
while IFS= read -r -d '' stmt; do
  run "$stmt" > /dev/null
  n=$((n + 1))
done < <(statements "$SCHEMA")
echo "schema: $n statements applied" >&2

if [ -n "$EXTRAS" ] && [ -f "$EXTRAS" ]; then
  applied=0 failed=0
  while IFS= read -r -d '' stmt; do
    if out=$(run "$stmt" 2>&1); then applied=$((applied + 1)); else
      failed=$((failed + 1)); echo "warning: extra not applied: ${stmt%%$'\n'*}: $out" >&2; fi
  done < <(statements "$EXTRAS" "$VERSION")
  echo "extras for ClickHouse $VERSION: $applied applied, $failed failed" >&2
fi
