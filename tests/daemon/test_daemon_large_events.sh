#!/usr/bin/env bash
# Big events from real relays: kind-3 contact lists of ~300 kB to ~920 kB of JSON (2,000 follows and a
# legacy relay map; under the default 1 MiB message cap), from one relay with permessage-deflate over ws and one over
# wss, in the history answer and live after EOSE. The archive holds every event once, field for field;
# nothing is counted oversize or invalid. Then a daemon with a 500 kB cap on the same relays: the three
# bigger lists are skipped and counted, the connections stay up and every other event is stored (closing
# the connection instead made the relay deaf: it sends the same big event first on every reconnect).
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

relay_make_cert
RELAY_DEFER=1 relay_start R1 --permessage-deflate
RELAY_DEFER=1 relay_start R2 --tls-cert "$RELAY_CERT" --tls-key "$RELAY_KEY"
relay_await R1 R2

sign() { "$RELAY_NODE" "$RELAY_DIR/sign_events.mjs" "$@"; }
sign --count 10 --seed big --contact-lists 300,600,950 --out "$WORK/history.jsonl"
sign --count 5 --seed live --base-time 1700001000 --contact-lists 800 --out "$WORK/live.jsonl"
biggest=$(awk '{ print length($0) }' "$WORK/history.jsonl" "$WORK/live.jsonl" | sort -n | tail -1)
[ "$biggest" -gt 900000 ] && [ "$biggest" -lt 1000000 ] || fail "the biggest event is $biggest bytes, not ~920 kB"

relay_publish "$R1_URL" "$R2_URL" -- --events "$WORK/history.jsonl" >/dev/null
A="$WORK/archive"
daemon_start "$A" --relay "$R1_URL" --relay "$R2_URL"
wait_eq 60 13 committed "$A"
# Live: published once each relay has sent its whole history, so the new events arrive as live events.
wait_eq 30 13 relay_field "$R1_URL" received
wait_eq 30 13 relay_field "$R2_URL" received
relay_publish "$R1_URL" "$R2_URL" -- --events "$WORK/live.jsonl" >/dev/null
wait_eq 60 19 committed "$A"

assert_eq "$(metric proton_beam_events_invalid_total)" 0 "invalid_total"
assert_eq "$(metric proton_beam_relay_messages_oversize_total)" 0 "no message over the cap"
assert_eq "$(metric proton_beam_events_stored_total)" 19 "stored_total"
daemon_stop TERM

canon "$WORK/history.jsonl" "$WORK/live.jsonl" >"$WORK/expected.jsonl"
"$PB_BIN/pb-dump-archive" "$A" >"$WORK/dump.jsonl"
assert_eq "$(wc -l <"$WORK/dump.jsonl")" 19 "records in the day files (no duplicates)"
canon "$WORK/dump.jsonl" >"$WORK/got.jsonl"
cmp -s "$WORK/expected.jsonl" "$WORK/got.jsonl" || fail "archive != the published events"
assert_eq "$(sqlite3 "$A/index.db" 'SELECT count(*) FROM events WHERE kind = 3')" 4 "contact lists indexed"

B="$WORK/capped"
daemon_start "$B" --relay "$R1_URL" --relay "$R2_URL" --max-message-bytes 500000
wait_eq 60 16 committed "$B"
wait_eq 30 6 metric proton_beam_relay_messages_oversize_total  # 3 lists over the cap, from each relay
assert_eq "$(metric proton_beam_relays_connected)" 2 "both relays still connected"
assert_eq "$(relay_field "$R1_URL" connects)" 1 "R1: one connection"
grep -Eq "message of [0-9]{6} bytes skipped \(over --max-message-bytes 500000\)" "$B/proton-beam.log" || fail "no skip line in the log"
daemon_stop TERM
cat "$WORK/history.jsonl" "$WORK/live.jsonl" | awk 'length($0) < 500000' | canon >"$WORK/expected_small.jsonl"
"$PB_BIN/pb-dump-archive" "$B" | canon >"$WORK/got_small.jsonl"
cmp -s "$WORK/expected_small.jsonl" "$WORK/got_small.jsonl" || fail "capped archive != the events under the cap"
pass
