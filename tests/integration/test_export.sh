#!/usr/bin/env bash
# export: the sample comes back verifiable in nostr-tools and equal to its 141 valid input lines, in input
# order; filtered exports of a generated corpus equal what python computes from the input JSONL (set and
# order); a one-id export decodes one gzip member; bad options exit 2, a missing archive exits 1.
source "$(dirname "$0")/lib.sh"
export NODE_PATH="$PB_SOURCE_DIR/tests/node/node_modules"
VERIFY="$PB_SOURCE_DIR/tests/node/verify_events.mjs"

# --- The bundled sample: every exported line verifies and equals its input line field for field. ---
"$PB" convert "$DATA/sample_events.jsonl" -o sample --no-progress > /dev/null
"$PB" export sample -o all.jsonl 2> summary.txt
grep -q "^exported 141 events in .* events/s; file order: 1 day files, 141 records read)" summary.txt ||
  fail "summary line: $(cat summary.txt)"
assert_eq "$(wc -l < summary.txt)" 1 "summary is one line"
python3 - "$DATA/sample_events.jsonl" > valid_inputs.jsonl <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if all(isinstance(v, str) for t in e["tags"] for v in t):
        sys.stdout.write(line)
PY
assert_eq "$(wc -l < valid_inputs.jsonl)" 141 "valid input lines"
# With the originals, verify_events.mjs also checks deep equality with line i and byte-identity with
# JSON.stringify: so the export is the 141 valid events, in input order (one day: file order = input order).
node "$VERIFY" all.jsonl valid_inputs.jsonl > verify.json || fail "nostr-tools check failed: $(cat verify.json)"
assert_eq "$(json_get verify.json verified)" 141 "nostr-tools verified"
assert_eq "$(json_get verify.json equal_original)" 141 "equal to the input events"
# stdout is the default output, ./pb_data the default archive.
"$PB" export sample 2> /dev/null > stdout.jsonl
cmp -s all.jsonl stdout.jsonl || fail "stdout export differs from -o export"
mkdir cwd && cp -r sample cwd/pb_data
(cd cwd && "$PB" export 2> /dev/null > ../default.jsonl)
cmp -s all.jsonl default.jsonl || fail "export without DIR did not read ./pb_data"

# --- A generated corpus: 10 days, with duplicates (the first copy is the stored one). ---
gen 5000 11 --days 10 --duplicate-fraction 0.1 --authors 40 -q -o corpus.jsonl
"$PB" convert corpus.jsonl -o gen --no-progress --summary-json gen.json > /dev/null
# Expected results, computed from the input lines only: dedup by id in input order, then either
# file order (stable by UTC day) or NIP-01 order (created_at desc, id asc) after filtering.
cat > expect.py <<'PY'
import json, sys
evs, seen = [], set()
for line in open("corpus.jsonl", encoding="utf-8"):
    e = json.loads(line)
    if e["id"] not in seen:
        seen.add(e["id"])
        evs.append(e)
def arg(name):
    for a in sys.argv[1:]:
        if a.startswith(name + "="): return a.split("=", 1)[1]
    return None
ids, authors, kinds = arg("ids"), arg("authors"), arg("kinds")
since, until, limit = arg("since"), arg("until"), arg("limit")
sel = evs
if ids: sel = [e for e in sel if e["id"] in ids.lower().split(",")]
if authors: sel = [e for e in sel if e["pubkey"] in authors.lower().split(",")]
if kinds: sel = [e for e in sel if e["kind"] in [int(k) for k in kinds.split(",")]]
if since: sel = [e for e in sel if e["created_at"] >= int(since)]
if until: sel = [e for e in sel if e["created_at"] <= int(until)]
if ids or authors or kinds or since or until:
    sel = sorted(sel, key=lambda e: (-e["created_at"], e["id"]))
else:
    sel = sorted(sel, key=lambda e: e["created_at"] // 86400)  # stable: input order within a day
if limit: sel = sel[: int(limit)]
for e in sel:
    print(json.dumps({k: e[k] for k in ["id", "pubkey", "created_at", "kind", "tags", "content", "sig"]},
                     ensure_ascii=False, separators=(",", ":")))
PY
# Canonical text of exported events (same key order and escaping as expect.py), so files compare with cmp.
canon() { python3 -c 'import json,sys
for l in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(l); print(json.dumps({k: e[k] for k in ["id","pubkey","created_at","kind","tags","content","sig"]}, ensure_ascii=False, separators=(",",":")))' "$1"; }
stored=$(python3 expect.py | wc -l)
assert_eq "$(json_get gen.json valid)" "$stored" "converted events vs python dedup"

# Values for the filters, taken from the input.
read -r A1 A2 ID1 ID2 ID3 T_MID T_HI <<< "$(python3 - <<'PY'
import json
evs = [json.loads(l) for l in open("corpus.jsonl", encoding="utf-8")]
authors = sorted({e["pubkey"] for e in evs}, key=lambda a: -sum(e["pubkey"] == a for e in evs))
ts = sorted(e["created_at"] for e in evs)
print(authors[0].upper(), authors[5], evs[0]["id"].upper(), evs[2500]["id"], evs[-1]["id"],
      ts[len(ts) // 3], ts[2 * len(ts) // 3])
PY
)"

n_case=0
check_export() {  # description, then export options as key=value pairs (the same names expect.py takes)
  local what=$1; shift
  local opts=() kv
  for kv in "$@"; do opts+=("--${kv%%=*}" "${kv#*=}"); done
  n_case=$((n_case + 1))
  "$PB" export gen "${opts[@]}" -o "got$n_case.jsonl" 2> "sum$n_case.txt" || fail "$what: export failed: $(cat "sum$n_case.txt")"
  python3 expect.py "$@" > "want$n_case.jsonl"
  canon "got$n_case.jsonl" > "gotc$n_case.jsonl"
  cmp -s "gotc$n_case.jsonl" "want$n_case.jsonl" ||
    fail "$what: $(wc -l < "got$n_case.jsonl") events exported, python expects $(wc -l < "want$n_case.jsonl") (or the order differs)"
  grep -q "^exported $(wc -l < "want$n_case.jsonl") events" "sum$n_case.txt" || fail "$what: summary count: $(cat "sum$n_case.txt")"
}
check_export "no filter (file order)"
check_export "everything through the index" since=0
check_export "kinds 1,7" kinds=1,7
check_export "two authors, one upper case" authors="$A1,$A2"
check_export "time window" since="$T_MID" until="$T_HI"
check_export "ids, mixed case" ids="$ID1,$ID2,$ID3"
check_export "limit alone keeps the first N in file order" limit=25
check_export "newest 40 kind-1" kinds=1 limit=40
check_export "authors+kinds+since+limit" authors="$A1,$A2" kinds=1,6,7 since="$T_MID" limit=30
check_export "kinds+window" kinds=0,3,10002 since="$T_MID" until="$T_HI"
check_export "no match" ids="$ID1" authors="$A2"
[ "$(wc -l < want3.jsonl)" -gt 1000 ] || fail "kinds 1,7 should match many events"
# A list option takes one (comma-separated) value per occurrence: repeatable, and never eats DIR.
"$PB" export --kinds 1 gen --kinds 7 -o rep.jsonl 2> /dev/null
canon rep.jsonl > repc.jsonl
cmp -s repc.jsonl want3.jsonl || fail "--kinds 1 DIR --kinds 7 should equal --kinds 1,7"
[ "$(wc -l < want6.jsonl)" -eq 3 ] || fail "the ids export should match 3 events"
node "$VERIFY" got3.jsonl > v3.json || fail "nostr-tools rejects the kinds export: $(cat v3.json)"
node "$VERIFY" got1.jsonl > v1.json || fail "nostr-tools rejects the full export: $(cat v1.json)"
assert_eq "$(json_get v1.json verified)" "$stored" "full export verified by nostr-tools"

# --- One id in a multi-member day file decodes one member, not the day. ---
gen 4000 12 --days 1 -q -o one_day.jsonl
"$PB" convert one_day.jsonl -o big --no-progress > /dev/null
members=$(sqlite3 big/index.db 'SELECT count(DISTINCT member_offset) FROM events')
[ "$members" -ge 3 ] || fail "test corpus should span several members, has $members"
# The first event of the last member: reading from the file start would read ~3000 records first.
read -r LAST_ID LAST_OFF <<< "$(sqlite3 -separator ' ' big/index.db \
  'SELECT lower(hex(id)), member_offset FROM events ORDER BY member_offset DESC, rowid ASC LIMIT 1')"
"$PB" export big --ids "$LAST_ID" -o one.jsonl 2> one.txt
assert_eq "$(wc -l < one.jsonl)" 1 "one-id export"
grep -q "\"id\":\"$LAST_ID\"" one.jsonl || fail "one-id export returned another event"
grep -q "index order: 1 rows matched, 1 members decoded, 1 records read)" one.txt ||
  fail "one-id export should decode exactly one member and one record: $(cat one.txt)"
node "$VERIFY" one.jsonl > /dev/null || fail "nostr-tools rejects the one-id export"
# Whole-archive export through the index decodes each member about once (pages of 16384 rows).
"$PB" export big --since 0 -o /dev/null 2> idx.txt
grep -q "4000 rows matched, $members members decoded, 4000 records read" idx.txt || fail "full index export: $(cat idx.txt)"

# --- A damaged day file: reported (naming the file), exit 3, the other days still exported. ---
cp -r gen damaged
victim=$(ls damaged/*.pb.gz | sed -n 5p)
python3 -c 'import os,sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(os.path.getsize(p) // 2); f.write(b"\xff" * 16)' "$victim"
rc=0
"$PB" export damaged -o dmg.jsonl 2> dmg.txt || rc=$?
assert_eq "$rc" 3 "exit status of an export meeting damage"
grep -q "^warning: $(basename "$victim") damaged at byte" dmg.txt || fail "damage warning: $(cat dmg.txt)"
python3 - dmg.jsonl got1.jsonl "$(basename "$victim" .pb.gz)" <<'PY2' || fail "damaged export: other days whole, nothing from the damaged member"
import json, sys, datetime
got = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
full = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
day = lambda e: datetime.datetime.fromtimestamp(e["created_at"], datetime.timezone.utc).strftime("%Y_%m_%d")
others = [e for e in full if day(e) != sys.argv[3]]
assert [e for e in got if day(e) != sys.argv[3]] == others
hit = [e for e in got if day(e) == sys.argv[3]]
assert len(hit) < len(full) - len(others)  # the damaged member's events are withheld...
assert all(e in full for e in hit)         # ...and nothing read from it before the CRC failed leaks out
PY2

# --- Errors: one line on stderr, exit 2 for bad options, 1 for a missing archive or output. ---
expect_error() {  # status, message regex, export args...
  local want=$1 re=$2; shift 2
  local rc=0
  "$PB" export "$@" > out.txt 2> err.txt || rc=$?
  assert_eq "$rc" "$want" "exit status of export $*"
  grep -Eq -e "$re" err.txt || fail "export $*: stderr lacks '$re': $(cat err.txt)"
  [ ! -s out.txt ] || fail "export $*: wrote to stdout"
}
expect_error 2 "--ids: 'abc' is not an event id" gen --ids abc
expect_error 2 "--ids: .* is not an event id \(64 hex" gen --ids "${ID2:1}"
expect_error 2 "--authors: 'zz.*' is not a pubkey" gen --authors "$(printf 'z%.0s' {1..64})"
expect_error 2 "--kinds: 'x' is not an integer" gen --kinds 1,x
expect_error 2 "--kinds: 70000 is out of range \(0\.\.65535\)" gen --kinds 70000
expect_error 2 "--since: '-5' is|--since: -5 is out of range" gen --since=-5
expect_error 2 "--since 10 is after --until 5" gen --since 10 --until 5
expect_error 2 "--limit: 0 is out of range" gen --limit 0
expect_error 2 "--limit: '1e3' is not an integer" gen --limit 1e3
expect_error 2 "bogus" gen --bogus
expect_error 1 "no such directory" nowhere
mkdir empty_dir
expect_error 1 "no index.db" empty_dir
expect_error 1 "cannot open /nonexistent/x.jsonl" gen -o /nonexistent/x.jsonl
[ "$(wc -l < err.txt)" -eq 1 ] || fail "an error should be one line: $(cat err.txt)"
"$PB" export gen --ids abc > /dev/null 2> err.txt || true
assert_eq "$(wc -l < err.txt)" 1 "bad option error is one line"
"$PB" export --help | grep -q "file order" || fail "--help does not document the order"
pass
