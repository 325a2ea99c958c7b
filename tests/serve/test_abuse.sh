#!/usr/bin/env bash
# Bad inputs, caps, NIP-11 and the HTTP endpoints (tests/serve/abuse_client.mjs); then 200 concurrent
# connections all served, and the per-IP rate limit answering CLOSED rate-limited:.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

node "$NODE_SERVE/gen_events.mjs" --count 120 --seed abuse --out events.jsonl
"$PB" convert events.jsonl -o arch --no-progress >/dev/null
known=$(tail -1 events.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

serve_start S arch --max-subscriptions 8 --max-filters 20
node "$NODE_SERVE/abuse_client.mjs" --port "$S_PORT" --max-subscriptions 8 --max-filters 20 --known-id "$known" \
  || fail "abuse checks"
node "$NODE_SERVE/many_clients.mjs" --port "$S_PORT" --clients 200 || fail "200 concurrent connections"
serve_stop S

serve_start R arch --rate-limit 5
node "$NODE_SERVE/many_clients.mjs" --port "$R_PORT" --clients 1 --reqs 20 --expect-rate-limited \
  || fail "rate limit"
serve_stop R
pass
