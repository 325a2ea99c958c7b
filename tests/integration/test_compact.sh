#!/usr/bin/env bash
# proton-beam compact: a day written in many small commits (one convert per 12 lines) becomes the file one
# convert writes, with identical export, a clean verify and a running serve still answering everything;
# kill -9 at each step of the swap (PB_FAULT_COMPACT_AT) and the next run completes it; refused while
# another writer holds the archive; options and exit codes.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

gen 3000 77 --invalid-fraction 0 --duplicate-fraction 0 --days 1 --start-date 2024-01-01 -o events.jsonl -q
DAY=2024_01_01.pb.gz

# The reference: the same events in one convert (one transaction).
"$PB" convert events.jsonl -o whole --no-progress >/dev/null
# Many small commits: each convert run commits once at its end, sealing the day's open member.
split -l 12 -d -a 4 events.jsonl chunk.
for c in chunk.*; do "$PB" convert "$c" -o tiny --no-progress >/dev/null; done
N=$(index_count whole)
assert_eq "$(index_count tiny)" "$N" "events stored by the small converts"
members() { sqlite3 "$1/index.db" "SELECT count(DISTINCT member_offset) FROM events_hex WHERE file_path = '$DAY'"; }
[ "$(members tiny)" -ge 100 ] || fail "expected many small members, got $(members tiny)"
cp -a tiny tiny0  # pristine copy for the kill tests
"$PB" export tiny -o before.jsonl 2>/dev/null
before_size=$(stat -c %s tiny/$DAY)
whole_size=$(stat -c %s whole/$DAY)

# serve holds decoded members of the old file in its cache across the swap.
serve_start S tiny --history --max-limit 100000 --work-budget 10000000
req() { curl -sS --max-time 30 -X POST "http://127.0.0.1:$S_PORT/api/v1/req" -d '[{"limit":100000}]' | sort; }
req >served_before.jsonl
assert_eq "$(wc -l <served_before.jsonl)" "$N" "events served before compaction"

"$PB" compact tiny --summary-json summary.json >compact.out || fail "compact exited $?"
assert_eq "$(json_get summary.json files_compacted)" 1 "files compacted"
assert_eq "$(json_get summary.json files_failed)" 0 "files failed"
after_size=$(stat -c %s tiny/$DAY)
assert_eq "$(json_get summary.json bytes_after)" "$after_size" "summary bytes_after"
python3 -c "import sys; b,a,w=map(int,sys.argv[1:]); print(f'measured: {b} bytes in small commits ({b/w:.3f} of convert), {a} after compaction ({a/w:.3f}), convert {w}')" \
  "$before_size" "$after_size" "$whole_size"
python3 -c "import sys; sys.exit(0 if int(sys.argv[1]) <= 1.10 * int(sys.argv[2]) else 1)" "$after_size" "$whole_size" ||
  fail "compacted $after_size bytes is more than 10% above convert's $whole_size"
# Same records in the same order, sealed the same way: byte for byte convert's file, and the same rows.
assert_eq "$(day_files_digest tiny)" "$(day_files_digest whole)" "day file identical to one convert"
rows() { sqlite3 "$1/index.db" "SELECT id, file_path, member_offset FROM events_hex ORDER BY id"; }
[ "$(rows tiny)" == "$(rows whole)" ] || fail "index rows differ from convert's"
"$PB" export tiny -o after.jsonl 2>/dev/null
cmp -s before.jsonl after.jsonl || fail "export differs after compaction"
"$PB" verify tiny >/dev/null || fail "verify after compaction"
req >served_after.jsonl
cmp -s served_before.jsonl served_after.jsonl || fail "serve answers differently after the swap (stale members?)"
serve_stop S

# Nothing left to do: exit 0, nothing compacted, the file untouched.
"$PB" compact tiny --summary-json - >again.json 2>/dev/null || fail "second compact exited $?"
assert_eq "$(json_get again.json files_compacted)" 0 "second run compacts nothing"
assert_eq "$(day_files_digest tiny)" "$(day_files_digest whole)" "second run leaves the file"

# kill -9 at each step; the next open (here: compact again) completes or rolls back the swap.
for step in writing prepared committed renamed done; do
  rm -rf k && cp -a tiny0 k
  rc=0
  PB_FAULT_COMPACT_AT=$step "$PB" compact k >/dev/null 2>&1 || rc=$?
  assert_eq "$rc" 137 "compact killed at $step (exit status)"
  if [ $step == committed ]; then
    rc=0; "$PB" verify k >/dev/null 2>&1 || rc=$?
    assert_eq "$rc" 4 "verify before recovery reports the interrupted swap"
    # export in the meantime: no event lost or doubled (rows and file may disagree until the next writer)
  fi
  "$PB" compact k >/dev/null || fail "compact after a kill at $step exited $?"
  "$PB" verify k >/dev/null || fail "verify after a kill at $step"
  "$PB" export k -o k.jsonl 2>/dev/null
  cmp -s before.jsonl k.jsonl || fail "export after a kill at $step differs"
  assert_eq "$(day_files_digest k)" "$(day_files_digest whole)" "day file after a kill at $step"
  [ -z "$(ls -A k/.proton-beam-repair 2>/dev/null)" ] || fail "side files left after a kill at $step: $(ls k/.proton-beam-repair)"
done

# Refused while another writer holds the archive lock (a convert waiting on a FIFO; its one line is a
# duplicate there, so it changes nothing).
rm -rf busy && cp -a tiny0 busy
mkfifo in.fifo
"$PB" convert in.fifo -o busy --no-progress >convert.out 2>&1 &
CONVERT=$!
exec 3<>in.fifo  # read-write: never blocks, even if convert failed to start
head -1 events.jsonl >&3  # convert sniffs its input's first bytes before it opens the archive
# Watch /proc/locks for the lock file's inode: probing with flock would itself take the lock for a moment,
# and a convert opening the archive in that moment would be refused (seen in CI).
LOCK_INODE=$(stat -c %i busy/.proton-beam.lock)
locked() { grep -q ":$LOCK_INODE " /proc/locks; }
for i in $(seq 600); do locked && break; kill -0 $CONVERT || fail "convert exited: $(cat convert.out)"; sleep 0.05; done
locked || fail "convert did not take the lock"
rc=0
"$PB" compact busy >busy.out 2>&1 || rc=$?
assert_eq "$rc" 1 "compact while a writer holds the lock"
grep -q "being written" busy.out || fail "lock message: $(cat busy.out)"
exec 3>&-
wait $CONVERT || fail "the convert holding the lock failed"
cmp -s tiny0/$DAY busy/$DAY || fail "a refused compact changed the file"

# --day: a named day is compacted even below the policy; bad or absent days.
rm -rf d && cp -a tiny0 d
"$PB" compact d --day 2024-01-01 >day.out || fail "compact --day exited $?"
grep -q "$DAY: $N events" day.out || fail "--day summary: $(cat day.out)"
rc=0; "$PB" compact d --day 2024-02-30 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "--day with an impossible date"
rc=0; "$PB" compact d --day 2023-12-31 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "--day without a day file"
rc=0; "$PB" compact nowhere >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "not an archive"
[ ! -e nowhere ] || fail "compact created an archive"
"$PB" compact --help | grep -q -- "--summary-json" || fail "--help"

# --sort-by-time: export (which follows the file) then lists the day in (created_at, id) order, every
# event once; the archive verifies; a second run finds it already in order.
rm -rf s && cp -a tiny0 s
"$PB" export s -o unsorted.jsonl 2>/dev/null
"$PB" compact s --sort-by-time --summary-json s.json >/dev/null || fail "compact --sort-by-time exited $?"
assert_eq "$(json_get s.json files_compacted)" 1 "day files sorted"
"$PB" export s -o sorted.jsonl 2>/dev/null
python3 - unsorted.jsonl sorted.jsonl <<'PY' || fail "the sorted day file's order or events"
import json, sys
key = lambda e: (e["created_at"], e["id"])
before = [json.loads(l) for l in open(sys.argv[1])]
after = [json.loads(l) for l in open(sys.argv[2])]
assert [key(e) for e in before] != sorted(key(e) for e in before), "the fixture was already in time order"
assert [key(e) for e in after] == sorted(key(e) for e in before), "not every event once in time order"
assert sorted(map(json.dumps, before)) == sorted(map(json.dumps, after)), "events changed"
PY
"$PB" verify s >/dev/null || fail "verify after --sort-by-time"
"$PB" compact s --sort-by-time --day 2024-01-01 >again.out || fail "second --sort-by-time exited $?"
grep -q "already in time order" again.out || fail "second --sort-by-time: $(cat again.out)"
pass
