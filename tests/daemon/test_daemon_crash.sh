#!/usr/bin/env bash
# kill -9 mid-stream while a publisher keeps publishing, restart: every event exactly once. Then the relay
# process is restarted under the running daemon: it reconnects and loses nothing published afterwards.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

relay_start R1 --store "$WORK/r1.jsonl" --quiet
# Signed events in created_at order (as a live relay sees them); overlap covers the publisher's reordering.
# Only plain kinds (1, 4, 6, 7): the relay keeps just the newest replaceable/addressable event and does not
# store kind-5 deletions, so those may never be served to anyone.
gen 1200 4242 --invalid-fraction 0 --duplicate-fraction 0 --days 1 -o "$WORK/raw.jsonl" -q
python3 -c 'import json,sys
regular=lambda k: k in (1, 4, 6, 7)
ev=[e for e in (json.loads(l) for l in open(sys.argv[1]) if l.strip()) if regular(e["kind"])]
ev.sort(key=lambda e: e["created_at"])
open(sys.argv[2],"w").write("".join(json.dumps(e,separators=(",",":"),ensure_ascii=False)+"\n" for e in ev))' "$WORK/raw.jsonl" "$WORK/events.jsonl"

N=$(wc -l <"$WORK/events.jsonl")
[ "$N" -gt 600 ] || fail "too few regular events ($N)"
A="$WORK/archive"
OPTS=(--relay "$R1_URL" --batch-size 40 --overlap-seconds 200000)
daemon_start "$A" "${OPTS[@]}"
relay_publish "$R1_URL" -- --events "$WORK/events.jsonl" --concurrency 4 --out "$WORK/sent1.jsonl" >"$WORK/pub1.json" &
PUB=$!
wait_ge 60 100 committed "$A"
before=$(committed "$A")
daemon_kill9
daemon_start "$A" "${OPTS[@]}"
wait "$PUB" || fail "publisher failed: $(cat "$WORK/pub1.json")"
wait_eq 60 "$N" committed "$A"
[ "$before" -lt "$N" ] || echo "note: the publisher finished before the kill (kill still tested recovery)"

# The relay restarts under the running daemon: reconnect, then live events still arrive.
connects=$(relay_field "$R1_URL" connects)
relay_restart R1
wait_ge 30 $((connects + 1)) relay_field "$R1_URL" connects
# (created after the corpus, as live events are: the REQ asks since = cursor - overlap)
relay_publish "$R1_URL" -- --generate 20 --seed after --base-time 1704300000 --out "$WORK/sent2.jsonl" >/dev/null
wait_eq 30 $((N + 20)) committed "$A"
daemon_stop TERM

"$PB_BIN/pb-dump-archive" "$A" >"$WORK/dump.jsonl"
assert_eq "$(wc -l <"$WORK/dump.jsonl")" $((N + 20)) "records in the day files (each event once)"
canon "$WORK/events.jsonl" "$WORK/sent2.jsonl" >"$WORK/expected.jsonl"
canon "$WORK/dump.jsonl" >"$WORK/got.jsonl"
cmp -s "$WORK/expected.jsonl" "$WORK/got.jsonl" || fail "archive != events published"
"$PB" verify "$A" >/dev/null 2>&1 || fail "verify reports damage after kill -9"
pass
