#!/usr/bin/env bash
# A streamed REST answer (POST /api/v1/req, JSONL, ~20 MB) to clients that stop reading
# (tests/serve/stall_client.py): other clients are served meanwhile, a client that leaves mid-body does
# not disturb the server, and SIGTERM ends serve (exit 0) at once, cutting the body, instead of waiting
# for a client that does not read. The body is made as the client takes it (net::BodySource); an
# HTTP/1.0 client gets it gathered.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

gen 30000 41 --days 3 --duplicate-fraction 0 --invalid-fraction 0 -o events.jsonl >/dev/null
"$PB" convert events.jsonl -o arch --no-progress --validate-signatures=false >/dev/null
stored=$(index_count arch)
[ "$stored" -gt 25000 ] || fail "expected a large archive, got $stored events"
serve_start S arch --history --max-limit 100000
BODY='[{"limit":100000}]'
jsonl() { curl -sf --max-time 60 -X POST --data "$BODY" "http://127.0.0.1:$S_PORT/api/v1/req"; }

# stall NAME: a client left mid-body; waits until it is stalled.
stall() {
  python3 "$NODE_SERVE/stall_client.py" "$S_PORT" "$BODY" "$WORK/$1.ready" "$WORK/$1.go" >"$WORK/$1.out" 2>&1 &
  printf -v "${1}_PID" '%s' "$!"
  local i
  for ((i = 0; i < 600; i++)); do [ -s "$WORK/$1.ready" ] && return 0; sleep 0.1; done
  cat "$WORK/$1.out" >&2
  fail "client $1 did not stall"
}

# 1. While one client is stalled mid-body, another gets the whole answer: every stored event once.
stall A
lines=$(jsonl | wc -l)
assert_eq "$lines" "$stored" "JSONL lines while another client is stalled"
# An HTTP/1.0 client cannot take a chunked body: it gets the same answer, gathered, in the same order.
curl -sf --http1.0 --max-time 60 -D h10.txt -o body10.jsonl -X POST --data "$BODY" "http://127.0.0.1:$S_PORT/api/v1/req" ||
  fail "HTTP/1.0 request"
grep -qi '^transfer-encoding' h10.txt && fail "a chunked body to an HTTP/1.0 client: $(cat h10.txt)"
jsonl >body11.jsonl
assert_eq "$(wc -l <body10.jsonl)" "$stored" "JSONL lines over HTTP/1.0"
cmp -s body10.jsonl body11.jsonl || fail "the HTTP/1.0 body differs from the HTTP/1.1 one"
# 2. The stalled client leaves mid-body; the server goes on.
echo leave >"$WORK/A.go"
wait "$A_PID" || fail "client A"
lines=$(jsonl | python3 -c 'import json,sys; print(len({json.loads(l)["id"] for l in sys.stdin}))')
assert_eq "$lines" "$stored" "distinct events after a client left mid-body"
curl -sf "http://127.0.0.1:$S_PORT/health" | grep -q ok || fail "health after a client left"
# 3. SIGTERM while a client is stalled: serve exits 0 promptly and the client sees a cut body.
stall B
kill -TERM "$S_PID"
for ((i = 0; i < 150; i++)); do kill -0 "$S_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$S_PID" 2>/dev/null && fail "serve still running 15 s after SIGTERM with a stalled client"
rc=0; wait "$S_PID" || rc=$?
assert_eq "$rc" 0 "serve's exit status after SIGTERM"
echo drain >"$WORK/B.go"
wait "$B_PID" || { cat "$WORK/B.out" >&2; fail "client B"; }
grep -q '^cut ' "$WORK/B.out" || fail "the stalled client's body after SIGTERM: $(cat "$WORK/B.out")"
pass
