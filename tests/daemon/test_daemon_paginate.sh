#!/usr/bin/env bash
# History paging (docs/daemon.md, "History paging") against relays that cap every answer at 100 events,
# newest first, as real relays do (at 500, often):
#  1. --backfill-since 0 --page-size 100 on a relay holding 1,360 events, 60 of them sharing the second
#     where the first page ends: every event archived exactly once, >= 13 pages, each page's subscription
#     closed after its EOSE. Beside it a relay that ignores `until` (every page the same): paged twice, then
#     dropped with a log line, never looped; its newest 100 archived.
#  2. A relay with a committed cursor gets 1,360 newer events; kill -9 while the daemon pages back through
#     them (the relay answers the third paging REQ never): the committed cursor is still the one from before
#     the run although the newest events are committed, so the restart asks since = that cursor again and
#     archives every event exactly once.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

sign() { "$RELAY_NODE" "$RELAY_DIR/sign_events.mjs" "$@"; }
newest() { python3 -c 'import json,sys; print(max(json.loads(l)["created_at"] for f in sys.argv[1:] for l in open(f) if l.strip()))' "$@"; }
db_cursor() { sqlite3 "$1/index.db" "SELECT coalesce((SELECT cursor FROM relay_cursors WHERE url = '$2/'), 'none')"; }
req_count() { grep -Ec "RECV c=[0-9]+ REQ .*\"REQ\",\"$2" "$1" || true; }

# 1,300 regular events (the relay keeps only the newest replaceable one, so plain kinds only) spread over a
# day, and 60 events sharing the second of the 70th newest: the first page (100 newest) ends inside them.
gen 2600 5150 --invalid-fraction 0 --duplicate-fraction 0 --days 1 -o "$WORK/raw.jsonl" -q
T=$(python3 -c 'import json,sys
ev=[e for e in (json.loads(l) for l in open(sys.argv[1]) if l.strip()) if e["kind"] in (1, 4, 6, 7)]
ev.sort(key=lambda e: e["created_at"])
if len(ev) < 1300: sys.exit("only %d regular events" % len(ev))
ev=ev[:1300]
open(sys.argv[2],"w").write("".join(json.dumps(e,separators=(",",":"),ensure_ascii=False)+"\n" for e in ev))
print(ev[-70]["created_at"])' "$WORK/raw.jsonl" "$WORK/big.jsonl")
sign --count 60 --per-second 60 --base-time "$T" --seed crowd --out "$WORK/crowd.jsonl"
assert_eq "$(ids "$WORK/big.jsonl" "$WORK/crowd.jsonl" | wc -l)" 1360 "distinct corpus events"
sign --count 300 --seed repeat --base-time 1690000000 --out "$WORK/repeat.jsonl"

## 1. Paging to the beginning; a relay that ignores until.
cat "$WORK/big.jsonl" "$WORK/crowd.jsonl" >"$WORK/r1.jsonl"
RELAY_DEFER=1 relay_start R1 --store "$WORK/r1.jsonl" --max-limit 100
RELAY_DEFER=1 relay_start R3 --store "$WORK/repeat.jsonl" --max-limit 100 --ignore-until
relay_await R1 R3
[ "$(relay_count_events R1)" == 100 ] || fail "R1 does not cap its answers at 100"
A1="$WORK/a1"
daemon_start "$A1" --relay "$R1_URL" --relay "$R3_URL" --page-size 100 --batch-size 200
wait_eq 120 1460 committed "$A1"
wait_until 30 grep -q "relay $R3_URL/\?: history paging stopped: a full page with nothing at or before until=" "$A1/proton-beam.log"
wait_eq 30 "$(newest "$WORK/r1.jsonl")" relay_field "$R1_URL" cursor  # the run ended: the cursor moved
wait_eq 30 "$(newest "$WORK/repeat.jsonl")" relay_field "$R3_URL" cursor

pages=$(relay_field "$R1_URL" pages)
[ "$pages" -ge 13 ] || fail "R1 paged $pages times, expected >= 13 (1,360 events, 100 a page)"
assert_eq "$(req_count "$R1_LOG" pg)" "$pages" "paging REQs R1 received"
wait_eq 30 "$pages" grep -Ec 'RECV c=[0-9]+ CLOSE .*"CLOSE","pg' "$R1_LOG"  # each page closed after its EOSE
grep -Eq "RECV c=[0-9]+ REQ .*\"pg[0-9]+\",.*\"until\":$T," "$R1_LOG" || fail "no page asked until=$T (the shared second)"
assert_eq "$(req_count "$R1_LOG" pb)" 1 "live REQs R1 received"
grep -Eq 'RECV c=[0-9]+ REQ .*"pb[0-9]+",\{"since":0,"limit":100\}' "$R1_LOG" || fail "live REQ is not since=0 limit=100"

# The relay that ignores until: page 2 repeats page 1 (all of it at or after until: one second back), page 3
# repeats it again (nothing at or before until): stop. Exactly its newest 100 are archived.
assert_eq "$(relay_field "$R3_URL" pages)" 2 "R3 pages"
assert_eq "$(req_count "$R3_LOG" '')" 3 "REQs R3 received"
assert_eq "$(relay_field "$R3_URL" stored)" 100 "R3 stored"
grep -q "relay $R3_URL/\?: a full page of events at created_at" "$A1/proton-beam.log" || fail "no log line for R3's repeated page"
assert_eq "$(metric proton_beam_relay_history_pages_total)" "$((pages + 2))" "pages metric"
daemon_stop TERM

tail -n 100 "$WORK/repeat.jsonl" >"$WORK/repeat_newest.jsonl"
ids "$WORK/r1.jsonl" "$WORK/repeat_newest.jsonl" >"$WORK/expected1.ids"
archived_ids "$A1" >"$WORK/got1.ids"
cmp -s "$WORK/expected1.ids" "$WORK/got1.ids" || { diff "$WORK/expected1.ids" "$WORK/got1.ids" | head >&2; fail "archive 1 != the relays' events"; }
assert_eq "$(ids "$WORK/crowd.jsonl" | grep -cxFf - "$WORK/got1.ids")" 60 "events of the shared second archived"
assert_eq "$("$PB_BIN/pb-dump-archive" "$A1" | wc -l)" 1460 "records in the day files (each event once)"

## 2. kill -9 mid-paging: the cursor is held at the run's start.
sign --count 50 --seed old --base-time 1700000000 --out "$WORK/r2.jsonl"
C=1700000049
relay_start R2 --store "$WORK/r2.jsonl" --max-limit 100
A2="$WORK/a2"
OPTS=(--relay "$R2_URL" --page-size 100 --batch-size 50 --overlap-seconds 0)
daemon_start "$A2" "${OPTS[@]}"
wait_eq 30 50 committed "$A2"
wait_eq 30 "$C" relay_field "$R2_URL" cursor
daemon_stop TERM
assert_eq "$(db_cursor "$A2" "$R2_URL")" "$C" "cursor after the first run"

port=$R2_PORT
relay_stop R2
cat "$WORK/big.jsonl" "$WORK/crowd.jsonl" >>"$WORK/r2.jsonl"
relay_start R2 --store "$WORK/r2.jsonl" --max-limit 100 --until-delay-ms 600000 --until-delay-from 3 --port "$port"
daemon_start "$A2" "${OPTS[@]}"
wait_ge 60 3 relay_field "$R2_URL" pages  # the third paging REQ was sent; its answer never comes
wait_ge 60 300 committed "$A2"            # the 50 old ones and what the first three pages brought
assert_eq "$(sqlite3 "$A2/index.db" 'SELECT max(created_at) FROM events')" "$(newest "$WORK/r2.jsonl")" "newest event committed"
assert_eq "$(relay_field "$R2_URL" cursor)" "$C" "cursor while paging"
daemon_kill9
assert_eq "$(db_cursor "$A2" "$R2_URL")" "$C" "committed cursor after kill -9 mid-paging"

relay_stop R2
relay_start R2 --store "$WORK/r2.jsonl" --max-limit 100 --port "$port"
daemon_start "$A2" "${OPTS[@]}"
wait_eq 120 1410 committed "$A2"
wait_eq 30 "$(newest "$WORK/r2.jsonl")" relay_field "$R2_URL" cursor
# Both the killed run and the restart asked since = the held cursor (overlap 0 here).
assert_eq "$(grep -Ec "RECV c=[0-9]+ REQ .*\"pb[0-9]+\",\{\"since\":$C,\"limit\":100\}" "$R2_LOG")" 2 "live REQs since=$C"
daemon_stop TERM
assert_eq "$(db_cursor "$A2" "$R2_URL")" "$(newest "$WORK/r2.jsonl")" "cursor after the run completed"
ids "$WORK/r2.jsonl" >"$WORK/expected2.ids"
archived_ids "$A2" >"$WORK/got2.ids"
cmp -s "$WORK/expected2.ids" "$WORK/got2.ids" || { diff "$WORK/expected2.ids" "$WORK/got2.ids" | head >&2; fail "archive 2 != the relay's events"; }
assert_eq "$("$PB_BIN/pb-dump-archive" "$A2" | wc -l)" 1410 "records in the day files after kill -9 (each event once)"
"$PB" verify "$A2" >/dev/null 2>&1 || fail "verify reports damage after kill -9"
pass
