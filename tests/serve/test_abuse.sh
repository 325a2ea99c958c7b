#!/usr/bin/env bash
# Bad inputs, caps, NIP-11 and the HTTP endpoints (tests/serve/abuse_client.mjs); then 200 concurrent
# connections all served, and the per-IP rate limit answering CLOSED rate-limited:. The first server runs
# its connections on three network threads (the default is one): bad inputs and 200 connections there
# exercise the sessions' strands across threads.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

node "$NODE_SERVE/gen_events.mjs" --count 120 --seed abuse --out events.jsonl
"$PB" convert events.jsonl -o arch --no-progress >/dev/null
known=$(tail -1 events.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

serve_start S arch --max-subscriptions 8 --max-filters 20 --net-threads 3
net_threads() { grep -lx pb-net /proc/"$S_PID"/task/*/comm 2>/dev/null | wc -l; }
for ((i = 0; i < 100; i++)); do [ "$(net_threads)" -ge 3 ] && break; sleep 0.1; done  # started after the ready file
assert_eq "$(net_threads)" 3 "network threads of --net-threads 3"
node "$NODE_SERVE/abuse_client.mjs" --port "$S_PORT" --max-subscriptions 8 --max-filters 20 --known-id "$known" \
  || fail "abuse checks"
node "$NODE_SERVE/many_clients.mjs" --port "$S_PORT" --clients 200 || fail "200 concurrent connections"
serve_stop S

serve_start R arch --rate-limit 5
node "$NODE_SERVE/many_clients.mjs" --port "$R_PORT" --clients 1 --reqs 20 --expect-rate-limited \
  || fail "rate limit"
serve_stop R
pass
