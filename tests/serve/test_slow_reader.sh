#!/usr/bin/env bash
# Bounded output: a client that does not read is disconnected once its queued output passes
# --max-output-bytes, and a concurrent client is served meanwhile (tests/serve/slow_reader.mjs).
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

node "$NODE_SERVE/gen_events.mjs" --count 400 --seed slow --out events.jsonl
"$PB" convert events.jsonl -o arch --no-progress >/dev/null
serve_start S arch --history --max-output-bytes 262144
timeout 120 node "$NODE_SERVE/slow_reader.mjs" --port "$S_PORT" || fail "slow reader"
curl -s "http://127.0.0.1:$S_PORT/health" | grep -q ok || fail "server stopped serving"
serve_stop S
pass
