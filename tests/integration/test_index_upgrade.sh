#!/usr/bin/env bash
# A version-1 archive (tests/data/v1_archive: the bundled sample converted by the release before the tag
# index) is refused by writers and readers with the upgrade command, and `index rebuild` upgrades it to
# version 2 with every event and the tag index.
source "$(dirname "$0")/lib.sh"

cp -r "$PB_SOURCE_DIR/tests/data/v1_archive" A
assert_eq "$(sqlite3 A/index.db 'PRAGMA user_version')" 1 "fixture schema version"
v1_rows=$(sqlite3 A/index.db 'SELECT count(*) FROM events')

set +e
"$PB" convert "$DATA/sample_events.jsonl" -o A --no-progress > out.txt 2> err.txt
rc=$?
set -e
assert_eq "$rc" 1 "convert into a version-1 archive"
grep -q "proton-beam index rebuild" err.txt || fail "no upgrade command in: $(cat err.txt)"
set +e
"$PB" export A > /dev/null 2> err2.txt
rc=$?
set -e
assert_eq "$rc" 1 "export of a version-1 archive"
grep -q "proton-beam index rebuild" err2.txt || fail "no upgrade command in: $(cat err2.txt)"

"$PB" index rebuild A > rebuild.txt || fail "rebuild of a version-1 archive: $(cat rebuild.txt)"
assert_eq "$(sqlite3 A/index.db 'PRAGMA user_version')" 2 "schema version after rebuild"
assert_eq "$(index_count A)" "$v1_rows" "events after the upgrade"
# The tag index is filled: every single-letter (name, first value) of every event, counted independently.
want_tags=$("$PB_BIN/pb-dump-archive" A | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    ev = json.loads(line)
    n += len({(t[0], t[1]) for t in ev["tags"] if len(t) >= 2 and len(t[0]) == 1 and t[0].isascii() and t[0].isalpha()})
print(n)')
assert_eq "$(sqlite3 A/index.db 'SELECT count(*) FROM tags')" "$want_tags" "tag rows after the upgrade"
# Writers work again, and the archive verifies.
"$PB" convert "$DATA/sample_events.jsonl" -o A --no-progress --summary-json s.json > /dev/null
assert_eq "$(json_get s.json duplicates)" "$v1_rows" "every sample event is already there"
"$PB" verify A > /dev/null || fail "the upgraded archive does not verify"
pass
