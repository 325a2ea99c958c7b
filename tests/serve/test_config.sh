#!/usr/bin/env bash
# serve --config FILE and SIGHUP (docs/serve.md, "Configuration file and SIGHUP"): the file's options apply
# unless the command line gives them; a bad file is refused at start with exit 2 and the line named; on
# SIGHUP the limits, caps, rate limit, NIP-11 text and CORS origin change for new requests, options read
# once at start are logged as needing a restart, a broken file leaves the running options in force, and
# a key taken out of the file goes back to its default.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

gen 400 17 --days 2 --duplicate-fraction 0 --invalid-fraction 0 -o events.jsonl >/dev/null
"$PB" convert events.jsonl -o arch --no-progress --validate-signatures=false >/dev/null
stored=$(index_count arch)
[ "$stored" -gt 100 ] || fail "expected over 100 events, got $stored"

# 1. Files refused at start: exit 2, the file's line and the problem named, nothing served.
refused() {  # refused FILE_TEXT EXPECTED_MESSAGE_PART
  printf '%s\n' "$1" >bad.toml
  local rc=0
  timeout 60 "$PB" serve arch --listen 127.0.0.1:0 --config bad.toml >bad.out 2>&1 || rc=$?
  assert_eq "$rc" 2 "exit status with a bad file: $(cat bad.out)"
  grep -qF -- "$2" bad.out || fail "expected '$2' in: $(cat bad.out)"
}
refused $'name = "x"\nmax_limitt = 5' "bad.toml line 2: unknown key 'max_limitt'"
refused $'name = "x"\nname = "y"' "bad.toml line 2"
refused 'description = "unterminated' "bad.toml line 1"
refused 'net_threads = 0' "--net-threads (bad.toml line 1)"
refused 'max_limit = "many"' "--max-limit (bad.toml line 1)"
refused 'relays = ["wss://x"]' "unknown key 'relays'"
rc=0
timeout 60 "$PB" serve arch --listen 127.0.0.1:0 --config missing.toml >bad.out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status with a missing file: $(cat bad.out)"
grep -qF "cannot read missing.toml" bad.out || fail "a missing file not named: $(cat bad.out)"

nip11() { curl -sf --max-time 30 -H 'Accept: application/nostr+json' "http://127.0.0.1:$S_PORT/" >nip11.json || fail "NIP-11"; }
nip11_field() { python3 -c 'import json,sys; d=json.load(open("nip11.json"))
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }
lines() { curl -sf --max-time 30 -X POST --data "$1" "http://127.0.0.1:$S_PORT/api/v1/req" | wc -l; }
status() { curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X POST --data "$1" "http://127.0.0.1:$S_PORT/api/v1/req"; }
cors() { curl -sf --max-time 30 -D - -o /dev/null "http://127.0.0.1:$S_PORT/api/v1/stats" | tr -d '\r' |
  sed -n 's/^[Aa]ccess-[Cc]ontrol-[Aa]llow-[Oo]rigin: //p'; }
metric() { curl -sf --max-time 30 "http://127.0.0.1:$S_PORT/metrics" | sed -n "s/^pb_serve_$1 //p"; }
# hup METRIC VALUE: SIGHUP, then wait until the reload (or its refusal) is counted.
hup() {
  kill -HUP "$S_PID"
  local i
  for ((i = 0; i < 300; i++)); do
    [ "$(metric "$1")" == "$2" ] && return 0
    kill -0 "$S_PID" 2>/dev/null || fail "serve exited on SIGHUP: $(cat "$S_LOG")"
    sleep 0.1
  done
  fail "SIGHUP not handled ($1 = $(metric "$1")): $(cat "$S_LOG")"
}

# 2. Start: the file's options, the command line's --max-filters over the file's.
cat >serve.toml <<'TOML'
name = "first"
description = "from the file"
max_limit = 50
default_limit = 10
max_filters = 7
cors-origin = "https://a.example"
TOML
serve_start S arch --config serve.toml --max-filters 3
nip11
assert_eq "$(nip11_field name)" "first" "NIP-11 name from the file"
assert_eq "$(nip11_field description)" "from the file" "NIP-11 description from the file"
assert_eq "$(nip11_field limitation.max_limit)" 50 "max_limit from the file"
assert_eq "$(nip11_field limitation.default_limit)" 10 "default_limit from the file"
assert_eq "$(nip11_field limitation.max_filters)" 3 "max_filters: the command line wins"
assert_eq "$(lines '[{}]')" 10 "events without a limit"
assert_eq "$(lines '[{"limit":1000}]')" 50 "events with a large limit"
assert_eq "$(status '[{},{},{},{}]')" 400 "four filters over a cap of 3"
assert_eq "$(cors)" "https://a.example" "CORS origin from the file"

# 3. SIGHUP with a changed file: live options change, the others are logged and kept.
cat >serve.toml <<'TOML'
name = "second"
max_limit = 20
default_limit = 5
max_filters = 9
cors_origin = "https://b.example"
workers = 4
TOML
hup config_reloads_total 1
nip11
assert_eq "$(nip11_field name)" "second" "NIP-11 name after SIGHUP"
assert_eq "$(nip11_field description)" "A read-only Nostr archive served by proton-beam" "description back to its default"
assert_eq "$(nip11_field limitation.max_limit)" 20 "max_limit after SIGHUP"
assert_eq "$(nip11_field limitation.max_filters)" 3 "max_filters after SIGHUP: the command line still wins"
assert_eq "$(lines '[{}]')" 5 "events without a limit after SIGHUP"
assert_eq "$(lines '[{"limit":1000}]')" 20 "events with a large limit after SIGHUP"
assert_eq "$(cors)" "https://b.example" "CORS origin after SIGHUP"
grep -q 'SIGHUP: workers 2 -> 4 (needs a restart)' "$S_LOG" || fail "no restart warning for workers: $(cat "$S_LOG")"
grep -q 'SIGHUP: max_limit 50 -> 20' "$S_LOG" || fail "the change of max_limit not logged: $(cat "$S_LOG")"
[ "$(grep -c 'pb-query' <(ps -L -o comm= -p "$S_PID"))" == 2 ] || fail "the worker count changed without a restart"

# 4. A broken file on SIGHUP: refused, logged with its line, the running options stay, serve goes on.
printf 'name = "third\n' >serve.toml
hup config_reload_errors_total 1
grep -q 'options not reloaded, the running ones stay: serve.toml line 1' "$S_LOG" ||
  fail "the refused reload not logged with its line: $(cat "$S_LOG")"
nip11
assert_eq "$(nip11_field name)" "second" "NIP-11 name after a refused reload"
assert_eq "$(lines '[{"limit":1000}]')" 20 "max_limit after a refused reload"

# 5. Keys taken out go back to their defaults; the rate limit applies live (1 a minute: the second refused).
printf 'name = "fourth"\nrate_limit = 1\n' >serve.toml
hup config_reloads_total 2
nip11
assert_eq "$(nip11_field limitation.max_limit)" 5000 "max_limit back to its default"
assert_eq "$(nip11_field limitation.default_limit)" 500 "default_limit back to its default"
assert_eq "$(status '[{"limit":1}]')" 200 "first request under the new rate limit"
assert_eq "$(status '[{"limit":1}]')" 429 "second request under the new rate limit"

serve_stop S

# 6. The shipped example loads (its dir and listen overridden on the command line) and states the defaults:
# its NIP-11 limits equal those of a server started without a file.
serve_start S arch --config "$PB_SOURCE_DIR/examples/serve.toml"
nip11
assert_eq "$(nip11_field name)" "my archive" "NIP-11 name from examples/serve.toml"
python3 -c 'import json; print(json.dumps(json.load(open("nip11.json"))["limitation"], sort_keys=True))' >example.limits
serve_stop S
serve_start S arch
nip11
python3 -c 'import json; print(json.dumps(json.load(open("nip11.json"))["limitation"], sort_keys=True))' >default.limits
cmp -s example.limits default.limits || fail "examples/serve.toml: $(cat example.limits) is not the defaults $(cat default.limits)"
serve_stop S
pass
