# Helpers for the serve tests (source after tests/integration/lib.sh): start `proton-beam serve` on
# 127.0.0.1:0, learn its port from --ready-file, stop it by PID on every path.
SERVE_PIDS=()
serve_cleanup() {
  local pid
  for pid in "${SERVE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap serve_cleanup EXIT
NODE_SERVE="$PB_SOURCE_DIR/tests/serve"

# serve_start NAME DIR [serve options...]: sets NAME_PID, NAME_PORT, NAME_LOG.
serve_start() {
  local name=$1 dir=$2; shift 2
  local ready="$WORK/$name.ready" log="$WORK/$name.log"
  rm -f "$ready"
  "$PB" serve "$dir" --listen 127.0.0.1:0 --ready-file "$ready" "$@" >"$log" 2>&1 &
  local pid=$!
  SERVE_PIDS+=("$pid")
  local i
  for ((i = 0; i < 600; i++)); do
    [ -s "$ready" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "serve $name exited before listening"; }
    sleep 0.1
  done
  [ -s "$ready" ] || fail "serve $name did not start listening"
  printf -v "${name}_PID" '%s' "$pid"
  printf -v "${name}_PORT" '%s' "$(cat "$ready")"
  printf -v "${name}_LOG" '%s' "$log"
}

# serve_stop NAME: SIGTERM, then the exit status must be 0.
serve_stop() {
  local name=$1 pidvar="${1}_PID" rc=0
  kill -TERM "${!pidvar}"
  wait "${!pidvar}" || rc=$?
  [ "$rc" == 0 ] || { cat "$WORK/$name.log" >&2; fail "serve $name exited with $rc after SIGTERM"; }
}
