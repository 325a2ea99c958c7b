#!/usr/bin/env bash
# index rebuild: equals the index convert wrote (rows, member offsets, files table), keeps working
# archives working (a rerun adds nothing), indexes foreign single-stream files, and never leaves a
# half index behind (also when its tag thread fails).
source "$(dirname "$0")/lib.sh"

rows() { sqlite3 "$1" "SELECT id, kind, pubkey, created_at, file_path, member_offset FROM events_hex ORDER BY id"; }
# Tag rows by event id (seqs differ: convert numbers rows in commit order, rebuild in file order).
tag_rows() { sqlite3 "$1" "SELECT e.id, t.name, t.value_hash, t.created_at, t.part = e.seq >> 20
  FROM tags_hex t JOIN events_hex e ON e.seq = t.seq ORDER BY 1, 2, 3"; }
orphan_tags() { sqlite3 "$1" "SELECT count(*) FROM tags WHERE seq NOT IN (SELECT seq FROM events)"; }
gen 8000 51 --days 5 --duplicate-fraction 0.1 -o c.jsonl
"$PB" convert c.jsonl -o A --commit-mb 1 --no-progress --summary-json c.json > /dev/null
rows A/index.db > before.rows
sqlite3 A/index.db "SELECT * FROM files ORDER BY 1" > before.files
tag_rows A/index.db > before.tags
[ "$(wc -l < before.tags)" -gt 8000 ] || fail "the corpus should have tags to compare"

"$PB" index rebuild A --no-progress --json > r.json
rows A/index.db > after.rows
cmp -s before.rows after.rows || fail "rebuilt rows differ from what convert wrote"
assert_eq "$(sqlite3 A/index.db 'SELECT * FROM files ORDER BY 1')" "$(cat before.files)" "files table"
# The tags B-tree is built on a thread of its own in a scratch index and copied in: same rows, no orphans.
tag_rows A/index.db > after.tags
cmp -s before.tags after.tags || fail "rebuilt tag rows differ from what convert wrote"
assert_eq "$(orphan_tags A/index.db)" 0 "tag rows without an event"
[ ! -e A/index.db.rebuild-tags ] || fail "scratch tag index left behind"
assert_eq "$(json_get r.json events)" "$(json_get c.json valid)" "events in the rebuild summary"
assert_eq "$(json_get r.json files)" 5 "files in the rebuild summary"
[ ! -e A/index.db.rebuild ] || fail "temporary index left behind"
# The query indexes exist again after the bulk load.
assert_eq "$(sqlite3 A/index.db "SELECT count(*) FROM sqlite_master WHERE type='index' AND name LIKE 'events_%'")" 4 "id and query indexes"

# The rebuilt archive keeps working: a rerun adds nothing.
"$PB" convert c.jsonl -o A --no-progress --summary-json again.json > /dev/null
assert_eq "$(json_get again.json valid)" 0 "new events after rebuild + rerun"

# --index-path writes elsewhere and leaves the archive's index alone.
"$PB" index rebuild A --index-path other.db --no-progress > /dev/null
cmp -s <(rows other.db) before.rows || fail "--index-path index differs"

# A day file written by another tool as one gzip stream (records spanning what would be members) is
# indexed too; a record already indexed from an earlier file counts as a duplicate.
mkdir B
first=$(ls A/*.pb.gz | head -n 1)
zcat "$first" | gzip -c > "B/$(basename "$first")"     # same records, one gzip stream
cp "$first" "B/2030_01_01.pb.gz"                       # the same events again, in another file
"$PB" index rebuild B --no-progress --json > b.json
n=$(zcat "$first" | python3 -c '
import sys
data=sys.stdin.buffer.read(); i=n=0
while i < len(data):
    l=s=0
    while True:
        b=data[i]; i+=1; l|=(b&0x7f)<<s; s+=7
        if b<0x80: break
    i+=l; n+=1
print(n)')
assert_eq "$(json_get b.json events)" "$n" "events indexed from the single-stream file"
assert_eq "$(json_get b.json duplicates)" "$n" "duplicates from the repeated file"
assert_eq "$(orphan_tags B/index.db)" 0 "tag rows of the skipped duplicates"
[ "$(sqlite3 B/index.db 'SELECT count(*) FROM tags')" -gt "$n" ] || fail "tag rows of the indexed events missing"

# A failure on the tag-index thread, at its first file and at a later one (PB_FAULT_REBUILD_TAGS_AFTER):
# a clear error and exit 1, no hang (the inserting thread may be waiting on the full queue), the old index
# untouched and nothing left beside it; the next rebuild works.
for n in 0 3; do
  set +e
  PB_FAULT_REBUILD_TAGS_AFTER=$n timeout 120 "$PB" index rebuild A --no-progress > /dev/null 2> err.txt; rc=$?
  set -e
  assert_eq "$rc" 1 "exit status when the tag thread fails after $n files"
  grep -q "injected failure" err.txt || fail "the tag thread's error is not reported: $(cat err.txt)"
  cmp -s <(rows A/index.db) before.rows || fail "a failed rebuild changed the index"
  for f in A/index.db.rebuild A/index.db.rebuild-tags A/index.db.rebuild-journal A/index.db.rebuild-tags-journal; do
    [ ! -e "$f" ] || fail "$f left behind by a failed rebuild"
  done
done
"$PB" index rebuild A --no-progress > /dev/null
cmp -s <(tag_rows A/index.db) before.tags || fail "tag rows after a failed and a good rebuild"

# A missing archive is a clear error.
set +e
"$PB" index rebuild nowhere > /dev/null 2> err.txt; rc=$?
set -e
assert_eq "$rc" 1 "exit status for a missing archive"
grep -q "nowhere" err.txt || fail "error does not name the folder"
pass
