#!/usr/bin/env bash
# merge: the exact union of overlapping archives, into a new or an existing archive; --cleanup only
# after success; damaged sources keep what they can; kill -9 mid-merge then rerun is exactly-once.
source "$(dirname "$0")/lib.sh"

gen 6000 41 --days 4 -o a.jsonl
gen 6000 42 --days 6 -o b.jsonl
head -n 3000 b.jsonl > b_part.jsonl
cat a.jsonl b_part.jsonl > ab.jsonl               # A holds all of a and half of b: they overlap
"$PB" convert ab.jsonl -o A --commit-mb 1 --no-progress > /dev/null
"$PB" convert b.jsonl -o B --commit-mb 1 --no-progress > /dev/null
cat a.jsonl b.jsonl | python3 -c 'import sys,json; print("\n".join(sorted({json.dumps(json.loads(l),sort_keys=True) for l in sys.stdin})))' > union.expected
norm() { "$PB_BIN/pb-dump-archive" "$1" | python3 -c 'import sys,json; print("\n".join(sorted(json.dumps(json.loads(l),sort_keys=True) for l in sys.stdin)))'; }

# 1. Into a new archive.
"$PB" merge M A B --no-progress --summary-json m.json > /dev/null
assert_eq "$(json_get m.json valid)" 12000 "events merged"
assert_eq "$(json_get m.json duplicates)" 3000 "overlap counted as duplicates"
norm M > m.got
cmp -s m.got union.expected || fail "merge is not the exact union"
assert_eq "$(index_count M)" 12000 "index rows"
"$PB_BIN/pb-dump-archive" M > /dev/null || fail "merged archive has a record in the wrong day or damage"

# 2. Into an existing archive, with --cleanup: the sources go only after success.
cp -r B B2
"$PB" merge A B2 --cleanup --no-progress --summary-json m2.json > /dev/null
assert_eq "$(json_get m2.json valid)" 3000 "new events merged into A"
norm A > a.got
cmp -s a.got union.expected || fail "merge into existing archive is not the exact union"
[ ! -e B2 ] || fail "--cleanup left the source"

# 3. A damaged source: complete records before the damage are merged, the damage reported (exit 3),
#    and --cleanup refuses to delete it.
cp -r B B3
f=$(ls B3/*.pb.gz | head -n 1)
size=$(stat -c %s "$f")
head -c $(( size / 2 )) "$f" > cut && mv cut "$f"
salvageable=$("$PB_BIN/pb-dump-archive" B3 2>/dev/null | wc -l || true)
set +e
"$PB" merge C B3 --cleanup --no-progress --summary-json m3.json > /dev/null 2> m3.err
rc=$?
set -e
assert_eq "$rc" 3 "exit status with a damaged source"
assert_eq "$(json_get m3.json valid)" "$salvageable" "records salvaged from the damaged source"
grep -q "damaged at byte" m3.err || fail "damage not reported: $(cat m3.err)"
[ -e B3 ] || fail "--cleanup removed a damaged source"

# 4. kill -9 mid-merge, then the same command again: exactly the union, once.
gen 30000 43 --days 2 -o big.jsonl
"$PB" convert big.jsonl -o BIG --no-progress > /dev/null
"$PB" merge K BIG A --commit-mb 1 --no-progress > /dev/null 2>&1 &
pid=$!
sleep 0.7
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
"$PB" merge K --no-progress > /dev/null      # alone: completes recovery only
"$PB_BIN/pb-dump-archive" K > k.partial || fail "archive damaged after kill"
assert_eq "$(wc -l < k.partial)" "$(index_count K)" "records vs index after kill and recovery"
"$PB" merge K BIG A --commit-mb 1 --no-progress > /dev/null
assert_eq "$(index_count K)" $(( 30000 + 12000 )) "events after resumed merge"
assert_eq "$("$PB_BIN/pb-dump-archive" K | python3 -c 'import sys,json; print(len({json.loads(l)["id"] for l in sys.stdin}))')" $(( 30000 + 12000 )) "distinct ids after resumed merge"
assert_eq "$("$PB_BIN/pb-dump-archive" K | wc -l)" $(( 30000 + 12000 )) "records after resumed merge"

# 5. Bad arguments.
set +e
"$PB" merge A A --no-progress > /dev/null 2>&1; assert_eq "$?" 1 "source equal to destination"
"$PB" merge A nowhere --no-progress > /dev/null 2>&1; assert_eq "$?" 1 "missing source"
set -e
pass
