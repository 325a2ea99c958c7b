#!/usr/bin/env bash
# NIP-42 auth-required (one AUTH with a throwaway key, one re-REQ), CLOSED rate-limited (REQ again after a
# backoff), SIGHUP reload of the config file (added relay connects, removed one closes, unchanged one keeps
# its connection), and SIGTERM committing everything received (the batch interval is an hour here).
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

RELAY_DEFER=1 relay_start RA --auth-required
RELAY_DEFER=1 relay_start RL --rate-limit-first-req
RELAY_DEFER=1 relay_start RH
relay_await RA RL RH
# Each publisher is connection c=1 of its relay; the daemon's first connection is c=2.
relay_publish "$RA_URL" -- --generate 10 --seed auth --out "$WORK/ra.jsonl" >/dev/null
relay_publish "$RL_URL" -- --generate 10 --seed rate --out "$WORK/rl.jsonl" >/dev/null
relay_publish "$RH_URL" -- --generate 10 --seed hup --out "$WORK/rh.jsonl" >/dev/null

CFG="$WORK/daemon.toml"
printf 'relays = ["%s", "%s"]\nbatch_size = 100000\nbatch_interval = 3600\n' "$RA_URL" "$RL_URL" >"$CFG"
A="$WORK/archive"
daemon_start "$A" --config "$CFG" --batch-interval 3600  # (the command line beats the file)
wait_eq 30 20 metric proton_beam_events_received_total

assert_eq "$(relay_field "$RA_URL" auth_sent)" 1 "AUTH answers to RA"
relay_wait_log RA 'AUTH c=2 ok [0-9a-f]{64}'
[ "$(grep -c 'RECV c=2 REQ' "$RA_LOG")" == 2 ] || fail "RA: expected exactly one re-REQ after AUTH"
assert_eq "$(relay_field "$RL_URL" rate_limited)" 1 "RL rate-limited"
[ "$(grep -c 'RECV c=2 REQ' "$RL_LOG")" == 2 ] || fail "RL: expected one REQ again after the backoff"
assert_eq "$(committed "$A")" 0 "nothing committed yet (batch interval 1 h)"

# SIGHUP: RL removed, RH added, RA unchanged (same connection).
printf 'relays = ["%s", "%s"]\nbatch_size = 100000\nbatch_interval = 3600\n' "$RA_URL" "$RH_URL" >"$CFG"
kill -HUP "$D_PID"
wait_eq 30 30 metric proton_beam_events_received_total
relay_wait_log RL 'DISCONNECT c=2'
assert_eq "$(http_get relays | python3 -c 'import json,sys; print(sorted(r["url"].rstrip("/") for r in json.load(sys.stdin)))')" \
  "$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' "$RA_URL" "$RH_URL")" "relays after SIGHUP"
assert_eq "$(relay_field "$RA_URL" connects)" 1 "RA kept its connection"
grep -q 'CONNECT c=3' "$RA_LOG" && fail "RA was reconnected by the reload"
# A bad file on SIGHUP keeps the running configuration.
printf 'relays = ["http://nope"]\n' >"$CFG"
kill -HUP "$D_PID"
wait_until 10 grep -q "configuration not reloaded" "$A/proton-beam.log"
assert_eq "$(relay_field "$RH_URL" state)" connected "RH after a bad reload"

# SIGTERM: everything received is committed before exit 0.
assert_eq "$(committed "$A")" 0 "still nothing committed"
daemon_stop TERM
assert_eq "$(committed "$A")" 30 "events committed by SIGTERM"
canon "$WORK/ra.jsonl" "$WORK/rl.jsonl" "$WORK/rh.jsonl" >"$WORK/expected.jsonl"
"$PB_BIN/pb-dump-archive" "$A" | canon >"$WORK/got.jsonl"
cmp -s "$WORK/expected.jsonl" "$WORK/got.jsonl" || fail "archive != events received"
# The configuration surface: --print-config, a bad value naming key and line, --help.
printf 'batch_size = 5\nkinds = [1, "x"]\n' >"$WORK/bad.toml"
rc=0; "$DAEMON" --config "$WORK/bad.toml" 2>"$WORK/bad.err" || rc=$?
assert_eq "$rc" 2 "bad config exit status"
grep -q "kinds.*line 2" "$WORK/bad.err" || fail "bad value message: $(cat "$WORK/bad.err")"
PROTON_BEAM_BATCH_SIZE=9 "$DAEMON" --print-config --max-relays 3 >"$WORK/printed.toml"
grep -qx 'batch_size = 9' "$WORK/printed.toml" || fail "env not in --print-config"
grep -qx 'max_relays = 3' "$WORK/printed.toml" || fail "option not in --print-config"
# To a file: with pipefail, `--help | grep -q` fails with SIGPIPE once the text is over one stdio buffer.
"$DAEMON" --help >"$WORK/help.txt"
grep -q -- "--batch-interval" "$WORK/help.txt" || fail "--help"
pass
