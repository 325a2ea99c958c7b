#!/usr/bin/env bash
# Discovery refuses a DNS NAME that resolves to a private address, at connect time, through the daemon's
# own resolver. Relay A (named by the operator) holds a kind-10002 list and notes whose e/p hints name
# relay B by a name, ws://relay-b.pb-discovery.test:PORT_B/ (.test is reserved: no DNS answers it). The
# daemon runs under with_hosts.sh: a private mount namespace whose /etc/hosts maps that name to
# 127.0.0.1, so glibc's getaddrinfo, which the daemon calls, resolves it there and nowhere else (a
# multi-label name passes the local_name rule and reaches the resolver, unlike `localhost`).
#   1. Without --allow-private-addresses: the name resolves, the address is loopback, B is refused
#      (reason loopback in /metrics, in /relays' last_error and in the log, once) and never dialled (B's
#      own log shows no connection); A's 30 events are archived, B's are not.
#   2. With it (fresh archive): the daemon connects to B by that name and archives B's 20 events.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

NAME=relay-b.pb-discovery.test
HOSTS="$WORK/hosts"
printf '127.0.0.1 localhost\n127.0.0.1 %s\n' "$NAME" >"$HOSTS"
WRAP=(bash "$PB_SOURCE_DIR/tests/daemon/with_hosts.sh" "$HOSTS")
# The name resolves inside the namespace only: what the daemon resolves comes from the hosts file given.
got=$("${WRAP[@]}" getent ahostsv4 "$NAME" 2>&1 | awk 'NR == 1 { print $1 }') ||
  fail "with_hosts.sh does not work here (needs unshare with user namespaces, or root): $got"
assert_eq "$got" 127.0.0.1 "$NAME inside the namespace"
! getent hosts "$NAME" >/dev/null || fail "$NAME resolves outside the namespace: the test would not show which resolver answered"

RELAY_DEFER=1 relay_start A
RELAY_DEFER=1 relay_start B
relay_await A B
B_NAMED="ws://$NAME:$B_PORT/"
relay_publish "$B_URL" -- --generate 20 --seed nb --out "$WORK/b.jsonl" >/dev/null
relay_publish "$A_URL" -- --generate 30 --seed na --authors 1 --relay-list "$B_NAMED" --out "$WORK/a.jsonl" >/dev/null
[ "$(relay_count_events A)" == 30 ] || fail "relay A does not hold the 30 events"
# Stored events naming B (the 10002 `r` tag, e/p hints): each is a mention.
M_B=$(python3 -c 'import json,sys
print(sum(any((t[0]=="r" and e["kind"]==10002 and t[1]==sys.argv[2]) or (len(t)>=3 and t[0] in "epa" and t[2]==sys.argv[2])
              for t in e["tags"]) for e in map(json.loads, open(sys.argv[1]))))' "$WORK/a.jsonl" "$B_NAMED")
[ "$M_B" -ge 2 ] || fail "the corpus names B only $M_B times"

refused() { metric "proton_beam_discovery_refused_total{reason=\"$1\"}"; }
b_connects() { grep -c '^CONNECT' "$B_LOG" || true; }
D_PREFIX=("${WRAP[@]}")

# ---- 1. Strict (the default): the name resolves to loopback and is refused at connect time. ----
S="$WORK/strict"
before=$(b_connects)
daemon_start "$S" --relay "$A_URL" --discovery --discovery-interval 0.2
wait_eq 30 30 committed "$S"
wait_eq 30 1 refused loopback  # one connection attempt, refused; then B waits out an hour
assert_eq "$(relay_field "$B_NAMED" origin)" discovered "B's origin in /relays"
# A refusal at connect time keeps the candidate out for an hour, listed as refused with the reason and the
# addresses in last_error (`refusal` is for URLs the rules refuse as written, whatever they resolve to).
assert_eq "$(relay_field "$B_NAMED" state)" refused "B's state"
assert_eq "$(relay_field "$B_NAMED" refusal)" "" "B's URL-rule refusal"
assert_eq "$(relay_field "$B_NAMED" mentions)" "$M_B" "B's mentions"
assert_eq "$(relay_field "$B_NAMED" last_error)" "refused: loopback (resolved to 127.0.0.1)" "B's last_error"
grep -q "discovery: refused $B_NAMED reason=loopback (resolved to 127.0.0.1; #1)" "$S/proton-beam.log" ||
  fail "no refusal log line naming the resolved address: $(grep discovery "$S/proton-beam.log" | head -5)"
for r in local_name no_address; do assert_eq "$(refused $r)" 0 "refused_total{reason=$r}"; done
assert_eq "$(metric proton_beam_relay_connects_total)" 1 "connections opened (A only)"
assert_eq "$(committed "$S")" 30 "archived events (B's must not be there)"
daemon_stop
assert_eq "$(grep -c "reason=loopback" "$S/proton-beam.log")" 1 "loopback refusals logged"
assert_eq "$(b_connects)" "$before" "connections B received from the strict daemon"

# ---- 2. --allow-private-addresses: the same name is dialled and B's events archived. ----
L="$WORK/lenient"
before=$(b_connects)
daemon_start "$L" --relay "$A_URL" --discovery --discovery-interval 0.2 --allow-private-addresses
wait_eq 60 50 committed "$L"
wait_eq 30 connected relay_field "$B_NAMED" state
assert_eq "$(relay_field "$B_NAMED" stored)" 20 "events stored from B"
assert_eq "$(refused loopback)" 0 "loopback refusals with --allow-private-addresses"
grep -q "discovery: connecting $B_NAMED" "$L/proton-beam.log" || fail "no log line for connecting B by name"
daemon_stop
[ "$(b_connects)" -gt "$before" ] || fail "B received no connection from the lenient daemon"
canon "$WORK/a.jsonl" "$WORK/b.jsonl" >"$WORK/expected.jsonl"
"$PB_BIN/pb-dump-archive" "$L" | canon >"$WORK/got.jsonl"
cmp -s "$WORK/expected.jsonl" "$WORK/got.jsonl" || fail "archive != A's and B's events"
pass
