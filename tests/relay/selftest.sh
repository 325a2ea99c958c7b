#!/usr/bin/env bash
# Self-check of the relay test peers (tests/relay): starts each peer (ws and wss), publishes with
# publish.mjs, reads back with query.mjs, runs every hostile scenario against probe.mjs, and checks the
# replay relay's sharding. Needs only node + tests/node/node_modules (scripts/setup.sh), openssl, python3.
# Usage: tests/relay/selftest.sh        (exit 0 = all good; prints "FAIL: ..." and exits 1 otherwise)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
unset WORK
source "$HERE/relay_lib.sh"
N=node
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3 # pyenv's shim costs ~1 s per start
ok() { echo "ok: $*"; }
# j FILE_OR_JSON PYEXPR: evaluates a python expression over the parsed JSON `d`.
j() { $PY -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
ids_of() { $PY -c 'import json,sys; print("\n".join(sorted(json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip())))' "$1"; }
assert_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }

relay_make_cert
cd "$WORK"

# ---- relay.mjs over ws and wss: publish, query back, filters, live events, restart with --store
# Peers are started in groups, in parallel (RELAY_DEFER=1 ... relay_await).
RELAY_DEFER=1 relay_start RWS --store "$WORK/rws.jsonl"
RELAY_DEFER=1 relay_start RWSS --tls-cert "$RELAY_CERT" --tls-key "$RELAY_KEY"
relay_await RWS RWSS
relay_publish "$RWS_URL" "$RWSS_URL" -- --generate 24 --seed selftest --authors 3 \
  --relay-list "$RWS_URL,$RWSS_URL" --out sent.jsonl >pub.json || fail "publish failed: $(cat pub.json)"
for R in RWS RWSS; do
  assert_eq "$(relay_count_events $R)" 24 "$R holds all events"
  relay_query $R >"$R.all.jsonl"
  assert_eq "$(ids_of "$R.all.jsonl")" "$(ids_of sent.jsonl)" "$R returns exactly the events sent"
done
ok "relay ws+wss: publish 24, query back 24"
PK1=$($N "$HERE/sign_events.mjs" --pubkeys --seed selftest --authors 3 | sed -n 2p)
assert_eq "$(relay_count_events RWSS '{"kinds":[10002]}')" 3 "kind 10002 filter"
assert_eq "$(relay_count_events RWS "{\"authors\":[\"$PK1\"],\"kinds\":[1]}")" 7 "authors+kinds filter"
assert_eq "$(relay_count_events RWS '{"since":1700000010,"until":1700000019}')" 10 "since/until filter"
assert_eq "$(relay_count_events RWS '{"#t":["topic0","topic1"]}')" 6 "#t filter"
assert_eq "$(relay_count_events RWS '[{"#t":["topic0"]},{"kinds":[10002]},{"limit":2}]')" 8 "several filters"
relay_query RWS '{"limit":3}' >lim.jsonl
assert_eq "$($PY -c 'import json,sys;print([json.loads(l)["created_at"] for l in open("lim.jsonl")])')" \
  "[1700000023, 1700000022, 1700000021]" "limit returns the newest first"
# A live event after EOSE, published from another connection.
rm -f eose.flag
$N "$HERE/query.mjs" "$RWSS_URL" '{"kinds":[1],"since":1800000000}' --ca "$RELAY_CERT" --live 1 --eose-file eose.flag >live.jsonl &
LIVE_PID=$!
for _ in $(seq 400); do [ -f eose.flag ] && break; kill -0 $LIVE_PID 2>/dev/null || break; sleep 0.05; done
[ -f eose.flag ] || fail "live subscription: no EOSE"
relay_publish "$RWSS_URL" -- --generate 1 --seed live --base-time 1800000000 --out live_sent.jsonl >/dev/null
wait $LIVE_PID || fail "live subscription did not get the event"
assert_eq "$(ids_of live.jsonl)" "$(ids_of live_sent.jsonl)" "live event after EOSE"
ok "relay filters (authors, kinds, since/until, #t, several filters, limit) and live events"
relay_restart RWS
assert_eq "$(relay_count_events RWS)" 24 "events kept across relay_restart (--store)"
ok "relay_restart keeps the port ($RWS_PORT) and the stored events"
# Replaceable: an older kind-10002 of the same author is refused as duplicate, a newer one replaces it.
relay_publish "$RWS_URL" -- --generate 3 --seed selftest --authors 3 --relay-list ws://x.invalid --base-time 1600000000 >/dev/null
relay_publish "$RWS_URL" -- --generate 3 --seed selftest --authors 3 --relay-list ws://y.invalid --base-time 1900000000 >/dev/null
assert_eq "$(relay_query RWS '{"kinds":[10002]}' | grep -c y.invalid)" 3 "replaceable events keep the newest"
assert_eq "$(relay_count_events RWS '{"kinds":[10002]}')" 3 "one kind-10002 per author"
ok "replaceable events"

# ---- --max-limit, --auth-required, --rate-limit-first-req
RELAY_DEFER=1 relay_start RLIM --max-limit 5
RELAY_DEFER=1 relay_start RAUTH --auth-required
RELAY_DEFER=1 relay_start RRATE --rate-limit-first-req
relay_await RLIM RAUTH RRATE
relay_publish "$RLIM_URL" "$RAUTH_URL" "$RRATE_URL" -- --events sent.jsonl >/dev/null
assert_eq "$(relay_count_events RLIM)" 5 "max-limit caps a filter"
assert_eq "$(relay_count_events RLIM '{"until":1700000018}')" 5 "max-limit with until"
assert_eq "$(relay_query RLIM '{"until":1700000018}' | $PY -c 'import json,sys;print(max(json.loads(l)["created_at"] for l in sys.stdin))')" \
  1700000018 "until pages back"
if out=$(relay_count_events RAUTH 2>&1); then fail "auth-required relay served an unauthenticated REQ: $out"; fi
[[ "$out" == *"CLOSED: auth-required:"* ]] || fail "auth-required relay: unexpected answer $out"
assert_eq "$(RELAY_AUTH_SEED=someone relay_count_events RAUTH)" 24 "REQ after AUTH"
if out=$($N "$HERE/query.mjs" "$RAUTH_URL" --auth-seed x --auth-relay-tag ws://127.0.0.1:1 2>&1); then fail "AUTH with a wrong relay tag accepted"; fi
[[ "$out" == *"AUTH rejected: invalid: relay tag"* ]] || fail "wrong relay tag: unexpected answer $out"
relay_wait_log RAUTH 'AUTH c=[0-9]+ ok [0-9a-f]{64}'
if relay_count_events RRATE >/dev/null 2>&1; then fail "rate-limited relay served a first REQ"; fi
out=$(relay_query RRATE '{}' --count --retries 1 2>err.txt)
assert_eq "$out" 24 "second REQ on the connection is served"
grep -q 'CLOSED: rate-limited: slow down' err.txt || fail "no rate-limited CLOSED: $(cat err.txt)"
ok "relay --max-limit, --auth-required (NIP-42), --rate-limit-first-req"

# ---- hostile_relay.mjs: each scenario against probe.mjs
probe() { $N "$HERE/probe.mjs" --ca "$RELAY_CERT" "$@"; }
export RELAY_DEFER=1
hostile_start HG --scenario garbage --seed hs --count 4 --out hg.jsonl
hostile_start HB --scenario binary --seed hs --count 4 --tls-cert "$RELAY_CERT" --tls-key "$RELAY_KEY"
hostile_start HO --scenario oversize --oversize-bytes 100000 --seed hs --count 4 --tls-cert "$RELAY_CERT" --tls-key "$RELAY_KEY"
hostile_start HS --scenario silent
hostile_start HH --scenario garbage,silent
hostile_start HF --scenario forged-first --seed hs --count 4
hostile_start HV --scenario valid-stream --events sent.jsonl
unset RELAY_DEFER
relay_await HG HB HO HS HH HF HV
# The silent relays can only be judged by what does not arrive in a while: probe them in the background.
probe "$HS_URL" --ping --timeout-ms 1500 >hs.json &
HS_PROBE=$!
probe "$HH_URL" --ping --timeout-ms 1000 >hh.json &
HH_PROBE=$!
r=$(probe "$HG_URL" --ping)
assert_eq "$(j "$r" 'd["eose"] and d["pong"]')" True "garbage: EOSE and pong ($r)"
assert_eq "$(j "$r" '"\n".join(sorted(set(d["valid"])))')" "$(ids_of hg.jsonl)" "garbage: the genuine events arrive"
assert_eq "$(j "$r" '(d["notices"], d["auth"], d["binary"])')" "(100, 1000, 0)" "garbage: NOTICE and AUTH spam"
relay_wait_log HG 'RECV c=1 \["REQ","probe",\{\}\]'
r=$(probe "$HB_URL")
assert_eq "$(j "$r" '(d["eose"], d["binary"], len(set(d["valid"])))')" "(True, 4, 4)" "binary scenario over wss ($r)"
r=$(probe "$HO_URL" --max-payload 100000)
assert_eq "$(j "$r" '(d["eose"], d["error"])')" "(False, 'Max payload size exceeded')" "oversize frame ($r)"
r=$(probe "$HO_URL" --max-payload 100000)
assert_eq "$(j "$r" '"\n".join(sorted(set(d["valid"])))')" "$(ids_of hg.jsonl)" "oversize: a new connection gets the genuine events"
wait $HS_PROBE $HH_PROBE
r=$(cat hs.json)
assert_eq "$(j "$r" '(d["pong"], d["text"], d["eose"], d["close_code"])')" "(False, 0, False, None)" "silent: no pong, nothing ($r)"
relay_wait_log HS 'PING c=1'
r=$(cat hh.json)
assert_eq "$(j "$r" '(d["pong"], d["text"])')" "(False, 0)" "silent wins over other scenarios ($r)"
r=$(probe "$HF_URL")
assert_eq "$(j "$r" '(d["eose"], d["invalid_events"], len(d["valid"]))')" "(True, 4, 4)" "forged-first ($r)"
assert_eq "$(j "$r" '"\n".join(sorted(d["valid"]))')" "$(ids_of hg.jsonl)" "forged-first: the genuine events"
r=$(probe "$HV_URL" --after-eose-ms 200)
assert_eq "$(j "$r" '"\n".join(sorted(d["valid"]))')" "$(ids_of sent.jsonl)" "valid-stream sends --events FILE"
assert_eq "$(j "$r" 'd["text"]')" 25 "valid-stream: events + EOSE and nothing else"
ok "hostile relay: garbage, binary (wss), oversize (wss), silent, forged-first, valid-stream"

# ---- replay_relay.mjs: 4 shards with 2 replicas = every event on 2 relays; offset/count wraps
for i in 0 1 2 3; do RELAY_DEFER=1 replay_start "RP$i" --events sent.jsonl --shard "$i/4" --replicas 2; done
RELAY_DEFER=1 replay_start RPW --events sent.jsonl --offset 20 --count 8 --tls-cert "$RELAY_CERT" --tls-key "$RELAY_KEY"
relay_await RP0 RP1 RP2 RP3 RPW
for i in 0 1 2 3; do relay_query "RP$i" >"rp$i.jsonl"; assert_eq "$(wc -l <"rp$i.jsonl")" 12 "shard $i has half the events"; done
assert_eq "$(cat rp?.jsonl | sort | uniq -c | awk '{print $1}' | sort -u)" 2 "every event on exactly 2 shards"
assert_eq "$(cat rp?.jsonl | sort -u | ids_of /dev/stdin)" "$(ids_of sent.jsonl)" "the shards cover the file"
relay_query RPW >rpw.jsonl
assert_eq "$(cat rpw.jsonl)" "$(sed -n '21,24p;1,4p' sent.jsonl)" "offset/count wraps around, lines verbatim (wss)"
relay_wait_log RPW 'DONE c=1 sub=q[0-9]+ sent=8'
# --prepare-sub: the subscription's frames built at startup are the same frames (another id: built as it streams)
RELAY_DEFER=1 replay_start RPP --events sent.jsonl --shard 1/4 --replicas 2 --prepare-sub pb1
relay_await RPP
relay_query RPP '{}' --sub pb1 >rpp.jsonl
assert_eq "$(cat rpp.jsonl)" "$(cat rp1.jsonl)" "--prepare-sub streams the shard's events"
relay_wait_log RPP 'DONE c=1 sub=pb1 sent=12'
relay_query RPP '{}' --sub other >rpp2.jsonl
assert_eq "$(cat rpp2.jsonl)" "$(cat rp1.jsonl)" "--prepare-sub: another subscription id"
ok "replay relay: shards with overlap, offset/count, wss, prepared frames"

relay_stop_all
echo "PASS: selftest.sh"
