#!/usr/bin/env bash
# A line over 1 MiB, an input spanning many years of days, and damaged compressed inputs.
source "$(dirname "$0")/lib.sh"

# 1. A 1.5 MiB event signed by nostr-tools, between two ordinary lines.
NODE_PATH="$PB_SOURCE_DIR/tests/node/node_modules" node "$PB_SOURCE_DIR/tests/node/make_big_event.mjs" 1572864 > big.jsonl
[ "$(wc -c < big.jsonl)" -gt 1048576 ] || fail "big event is not over 1 MiB"
{ head -n 1 "$DATA/sample_events.jsonl"; cat big.jsonl; sed -n 2p "$DATA/sample_events.jsonl"; } > withbig.jsonl
"$PB" convert withbig.jsonl -o big -b 1 --no-progress --summary-json big.json > /dev/null
assert_eq "$(json_get big.json valid)" 3 "valid with a big line"
"$PB_BIN/pb-dump-archive" big | python3 -c '
import json,sys
sizes=sorted(len(json.loads(l)["content"].encode()) for l in sys.stdin)
assert sizes[-1] >= 1572864, sizes' || fail "big content not stored whole"

# 2. Ten years of days: one file per distinct UTC day, every record in its own day's file.
gen 6000 11 --days 3650 -o years.jsonl
"$PB" convert years.jsonl -o years --no-progress --summary-json years.json > /dev/null
days=$(python3 -c '
import json,sys
print(len({json.loads(l)["created_at"]//86400 for l in open(sys.argv[1])}))' years.jsonl)
assert_eq "$(ls years/*.pb.gz | wc -l)" "$days" "one file per day"
"$PB_BIN/pb-dump-archive" years > /dev/null || fail "a record sits in the wrong day file or is damaged"
assert_eq "$(index_count years)" "$(json_get years.json valid)" "index rows"

# 3. A truncated .gz: the lines before the damage are stored, the damage is reported, exit 3.
gen 3000 12 -o t.jsonl
gzip -k t.jsonl
head -c $(( $(wc -c < t.jsonl.gz) * 2 / 3 )) t.jsonl.gz > cut.jsonl.gz
set +e
"$PB" convert cut.jsonl.gz -o cut --no-progress --summary-json cut.json > /dev/null 2> cut.err
rc=$?
set -e
assert_eq "$rc" 3 "exit status for a truncated input"
grep -q "truncated gzip" cut.err || fail "no clear message for the truncated input: $(cat cut.err)"
stored=$(json_get cut.json valid)
good_lines=$(zcat cut.jsonl.gz 2>/dev/null | wc -l || true)
[ "$stored" -ge $(( good_lines - 1 )) ] && [ "$stored" -gt 1000 ] || fail "lost valid lines before the damage ($stored of ~$good_lines)"
grep -q "input damaged" cut/proton-beam.log || fail "damage not in the log"
# Truncated zstd the same way.
zstd -q -k t.jsonl
head -c $(( $(wc -c < t.jsonl.zst) / 2 )) t.jsonl.zst > cut.jsonl.zst
set +e
"$PB" convert cut.jsonl.zst -o cutz --no-progress --summary-json cutz.json > /dev/null 2> cutz.err
rc=$?
set -e
assert_eq "$rc" 3 "exit status for a truncated zstd input"
[ "$(json_get cutz.json valid)" -gt 500 ] || fail "lost valid lines before zstd damage"

# 5. A UTF-8 byte-order mark before the first line (Windows exports), plain, gzip and zstd: the first
#    event is stored like any other; a BOM anywhere else is not skipped (it is part of that line).
head -n 20 "$DATA/sample_events.jsonl" > plain20.jsonl
"$PB" convert plain20.jsonl -o nobom --no-progress --summary-json nobom.json > /dev/null
{ printf '\xef\xbb\xbf'; cat plain20.jsonl; } > bom.jsonl
gzip -k bom.jsonl; zstd -q -k bom.jsonl
for f in bom.jsonl bom.jsonl.gz bom.jsonl.zst; do
  rm -rf bomout
  "$PB" convert "$f" -o bomout --no-progress --summary-json bom.json > /dev/null
  assert_eq "$(json_get bom.json valid)" "$(json_get nobom.json valid)" "valid events with a BOM ($f)"
  assert_eq "$(json_get bom.json invalid)" "$(json_get nobom.json invalid)" "invalid lines with a BOM ($f)"
  cmp -s <(dump_sorted bomout) <(dump_sorted nobom) || fail "a BOM changed what was stored ($f)"
done
{ head -n 1 plain20.jsonl; printf '\xef\xbb\xbf'; sed -n 2p plain20.jsonl; } > midbom.jsonl
"$PB" convert midbom.jsonl -o midbom --no-progress --summary-json midbom.json > /dev/null
assert_eq "$(json_get midbom.json invalid)" 1 "a BOM inside the input is not skipped"
pass
