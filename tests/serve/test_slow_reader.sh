#!/usr/bin/env bash
# Bounded output: a client that does not read is disconnected once its queued output passes
# --max-output-bytes, and a concurrent client is served meanwhile (tests/serve/slow_reader.mjs).
# SIGTERM while a client without permessage-deflate has stopped reading in the middle of a burst: serve
# still exits 0 (it does not wait for the client), and the client, once it reads again, sees the
# connection end (tests/serve/stalled_ws.mjs).
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

node "$NODE_SERVE/gen_events.mjs" --count 400 --seed slow --out events.jsonl
"$PB" convert events.jsonl -o arch --no-progress >/dev/null
serve_start S arch --history --max-output-bytes 262144
timeout 120 node "$NODE_SERVE/slow_reader.mjs" --port "$S_PORT" || fail "slow reader"
curl -s "http://127.0.0.1:$S_PORT/health" | grep -q ok || fail "server stopped serving"
serve_stop S

serve_start T arch --history --max-output-bytes 268435456
node "$NODE_SERVE/stalled_ws.mjs" --port "$T_PORT" --reqs 200 --ready "$WORK/stalled.ready" --go "$WORK/stalled.go" \
  >stalled.out 2>&1 &
client=$!
for ((i = 0; i < 600; i++)); do [ -s "$WORK/stalled.ready" ] && break; sleep 0.1; done
[ -s "$WORK/stalled.ready" ] || { cat stalled.out >&2; fail "the client did not stall"; }
# Wait until serve has queued more than the socket takes (its sent-events counter stops at the stall).
for ((i = 0; i < 600; i++)); do
  sent=$(curl -sf "http://127.0.0.1:$T_PORT/metrics" | sed -n 's/^pb_serve_events_sent_total //p')
  [ "${sent:-0}" -ge 40000 ] && break
  sleep 0.1
done
[ "${sent:-0}" -ge 40000 ] || fail "serve did not answer the burst (events sent: ${sent:-none})"
stop_started=$(date +%s%N)
kill -TERM "$T_PID"
rc=0
timeout 60 tail --pid="$T_PID" -f /dev/null || fail "serve did not exit within 60 s of SIGTERM with a stalled client"
wait "$T_PID" || rc=$?
assert_eq "$rc" 0 "serve's exit status after SIGTERM with a stalled client"
echo "serve stopped $(( ($(date +%s%N) - stop_started) / 1000000 )) ms after SIGTERM with a stalled client"
echo go >"$WORK/stalled.go"
timeout 60 tail --pid="$client" -f /dev/null || fail "the stalled client did not see its connection end"
wait "$client" || fail "stalled client: $(cat stalled.out)"
grep -q '^events=[0-9]* close=' stalled.out || fail "stalled client: $(cat stalled.out)"
echo "stalled client: $(cat stalled.out)"
pass
