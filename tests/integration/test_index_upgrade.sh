#!/usr/bin/env bash
# Archives of older index schemas (tests/data/v1_archive: the bundled sample converted by the release
# before the tag index; tests/data/v2_archive: the same by the release before the compact version-3 rows,
# with one daemon relay cursor; tests/data/v3_archive: the same by the release before the tag parts of
# version 4, with one relay cursor; tests/data/v4_archive: the same by the release before kinds and
# expirations in the tag rows of version 5, with one relay cursor) are refused by writers and readers with
# the upgrade command, and `index rebuild` upgrades them to version 5 with every event, the tag index and
# the relay cursors.
source "$(dirname "$0")/lib.sh"

# Every single-letter (name, first value) of every event of an archive, plus one per NIP-40 expiration,
# counted independently.
want_tags() {
  "$PB_BIN/pb-dump-archive" "$1" | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    ev = json.loads(line)
    n += len({(t[0], t[1]) for t in ev["tags"] if len(t) >= 2 and len(t[0]) == 1 and t[0].isascii() and t[0].isalpha()})
    n += any(len(t) >= 2 and t[0] == "expiration" and t[1].lstrip("-").isdigit() for t in ev["tags"])
print(n)'
}

for v in 1 2 3 4; do
  rm -rf A && cp -r "$PB_SOURCE_DIR/tests/data/v${v}_archive" A
  assert_eq "$(sqlite3 A/index.db 'PRAGMA user_version')" $v "fixture schema version"
  old_rows=$(sqlite3 A/index.db 'SELECT count(*) FROM events')
  cursors=""
  [ $v -ge 2 ] && cursors=$(sqlite3 A/index.db 'SELECT url, cursor FROM relay_cursors')

  set +e
  "$PB" convert "$DATA/sample_events.jsonl" -o A --no-progress > out.txt 2> err.txt
  rc=$?
  set -e
  assert_eq "$rc" 1 "convert into a version-$v archive"
  grep -q "proton-beam index rebuild" err.txt || fail "no upgrade command in: $(cat err.txt)"
  grep -q "schema version $v" err.txt || fail "version $v not named in: $(cat err.txt)"
  set +e
  "$PB" export A > /dev/null 2> err2.txt
  rc=$?
  set -e
  assert_eq "$rc" 1 "export of a version-$v archive"
  grep -q "proton-beam index rebuild" err2.txt || fail "no upgrade command in: $(cat err2.txt)"

  "$PB" index rebuild A > rebuild.txt || fail "rebuild of a version-$v archive: $(cat rebuild.txt)"
  assert_eq "$(sqlite3 A/index.db 'PRAGMA user_version')" 5 "schema version after rebuild"
  assert_eq "$(index_count A)" "$old_rows" "events after the upgrade of version $v"
  assert_eq "$(sqlite3 A/index.db 'SELECT count(*) FROM tags')" "$(want_tags A)" "tag rows after the upgrade of version $v"
  # Every tag row carries its event's kind.
  assert_eq "$(sqlite3 A/index.db 'SELECT count(*) FROM tags t JOIN events e ON e.seq = t.seq WHERE t.kind != e.kind')" 0 \
    "tag rows whose kind is not their event's (version $v)"
  if [ $v -ge 2 ]; then
    [ -n "$cursors" ] || fail "the version-$v fixture has no relay cursor"
    assert_eq "$(sqlite3 A/index.db 'SELECT url, cursor FROM relay_cursors')" "$cursors" "relay cursors carried over"
  fi
  # Writers work again, and the archive verifies.
  "$PB" convert "$DATA/sample_events.jsonl" -o A --no-progress --summary-json s.json > /dev/null
  assert_eq "$(json_get s.json duplicates)" "$old_rows" "every sample event is already there (version $v)"
  "$PB" verify A > /dev/null || fail "the upgraded version-$v archive does not verify"
done
pass
