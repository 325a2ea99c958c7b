#!/usr/bin/env bash
# --inflated-copy on a disk that fills up: serve's file size limit (ulimit -f, with SIGXFSZ ignored so a
# write past it fails with EFBIG as on a full disk) lets each day file's copy start and then fail. Serve
# must keep answering exactly (the misses inflate the day files), say why in its log, leave no partial
# copy behind, and keep trying at each refresh; once the limit is gone (a restart) the copy is made.
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
source "$PB_SOURCE_DIR/tests/serve/serve_lib.sh"

node "$NODE_SERVE/gen_events.mjs" --count 1200 --seed full --out events.jsonl
"$PB" convert events.jsonl -o arch --no-progress >/dev/null
days=$(ls arch/*.pb.gz | wc -l)
[ "$days" -ge 2 ] || fail "expected several day files, got $days"

# 64 KiB per file: enough for index.db's shared-memory file (32 KiB) and the logs, less than any day's copy.
REAL_PB=$PB
cat > limited.sh <<SH
#!/usr/bin/env bash
trap '' XFSZ
ulimit -f 64
exec "$REAL_PB" "\$@"
SH
chmod +x limited.sh
for f in arch/*.pb.gz; do
  raw=$(python3 -c 'import gzip,sys; print(len(gzip.open(sys.argv[1]).read()))' "$f")
  [ "$raw" -gt 65536 ] || fail "$f holds only $raw bytes of records: its copy would fit under the limit"
done

PB=$PWD/limited.sh serve_start S arch --inflated-copy copy --inflated-copy-refresh-s 1
metric() { curl -sS "http://127.0.0.1:$S_PORT/metrics" | awk -v m="pb_serve_$1" '$1 == m {print $2}'; }
for ((i = 0; i < 300; i++)); do grep -q "inflated copy not refreshed" "$S_LOG" && break; sleep 0.1; done
grep -q "inflated copy not refreshed" "$S_LOG" || fail "no reason logged for the failed copy: $(cat "$S_LOG")"
node "$NODE_SERVE/diff_client.mjs" --port "$S_PORT" --events events.jsonl --reqs 150 --counts 30 --seed full \
  || fail "answers differ from the oracle while the copy cannot be written"
assert_eq "$(metric inflated_copy_files)" 0 "day files in the copy under the limit"
[ "$(metric inflated_copy_fallbacks_total)" -gt 0 ] || fail "no miss was inflated instead"
# The next refresh (every second) tries again and fails again.
for ((i = 0; i < 300; i++)); do [ "$(grep -c "inflated copy not refreshed" "$S_LOG")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c "inflated copy not refreshed" "$S_LOG")" -ge 2 ] || fail "the copy was not tried again"
kill -0 "$S_PID" || fail "serve died"
serve_stop S
leftovers=$(find copy -name '*.tmp' | wc -l)
assert_eq "$leftovers" 0 "partial copy files left behind"

# Without the limit the same folder gets every day's copy, and the answers stay the same.
serve_start T arch --inflated-copy copy
for ((i = 0; i < 300; i++)); do
  [ "$(curl -sS "http://127.0.0.1:$T_PORT/metrics" | awk '$1 == "pb_serve_inflated_copy_files" {print $2}')" = "$days" ] && break
  sleep 0.1
done
assert_eq "$(curl -sS "http://127.0.0.1:$T_PORT/metrics" | awk '$1 == "pb_serve_inflated_copy_files" {print $2}')" \
  "$days" "day files in the copy without the limit"
node "$NODE_SERVE/diff_client.mjs" --port "$T_PORT" --events events.jsonl --reqs 50 --counts 10 --seed full2 \
  || fail "answers differ from the oracle through the copy"
serve_stop T
echo "PASS"
