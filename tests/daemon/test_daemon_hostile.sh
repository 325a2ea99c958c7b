#!/usr/bin/env bash
# Hostile relays: forged copies sent before the genuine events (genuine stored, forgeries counted invalid
# and logged with relay, category, id prefix); garbage and binary frames (valid events kept, no crash,
# stray events for unknown subscriptions dropped and counted); an oversized frame before a relay's events
# (skipped and counted, the connection kept, the events after it stored); a relay that never answers pings
# (dropped by the keepalive and redialled).
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

RELAY_DEFER=1 hostile_start HF --scenario forged-first --seed forged --count 8 --out "$WORK/f.jsonl"
RELAY_DEFER=1 hostile_start HG --scenario garbage,binary --seed garbage --count 6 --out "$WORK/g.jsonl"
RELAY_DEFER=1 hostile_start HO --scenario oversize --seed over --count 4 --out "$WORK/o.jsonl" --oversize-bytes 300000
RELAY_DEFER=1 hostile_start HS --scenario silent
relay_await HF HG HO HS

A="$WORK/archive"
daemon_start "$A" --relay "$HF_URL" --relay "$HG_URL" --relay "$HO_URL" --relay "$HS_URL" \
  --max-message-bytes 200000 --ping-interval-ms 300 --pong-timeout-ms 600 --reconnect-min-ms 100
wait_eq 30 18 committed "$A"

# forged-first: 8 forgeries rejected, the 8 genuine events stored. A forgery with a wrong id is always
# invalid (the id is checked before dedup); one with the right id and a bad signature is invalid when its
# worker verifies it first, or a duplicate when the genuine copy, verified on the other worker, got there
# first: which one depends on thread timing, so the test counts both.
hf_invalid=$(relay_field "$HF_URL" invalid)
hf_dups=$(relay_field "$HF_URL" duplicates)
assert_eq "$(( hf_invalid + hf_dups ))" 8 "HF forgeries rejected (invalid + duplicates)"
assert_eq "$(relay_field "$HF_URL" stored)" 8 "HF stored"
grep -Eq "reject relay=$HF_URL/? category=invalid_event_id id=[0-9a-f]{16}" "$A/proton-beam.log" || fail "no invalid_event_id line for HF"
if [ "$hf_dups" -eq 0 ]; then
  grep -Eq "reject relay=$HF_URL/? category=invalid_signature id=[0-9a-f]{16}" "$A/proton-beam.log" ||
    fail "no invalid_signature line for HF"
fi

# garbage + binary: the genuine events stored, the junk counted, the stray event dropped.
assert_eq "$(relay_field "$HG_URL" stored)" 6 "HG stored"
[ "$(relay_field "$HG_URL" malformed)" -gt 10 ] || fail "HG malformed not counted"
[ "$(relay_field "$HG_URL" invalid)" -gt 0 ] || fail "HG invalid not counted"
[ "$(relay_field "$HG_URL" unknown_subscription)" -ge 1 ] || fail "HG stray event not counted"
stray=$(grep -Eo 'INFO stray [0-9a-f]{64}' "$HG_LOG" | awk '{print $3}' | head -n 1)
[ -n "$stray" ] || fail "hostile relay printed no stray id"
assert_eq "$(sqlite3 "$A/index.db" "SELECT count(*) FROM events WHERE id = X'$stray'")" 0 "stray event archived"
binary=$(grep -Eo 'INFO binary [0-9a-f]{64}' "$HG_LOG" | awk '{print $3}' | head -n 1)
assert_eq "$(sqlite3 "$A/index.db" "SELECT count(*) FROM events WHERE id = X'$binary'")" 0 "binary-frame event archived"

# oversize: skipped and counted once; the events after it on the same connection stored.
assert_eq "$(relay_field "$HO_URL" oversize)" 1 "HO oversize"
assert_eq "$(relay_field "$HO_URL" stored)" 4 "HO stored"
relay_wait_log HO 'SENT c=1 sub=[^ ]+ frames=[0-9]+$'  # the events came after the oversized frame on connection 1
grep -Eq "relay $HO_URL/?: message of 3[0-9]{5} bytes skipped \(over --max-message-bytes 200000\)" "$A/proton-beam.log" ||
  fail "no skip line for HO in the log"
! grep -q "message too big" "$A/proton-beam.log" || fail "a connection was closed for the oversized message"
assert_eq "$(metric proton_beam_relay_messages_oversize_total)" 1 "oversize metric"

# silent: the keepalive drops it and the daemon dials again.
relay_wait_log HS 'CONNECT c=2'
wait_eq 20 "ping timeout" relay_field "$HS_URL" last_error

kill -0 "$D_PID" || fail "daemon died"
daemon_stop TERM
canon "$WORK/f.jsonl" "$WORK/g.jsonl" "$WORK/o.jsonl" >"$WORK/expected.jsonl"
"$PB_BIN/pb-dump-archive" "$A" | canon >"$WORK/got.jsonl"
cmp -s "$WORK/expected.jsonl" "$WORK/got.jsonl" || fail "archive != the hostile relays' genuine events"
pass
