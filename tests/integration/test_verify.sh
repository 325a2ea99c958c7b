#!/usr/bin/env bash
# proton-beam verify [--signatures] [--repair] [--json]: clean archives pass; truncation, bit flips,
# index edits, misplaced, duplicated and forged records are reported where they are; --repair keeps
# every valid event (counted independently) and leaves an archive that verifies.
source "$(dirname "$0")/lib.sh"

# verify_rc EXPECTED DESCRIPTION ARGS...: runs verify, output in out.txt / err.txt.
verify_rc() {
  local want=$1 what=$2; shift 2
  set +e
  "$PB" verify --no-progress "$@" > out.txt 2> err.txt
  local rc=$?
  set -e
  [ "$rc" == "$want" ] || { cat out.txt err.txt >&2; fail "$what: exit $rc, expected $want"; }
}
# py EXPR FILE: evaluates a Python expression over the JSON in FILE (bound to j).
py() { python3 -c 'import json,sys; j=json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$2"; }
records() { "$PB_BIN/pb-dump-archive" "$1" 2>/dev/null | wc -l; }
# Records pb-dump-archive reads from one file before its damage (an independent count).
records_before_damage() {
  rm -rf one && mkdir one && cp "$1" one/
  { "$PB_BIN/pb-dump-archive" one 2>/dev/null || true; } | wc -l
}
file_records() { "$PB_BIN/pb-dump-archive" --with-file "$1" 2>/dev/null | awk -F'\t' -v f="$2" '$1 == f' | wc -l; }
# The archive is consistent: verify passes, with and without signatures, and rows == records.
assert_consistent() {
  verify_rc 0 "$2: verify after repair" "$1"
  verify_rc 0 "$2: verify --signatures after repair" "$1" --signatures
  assert_eq "$(index_count "$1")" "$(records "$1")" "$2: index rows vs records in files"
}
# Every event of archive $1 is one of archive $2 (repair never invents events).
assert_subset() {
  dump_sorted "$1" > sub.txt
  dump_sorted "$2" > sup.txt
  [ -z "$(comm -23 sub.txt sup.txt)" ] || fail "$3: repaired archive holds events the original did not"
}

gen 3000 11 --days 3 --duplicate-fraction 0 --invalid-fraction 0 -o corpus.jsonl
"$PB" convert corpus.jsonl -o A --commit-mb 1 --no-progress > /dev/null
D2=2024_01_02.pb.gz
TOTAL=$(records A)
assert_eq "$TOTAL" 3000 "events in the reference archive"
D2_TOTAL=$(file_records A $D2)
members=$(sqlite3 A/index.db "SELECT count(DISTINCT member_offset) FROM events_hex WHERE file_path='$D2'")
[ "$members" -ge 3 ] || fail "want several members per day file, got $members"

# --- A clean archive verifies, with and without signatures; the default directory is ./pb_data.
verify_rc 0 "clean archive" A
grep -q "no problems" out.txt || fail "clean report does not say so"
verify_rc 0 "clean archive --signatures" A --signatures --json
assert_eq "$(py 'j["ok"] and j["signatures_checked"] and j["valid_records"]' out.txt)" 3000 "clean JSON report"
cp -r A pb_data
verify_rc 0 "default directory" -j 1
rm -rf pb_data
verify_rc 1 "missing archive" no-such-dir
grep -q "no archive" err.txt || fail "missing archive: unclear error"
verify_rc 0 "help" --help
grep -q "4 verify found problems" out.txt || fail "--help does not document exit code 4"

# --- Truncation at several offsets, including mid-member and exactly at a member boundary.
boundary=$(sqlite3 A/index.db "SELECT DISTINCT member_offset FROM events_hex WHERE file_path='$D2' ORDER BY 1 LIMIT 1 OFFSET 1")
size=$(stat -c %s A/$D2)
for cut in 1000 $((boundary + 5000)) $boundary $((size - 7)); do
  rm -rf T && cp -r A T
  truncate -s "$cut" T/$D2
  expect=$(records_before_damage T/$D2)
  verify_rc 4 "truncated at $cut" T --json
  assert_eq "$(py 'j["ok"]' out.txt)" False "truncated at $cut: ok"
  # Rows of the events lost with the cut-off bytes point at nothing now.
  assert_eq "$(py 'j["problems"]["orphan_row"]["count"]' out.txt)" $((D2_TOTAL - expect)) "truncated at $cut: rows without events"
  if [ "$cut" != "$boundary" ]; then
    assert_eq "$(py 'j["problems"]["damaged_file"]["items"][0]["file"]' out.txt)" $D2 "truncated at $cut: damaged file"
    assert_eq "$(py 'j["problems"]["damaged_file"]["items"][0]["offset"]' out.txt)" "$cut" "truncated at $cut: damage offset"
    verify_rc 4 "truncated at $cut (human)" T
    grep -q "$D2 byte $cut record $expect: truncated gzip member" out.txt || fail "truncated at $cut: human report lacks the place"
  fi
  verify_rc 0 "repair after truncation at $cut" T --repair --json
  assert_eq "$(py 'j["after"]["ok"]' out.txt)" True "truncated at $cut: repaired"
  assert_eq "$(file_records T $D2)" "$expect" "truncated at $cut: records kept (pb-dump-archive count before the damage)"
  assert_consistent T "truncated at $cut"
  assert_eq "$(records T)" $((TOTAL - D2_TOTAL + expect)) "truncated at $cut: other files untouched"
  assert_subset T A "truncated at $cut"
  grep -q "repair" T/proton-beam.log || fail "truncated at $cut: the repair is not in the archive log"
done

# --- A bit flip inside the first member: reported with file and offset; the later members are found
# again past the damage, the valid records before it are salvaged, nothing else is lost.
for where in first last; do
  rm -rf T && cp -r A T
  if [ $where = first ]; then pos=$((boundary / 2)); else pos=$((size - 2000)); fi
  python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[int(sys.argv[2])]^=0x10; open(p,"wb").write(b)' T/$D2 $pos
  prefix=$(records_before_damage T/$D2)
  verify_rc 4 "bit flip ($where member)" T --json
  assert_eq "$(py 'j["problems"]["damaged_file"]["items"][0]["file"]' out.txt)" $D2 "bit flip: damaged file"
  py 'j["problems"]["damaged_file"]["items"][0]["offset"]' out.txt > /dev/null
  salvageable=$(py 'j["salvageable"]' out.txt)
  [ "$salvageable" -ge 1 ] && [ "$salvageable" -le "$prefix" ] || fail "bit flip ($where): salvageable $salvageable vs $prefix readable"
  # Records of the damaged member per the original index: everything else must survive.
  if [ $where = first ]; then dmg_member=0; else dmg_member=$(sqlite3 A/index.db "SELECT max(member_offset) FROM events_hex WHERE file_path='$D2'"); fi
  in_member=$(sqlite3 A/index.db "SELECT count(*) FROM events_hex WHERE file_path='$D2' AND member_offset=$dmg_member")
  verify_rc 0 "repair after bit flip ($where)" T --repair
  assert_eq "$(file_records T $D2)" $((D2_TOTAL - in_member + salvageable)) "bit flip ($where): records kept"
  assert_consistent T "bit flip ($where)"
  assert_subset T A "bit flip ($where)"
  ls T/.proton-beam-repair/$D2.*.orig > /dev/null || fail "bit flip ($where): original not kept"
done

# --- Index edits: a deleted row, an extra row, a wrong member offset, a wrong committed length.
rm -rf T && cp -r A T
victim=$(sqlite3 T/index.db "SELECT id FROM events_hex WHERE file_path='$D2' LIMIT 1 OFFSET 10")
moved=$(sqlite3 T/index.db "SELECT id FROM events_hex WHERE file_path='$D2' LIMIT 1 OFFSET 20")
sqlite3 T/index.db "DELETE FROM events WHERE id = X'$victim';
  INSERT INTO authors(pubkey) VALUES (X'$(printf 'cd%.0s' {1..32})');
  INSERT INTO events(id, kind, aid, created_at, fid, member_offset) VALUES (X'$(printf 'ab%.0s' {1..32})', 1, last_insert_rowid(), 1704153600, (SELECT fid FROM day_files WHERE file_name = '$D2'), 0);
  UPDATE events SET member_offset = member_offset + 1 WHERE id = X'$moved';
  UPDATE files SET committed_bytes = committed_bytes - 5 WHERE file_name = '2024_01_03.pb.gz';"
verify_rc 4 "index edits" T --json
assert_eq "$(py 'j["problems"]["missing_row"]["items"][0]["id"]' out.txt)" "$victim" "deleted row reported"
assert_eq "$(py 'j["problems"]["missing_row"]["items"][0]["file"]' out.txt)" $D2 "deleted row: file"
assert_eq "$(py 'j["problems"]["orphan_row"]["items"][0]["id"]' out.txt)" "$(printf 'ab%.0s' {1..32})" "extra row reported"
assert_eq "$(py 'j["problems"]["wrong_row"]["items"][0]["id"]' out.txt)" "$moved" "wrong member offset reported"
assert_eq "$(py 'j["problems"]["files_table"]["count"]' out.txt)" 1 "wrong committed length reported"
assert_eq "$(py 'j["problem_count"]' out.txt)" 4 "exactly the four edits"
verify_rc 0 "repair index edits" T --repair --json
assert_eq "$(py '(j["repair"]["rows_inserted"], j["repair"]["rows_deleted"], j["repair"]["rows_updated"], j["repair"]["files_rewritten"])' out.txt)" \
  "(1, 1, 1, 0)" "index repair actions"
assert_consistent T "index edits"
assert_eq "$(index_count T)" 3000 "index edits: rows"
# The writer now agrees: reopening cuts nothing.
before=$(day_files_digest T)
"$PB" convert /dev/null -o T --no-progress > /dev/null 2>&1
assert_eq "$(day_files_digest T)" "$before" "day files after reopening a repaired archive"

# --- Records in the wrong day file: one with no copy elsewhere (moved), one that duplicates an event
# of its own day file (dropped).
gen 50 99 --days 1 --duplicate-fraction 0 --invalid-fraction 0 -o other.jsonl
head -1 other.jsonl > stray.jsonl
"$PB" convert stray.jsonl -o S --no-progress > /dev/null
stray_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' stray.jsonl)
d1_id=$(sqlite3 A/index.db "SELECT id FROM events_hex WHERE file_path='2024_01_01.pb.gz' LIMIT 1")
grep "\"$d1_id\"" corpus.jsonl > dup.jsonl
"$PB" convert dup.jsonl -o S2 --no-progress > /dev/null
rm -rf T && cp -r A T
cat S/2024_01_01.pb.gz S2/2024_01_01.pb.gz >> T/$D2
verify_rc 4 "wrong day" T --json
assert_eq "$(py 'j["problems"]["wrong_day"]["count"]' out.txt)" 2 "wrong-day records"
assert_eq "$(py 'sorted(i["id"] for i in j["problems"]["wrong_day"]["items"]) == sorted(["'$stray_id'", "'$d1_id'"])' out.txt)" True "wrong-day ids"
assert_eq "$(py 'j["problems"]["wrong_day"]["items"][0]["file"]' out.txt)" $D2 "wrong-day file"
assert_eq "$(py 'j["problems"]["duplicate_id"]["items"][0]["id"]' out.txt)" "$d1_id" "misplaced duplicate"
verify_rc 0 "repair wrong day" T --repair --json
assert_eq "$(py '(j["repair"]["records_moved"], j["repair"]["records_dropped"])' out.txt)" "(1, 1)" "moved / dropped"
assert_consistent T "wrong day"
assert_eq "$(records T)" 3001 "wrong day: the stray event is kept"
assert_eq "$(file_records T 2024_01_01.pb.gz)" $(( $(file_records A 2024_01_01.pb.gz) + 1 )) "wrong day: moved to its day"
assert_eq "$(sqlite3 T/index.db "SELECT file_path FROM events_hex WHERE id = '$stray_id'")" 2024_01_01.pb.gz "wrong day: row"

# --- Forged records (valid framing, wrong id), stored by a convert that skipped id checks: one in the
# middle of an intact file (the file is rewritten without it), one in a damaged tail (dropped while
# salvaging). And a record whose only defect is its signature, caught only with --signatures.
python3 - corpus.jsonl forged.jsonl <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]
day = [i for i, l in enumerate(lines) if json.loads(l)["created_at"] // 86400 == 19724]  # 2024-01-02
def edit(i, f):
    e = json.loads(lines[i]); f(e); lines[i] = json.dumps(e, separators=(",", ":"), ensure_ascii=False)
edit(day[len(day) // 2], lambda e: e.__setitem__("content", e["content"] + " (forged)"))  # middle
edit(day[-5], lambda e: e.__setitem__("content", e["content"] + " (forged)"))             # near the end
edit(day[len(day) // 3], lambda e: e.__setitem__("sig", ("0" if e["sig"][0] != "0" else "1") + e["sig"][1:]))
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
"$PB" convert forged.jsonl -o F --validate-event-ids=false --validate-signatures=false --commit-mb 1 --no-progress > /dev/null
assert_eq "$(records F)" 3000 "forged archive: everything stored"
verify_rc 4 "forged ids" F --json
assert_eq "$(py 'j["problems"]["invalid_id"]["count"]' out.txt)" 2 "forged ids reported"
assert_eq "$(py 'all(i["file"] == "'$D2'" and i["offset"] is not None and i["record"] and i["id"] for i in j["problems"]["invalid_id"]["items"])' out.txt)" True "forged ids located"
assert_eq "$(py 'j["problems"]["invalid_signature"]["count"]' out.txt)" 0 "signatures unchecked without --signatures"
verify_rc 4 "forged signature" F --signatures --json
assert_eq "$(py 'j["problems"]["invalid_signature"]["count"]' out.txt)" 1 "bad signature found with --signatures"
# The near-the-end forgery sits in the last member; cut that member's last bytes off.
rm -rf G && cp -r F G
truncate -s $(( $(stat -c %s G/$D2) - 40 )) G/$D2
g_expect=$(records_before_damage G/$D2)
verify_rc 4 "forged + truncated" G --json
assert_eq "$(py 'j["problems"]["damaged_file"]["count"]' out.txt)" 1 "forged + truncated: damage"
assert_eq "$(py 'j["problems"]["invalid_id"]["count"]' out.txt)" 2 "forged + truncated: both forgeries still read"
verify_rc 0 "repair forged" G --repair --signatures --json
assert_eq "$(py 'j["repair"]["records_dropped"]' out.txt)" 3 "forged + truncated: the three invalid records dropped"
assert_consistent G "forged + truncated"
assert_eq "$(file_records G $D2)" $((g_expect - 3)) "forged + truncated: every valid record before the damage kept"
forged_ids=$(python3 -c '
import json,sys
a={json.loads(l)["id"]:l for l in open(sys.argv[1])}
for l in open(sys.argv[2]):
    e=json.loads(l)
    if a.get(e["id"]) != l: print(e["id"])' corpus.jsonl forged.jsonl)
for id in $forged_ids; do
  [ -z "$(sqlite3 G/index.db "SELECT 1 FROM events WHERE id = X'$id'")" ] || fail "forged event $id still indexed"
  ! "$PB_BIN/pb-dump-archive" G | grep -q "\"$id\"" || fail "forged event $id still stored"
done
# Without --signatures the bad-signature record is not detected, so it stays (documented).
rm -rf H && cp -r F H
verify_rc 0 "repair forged (ids only)" H --repair
assert_eq "$(records H)" 2998 "ids-only repair drops the two forged ids"

# --- Another process holding the archive lock: verify refuses instead of reading a moving archive.
# The holder signals once it has the lock and keeps it until told to let go (no sleeps racing it).
flock -x A/.proton-beam.lock bash -c 'touch lock.held; while [ ! -e lock.release ]; do sleep 0.05; done' &
holder=$!
for _ in $(seq 400); do [ -e lock.held ] && break; sleep 0.05; done
[ -e lock.held ] || fail "the lock holder never took the lock"
verify_rc 1 "locked archive" A
grep -q "being written" err.txt || fail "locked archive: unclear error"
verify_rc 1 "locked archive (repair)" A --repair
touch lock.release
wait "$holder"
pass
