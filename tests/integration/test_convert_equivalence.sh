#!/usr/bin/env bash
# The archive depends only on the events: plain file, stdin, .gz and .zst inputs and any -j give
# byte-identical day files (commit points and member cuts depend only on the events); a second run
# adds nothing.
source "$(dirname "$0")/lib.sh"

gen 20000 7 --days 5 --duplicate-fraction 0.3 --invalid-fraction 0.05 -o corpus.jsonl
gzip -k -6 corpus.jsonl
zstd -q -k corpus.jsonl
cp corpus.jsonl.gz renamed.dat   # detection by magic bytes, not by name

"$PB" convert corpus.jsonl -o j1 -j 1 --commit-mb 1 --no-progress --summary-json j1.json > /dev/null
"$PB" convert corpus.jsonl -o j4 -j 4 -b 97 --commit-mb 1 --no-progress --summary-json j4.json > /dev/null
"$PB" convert - -o stdin -j 2 -b 5000 --commit-mb 1 --no-progress --summary-json stdin.json < corpus.jsonl > /dev/null
"$PB" convert corpus.jsonl.gz -o gz --commit-mb 1 --no-progress --summary-json gz.json > /dev/null
"$PB" convert corpus.jsonl.zst -o zst --commit-mb 1 --no-progress --summary-json zst.json > /dev/null
"$PB" convert renamed.dat -o renamed --commit-mb 1 --no-progress > /dev/null

ref=$(day_files_digest j1)
[ -n "$ref" ] || fail "no day files"
assert_eq "$(ls j1/*.pb.gz | wc -l)" 5 "day files for 5 days"
for d in j4 stdin gz zst renamed; do
  assert_eq "$(day_files_digest $d)" "$ref" "day files of $d vs -j 1"
  assert_eq "$(index_count $d)" "$(index_count j1)" "index rows of $d"
done
for s in j4 stdin gz zst; do
  for k in total_lines valid invalid duplicates skipped filtered; do
    assert_eq "$(json_get $s.json $k)" "$(json_get j1.json $k)" "$k of $s"
  done
done
valid=$(json_get j1.json valid)
[ "$valid" -gt 10000 ] || fail "too few valid events ($valid)"
assert_eq "$(index_count j1)" "$valid" "index rows = valid"
assert_eq "$(dump_sorted j1 | wc -l)" "$valid" "records = valid"
assert_eq "$(dump_sorted j1 | python3 -c 'import sys,json; print(len({json.loads(l)["id"] for l in sys.stdin}))')" "$valid" "distinct ids"

# Second run over the same input: nothing new, files untouched.
"$PB" convert corpus.jsonl -o j1 --no-progress --summary-json again.json > /dev/null
assert_eq "$(json_get again.json valid)" 0 "valid on rerun"
assert_eq "$(json_get again.json duplicates)" "$(( $(json_get j1.json duplicates) + valid ))" "duplicates on rerun"
assert_eq "$(day_files_digest j1)" "$ref" "day files after rerun"
pass
