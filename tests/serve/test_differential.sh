#!/usr/bin/env bash
# Differential test of `proton-beam serve` against the node oracle (tests/serve/oracle.mjs): 1000 random
# REQs + 200 COUNTs in default mode, 500 + 100 with --history (served through the event cache and an
# inflated copy alone), on a generated archive with tags,
# replaceable/addressable versions, deletions and expirations; REST JSONL equals the relay's answer and
# REST pages walk the archive exactly once. SIGTERM stops the server with status 0.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

node "$NODE_SERVE/gen_events.mjs" --count 600 --seed diff --out events.jsonl
# The server starts on the first 400 events; the rest (with deletions of events among the first 400) is
# committed while it runs, after its deletion set is built: queries must catch the set up.
head -n 400 events.jsonl >first.jsonl
tail -n +401 events.jsonl >second.jsonl
python3 - <<'PY' || fail "the second part deletes no event of the first (the catch-up would go untested)"
import json
first = {e["id"]: e for e in (json.loads(l) for l in open("first.jsonl"))}
late = [e for e in (json.loads(l) for l in open("second.jsonl")) if e["kind"] == 5
        and any(t[0] == "e" and t[1] in first and first[t[1]]["pubkey"] == e["pubkey"] for t in e["tags"])]
assert len(late) >= 3, len(late)
PY
"$PB" convert first.jsonl -o arch --no-progress >/dev/null
metric() { curl -sS "http://127.0.0.1:$1/metrics" | awk -v m="pb_serve_$2" '$1 == m {print $2}'; }

# --slice-ms 0: every REQ yields its worker every 16 index rows (inside pages), so resumed scans are checked too.
serve_start S arch --max-limit 60 --default-limit 25 --slice-ms 0
for ((i = 0; i < 300; i++)); do [ "$(metric "$S_PORT" deletion_set_ready)" == 1 ] && break; sleep 0.1; done
assert_eq "$(metric "$S_PORT" deletion_set_ready)" 1 "deletion set built"
"$PB" convert second.jsonl -o arch --no-progress >/dev/null
[ "$(index_count arch)" -ge 590 ] || fail "convert stored too few events"
node "$NODE_SERVE/diff_client.mjs" --port "$S_PORT" --events events.jsonl --max-limit 60 --default-limit 25 \
  --reqs 1000 --counts 200 --seed default || fail "default mode differs from the oracle"
# Most deletion checks were answered by the set; the rest (named events) went to SQL and the answers held.
[ "$(metric "$S_PORT" deletion_checks_cleared_total)" -gt 1000 ] || fail "the deletion set cleared few checks"
want_keys=$(python3 -c 'import json
print(len({(t[0], t[1]) for e in map(json.loads, open("events.jsonl")) if e["kind"] == 5 for t in e["tags"] if t[0] in "ea" and len(t) > 1}))')
assert_eq "$(metric "$S_PORT" deletion_set_keys)" "$want_keys" "ids and addresses named by deletions (both parts)"
serve_stop S

# No member cache (a member never fits in 1 byte) and a small event cache (~100 events): every event comes
# from a member read afresh or from the event cache, which fills, evicts and admits on second offers. The
# members are read from an inflated copy (--inflated-copy), which serve makes first (default mode above
# inflates them from the day files), and the query threads read index.db through a memory map. Slices end
# at once (--slice-ms 0): a COUNT goes down its created_at windows one per slice, across many slices.
serve_start H arch --history --max-limit 60 --default-limit 25 --cache-bytes 1 --event-cache-bytes 100000 \
  --inflated-copy copy --index-mmap-mib 64 --slice-ms 0
for ((i = 0; i < 300; i++)); do [ "$(metric "$H_PORT" inflated_copy_refreshes_total)" -ge 1 ] && break; sleep 0.1; done
assert_eq "$(metric "$H_PORT" inflated_copy_files)" "$(ls arch/*.pb.gz | wc -l)" "day files in the inflated copy"
# A second serve on the same copy folder, and a copy folder inside the archive, are refused with a reason.
# (timeout: were either let through, it would serve until killed)
rc=0; timeout 30 "$PB" serve arch --listen 127.0.0.1:0 --inflated-copy copy >second.log 2>&1 || rc=$?
assert_eq "$rc" 1 "exit status of a second serve on the copy folder"
grep -q "one serve per copy folder" second.log || fail "no reason for the refused copy folder: $(cat second.log)"
rc=0; timeout 30 "$PB" serve arch --listen 127.0.0.1:0 --inflated-copy arch/copy >inside.log 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status of --inflated-copy inside the archive"
grep -q "inside the archive" inside.log || fail "no reason for a copy inside the archive: $(cat inside.log)"
node "$NODE_SERVE/diff_client.mjs" --port "$H_PORT" --events events.jsonl --history --max-limit 60 \
  --default-limit 25 --reqs 500 --counts 100 --seed history --no-deflate || fail "--history differs from the oracle"
[ "$(metric "$H_PORT" event_cache_hits_total)" -gt 0 ] || fail "the event cache served nothing"
[ "$(metric "$H_PORT" event_cache_admitted_total)" -gt 100 ] || fail "the event cache admitted too few to evict"
[ "$(metric "$H_PORT" event_cache_bytes)" -le 100000 ] || fail "the event cache is over its budget"
assert_eq "$(metric "$H_PORT" cache_bytes)" 0 "member cache bytes with --cache-bytes 1"
[ "$(metric "$H_PORT" inflated_copy_reads_total)" -gt 100 ] || fail "few members were read from the inflated copy"
assert_eq "$(metric "$H_PORT" inflated_copy_fallbacks_total)" 0 "members the inflated copy lacked"
grep -q "read index.db through a map of up to 64 MiB" "$H_LOG" || fail "index.db was not mapped"
serve_stop H
pass
