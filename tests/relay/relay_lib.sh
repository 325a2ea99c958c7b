# Relay test peers for integration tests (bash; source AFTER tests/integration/lib.sh, and after any other
# *_lib.sh that sets an EXIT trap, e.g. s3_lib.sh: this file chains the EXIT trap it finds). Also works
# standalone (selftest.sh): then it makes its own temp dir $WORK and removes it on exit.
#
#   relay_start   NAME [relay.mjs options...]          real relay (@nostr-relay/core), see relay.mjs
#   hostile_start NAME --scenario S [options...]       scripted hostile relay, see hostile_relay.mjs
#   replay_start  NAME --events FILE [options...]      benchmark replay relay, see replay_relay.mjs
#     Each starts node in the background (stdout in $WORK/relays/NAME/out.log, stderr in err.log), waits
#     (bounded: RELAY_START_TIMEOUT seconds, default 20) for its ready file, and sets + exports
#     NAME_PORT, NAME_PID, NAME_URL (ws://127.0.0.1:PORT, or wss:// when --tls-cert is given), NAME_LOG.
#     Default options: --port 0 --host 127.0.0.1; later options win (e.g. --port 7000). NAME must be a shell
#     identifier (R1, HOSTILE, ...). Every started peer is killed by PID on EXIT (and INT/TERM/HUP).
#     To start several at once: RELAY_DEFER=1 relay_start A ...; RELAY_DEFER=1 relay_start B ...;
#     relay_await A B   (only NAME_PID is set before relay_await).
#   relay_stop NAME                   SIGTERM, then SIGKILL after 5 s; waits for the process
#   relay_restart NAME                stop, then start again with the same options on the same port
#                                     (a --store FILE is therefore reloaded: the events survive)
#   relay_query NAME [FILTER_JSON]    the events matching (default {}) as JSONL (query.mjs; a relay.mjs
#                                     started with --auth-required needs RELAY_AUTH_SEED=S set)
#   relay_count_events NAME [FILTER]  how many events match
#   relay_wait_log NAME REGEX [SECS]  waits (bounded, default 20 s) until NAME's stdout has a line
#                                     matching the extended REGEX, e.g. 'RECV c=[0-9]+ REQ .*"since"'
#   relay_make_cert                   makes $WORK/tls/{cert,key}.pem once and sets RELAY_CERT, RELAY_KEY
#   relay_publish URL... -- ARGS      node publish.mjs (with --ca $RELAY_CERT when one was made)
# For wss, pass --tls-cert "$RELAY_CERT" --tls-key "$RELAY_KEY" after relay_make_cert; C++ clients trust
# $RELAY_CERT as a CA file, node clients via --ca or NODE_EXTRA_CA_CERTS=$RELAY_CERT.

RELAY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RELAY_NODE=${RELAY_NODE:-node}
if ! declare -F fail >/dev/null; then fail() { echo "FAIL: $*" >&2; exit 1; }; fi
[ -d "$RELAY_DIR/../node/node_modules/@nostr-relay/core" ] && [ -d "$RELAY_DIR/../node/node_modules/ws" ] ||
  fail "the relay peers' npm packages are not installed (run scripts/setup.sh)"
command -v "$RELAY_NODE" >/dev/null || fail "node is not installed (run scripts/setup.sh)"

_RELAY_OWN_WORK=""
if [ -z "${WORK:-}" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/pb-relay.XXXXXX"); _RELAY_OWN_WORK=1; fi
_RELAY_NAMES=()

# Stops every peer started here (by PID), then runs the EXIT trap that was set before this file was sourced.
_relay_prev_exit_trap() { local t; t=$(trap -p EXIT); t=${t#trap -- }; t=${t% EXIT}; [ -n "$t" ] && eval "printf '%s' $t"; }
_RELAY_PREV_TRAP=$(_relay_prev_exit_trap || true)
relay_stop_all() {
  local n
  for n in "${_RELAY_NAMES[@]}"; do relay_stop "$n"; done
  if [ -n "$_RELAY_OWN_WORK" ]; then rm -rf "$WORK"; fi
}
trap 'relay_stop_all; '"$_RELAY_PREV_TRAP" EXIT
# So the EXIT trap also runs when the test is interrupted or killed with TERM.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

_relay_launch() { # NAME SCRIPT ARGS...
  local name=$1 script=$2; shift 2
  [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || fail "relay name '$name' is not a shell identifier"
  local dir="$WORK/relays/$name" pid tls=""
  mkdir -p "$dir"
  rm -f "$dir/port"
  printf '%s\n' "$script" "$@" >"$dir/argv" # for relay_restart (one argument per line)
  local a; for a in "$@"; do [ "$a" == "--tls-cert" ] && tls=1; done
  "$RELAY_NODE" "$RELAY_DIR/$script" --port 0 --host 127.0.0.1 "$@" --ready-file "$dir/port" --watch-pid $$ \
    >>"$dir/out.log" 2>>"$dir/err.log" </dev/null &
  pid=$!
  printf -v "${name}_PID" '%s' "$pid"
  export "${name}_PID"
  printf '%s\n' "$tls" >"$dir/tls"
  local found=0 n
  for n in "${_RELAY_NAMES[@]}"; do [ "$n" == "$name" ] && found=1; done
  [ $found == 1 ] || _RELAY_NAMES+=("$name")
  [ -n "${RELAY_DEFER:-}" ] || relay_await "$name"
}

# relay_await NAME...: waits for peers started with RELAY_DEFER=1 (bounded) and sets their variables.
relay_await() {
  local name
  for name in "$@"; do _relay_await1 "$name"; done
}
_relay_await1() {
  local name=$1 dir="$WORK/relays/$1" pidvar="${1}_PID" script tls
  local pid=${!pidvar}
  script=$(head -n 1 "$dir/argv")
  tls=$(cat "$dir/tls")
  local deadline=$((SECONDS + ${RELAY_START_TIMEOUT:-20}))
  until [ -s "$dir/port" ]; do
    kill -0 "$pid" 2>/dev/null || fail "$script ($name) exited before it was ready: $(tail -n 20 "$dir/err.log")"
    [ $SECONDS -lt $deadline ] || fail "$script ($name) not ready in ${RELAY_START_TIMEOUT:-20} s: $(tail -n 20 "$dir/err.log")"
    sleep 0.05
  done
  local port; port=$(cat "$dir/port")
  printf -v "${name}_PORT" '%s' "$port"
  printf -v "${name}_URL" '%s' "$([ -n "$tls" ] && echo wss || echo ws)://127.0.0.1:$port"
  printf -v "${name}_LOG" '%s' "$dir/out.log"
  export "${name}_PORT" "${name}_URL" "${name}_LOG"
}

relay_start() { local n=$1; shift; _relay_launch "$n" relay.mjs "$@"; }
hostile_start() { local n=$1; shift; _relay_launch "$n" hostile_relay.mjs "$@"; }
replay_start() { local n=$1; shift; _relay_launch "$n" replay_relay.mjs "$@"; }

relay_stop() {
  local name=$1 pidvar="${1}_PID" pid
  pid=${!pidvar:-}
  [ -n "$pid" ] || return 0
  if kill -TERM "$pid" 2>/dev/null; then
    local i
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  printf -v "$pidvar" '%s' ""
}

relay_restart() {
  local name=$1 dir="$WORK/relays/$1" portvar="${1}_PORT" args=()
  [ -f "$dir/argv" ] || fail "relay_restart: $name was never started"
  mapfile -t args <"$dir/argv"
  local port=${!portvar}
  relay_stop "$name"
  RELAY_DEFER=1 _relay_launch "$name" "${args[0]}" "${args[@]:1}" --port "$port"
  relay_await "$name"
  [ "${!portvar}" == "$port" ] || fail "relay_restart: $name came back on port ${!portvar}, not $port"
}

_relay_client_tls() { local u=$1; if [[ "$u" == wss://* ]] && [ -n "${RELAY_CERT:-}" ]; then printf '%s\n' --ca "$RELAY_CERT"; fi; }

relay_query() { # NAME [FILTER_JSON] [query.mjs options...]
  local urlvar="${1}_URL" filter='{}' extra=()
  [ $# -ge 2 ] && filter=$2
  mapfile -t extra < <(_relay_client_tls "${!urlvar}")
  [ -n "${RELAY_AUTH_SEED:-}" ] && extra+=(--auth-seed "$RELAY_AUTH_SEED")
  "$RELAY_NODE" "$RELAY_DIR/query.mjs" "${!urlvar}" "$filter" "${extra[@]}" "${@:3}"
}
relay_count_events() { relay_query "$1" "${2:-"{}"}" --count; }

relay_wait_log() {
  local name=$1 re=$2 secs=${3:-20} logvar="${1}_LOG"
  local deadline=$((SECONDS + secs))
  until grep -Eq -- "$re" "${!logvar}" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "relay $name: no log line matching /$re/ within $secs s"
    sleep 0.05
  done
}

relay_make_cert() {
  "$RELAY_DIR/make_cert.sh" "$WORK/tls" || fail "make_cert.sh failed"
  RELAY_CERT="$WORK/tls/cert.pem" RELAY_KEY="$WORK/tls/key.pem"
  export RELAY_CERT RELAY_KEY
}

relay_publish() { # relay_publish URL [URL...] -- publish.mjs options
  local urls=() extra=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do urls+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  [ -n "${RELAY_CERT:-}" ] && extra=(--ca "$RELAY_CERT")
  "$RELAY_NODE" "$RELAY_DIR/publish.mjs" "${urls[@]}" "${extra[@]}" "$@"
}
