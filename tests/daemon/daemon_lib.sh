# Helpers for proton-beam-daemon integration tests. Source after tests/integration/lib.sh and BEFORE
# tests/relay/relay_lib.sh (which chains the EXIT trap set here).
#
#   daemon_start DIR [options...]   starts the daemon on archive DIR with test defaults (HTTP on port 0,
#                                   no default relays, no discovery, backfill from 0, short backoff and
#                                   batch interval, $RELAY_CERT trusted); waits for its ready file; sets
#                                   D_PID, D_PORT, D_LOG (its stderr). Killed by PID on EXIT. D_PREFIX (an
#                                   array, empty by default) is put before the command: a wrapper that
#                                   execs it, such as with_hosts.sh, so D_PID is still the daemon's.
#   daemon_stop [SIGNAL]            SIGTERM (default) and wait (bounded 15 s); fails unless it exits 0
#   daemon_kill9                    kill -9 and reap
#   http_get PATH                   GET http://127.0.0.1:$D_PORT/PATH
#   metric NAME                     a value from /metrics
#   wait_until SECS CMD...          polls CMD until it succeeds (bounded)
#   wait_eq SECS WANT CMD...        polls until CMD's output is WANT (bounded); wait_ge: a number >= WANT
#   committed DIR                   rows in DIR's index (committed events)
#   relay_field URL FIELD           a field of one relay's /relays object
#   canon FILE...                   the events as sorted canonical JSON (keys sorted), one per line, unique
#   ids FILE...                     the ids of the events in JSONL files, sorted, unique
#   archived_ids DIR                the ids in DIR's index, sorted
DAEMON="$PB_BIN/proton-beam-daemon"
[ -x "$DAEMON" ] || fail "$DAEMON not built"
D_PID="" D_PORT="" D_LOG=""
D_PREFIX=()
_D_N=0
_daemon_cleanup() { if [ -n "$D_PID" ]; then kill -KILL "$D_PID" 2>/dev/null || true; wait "$D_PID" 2>/dev/null || true; fi; }
trap '_daemon_cleanup; [ -n "${PB_KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

daemon_start() {
  local dir=$1; shift
  _D_N=$((_D_N + 1))
  local ready="$WORK/daemon.$_D_N.ready" extra=()
  D_LOG="$WORK/daemon.$_D_N.err"
  [ -n "${RELAY_CERT:-}" ] && extra=(--ca-file "$RELAY_CERT")
  "${D_PREFIX[@]}" "$DAEMON" -o "$dir" --listen 127.0.0.1:0 --ready-file "$ready" --no-default-relays --no-discovery \
    --backfill-since 0 --reconnect-min-ms 50 --reconnect-max-ms 400 --batch-interval 0.2 \
    "${extra[@]}" "$@" >"$WORK/daemon.$_D_N.out" 2>"$D_LOG" </dev/null &
  D_PID=$!
  local deadline=$((SECONDS + 20))
  until [ -s "$ready" ]; do
    kill -0 "$D_PID" 2>/dev/null || { cat "$D_LOG" >&2; D_PID=""; fail "daemon exited before it was ready"; }
    [ $SECONDS -lt $deadline ] || fail "daemon not ready in 20 s"
    sleep 0.05
  done
  D_PORT=$(cat "$ready")
}

daemon_stop() {
  local sig=${1:-TERM} rc=0 i
  kill -"$sig" "$D_PID"
  for i in $(seq 300); do kill -0 "$D_PID" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$D_PID" 2>/dev/null && fail "daemon still running 15 s after SIG$sig"
  wait "$D_PID" || rc=$?
  D_PID=""
  [ "$rc" == 0 ] || { cat "$D_LOG" >&2; fail "daemon exited $rc after SIG$sig"; }
}

daemon_kill9() { kill -KILL "$D_PID"; wait "$D_PID" 2>/dev/null || true; D_PID=""; }

http_get() { curl -sS --max-time 10 "http://127.0.0.1:$D_PORT/$1"; }
metric() { http_get metrics | awk -v n="$1" '$1 == n { print $2 }'; }
committed() { [ -f "$1/index.db" ] && sqlite3 "$1/index.db" 'SELECT count(*) FROM events' 2>/dev/null || echo 0; }
relay_field() {
  http_get relays | python3 -c 'import json,sys
for r in json.load(sys.stdin):
    if r["url"].rstrip("/") == sys.argv[1].rstrip("/"): print(r[sys.argv[2]])' "$1" "$2"
}
wait_until() {
  local secs=$1; shift
  local deadline=$((SECONDS + secs))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "condition not met within $secs s: $*"
    sleep 0.1
  done
}
canon() {
  cat "$@" | python3 -c 'import json,sys
for line in sys.stdin:
    if line.strip(): print(json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"), ensure_ascii=False))' | sort -u
}
ids() { python3 -c 'import json,sys
for f in sys.argv[1:]:
    for l in open(f):
        if l.strip(): print(json.loads(l)["id"])' "$@" | sort -u; }
archived_ids() { sqlite3 "$1/index.db" 'SELECT lower(hex(id)) FROM events' | sort; }
wait_eq() {
  local secs=$1 want=$2 got=""; shift 2
  local deadline=$((SECONDS + secs))
  until got=$("$@") && [ "$got" == "$want" ]; do
    [ $SECONDS -lt $deadline ] || fail "$* is '$got', not '$want', after $secs s"
    sleep 0.1
  done
}
wait_ge() {
  local secs=$1 want=$2 got=""; shift 2
  local deadline=$((SECONDS + secs))
  until got=$("$@") && [ -n "$got" ] && [ "$got" -ge "$want" ]; do
    [ $SECONDS -lt $deadline ] || fail "$* is '$got', not >= $want, after $secs s"
    sleep 0.1
  done
}
