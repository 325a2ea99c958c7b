#!/usr/bin/env bash
# Three real relays (one over wss) holding overlapping events, plus events published while the daemon
# runs: the archive holds their union exactly once, field for field; /metrics and /relays agree with the
# archive; a second daemon and a convert on the same archive are refused; SIGTERM exits 0.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

relay_make_cert
RELAY_DEFER=1 relay_start R1
RELAY_DEFER=1 relay_start R2
RELAY_DEFER=1 relay_start R3 --tls-cert "$RELAY_CERT" --tls-key "$RELAY_KEY"
relay_await R1 R2 R3
[[ "$R3_URL" == wss://* ]] || fail "R3 is not wss"

# Overlap: A on R1+R2, B on R2+R3, C on R3 only, E on R1 only, F on R2 only. Each relay holds events of its
# own, so each one's cursor moves for sure: a copy that arrives while another relay's copy awaits its commit
# is dropped without moving the cursor (it may never be committed: cursor_hold.hpp).
relay_publish "$R1_URL" "$R2_URL" -- --generate 30 --seed a --out "$WORK/a.jsonl" >/dev/null
relay_publish "$R2_URL" "$R3_URL" -- --generate 30 --seed b --out "$WORK/b.jsonl" >/dev/null
relay_publish "$R3_URL" -- --generate 20 --seed c --out "$WORK/c.jsonl" >/dev/null
relay_publish "$R1_URL" -- --generate 5 --seed e --out "$WORK/e.jsonl" >/dev/null
relay_publish "$R2_URL" -- --generate 5 --seed f --out "$WORK/f.jsonl" >/dev/null

A="$WORK/archive"
daemon_start "$A" --relay "$R1_URL" --relay "$R2_URL" --relay "$R3_URL" --batch-size 7
wait_eq 30 90 committed "$A"

# Live events while subscribed (D on R1 and R3: both copies arrive, one is stored).
relay_publish "$R1_URL" "$R3_URL" -- --generate 15 --seed d --out "$WORK/d.jsonl" >/dev/null
wait_eq 30 105 committed "$A"
wait_eq 10 3 metric proton_beam_relays_connected

# The HTTP endpoints agree with the archive, once every copy has been counted: the second copy of a D event
# may be received and classified a moment after the 105th commit, and a relay whose events all came second
# (duplicates) has its cursor committed at the next tick, not with the events. Settled = all 180 copies on
# the relays (30*2 + 30*2 + 20 + 15*2 + 5 + 5) received and each one stored or a duplicate, every cursor set.
m() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/metrics.txt"; }
settled() {
  http_get metrics >"$WORK/metrics.txt" || return 1  # one snapshot: the counters are read together
  local received; received=$(m proton_beam_events_received_total)
  [ "${received:-0}" -ge 180 ] && [ "$((received - $(m proton_beam_events_stored_total)))" == "$(m proton_beam_events_duplicate_total)" ] &&
    http_get relays | python3 -c 'import json,sys; sys.exit(0 if all(x["cursor"] is not None for x in json.load(sys.stdin)) else 1)'
}
wait_until 30 settled
assert_eq "$(m proton_beam_events_stored_total)" 105 "stored_total"
assert_eq "$(m proton_beam_events_invalid_total)" 0 "invalid_total"
[ "$(m proton_beam_last_commit_timestamp_seconds)" -gt 0 ] || fail "no commit timestamp"
assert_eq "$(http_get health)" ok "/health"
assert_eq "$(http_get ready)" ready "/ready"
sum=$(http_get relays | python3 -c 'import json,sys; r=json.load(sys.stdin); print(sum(x["stored"] for x in r), len(r), all(x["state"]=="connected" for x in r), min(x["cursor"] for x in r) >= 1700000000)')
assert_eq "$sum" "105 3 True True" "/relays: stored sum, relays, all connected, smallest cursor"

# A second writer on the same archive is refused, clearly.
rc=0; "$DAEMON" -o "$A" --listen 127.0.0.1:0 --no-default-relays --relay "$R1_URL" 2>"$WORK/second.err" || rc=$?
assert_eq "$rc" 1 "second daemon exit status"
grep -q "only one process may write an archive" "$WORK/second.err" || fail "second daemon message: $(cat "$WORK/second.err")"
rc=0; "$PB" convert "$WORK/a.jsonl" -o "$A" >/dev/null 2>"$WORK/convert.err" || rc=$?
[ "$rc" != 0 ] || fail "convert on the daemon's archive succeeded"
grep -q "another proton-beam process" "$WORK/convert.err" || fail "convert message: $(cat "$WORK/convert.err")"

daemon_stop TERM

# Field for field: the archive is exactly the union of what was published.
canon "$WORK"/[a-f].jsonl >"$WORK/expected.jsonl"
"$PB_BIN/pb-dump-archive" "$A" >"$WORK/dump.jsonl"
assert_eq "$(wc -l <"$WORK/dump.jsonl")" 105 "records in the day files (no duplicates)"
canon "$WORK/dump.jsonl" >"$WORK/got.jsonl"
cmp -s "$WORK/expected.jsonl" "$WORK/got.jsonl" || { diff "$WORK/expected.jsonl" "$WORK/got.jsonl" | head >&2; fail "archive != union of published events"; }
# Cursors were committed with the events.
assert_eq "$(sqlite3 "$A/index.db" 'SELECT count(*) FROM relay_cursors')" 3 "relay cursors stored"
pass
