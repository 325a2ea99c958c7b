#!/usr/bin/env bash
# Differential test of `proton-beam serve` against the node oracle (tests/serve/oracle.mjs): 1000 random
# REQs + 200 COUNTs in default mode, 500 + 100 with --history (served through the event cache alone), on a generated archive with tags,
# replaceable/addressable versions, deletions and expirations; REST JSONL equals the relay's answer and
# REST pages walk the archive exactly once. SIGTERM stops the server with status 0.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

node "$NODE_SERVE/gen_events.mjs" --count 600 --seed diff --out events.jsonl
"$PB" convert events.jsonl -o arch --no-progress >/dev/null
[ "$(index_count arch)" -ge 590 ] || fail "convert stored too few events"

# --slice-ms 0: every REQ yields its worker every 16 index rows (inside pages), so resumed scans are checked too.
serve_start S arch --max-limit 60 --default-limit 25 --slice-ms 0
node "$NODE_SERVE/diff_client.mjs" --port "$S_PORT" --events events.jsonl --max-limit 60 --default-limit 25 \
  --reqs 1000 --counts 200 --seed default || fail "default mode differs from the oracle"
serve_stop S

# No member cache (a member never fits in 1 byte) and a small event cache (~100 events): every event comes
# from a fresh inflate or from the event cache, which fills, evicts and admits on second offers.
serve_start H arch --history --max-limit 60 --default-limit 25 --cache-bytes 1 --event-cache-bytes 100000
node "$NODE_SERVE/diff_client.mjs" --port "$H_PORT" --events events.jsonl --history --max-limit 60 \
  --default-limit 25 --reqs 500 --counts 100 --seed history || fail "--history differs from the oracle"
metric() { curl -sS "http://127.0.0.1:$H_PORT/metrics" | awk -v m="pb_serve_$1" '$1 == m {print $2}'; }
[ "$(metric event_cache_hits_total)" -gt 0 ] || fail "the event cache served nothing"
[ "$(metric event_cache_admitted_total)" -gt 100 ] || fail "the event cache admitted too few to evict"
[ "$(metric event_cache_bytes)" -le 100000 ] || fail "the event cache is over its budget"
assert_eq "$(metric cache_bytes)" 0 "member cache bytes with --cache-bytes 1"
serve_stop H
pass
