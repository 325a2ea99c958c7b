#!/usr/bin/env bash
# stats: every figure of the sample archive against values computed independently (python over the input,
# stat on the files, export's byte count); a 10-day corpus for the date range and scan parallelism;
# --no-scan, --top, damage (exit 3) and errors.
source "$(dirname "$0")/lib.sh"

"$PB" convert "$DATA/sample_events.jsonl" -o sample --no-progress > /dev/null
"$PB" stats sample --json > s.json
python3 -c 'import json,sys
for l in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(l)
    if all(isinstance(v, str) for t in e["tags"] for v in t): sys.stdout.write(l)' "$DATA/sample_events.jsonl" > valid.jsonl
python3 - "$DATA/sample_events.jsonl" s.json > expected.txt <<'PY'
import collections, datetime, json, sys
evs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
valid = [e for e in evs if all(isinstance(v, str) for t in e["tags"] for v in t)]
s = json.load(open(sys.argv[2]))
kinds = sorted(collections.Counter(e["kind"] for e in valid).items(), key=lambda kv: (-kv[1], kv[0]))
day = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d")
ts = [e["created_at"] for e in valid]
checks = {
    "events": (s["events"], 141),
    "day_files": (s["day_files"], 1),
    "first_day": (s["first_day"], "2025-09-27"),
    "last_day": (s["last_day"], day(max(ts))),
    "oldest_created_at": (s["oldest_created_at"], min(ts)),
    "newest_created_at": (s["newest_created_at"], max(ts)),
    "distinct_authors": (s["distinct_authors"], len({e["pubkey"] for e in valid})),
    "distinct_kinds": (s["distinct_kinds"], len(kinds)),
    "kinds (top 10)": ([(k["kind"], k["events"]) for k in s["kinds"]], kinds[:10]),
    "scanned": (s["scanned"], True),
    "scanned_events": (s["scanned_events"], 141),
    "problems": (s["problems"], 0),
    "unindexed_day_files": (s["unindexed_day_files"], 0),
    "ratio": (round(s["compression_ratio"], 3), round(s["json_bytes"] / s["day_file_bytes"], 3)),
}
bad = [f"{k}: got {g!r}, expected {w!r}" for k, (g, w) in checks.items() if g != w]
print("\n".join(bad) if bad else "ok")
print(s["json_bytes"], s["day_file_bytes"], s["committed_bytes"], s["index_bytes"], s["protobuf_bytes"])
PY
[ "$(head -1 expected.txt)" == ok ] || fail "stats --json: $(cat expected.txt)"
read -r json_bytes day_bytes committed index_bytes proto_bytes < <(tail -1 expected.txt)
assert_eq "$day_bytes" "$(stat -c %s sample/2025_09_27.pb.gz)" "day_file_bytes vs stat"
assert_eq "$committed" "$day_bytes" "committed_bytes"
idx_disk=$(cat sample/index.db sample/index.db-wal sample/index.db-shm 2> /dev/null | wc -c)
assert_eq "$index_bytes" "$idx_disk" "index_bytes vs the index files"
# json_bytes is what export writes, minus one newline per event; protobuf_bytes is the gunzipped file.
assert_eq "$json_bytes" "$(( $("$PB" export sample 2> /dev/null | wc -c) - 141 ))" "json_bytes vs export size"
assert_eq "$proto_bytes" "$(zcat sample/2025_09_27.pb.gz | wc -c)" "protobuf_bytes vs zcat"
python3 -c "import sys; r = float(sys.argv[1]) / float(sys.argv[2]); assert 1.5 < r < 20, r" "$json_bytes" "$day_bytes" ||
  fail "implausible compression ratio"

# --top 0: every kind, adding up to the event count; --top 3: three.
"$PB" stats sample --json --top 0 > all.json
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert len(s["kinds"]) == s["distinct_kinds"] == 18, s; assert sum(k["events"] for k in s["kinds"]) == 141' all.json ||
  fail "--top 0 should list all 18 kinds summing to 141"
"$PB" stats sample --json --top 3 > top3.json
assert_eq "$(python3 -c 'import json,sys; print([k["kind"] for k in json.load(open(sys.argv[1]))["kinds"]])' top3.json)" "[30166, 7, 1]" "top 3 kinds"

# Human report.
"$PB" stats sample > human.txt
grep -Eq "^  Events: +141$" human.txt || fail "human: events: $(cat human.txt)"
grep -Eq "^  Day files: +1 \(2025-09-27 to 2025-09-27\)$" human.txt || fail "human: day files"
grep -Eq "^  Compression ratio: +[0-9]+\.[0-9]{2}x" human.txt || fail "human: ratio"
grep -Eq "^Events by kind \(top 10 of 18 kinds\):$" human.txt || fail "human: kinds header"
# 65 of the 141 valid events are kind 30166 (the 9 rejected lines are all 30166 too).
grep -Eq "^ +30166 +65 +46\.1%$" human.txt || fail "human: top kind line"
assert_eq "$(python3 -c 'import json,sys; print(sum(json.loads(l)["kind"] == 30166 for l in open(sys.argv[1])))' valid.jsonl)" 65 "kind 30166 in the valid input"

# --no-scan: index figures only, scan figures null.
"$PB" stats sample --json --no-scan > ns.json
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["scanned"] is False and s["compression_ratio"] is None and s["json_bytes"] is None and s["events"] == 141, s' ns.json ||
  fail "--no-scan output: $(cat ns.json)"
"$PB" stats sample --no-scan | grep -q "not computed (--no-scan)" || fail "human --no-scan"

# A 10-day corpus: date range from the input, kinds and authors, and the same figures with 1 or 2 threads.
gen 3000 21 --days 10 --start-date 2024-02-25 --duplicate-fraction 0.1 -q -o corpus.jsonl
"$PB" convert corpus.jsonl -o gen --no-progress > /dev/null
"$PB" stats gen --json -j 1 --top 0 > g1.json
"$PB" stats gen --json -j 2 --top 0 > g2.json
python3 - corpus.jsonl g1.json <<'PY' || fail "stats of the generated corpus"
import collections, datetime, json, sys
evs, seen = [], set()
for l in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(l)
    if e["id"] not in seen:
        seen.add(e["id"]); evs.append(e)
s = json.load(open(sys.argv[2]))
day = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d")
assert s["events"] == s["scanned_events"] == len(evs), (s["events"], len(evs))
assert s["day_files"] == len({day(e["created_at"]) for e in evs}) == 10, s["day_files"]
assert (s["first_day"], s["last_day"]) == ("2024-02-25", "2024-03-05"), (s["first_day"], s["last_day"])  # leap year
assert s["distinct_authors"] == len({e["pubkey"] for e in evs})
want = sorted(collections.Counter(e["kind"] for e in evs).items(), key=lambda kv: (-kv[1], kv[0]))
assert [(k["kind"], k["events"]) for k in s["kinds"]] == want, (s["kinds"], want)
assert s["problems"] == 0
PY
cmp -s g1.json g2.json || fail "stats differ between -j 1 and -j 2"
assert_eq "$(json_get g1.json json_bytes)" "$(( $("$PB" export gen 2> /dev/null | wc -c) - $(json_get g1.json events) ))" \
  "json_bytes vs export size (corpus)"

# Damage: a corrupted day file is reported, exit 3, and the other days still count.
cp -r gen damaged
victim=$(ls damaged/*.pb.gz | sed -n 4p)
python3 - "$victim" <<'PY'
import os, sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(os.path.getsize(p) // 2)
    f.write(b"\xff" * 16)
PY
rc=0
"$PB" stats damaged --json > d.json 2> d.err || rc=$?
assert_eq "$rc" 3 "exit status on a damaged day file"
grep -q "warning: $(basename "$victim")" d.err || fail "damage warning should name the file: $(cat d.err)"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["problems"] >= 1 and 0 < s["scanned_events"] < s["events"], s' d.json ||
  fail "damaged stats: $(cat d.json)"

# Errors.
rc=0; "$PB" stats nowhere > /dev/null 2> e.txt || rc=$?
assert_eq "$rc" 1 "missing archive"
grep -q "no such directory" e.txt || fail "missing archive message: $(cat e.txt)"
rc=0; "$PB" stats sample --top -1 > /dev/null 2> e.txt || rc=$?
assert_eq "$rc" 2 "bad --top"
rc=0; "$PB" stats sample -j 0 > /dev/null 2> e.txt || rc=$?
assert_eq "$rc" 2 "bad -j"
"$PB" stats --help | grep -q "compression_ratio" || fail "--help does not document the JSON keys"
pass
