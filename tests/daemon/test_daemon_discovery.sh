#!/usr/bin/env bash
# Relay discovery against real relays on loopback. Relay A (named by the operator) holds a kind-10002 list
# and notes whose e/p hints name relay B (ws://127.0.0.1:PORT_B) and junk URLs (http://, .onion, too long,
# malformed) and relay C, whose port has nothing listening; B holds 20 events A does not.
#   1. Without --allow-private-addresses: B is refused as loopback (/relays, /metrics, the log), never
#      connected, its events not archived; every junk URL is refused with its reason, counted exactly.
#   2. With it (fresh archive): the daemon connects to B and archives its events; junk still refused; C
#      fails 10 times in a row and is parked.
#   3. Restart on that archive: the candidate table (discovery.db) kept B and its mention count; A's events,
#      now duplicates, add no mentions; B is connected again from the table, C stays parked.
#   4. --no-discovery: no candidate table, no discovered relay, B never dialled.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

RELAY_DEFER=1 relay_start A
RELAY_DEFER=1 relay_start B
RELAY_DEFER=1 relay_start C
relay_await A B C
relay_stop C  # C_URL now names a port where nothing listens: every connection attempt fails
B_NORM="$B_URL/" C_NORM="$C_URL/"
LONG="wss://$(printf 'a%.0s' $(seq 300)).example.com/"
JUNK=(http://junk.example.com/ wss://hidden.onion/ "$LONG" 'ws://[bad')
# The corpus puts list[i % 6] in note i's e/p hints: B at 1 and C at 4 are named by notes too.
list="${JUNK[0]},$B_URL,${JUNK[3]},${JUNK[1]},$C_URL,${JUNK[2]}"
relay_publish "$B_URL" -- --generate 20 --seed b --out "$WORK/b.jsonl" >/dev/null
relay_publish "$A_URL" -- --generate 30 --seed a --authors 1 --relay-list "$list" --out "$WORK/a.jsonl" >/dev/null
[ "$(relay_count_events A)" == 30 ] || fail "relay A does not hold the 30 events"

# Expected mentions per raw URL: each stored event naming a URL (10002 `r` tags, e/p/a hints) counts once.
mentions() {
  python3 -c 'import json,sys
n=0
for line in open(sys.argv[1]):
    ev=json.loads(line); urls=set()
    for t in ev["tags"]:
        if len(t)>=2 and t[0]=="r" and ev["kind"]==10002: urls.add(t[1])
        if len(t)>=3 and t[0] in ("e","p","a"): urls.add(t[2])
    n+= sys.argv[2] in urls
print(n)' "$WORK/a.jsonl" "$1"
}
M_B=$(mentions "$B_URL") M_C=$(mentions "$C_URL")
[ "$M_B" -ge 2 ] || fail "the corpus names B only $M_B times"
[ "$M_C" -ge 1 ] || fail "the corpus never names C"
declare -A WANT=([scheme]=$(mentions "${JUNK[0]}") [onion]=$(mentions "${JUNK[1]}") [too_long]=$(mentions "${JUNK[2]}")
                 [malformed]=$(mentions "${JUNK[3]}"))
for r in "${!WANT[@]}"; do [ "${WANT[$r]}" -ge 1 ] || fail "the corpus never names the $r junk URL"; done

refused() { metric "proton_beam_discovery_refused_total{reason=\"$1\"}"; }
rounds() { metric proton_beam_discovery_rounds_total; }
b_connects() { grep -c '^CONNECT' "$B_LOG" || true; }
# Waits until `n` more discovery rounds ran (everything already fed in is then folded in and acted on).
after_rounds() { local want=$(( $(rounds) + $1 )); wait_ge 30 "$want" rounds; }
check_junk() {
  local r
  for r in "${!WANT[@]}"; do assert_eq "$(refused "$r")" "${WANT[$r]}" "refused_total{reason=$r}"; done
  grep -q "discovery: refused http://junk.example.com/ reason=scheme" "$1/proton-beam.log" || fail "no log line for the http:// URL"
  grep -q "discovery: refused wss://hidden.onion/ reason=onion" "$1/proton-beam.log" || fail "no log line for the .onion URL"
  grep -q "reason=too_long" "$1/proton-beam.log" || fail "no log line for the long URL"
  assert_eq "$(relay_field wss://hidden.onion state)" refused "the .onion candidate's state"
}

# ---- 1. Strict (the default): B is loopback, refused. ----
S="$WORK/strict"
before=$(b_connects)
daemon_start "$S" --relay "$A_URL" --discovery --discovery-interval 0.2
wait_eq 30 30 committed "$S"
wait_eq 30 $((M_B + M_C)) refused loopback
after_rounds 2
assert_eq "$(relay_field "$B_URL" origin)" discovered "B's origin in /relays"
assert_eq "$(relay_field "$B_URL" state)" refused "B's state (a relay the daemon dialled would show a connection state)"
assert_eq "$(relay_field "$B_URL" refusal)" loopback "B's refusal"
assert_eq "$(relay_field "$B_URL" mentions)" "$M_B" "B's mentions"
assert_eq "$(relay_field "$A_URL" origin)" operator "A's origin"
assert_eq "$(metric proton_beam_discovery_relays_active)" 0 "discovered relays in the connected set"
assert_eq "$(metric proton_beam_relay_connects_total)" 1 "connections opened (A only)"
grep -q "discovery: refused $B_NORM reason=loopback" "$S/proton-beam.log" || fail "no refusal log line for B"
check_junk "$S"
assert_eq "$(relay_field "$C_URL" state)" refused "C's state"
assert_eq "$(committed "$S")" 30 "archived events (B's must not be there)"
daemon_stop
assert_eq "$(b_connects)" "$before" "connections B received from the strict daemon"
assert_eq "$(sqlite3 "$S/discovery.db" "SELECT mentions FROM candidates WHERE url='$B_NORM'")" "$M_B" "B's row in discovery.db"

# ---- 2. --allow-private-addresses: B is connected and its events archived; junk still refused. ----
L="$WORK/lenient"
daemon_start "$L" --relay "$A_URL" --discovery --discovery-interval 0.2 --allow-private-addresses
wait_eq 60 50 committed "$L"
wait_eq 30 connected relay_field "$B_URL" state
assert_eq "$(relay_field "$B_URL" origin)" discovered "B's origin"
assert_eq "$(relay_field "$B_URL" stored)" 20 "events stored from B"
wait_eq 30 "$M_B" relay_field "$B_URL" mentions
assert_eq "$(refused loopback)" 0 "loopback refusals with --allow-private-addresses"
check_junk "$L"
assert_eq "$(metric proton_beam_discovery_relays_connected)" 1 "discovered relays connected"
grep -q "discovery: connecting $B_NORM" "$L/proton-beam.log" || fail "no log line for connecting B"
# C: connection refused, again and again (backoff 50-400 ms): parked after the 10th failure in a row.
wait_eq 60 parked relay_field "$C_URL" state
assert_eq "$(metric proton_beam_discovery_parks_total)" 1 "relays parked"
grep -q "discovery: parked $C_NORM for 24 h after 10 failed connections in a row" "$L/proton-beam.log" || fail "no log line for parking C"
daemon_stop
canon "$WORK/a.jsonl" "$WORK/b.jsonl" >"$WORK/expected.jsonl"
"$PB_BIN/pb-dump-archive" "$L" | canon >"$WORK/got.jsonl"
cmp -s "$WORK/expected.jsonl" "$WORK/got.jsonl" || fail "archive != A's and B's events"
row=$(sqlite3 "$L/discovery.db" "SELECT mentions, novel_events, source, failures FROM candidates WHERE url='$B_NORM'")
assert_eq "$row" "$M_B|20|nip65,hint|0" "B's row after the run (mentions|novel_events|source|failures)"
now=$(date +%s)
row=$(sqlite3 "$L/discovery.db" "SELECT failures, novel_events, parked_until > $now + 23 * 3600 FROM candidates WHERE url='$C_NORM'")
assert_eq "$row" "9|0|1" "C's row (failures: one more parks it again|novel_events|parked for a day)"

# ---- 3. Restart on the same archive: the table persisted; duplicates add no mentions. ----
before=$(b_connects)
daemon_start "$L" --relay "$A_URL" --discovery --discovery-interval 0.2 --allow-private-addresses
wait_eq 30 connected relay_field "$B_URL" state
wait_ge 60 50 metric proton_beam_events_duplicate_total  # A's 30 and B's 20 again, all known
after_rounds 2
assert_eq "$(relay_field "$B_URL" mentions)" "$M_B" "B's mentions after the restart (persisted, not recounted)"
assert_eq "$(committed "$L")" 50 "archived events after the restart"
assert_eq "$(relay_field "$C_URL" state)" parked "C after the restart (a candidate entry: never dialled)"
daemon_stop
[ "$(b_connects)" -gt "$before" ] || fail "B was not connected again after the restart"
assert_eq "$(sqlite3 "$L/discovery.db" "SELECT mentions FROM candidates WHERE url='$B_NORM'")" "$M_B" "B's mentions in discovery.db"

# ---- 4. --no-discovery: B is never dialled. ----
N="$WORK/off"
before=$(b_connects)
daemon_start "$N" --relay "$A_URL" --allow-private-addresses  # daemon_start passes --no-discovery
wait_eq 30 30 committed "$N"
assert_eq "$(http_get relays | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1 "relays listed"
assert_eq "$(metric proton_beam_discovery_candidates)" "" "discovery metrics without discovery"
daemon_stop
[ ! -e "$N/discovery.db" ] || fail "discovery.db created with --no-discovery"
assert_eq "$(b_connects)" "$before" "connections B received with --no-discovery"
assert_eq "$(committed "$N")" 30 "archived events with --no-discovery"
pass
