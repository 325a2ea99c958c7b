#!/usr/bin/env bash
# A relay whose NIP-11 answer never comes (docs/daemon.md, "NIP-11"). T is a tarpit: it accepts TCP
# connections, records what it receives and never answers.
#  1. With a connect timeout of 120 s, the daemon's NIP-11 GET to T is in flight when SIGTERM comes: the
#     daemon exits 0 within daemon_stop's 15 s (only cancelling the GET can do that), and a healthy relay
#     R1 beside T was archived meanwhile (one stalled document holds up no other relay), its events
#     committed at shutdown.
#  2. With a 1 s timeout, the fetch is given up (counted as a timeout, logged) and T is dialled anyway:
#     its second connection is the WebSocket upgrade.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

# tarpit NAME: starts one; sets NAME_PORT and NAME_LOG. Stopped by PID at exit (and it also ends by
# itself once the test's shell is gone).
TARPITS=()
_stall_prev_trap=$(_relay_prev_exit_trap || true)
_stall_cleanup() {
  local p
  for p in "${TARPITS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  eval "$_stall_prev_trap"
}
trap _stall_cleanup EXIT
tarpit() {
  local name=$1 ready="$WORK/$1.port" log="$WORK/$1.log"
  python3 - "$ready" "$log" "$$" <<'PY' &
import os, select, socket, sys
ready, log, parent = sys.argv[1], sys.argv[2], int(sys.argv[3])
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
open(ready + ".tmp", "w").write(str(srv.getsockname()[1])); os.rename(ready + ".tmp", ready)
conns = []
while os.getppid() == parent or os.path.exists(f"/proc/{parent}"):
    r, _, _ = select.select([srv] + conns, [], [], 0.5)
    for s in r:
        if s is srv:
            c, _ = srv.accept(); conns.append(c)
            with open(log, "a") as f: f.write("== accepted ==\n")
        else:
            data = s.recv(65536)
            if not data: conns.remove(s); s.close(); continue
            with open(log, "a") as f: f.write(data.decode("latin-1"))
PY
  TARPITS+=($!)
  wait_until 10 test -s "$ready"
  printf -v "${name}_PORT" '%s' "$(cat "$ready")"
  printf -v "${name}_LOG" '%s' "$log"
}
received() { if [ -f "$2" ]; then grep -ci -- "$1" "$2" || true; else echo 0; fi; }  # PATTERN LOG (any case)
# first_line PATTERN LOG: the line number of the first match (0: none)
first_line() { grep -ni -m1 -- "$1" "$2" | cut -d: -f1 | grep . || echo 0; }
fetches() { metric "proton_beam_nip11_fetches_total{outcome=\"$1\"}"; }

sign() { "$RELAY_NODE" "$RELAY_DIR/sign_events.mjs" "$@"; }
sign --count 50 --seed stall1 --base-time 1700000000 --out "$WORK/r1.jsonl"

## 1. SIGTERM while the GET is in flight.
tarpit T
relay_start R1 --store "$WORK/r1.jsonl"
relay_await R1
T_URL="ws://127.0.0.1:$T_PORT"
A="$WORK/a"
daemon_start "$A" --relay "$T_URL" --relay "$R1_URL" --connect-timeout-ms 120000
wait_eq 30 50 committed "$A"  # R1 archived while T's document is still awaited
wait_eq 10 1 received "^GET / HTTP/1.1" "$T_LOG"
[ "$(received "^accept: application/nostr+json" "$T_LOG")" == 1 ] || fail "T's request does not ask for application/nostr+json"
assert_eq "$(received "^== accepted ==$" "$T_LOG")" 1 "connections to T (the GET, no WebSocket yet)"
assert_eq "$(received "^upgrade: websocket" "$T_LOG")" 0 "WebSocket upgrades sent to T"
daemon_stop  # fails unless it exits 0 within 15 s
assert_eq "$(committed "$A")" 50 "events committed at shutdown"
cmp -s <(archived_ids "$A") <(ids "$WORK/r1.jsonl") || fail "archived ids differ from R1's events"

## 2. The fetch times out: counted, logged, and T is dialled anyway.
tarpit U
U_URL="ws://127.0.0.1:$U_PORT"
B="$WORK/b"
daemon_start "$B" --relay "$U_URL" --connect-timeout-ms 1000
wait_ge 30 1 received "^upgrade: websocket" "$U_LOG"
nip11=$(first_line "^accept: application/nostr+json" "$U_LOG") upgrade=$(first_line "^upgrade: websocket" "$U_LOG")
[ "$nip11" -gt 0 ] && [ "$nip11" -lt "$upgrade" ] || fail "U: the NIP-11 GET (line $nip11) did not come before the upgrade (line $upgrade)"
wait_eq 10 1 fetches timeout
grep -q "relay $U_URL/: no NIP-11 document (timeout" "$B/proton-beam.log" || fail "no log line for U's timed-out document"
daemon_stop
pass
