#!/usr/bin/env bash
# The daemon compacts a finished day: events of 2024-01-01 stored in commits of 20 (compaction off) make
# a day file of many small members; restarted with --compact-grace 0, the daemon rewrites it on its writer
# thread into exactly the file `convert` writes for the same events in the same order.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

relay_start R1 --store "$WORK/r1.jsonl" --quiet
gen 2500 5151 --invalid-fraction 0 --duplicate-fraction 0 --days 1 --start-date 2024-01-01 -o "$WORK/raw.jsonl" -q
# Plain kinds only: the relay keeps just the newest replaceable event, so others may never be served.
python3 -c 'import json,sys
ev=[e for e in (json.loads(l) for l in open(sys.argv[1]) if l.strip()) if e["kind"] in (1, 4, 6, 7)]
ev.sort(key=lambda e: e["created_at"])
open(sys.argv[2],"w").write("".join(json.dumps(e,separators=(",",":"),ensure_ascii=False)+"\n" for e in ev))' "$WORK/raw.jsonl" "$WORK/events.jsonl"
N=$(wc -l <"$WORK/events.jsonl")
[ "$N" -gt 1000 ] || fail "too few regular events ($N)"
A="$WORK/archive"
DAY=2024_01_01.pb.gz
members() { sqlite3 "$1/index.db" "SELECT count(DISTINCT member_offset) FROM events_hex WHERE file_path = '$DAY'"; }

daemon_start "$A" --relay "$R1_URL" --batch-size 20 --commit-gap-ms 0 --compaction=false
relay_publish "$R1_URL" -- --events "$WORK/events.jsonl" --concurrency 4 --out "$WORK/sent.jsonl" >"$WORK/pub.json" ||
  fail "publisher failed: $(cat "$WORK/pub.json")"
wait_eq 60 "$N" committed "$A"
daemon_stop TERM
small=$(members "$A")
[ "$small" -ge 20 ] || fail "expected many small members, got $small"
before_size=$(stat -c %s "$A/$DAY")

# The reference: convert of the same events in the daemon's order (file order of the archive).
"$PB" export "$A" -o "$WORK/stored.jsonl" 2>/dev/null
"$PB" convert "$WORK/stored.jsonl" -o "$WORK/whole" --no-progress >/dev/null
whole_size=$(stat -c %s "$WORK/whole/$DAY")
want=$(members "$WORK/whole")

daemon_start "$A" --relay "$R1_URL" --batch-size 20 --commit-gap-ms 0 --compact-grace 0
wait_eq 60 "$want" members "$A"
wait_until 30 grep -q "compacted $DAY" "$A/proton-beam.log"
daemon_stop TERM

after_size=$(stat -c %s "$A/$DAY")
python3 -c "import sys; b,a,w=map(int,sys.argv[1:4]); print(f'measured: daemon day file {b} bytes in {sys.argv[4]} members ({b/w:.3f} of convert), {a} after compaction ({a/w:.3f}), convert {w}')" \
  "$before_size" "$after_size" "$whole_size" "$small"
python3 -c "import sys; sys.exit(0 if int(sys.argv[1]) <= 1.10 * int(sys.argv[2]) else 1)" "$after_size" "$whole_size" ||
  fail "compacted $after_size bytes is more than 10% above convert's $whole_size"
assert_eq "$(day_files_digest "$A")" "$(day_files_digest "$WORK/whole")" "compacted day file = convert's"
assert_eq "$(committed "$A")" "$N" "events after compaction"
"$PB" export "$A" -o "$WORK/after.jsonl" 2>/dev/null
cmp -s "$WORK/stored.jsonl" "$WORK/after.jsonl" || fail "export differs after the daemon's compaction"
"$PB" verify "$A" >/dev/null || fail "verify after the daemon's compaction"
pass
