#!/usr/bin/env bash
# Every rejection category, blank lines, CRLF, the kind pre-filter and in-run duplicates, each counted
# where it belongs, and total_lines = valid + invalid + skipped + duplicates + filtered.
source "$(dirname "$0")/lib.sh"

python3 - "$DATA/sample_events.jsonl" > mixed.jsonl <<'PY'
import json, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")]
evs = [json.loads(l) for l in lines]
good = [e for e in evs if all(isinstance(v, str) for t in e["tags"] for v in t)]
bad_tag = [l for l, e in zip(lines, evs) if e not in good][0]
d = lambda e: json.dumps(e, ensure_ascii=False)
out = []
out.append(d(good[0]))                                  # 1 valid
out.append("")                                          # 2 skipped
out.append("   \t ")                                    # 3 skipped
out.append(d(good[1]) + "\r")                           # 4 valid (CRLF)
out.append("{\"id\": ")                                 # 5 invalid_json
e = dict(good[2]); del e["sig"]; out.append(d(e))       # 6 invalid_field (missing)
out.append(bad_tag)                                     # 7 invalid_tag_value
e = dict(good[3]); e["kind"] = 70000; out.append(d(e))  # 8 filtered (or invalid_kind without the filter)
e = dict(good[4]); e["content"] += "!"; out.append(d(e))  # 9 invalid_event_id
e = dict(good[5]); s = e["sig"]; e["sig"] = s[:-1] + ("0" if s[-1] != "0" else "1"); out.append(d(e))  # 10 invalid_signature
out.append(d(good[0]))                                  # 11 duplicate
e = dict(good[6]); e["id"] = e["id"].upper(); out.append(d(e))  # 12 invalid_field (hex case)
e = dict(good[7]); e["content"] = "kind 99999 \"kind\":99999"; out.append(d(e))  # 13 invalid_event_id, NOT filtered
out.append(d(good[8]))                                  # 14 valid, no trailing newline
sys.stdout.write("\n".join(out))
PY

"$PB" convert mixed.jsonl -o a --no-progress --summary-json a.json > /dev/null
check() {  # file key expected
  assert_eq "$(json_get "$1" "$2")" "$3" "$2"
}
check a.json total_lines 14
check a.json valid 3
check a.json skipped 2
check a.json duplicates 1
check a.json filtered 1
check a.json invalid 7
check a.json errors.invalid_json 1
check a.json errors.invalid_field 2
check a.json errors.invalid_tag_value 1
check a.json errors.invalid_kind 0
check a.json errors.invalid_event_id 2
check a.json errors.invalid_signature 1
for pair in 5:invalid_json 6:invalid_field 7:invalid_tag_value 9:invalid_event_id 10:invalid_signature 12:invalid_field 13:invalid_event_id; do
  grep -q "line=${pair%%:*} category=${pair#*:}" a/proton-beam.log || fail "log lacks line ${pair%%:*} as ${pair#*:}"
done
grep -q 'line=6 category=invalid_field id=[0-9a-f]\{16\} missing field "sig"' a/proton-beam.log || fail "log message lacks the field name / id prefix"

# Without the pre-filter the big kind is parsed and rejected as invalid_kind.
"$PB" convert mixed.jsonl -o b --no-filter-kinds --no-progress --summary-json b.json > /dev/null
check b.json filtered 0
check b.json errors.invalid_kind 1
check b.json valid 3
assert_eq "$(index_count b)" 3 "index rows"
pass
