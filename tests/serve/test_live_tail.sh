#!/usr/bin/env bash
# Live tail: a client subscribed (after EOSE) receives exactly the events a later `proton-beam convert`
# commits into the served archive (another process), each once, none missing; the snapshot and the tail
# together hold every matching event exactly once. --history so every new event is expected.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

node "$NODE_SERVE/gen_events.mjs" --count 300 --seed tail --out all.jsonl
head -n 150 all.jsonl > first.jsonl
tail -n +151 all.jsonl > second.jsonl
"$PB" convert first.jsonl -o arch --no-progress >/dev/null
serve_start S arch --history --tail-poll-ms 20

# All kinds, a limit far above the archive: the snapshot is the first half, the tail the second.
node "$NODE_SERVE/tail_client.mjs" --port "$S_PORT" --filter '{"limit":5000}' --eose-file eose1 \
  --expect 151 --out live_all.txt > client1.out 2>&1 &
C1=$!; SERVE_PIDS+=("$C1")
node "$NODE_SERVE/tail_client.mjs" --port "$S_PORT" --filter '{"kinds":[1],"limit":0}' --eose-file eose2 \
  --expect "$(grep -c '"kind":1,' second.jsonl)" --out live_k1.txt > client2.out 2>&1 &
C2=$!; SERVE_PIDS+=("$C2")
for ((i = 0; i < 600; i++)); do [ -f eose1 ] && [ -f eose2 ] && break; sleep 0.1; done
[ -f eose1 ] && [ -f eose2 ] || fail "no EOSE"
# Several commits while the clients are subscribed (small batches, index commits after each).
"$PB" convert second.jsonl -o arch --no-progress -b 10 >/dev/null
wait "$C1" || { cat client1.out; fail "client 1 did not get every live event"; }
wait "$C2" || { cat client2.out; fail "client 2 did not get every live kind-1 event"; }
assert_eq "$(cat client1.out)" "snapshot=150 live=151 dup=0" "snapshot + tail"
python3 - <<'PY' || fail "live events are not exactly the second convert's"
import json
second = [json.loads(l) for l in open("second.jsonl") if l.strip()]
live = [l for l in open("live_all.txt").read().split() if l]
assert sorted(live) == sorted(e["id"] for e in second), "all"
k1 = [l for l in open("live_k1.txt").read().split() if l]
assert sorted(k1) == sorted(e["id"] for e in second if e["kind"] == 1), "kind 1"
PY
serve_stop S
pass
