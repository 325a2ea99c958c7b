#!/usr/bin/env bash
# proton-beam-daemon --s3-output against s3rver, every request's SigV4 signature recomputed by botocore
# (tests/s3/sigv4_proxy.py, session token required), and a real relay.
#   0. No credentials: the daemon refuses to start (exit 2) and says why.
#   1. Periodic pushes (--s3-interval 0.3, commits of 5, compaction off): once the metrics show a push of
#      all 60 events, the bucket no longer changes (later pushes find every object identical), and a pull
#      into a fresh folder holds exactly the daemon's committed events and passes verify. After SIGTERM
#      the bucket equals the archive: day files byte for byte, the same index rows.
#   2. Compaction between pushes: restarted with no relay and compaction on, the daemon compacts the
#      finished day (2023-11-14) of many small members; the next push uploads the rewritten file with an
#      index that matches it.
#   3. The final push alone (--s3-interval 3600: no periodic push in the run): 25 more events, SIGTERM,
#      and a fresh pull holds all 85.
#   4. S3 unreachable: pushes fail and are counted, ingest goes on, SIGTERM still exits 0 (in time).
source "$PB_SOURCE_DIR/tests/integration/lib.sh"
export PB_TEST_SESSION_TOKEN="pb-daemon-session-token/with+chars="
source "$PB_SOURCE_DIR/tests/integration/s3_lib.sh"
source "$PB_SOURCE_DIR/tests/daemon/daemon_lib.sh"
trap '_daemon_cleanup; stop_s3; [ -n "${PB_KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT  # both libs' cleanups
source "$PB_SOURCE_DIR/tests/relay/relay_lib.sh"

start_s3 nostr-archive
export PB_S3_ALLOW_SMALL_PARTS=1  # 16 KiB parts: the index snapshot goes up multipart
URL=s3://nostr-archive/live
S3OPTS=(--s3-output "$URL" --s3-part-size 16K --s3-jobs 2)
ids() { sqlite3 "$1/index.db" 'SELECT lower(hex(id)) FROM events ORDER BY 1'; }
pull_into() { "$PB" s3 pull "$URL" "$1" --json >"$1.pull.json" 2>"$1.pull.err" || fail "s3 pull into $1: $(cat "$1.pull.err")"; }
# The pulled archive has exactly the events of FILES..., verify accepts it.
check_pulled() {
  local dir=$1; shift
  "$PB" verify "$dir" >"$dir.verify" 2>&1 || fail "verify rejects the pulled archive $dir: $(cat "$dir.verify")"
  canon "$@" >"$WORK/want.jsonl"
  "$PB_BIN/pb-dump-archive" "$dir" | canon >"$WORK/got.jsonl"
  cmp -s "$WORK/want.jsonl" "$WORK/got.jsonl" || fail "$dir holds $(wc -l <"$WORK/got.jsonl") events, not the $(wc -l <"$WORK/want.jsonl") published"
}

relay_start R
D="$WORK/archive"

# ---- 0. Missing credentials stop the daemon before it opens anything. ----
set +e
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN HOME="$WORK/nohome" \
  "$DAEMON" -o "$WORK/nocred" --no-default-relays --no-discovery "${S3OPTS[@]}" >"$WORK/nocred.out" 2>"$WORK/nocred.err"
rc=$?
set -e
assert_eq "$rc" 2 "exit status without S3 credentials"
grep -q "no AWS credentials" "$WORK/nocred.err" || fail "no explanation without credentials: $(cat "$WORK/nocred.err")"
[ ! -e "$WORK/nocred/index.db" ] || fail "the archive was opened although the S3 configuration is unusable"

# ---- 1. Periodic pushes while events arrive. ----
daemon_start "$D" --relay "$R_URL" --batch-size 5 --commit-gap-ms 0 --compaction=false "${S3OPTS[@]}" --s3-interval 0.3
relay_publish "$R_URL" -- --generate 60 --seed s3a --concurrency 4 --out "$WORK/a.jsonl" >/dev/null
wait_eq 60 60 committed "$D"
wait_eq 60 60 metric proton_beam_s3_last_push_events  # a push whose index snapshot holds all 60
assert_eq "$(metric proton_beam_s3_push_failures_total)" 0 "failed pushes"
[ "$(metric proton_beam_s3_last_push_timestamp_seconds)" -gt 0 ] || fail "no time of the last successful push"
grep -q "s3 push to $URL: .* index snapshot of 60 events in 1 day files" "$D/proton-beam.log" || fail "no push summary in the log"
# Nothing changes any more: the next pushes find the day file and the index snapshot identical.
wait_until 30 grep -q "s3 push to $URL: 0 transferred (0 bytes), 2 unchanged, 0 failed" "$D/proton-beam.log"
pull_into "$WORK/P1"
assert_eq "$(ids "$WORK/P1")" "$(ids "$D")" "ids pulled after a periodic push vs the daemon's committed ids"
check_pulled "$WORK/P1" "$WORK/a.jsonl"
members=$(sqlite3 "$D/index.db" "SELECT count(DISTINCT member_offset) FROM events")
[ "$members" -ge 8 ] || fail "expected a day file of many small members, got $members"
daemon_stop
# The last commit at SIGTERM (empty here) still moves the index's commit sequence: only the index goes up.
grep -q "s3 push (final) to $URL: 1 transferred (.*), 1 unchanged, 0 failed" "$D/proton-beam.log" || fail "no final push in the log"
[ ! -e "$D/.proton-beam-s3/index.db.snapshot" ] || fail "the index snapshot was left behind"
pull_into "$WORK/P1"  # again: the bucket holds what the daemon closed
assert_eq "$(day_files_digest "$WORK/P1")" "$(day_files_digest "$D")" "day files in the bucket after SIGTERM"
assert_eq "$(index_count "$WORK/P1")" 60 "index rows in the bucket after SIGTERM"

# ---- 2. Compaction between pushes: the rewritten day file goes up with an index that matches it. ----
daemon_start "$D" "${S3OPTS[@]}" --s3-interval 0.3  # no relay: nothing but compaction changes the archive
wait_until 60 grep -q "compacted 2023_11_14.pb.gz" "$D/proton-beam.log"
after=$(( $(metric proton_beam_s3_push_total) + 1 ))
wait_ge 60 "$after" metric proton_beam_s3_push_total  # a push that started after the compaction
assert_eq "$(sqlite3 "$D/index.db" "SELECT count(DISTINCT member_offset) FROM events")" 1 "members after compaction"
pull_into "$WORK/P1"
assert_eq "$(day_files_digest "$WORK/P1")" "$(day_files_digest "$D")" "day files in the bucket after the compaction"
check_pulled "$WORK/P1" "$WORK/a.jsonl"
assert_eq "$(metric proton_beam_s3_push_failures_total)" 0 "failed pushes"
daemon_stop

# ---- 3. A push at start, then the final push alone carries what arrived since. ----
daemon_start "$D" --relay "$R_URL" --batch-size 5 --commit-gap-ms 0 "${S3OPTS[@]}" --s3-interval 3600
wait_eq 30 1 metric proton_beam_s3_push_total  # at start, not an hour later: the previous run's archive
grep -q "s3 push (start) to $URL: .* 0 failed .* index snapshot of 60 events in 1 day files" "$D/proton-beam.log" ||
  fail "no push at start: $(grep 's3 push' "$D/proton-beam.log" | tail -2)"
[ "$(metric proton_beam_s3_last_push_timestamp_seconds)" -gt 0 ] || fail "no time of the push at start"
relay_publish "$R_URL" -- --generate 25 --seed s3b --concurrency 4 --out "$WORK/b.jsonl" >/dev/null
wait_eq 60 85 committed "$D"
assert_eq "$(metric proton_beam_s3_push_total)" 1 "pushes before SIGTERM with an hourly interval (the one at start)"
daemon_stop
grep -q "s3 push (final) to $URL: 2 transferred .* 0 failed .* index snapshot of 85 events in 1 day files" "$D/proton-beam.log" ||
  fail "no final push of 85 events: $(grep 's3 push' "$D/proton-beam.log" | tail -2)"
pull_into "$WORK/P2"
assert_eq "$(ids "$WORK/P2")" "$(ids "$D")" "ids pulled after the final push vs the archive"
assert_eq "$(index_count "$WORK/P2")" 85 "events in the bucket after the final push"
assert_eq "$(day_files_digest "$WORK/P2")" "$(day_files_digest "$D")" "day files after the final push"
check_pulled "$WORK/P2" "$WORK/a.jsonl" "$WORK/b.jsonl"

# Every request carried the signature botocore computes, with the session token; multipart was used.
assert_eq "$(sig_mismatches)" 0 "requests whose SigV4 signature differs from botocore's"
for op in ListObjectsV2 HeadObject PutObject CreateMultipartUpload UploadPart CompleteMultipartUpload; do
  [ "$(count_op $op)" -ge 1 ] || fail "no verified $op request"
done
[ "$(grep -c '"token": false' "$SIG_LOG")" -eq 0 ] || fail "a request went without x-amz-security-token"

# ---- 4. S3 unreachable: failures are counted, ingest goes on, SIGTERM exits 0. ----
U="$WORK/unreachable"
DEAD=$(free_port)  # nothing listens there
daemon_start "$U" --relay "$R_URL" --s3-output s3://nostr-archive/down --s3-endpoint "http://127.0.0.1:$DEAD" \
  --s3-interval 0.3 --s3-max-attempts 2
wait_eq 60 85 committed "$U"
wait_ge 60 2 metric proton_beam_s3_push_failures_total
relay_publish "$R_URL" -- --generate 10 --seed s3c --out "$WORK/c.jsonl" >/dev/null
wait_eq 60 95 committed "$U"  # still ingesting
[ "$(metric proton_beam_s3_push_total)" -ge 2 ] || fail "pushes not counted"
assert_eq "$(metric proton_beam_s3_last_push_timestamp_seconds)" 0 "time of the last successful push"
assert_eq "$(metric proton_beam_s3_last_push_events)" 0 "events of the last successful push"
grep -q "s3 push to s3://nostr-archive/down stopped: ListObjectsV2 down/ .*(after 2 attempts); retried at the next interval" \
  "$U/proton-beam.log" ||
  fail "no logged push failure: $(grep 's3 push' "$U/proton-beam.log" | head -3)"
daemon_stop  # exit 0 within 15 s, or it fails
grep -q "s3 push (final) to s3://nostr-archive/down stopped: .*; the local archive is complete" "$U/proton-beam.log" ||
  fail "no logged final push failure"
"$PB" verify "$U" >/dev/null || fail "verify rejects the archive of the daemon whose pushes failed"
pass
