# S3 test peers for the test_s3_*.sh scripts (source after lib.sh): s3rver (npm) on a free loopback
# port, with tests/s3/sigv4_proxy.py in front of it checking every request's SigV4 signature with
# botocore and injecting faults on demand. Both are stopped when the script exits.
S3RVER="$PB_SOURCE_DIR/tests/node/node_modules/.bin/s3rver"
PROXY="$PB_SOURCE_DIR/tests/s3/sigv4_proxy.py"
[ -x "$S3RVER" ] || fail "s3rver is not installed (run scripts/setup.sh)"
/usr/bin/python3 -c 'import botocore' 2>/dev/null || fail "python3-botocore is not installed (run scripts/setup.sh)"
S3_PIDS=()
stop_s3() { for p in "${S3_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; S3_PIDS=(); }
trap 'stop_s3; rm -rf "$WORK"' EXIT

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start_s3 BUCKET...: sets S3_ENDPOINT (the proxy), SIG_LOG (the proxy's log), and the AWS_* test
# credentials (s3rver only knows S3RVER/S3RVER). PB_TEST_SESSION_TOKEN set: the proxy requires it.
# S3RVER_QUIET= (empty) keeps s3rver's request log in $WORK/s3rver.out for debugging.
start_s3() {
  local port buckets=()
  for b in "$@"; do buckets+=(--configure-bucket "$b"); done
  port=$(free_port)
  mkdir -p "$WORK/s3data"
  # s3rver encrypts its ListObjectsV2 continuation tokens with a cipher OpenSSL 3 keeps in the legacy
  # provider; without it every truncated listing is a 500.
  NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" -d "$WORK/s3data" -a 127.0.0.1 -p "$port" ${S3RVER_QUIET--s} "${buckets[@]}" >"$WORK/s3rver.out" 2>&1 &
  S3_PIDS+=($!)
  SIG_LOG="$WORK/sigv4.jsonl"
  /usr/bin/python3 "$PROXY" --upstream "http://127.0.0.1:$port" --port-file "$WORK/proxy.port" --log "$SIG_LOG" \
    --session-token "${PB_TEST_SESSION_TOKEN:-}" >"$WORK/proxy.out" 2>&1 &
  S3_PIDS+=($!)
  for _ in $(seq 100); do
    [ -f "$WORK/proxy.port" ] && curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
  [ -f "$WORK/proxy.port" ] || fail "the SigV4 proxy did not start: $(cat "$WORK/proxy.out")"
  S3_ENDPOINT="http://127.0.0.1:$(cat "$WORK/proxy.port")"
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$S3_ENDPOINT"
  unset AWS_PROFILE AWS_DEFAULT_REGION AWS_ENDPOINT_URL_S3
  if [ -n "${PB_TEST_SESSION_TOKEN:-}" ]; then export AWS_SESSION_TOKEN="$PB_TEST_SESSION_TOKEN"; fi
  export HOME="$WORK/home"  # no ~/.aws of the machine's user leaks in
}

# fault JSON: see sigv4_proxy.py ('{}' clears).
fault() { curl -s -X POST --data-binary "$1" "$S3_ENDPOINT/__pbtest__/control" >/dev/null; }
# Waits until the proxy handles no request (so its log is complete, e.g. after a client was killed).
proxy_idle() { curl -sf "$S3_ENDPOINT/__pbtest__/idle" >/dev/null || fail "the S3 proxy stayed busy"; }
# Requests the proxy saw whose signature did not match botocore's.
sig_mismatches() { grep -c '"match": false' "$SIG_LOG" || true; }
# count_op OP: requests of that operation with a matching signature.
count_op() { grep '"match": true' "$SIG_LOG" | grep -c "\"op\": \"$1\"" || true; }
