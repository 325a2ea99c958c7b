#!/usr/bin/env bash
# NIP-11 relay information (docs/daemon.md, "NIP-11"). Relays cap every answer at 100 events, newest first,
# and the daemon runs with the default --page-size (500):
#  1. R1 (ws) and R2 (wss) say max_limit 100 in their NIP-11 document, served on the relay's own port: the
#     daemon fetches it before dialling (to the address it dials, with Accept: application/nostr+json),
#     asks limit 100 and pages back through all of R1's 1,000 and R2's 300 events, each archived once.
#     R3 has no document (404): dialled all the same with limit 500, so only its newest 100 come back (the
#     gap NIP-11 closes). R4 serves a broken document, R5 one over 64 KiB (max_limit 100 in it, ignored):
#     both dialled with limit 500, all archived. /relays shows what was
#     learned, /metrics the fetch outcomes; a reconnect within the hour does not fetch again.
#  2. Discovery: operator relay A says payment_required and is archived all the same; the relays its events
#     name, P (payment_required) and Q (auth_required), are refused at dial time, never connected.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

sign() { "$RELAY_NODE" "$RELAY_DIR/sign_events.mjs" "$@"; }
nip11_field() {  # URL FIELD: a field of the relay's nip11 object in /relays ("null" when it has none)
  http_get relays | python3 -c 'import json,sys
for r in json.load(sys.stdin):
    if r["url"].rstrip("/") == sys.argv[1].rstrip("/"):
        print("null" if r["nip11"] is None else json.dumps(r["nip11"][sys.argv[2]]))' "$1" "$2"
}
fetches() { metric "proton_beam_nip11_fetches_total{outcome=\"$1\"}"; }
live_req_limit() { grep -Eo 'RECV c=[0-9]+ REQ \["REQ","pb[0-9]+",\{.*"limit":[0-9]+' "$1" | head -n 1 | grep -Eo '[0-9]+$'; }
nip11_gets() { grep -c "^NIP11 GET / host=127.0.0.1:$2\$" "$1" || true; }

sign --count 1000 --seed n1 --base-time 1700000000 --out "$WORK/r1.jsonl"
sign --count 300 --seed n2 --base-time 1700100000 --out "$WORK/r2.jsonl"
sign --count 150 --seed n3 --base-time 1700200000 --out "$WORK/r3.jsonl"
sign --count 20 --seed n4 --base-time 1700300000 --out "$WORK/r4.jsonl"

## 1. max_limit below --page-size; no document; a broken document.
relay_make_cert
RELAY_DEFER=1 relay_start R1 --store "$WORK/r1.jsonl" --max-limit 100
RELAY_DEFER=1 relay_start R2 --store "$WORK/r2.jsonl" --max-limit 100 --tls-cert "$RELAY_CERT" --tls-key "$RELAY_KEY"
RELAY_DEFER=1 relay_start R3 --store "$WORK/r3.jsonl" --max-limit 100 --no-nip11
RELAY_DEFER=1 relay_start R4 --store "$WORK/r4.jsonl" --max-limit 100 --nip11 '{"limitation":{"max_limit":-7'
big="{\"limitation\":{\"max_limit\":100},\"description\":\"$(head -c 70000 /dev/zero | tr '\0' d)\"}"
RELAY_DEFER=1 relay_start R5 --max-limit 100 --nip11 "$big"
relay_await R1 R2 R3 R4 R5
A1="$WORK/a1"
daemon_start "$A1" --relay "$R1_URL" --relay "$R2_URL" --relay "$R3_URL" --relay "$R4_URL" --relay "$R5_URL" --batch-size 200
wait_eq 90 1420 committed "$A1"  # 1,000 + 300 + R3's newest 100 + 20
wait_eq 30 1700000999 relay_field "$R1_URL" cursor  # R1's history run ended
wait_eq 30 1700100299 relay_field "$R2_URL" cursor

# The document was asked for once, before the WebSocket came, on the relay's port and path.
for r in R1 R2 R3 R4 R5; do
  log=${r}_LOG port=${r}_PORT
  assert_eq "$(nip11_gets "${!log}" "${!port}")" 1 "NIP-11 requests $r received"
  first=$(grep -nE '^(NIP11|CONNECT)' "${!log}" | head -n 1)
  [[ "$first" == *NIP11* ]] || fail "$r: the WebSocket came before the NIP-11 request ($first)"
done
assert_eq "$(live_req_limit "$R1_LOG")" 100 "R1's live REQ limit (max_limit)"
assert_eq "$(live_req_limit "$R2_LOG")" 100 "R2's live REQ limit (max_limit, over https)"
assert_eq "$(live_req_limit "$R3_LOG")" 500 "R3's live REQ limit (no document: --page-size)"
assert_eq "$(live_req_limit "$R4_LOG")" 500 "R4's live REQ limit (broken document: --page-size)"
assert_eq "$(live_req_limit "$R5_LOG")" 500 "R5's live REQ limit (document over 64 KiB: --page-size)"
pages=$(relay_field "$R1_URL" pages)
[ "$pages" -ge 10 ] || fail "R1 paged $pages times, expected >= 10 (1,000 events, 100 a page)"
grep -Eq 'RECV c=[0-9]+ REQ \["REQ","pg[0-9]+",\{"since":0,"until":[0-9]+,"limit":100\}' "$R1_LOG" ||
  fail "R1's paging REQs do not ask limit 100"
assert_eq "$(relay_field "$R1_URL" page_limit)" 100 "R1 page_limit in /relays"
assert_eq "$(nip11_field "$R1_URL" max_limit)" 100 "R1 nip11.max_limit"
assert_eq "$(nip11_field "$R1_URL" name)" '"proton-beam test relay"' "R1 nip11.name"
assert_eq "$(nip11_field "$R2_URL" max_limit)" 100 "R2 nip11.max_limit"
assert_eq "$(relay_field "$R2_URL" stored)" 300 "events stored from R2"
assert_eq "$(nip11_field "$R3_URL" max_limit)" null "R3 nip11"
assert_eq "$(relay_field "$R3_URL" page_limit)" 500 "R3 page_limit"
assert_eq "$(relay_field "$R3_URL" pages)" 0 "R3 pages (a short first page ends its history)"
assert_eq "$(relay_field "$R4_URL" stored)" 20 "events stored from R4"
assert_eq "$(nip11_field "$R4_URL" max_limit)" null "R4 nip11"
assert_eq "$(fetches ok)" 2 "NIP-11 fetches ok"
assert_eq "$(fetches http_status)" 1 "NIP-11 fetches http_status (R3's 404)"
assert_eq "$(fetches invalid)" 1 "NIP-11 fetches invalid (R4)"
assert_eq "$(fetches too_large)" 1 "NIP-11 fetches too_large (R5)"
assert_eq "$(nip11_field "$R5_URL" max_limit)" null "R5 nip11"
grep -q "relay $R3_URL/: no NIP-11 document (http_status: HTTP 404); dialling anyway" "$A1/proton-beam.log" ||
  fail "no log line for R3's missing document"

# A reconnect within the hour uses the cached document: no second request, limit still 100.
relay_restart R1
wait_eq 30 2 relay_field "$R1_URL" connects
assert_eq "$(nip11_gets "$R1_LOG" "$R1_PORT")" 1 "NIP-11 requests R1 received after a reconnect"
assert_eq "$(grep -Ec 'RECV c=[0-9]+ REQ \["REQ","pb[0-9]+",\{.*"limit":100\}' "$R1_LOG")" 2 "R1's live REQs with limit 100"
daemon_stop TERM

tail -n 100 "$WORK/r3.jsonl" >"$WORK/r3_newest.jsonl"
ids "$WORK/r1.jsonl" "$WORK/r2.jsonl" "$WORK/r3_newest.jsonl" "$WORK/r4.jsonl" >"$WORK/expected1.ids"
archived_ids "$A1" >"$WORK/got1.ids"
cmp -s "$WORK/expected1.ids" "$WORK/got1.ids" || { diff "$WORK/expected1.ids" "$WORK/got1.ids" | head >&2; fail "archive != the relays' events"; }
assert_eq "$("$PB_BIN/pb-dump-archive" "$A1" | wc -l)" 1420 "records in the day files (each event once)"

## 2. Discovery: auth_required / payment_required candidates are refused; the operator's relay is not.
RELAY_DEFER=1 relay_start P --nip11 '{"name":"paid","limitation":{"payment_required":true}}'
RELAY_DEFER=1 relay_start Q --nip11 '{"name":"members","limitation":{"auth_required":true,"max_limit":50}}'
relay_await P Q
sign --count 10 --seed na --authors 1 --relay-list "$P_URL,$Q_URL" --out "$WORK/a.jsonl"
relay_start A --store "$WORK/a.jsonl" --nip11 '{"limitation":{"payment_required":true,"auth_required":true}}'
A2="$WORK/a2"
daemon_start "$A2" --relay "$A_URL" --discovery --discovery-interval 0.2 --allow-private-addresses
wait_eq 30 10 committed "$A2"
wait_eq 30 1 metric 'proton_beam_discovery_refused_total{reason="nip11_payment_required"}'
wait_eq 30 1 metric 'proton_beam_discovery_refused_total{reason="nip11_auth_required"}'
wait_eq 30 refused relay_field "$P_URL" state
wait_eq 30 refused relay_field "$Q_URL" state
last=$(relay_field "$P_URL" last_error)
[[ "$last" == "refused: nip11_payment_required"* ]] || fail "P's last_error: $last"
last=$(relay_field "$Q_URL" last_error)
[[ "$last" == "refused: nip11_auth_required"* ]] || fail "Q's last_error: $last"
assert_eq "$(relay_field "$A_URL" state)" connected "the operator's relay A (payment_required) state"
sleep 1  # a few more rounds: the refused relays stay refused (for an hour), never dialled
assert_eq "$(metric proton_beam_discovery_refused_total'{reason="nip11_payment_required"}')" 1 "payment refusals"
assert_eq "$(metric proton_beam_relay_connects_total)" 1 "connections opened (A only)"
for r in P Q; do
  log=${r}_LOG port=${r}_PORT
  assert_eq "$(nip11_gets "${!log}" "${!port}")" 1 "NIP-11 requests $r received"
  assert_eq "$(grep -c '^CONNECT' "${!log}" || true)" 0 "WebSocket connections $r received"
done
grep -q "discovery: refused $P_URL/ reason=nip11_payment_required (NIP-11 limitation.payment_required; #1)" \
  "$A2/proton-beam.log" || fail "no log line for P's refusal"
daemon_stop TERM
pass
