#!/usr/bin/env bash
# Live tail: a client subscribed (after EOSE) receives exactly the events a later `proton-beam convert`
# commits into the served archive (another process), each once, none missing; the snapshot and the tail
# together hold every matching event exactly once. --history so every new event is expected. Members are
# read afresh each time from an inflated copy refreshed every second, so the commits
# make serve extend the copies of the growing day files while it reads them (each member inflated into the
# copy once); afterwards a REST query read through the refreshed copy returns every event.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

node "$NODE_SERVE/gen_events.mjs" --count 300 --seed tail --out all.jsonl
head -n 150 all.jsonl > first.jsonl
tail -n +151 all.jsonl > second.jsonl
"$PB" convert first.jsonl -o arch --no-progress >/dev/null
serve_start S arch --history --tail-poll-ms 20 --cache-bytes 1 --event-cache-bytes 0 --inflated-copy copy \
  --inflated-copy-refresh-s 1
metric() { curl -sS "http://127.0.0.1:$S_PORT/metrics" | awk -v m="pb_serve_$1" '$1 == m {print $2}'; }

# All kinds, a limit far above the archive: the snapshot is the first half, the tail the second.
node "$NODE_SERVE/tail_client.mjs" --port "$S_PORT" --filter '{"limit":5000}' --eose-file eose1 \
  --expect 151 --out live_all.txt > client1.out 2>&1 &
C1=$!; SERVE_PIDS+=("$C1")
node "$NODE_SERVE/tail_client.mjs" --port "$S_PORT" --filter '{"kinds":[1],"limit":0}' --eose-file eose2 \
  --expect "$(grep -c '"kind":1,' second.jsonl)" --out live_k1.txt > client2.out 2>&1 &
C2=$!; SERVE_PIDS+=("$C2")
for ((i = 0; i < 600; i++)); do [ -f eose1 ] && [ -f eose2 ] && break; sleep 0.1; done
[ -f eose1 ] && [ -f eose2 ] || fail "no EOSE"
# Several commits while the clients are subscribed (small batches, index commits after each).
"$PB" convert second.jsonl -o arch --no-progress -b 10 >/dev/null
wait "$C1" || { cat client1.out; fail "client 1 did not get every live event"; }
wait "$C2" || { cat client2.out; fail "client 2 did not get every live kind-1 event"; }
assert_eq "$(cat client1.out)" "snapshot=150 live=151 dup=0" "snapshot + tail"
python3 - <<'PY' || fail "live events are not exactly the second convert's"
import json
second = [json.loads(l) for l in open("second.jsonl") if l.strip()]
live = [l for l in open("live_all.txt").read().split() if l]
assert sorted(live) == sorted(e["id"] for e in second), "all"
k1 = [l for l in open("live_k1.txt").read().split() if l]
assert sorted(k1) == sorted(e["id"] for e in second if e["kind"] == 1), "kind 1"
PY
# Two refreshes after the last commit: every day file's copy is current; a REST query reads them all.
after=$(( $(metric inflated_copy_refreshes_total) + 2 ))
for ((i = 0; i < 300; i++)); do [ "$(metric inflated_copy_refreshes_total)" -ge "$after" ] && break; sleep 0.1; done
[ "$(metric inflated_copy_refreshes_total)" -ge "$after" ] || fail "the inflated copy was not refreshed"
# Each member was inflated into the copy once: the grown day files were extended, not copied again whole.
assert_eq "$(metric inflated_copy_members_total)" \
  "$(sqlite3 arch/index.db 'SELECT count(*) FROM (SELECT DISTINCT fid, member_offset FROM events)')" \
  "members inflated into the copy"
reads=$(metric inflated_copy_reads_total)
curl -sS -X POST --data '[{"limit":5000}]' "http://127.0.0.1:$S_PORT/api/v1/req" > rest.jsonl
python3 - <<'PY' || fail "REST through the refreshed copy is not every event"
import json
want = sorted(json.loads(l)["id"] for l in open("all.jsonl") if l.strip())
got = sorted(json.loads(l)["id"] for l in open("rest.jsonl") if l.strip())
assert got == want, (len(got), len(want))
PY
[ "$(metric inflated_copy_reads_total)" -gt "$reads" ] || fail "the REST query read nothing from the copy"
serve_stop S
pass
