#!/usr/bin/env bash
# The bundled real sample: 141 valid, 9 invalid_tag_value, one day file, decoded back field for field.
source "$(dirname "$0")/lib.sh"

"$PB" convert "$DATA/sample_events.jsonl" -o out --no-progress --summary-json s.json > human.txt
assert_eq "$(json_get s.json total_lines)" 150 "total_lines"
assert_eq "$(json_get s.json valid)" 141 "valid"
assert_eq "$(json_get s.json invalid)" 9 "invalid"
assert_eq "$(json_get s.json errors.invalid_tag_value)" 9 "invalid_tag_value"
assert_eq "$(json_get s.json duplicates)" 0 "duplicates"
grep -q "Stored (new): *141" human.txt || fail "human summary lacks the stored count"
grep -q "invalid_tag_value *9" human.txt || fail "human summary lacks the error breakdown"

# One day file (the sample is one UTC day), zcat-readable, and the index in step.
assert_eq "$(ls out/*.pb.gz | wc -l)" 1 "day files"
zcat out/*.pb.gz > /dev/null || fail "zcat cannot read the day file"
assert_eq "$(index_count out)" 141 "index rows"

# Decoded back: every stored event equals its input line field for field (JSON value equality).
"$PB_BIN/pb-dump-archive" out > dumped.jsonl
python3 - "$DATA/sample_events.jsonl" dumped.jsonl <<'PY'
import json, sys
inp = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
valid = [e for e in inp if all(isinstance(v, str) for t in e["tags"] for v in t)]
out = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
keys = ["id", "pubkey", "created_at", "kind", "tags", "content", "sig"]
assert len(out) == len(valid) == 141, (len(out), len(valid))
# File order is input order.
for a, b in zip(valid, out):
    for k in keys:
        assert a[k] == b[k], (k, a["id"])
PY

# The log names every rejected line with its line number and category.
assert_eq "$(grep -c 'reject input=.* category=invalid_tag_value' out/proton-beam.log)" 9 "log reject lines"
for n in $(python3 -c '
import json,sys
for i,l in enumerate(open(sys.argv[1]),1):
    e=json.loads(l)
    if not all(isinstance(v,str) for t in e["tags"] for v in t): print(i)' "$DATA/sample_events.jsonl"); do
  grep -q "line=$n category=invalid_tag_value" out/proton-beam.log || fail "line $n missing from the log"
done
pass
