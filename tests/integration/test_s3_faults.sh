#!/usr/bin/env bash
# S3 failure handling against s3rver behind the SigV4-checking proxy: a missing bucket (clear error,
# exit 5, local archive intact), 500s and connection resets for a while (retried), a part that keeps
# failing (upload aborted, exit 5, a rerun completes), a push killed mid-multipart (the rerun resumes
# it), and a download resumed from its partial file with a Range GET.
source "$(dirname "$0")/lib.sh"
source "$PB_SOURCE_DIR/tests/integration/s3_lib.sh"
start_s3 nostr-archive
export PB_S3_ALLOW_SMALL_PARTS=1

gen 3000 61 --days 1 -o a.jsonl
"$PB" convert a.jsonl -o A --no-progress > /dev/null
day=$(cd A && ls *.pb.gz)
size=$(stat -c %s "A/$day")
events=$(index_count A)

# 1. Missing bucket: the archive is written and intact, the upload fails clearly with exit 5.
set +e
"$PB" convert a.jsonl -o B --no-progress --s3-output s3://no-such-bucket/x > nb.out 2> nb.err
rc=$?
set -e
assert_eq "$rc" 5 "exit status of convert --s3-output to a missing bucket"
grep -q "bucket 'no-such-bucket' does not exist" nb.err || fail "missing bucket message: $(cat nb.err)"
grep -q "local archive B is complete" nb.err || fail "the message does not say the archive is intact"
assert_eq "$(index_count B)" "$events" "events in the archive whose upload failed"
"$PB" verify B > /dev/null || fail "verify after a failed upload"
set +e; "$PB" s3 push B s3://no-such-bucket > /dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 5 "exit status of s3 push to a missing bucket"

# Usage and configuration errors stop before any work: a bad URL is exit 2, missing credentials exit 1
# before converting anything.
set +e
"$PB" s3 push A s3://Bad_Bucket > /dev/null 2>&1; rc=$?
assert_eq "$rc" 2 "exit status for a malformed s3:// URL"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$PB" convert a.jsonl -o C --no-progress --s3-output s3://nostr-archive/c \
  > nc.out 2> nc.err; rc=$?
set -e
assert_eq "$rc" 1 "exit status without credentials"
grep -q "no AWS credentials" nc.err || fail "missing-credentials message: $(cat nc.err)"
[ ! -e C/index.db ] || fail "convert ran although the upload could not"

# 2. 500s for a while, then connection resets: retried with backoff, the push succeeds.
fault '{"fail": 4, "status": 500}'
"$PB" s3 push A s3://nostr-archive/retry --s3-part-size 100K --json --progress > r1.json 2> r1.err || fail "push through 500s: $(cat r1.err)"
grep -q "HTTP 500" r1.err || fail "no retry after a 500 was reported"
grep -q "s3: [0-9]*/3 files |" r1.err || fail "no progress line with --progress"
assert_eq "$(json_get r1.json transferred)" 3 "files uploaded through 500s"
fault '{"reset": 3}'
"$PB" s3 push A s3://nostr-archive/resets --s3-part-size 100K --json > r2.json 2> r2.err || fail "push through resets: $(cat r2.err)"
assert_eq "$(json_get r2.json transferred)" 3 "files uploaded through connection resets"
fault '{"fail": 2, "status": 503, "ops": ["GetObject"]}'
"$PB" s3 pull s3://nostr-archive/retry P1 --json > r3.json 2> r3.err || fail "pull through 503s: $(cat r3.err)"
assert_eq "$(day_files_digest P1)" "$(day_files_digest A)" "day files pulled through 503s"

# 3. A part that keeps failing: the multipart upload is aborted (s3rver answers 405, tolerated with a
#    warning), exit 5; a rerun without the fault uploads everything.
fault '{"fail_forever": true, "status": 500, "ops": ["UploadPart"]}'
set +e
"$PB" s3 push A s3://nostr-archive/abort --s3-part-size 100K --s3-max-attempts 2 > ab.out 2> ab.err
rc=$?
set -e
assert_eq "$rc" 5 "exit status when a part fails for good"
[ "$(count_op AbortMultipartUpload)" -ge 1 ] || fail "the failed multipart upload was not aborted"
grep -q "could not abort" ab.err || fail "s3rver's 405 on abort was not reported: $(cat ab.err)"
[ -z "$(ls A/.proton-beam-s3/uploads 2>/dev/null)" ] || fail "an aborted upload left its state file"
fault '{}'
"$PB" s3 push A s3://nostr-archive/abort --s3-part-size 100K --json > ab2.json || fail "rerun after the abort"
assert_eq "$(json_get ab2.json failed)" 0 "failures in the rerun after an abort"

# 4. Killed mid-multipart: the state file keeps the finished parts, the rerun uploads only the rest.
parts=$(( (size + 65535) / 65536 ))
[ "$parts" -ge 6 ] || fail "day file too small for the resume test ($size bytes)"
fault '{"delay_ms": 250, "ops": ["UploadPart"]}'
"$PB" s3 push A s3://nostr-archive/resume --s3-part-size 64K --s3-jobs 1 > /dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do
  [ "$(cat A/.proton-beam-s3/uploads/*.upload 2>/dev/null | grep -c '^part ')" -ge 3 ] && break
  sleep 0.05
done
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
done_parts=$(cat A/.proton-beam-s3/uploads/*.upload | grep -c '^part ')
[ "$done_parts" -ge 3 ] && [ "$done_parts" -lt "$parts" ] || fail "kill did not land mid-upload ($done_parts of $parts parts)"
fault '{}'
proxy_idle  # the killed run's last request is in the proxy log
day_parts() { grep '"match": true' "$SIG_LOG" | grep '"op": "UploadPart"' | grep -c "/resume/$day\"" || true; }
before=$(day_parts)
"$PB" s3 push A s3://nostr-archive/resume --s3-part-size 64K --s3-jobs 1 > rs.out 2> rs.err || fail "resumed push: $(cat rs.err)"
grep -q "resuming multipart upload, $done_parts of $parts parts already uploaded" rs.err || fail "no resumption: $(cat rs.err)"
assert_eq "$(( $(day_parts) - before ))" "$(( parts - done_parts ))" "parts of the day file uploaded by the resumed run"
"$PB" s3 pull s3://nostr-archive/resume P2 --json > rs.json || fail "pull of the resumed upload"
cmp -s "P2/$day" "A/$day" || fail "the resumed multipart object differs from the day file"

# 5. A download interrupted halfway resumes from its partial file with a Range GET.
mkdir -p P3
head -c $(( size / 2 )) "A/$day" > "P3/.$day.s3-partial"
"$PB" s3 pull s3://nostr-archive/retry P3 --json > rg.json || fail "pull with a partial file"
grep '"op": "GetObject"' "$SIG_LOG" | grep -q "\"range\": \"bytes=$(( size / 2 ))-\"" || fail "no Range GET from the partial's end"
cmp -s "P3/$day" "A/$day" || fail "the resumed download differs"
[ ! -e "P3/.$day.s3-partial" ] || fail "the partial file was left behind"

assert_eq "$(sig_mismatches)" 0 "requests whose SigV4 signature differs from botocore's"
pass
