#!/usr/bin/env bash
# S3 against s3rver (through a proxy that recomputes every SigV4 signature with botocore): convert
# --s3-output with multipart uploads, skip-unchanged reruns, push of a changed archive, pull into an
# identical archive, ListObjectsV2 pagination, index rebuild --s3-output, session tokens, and a wrong
# secret caught by the signature check without leaking it.
source "$(dirname "$0")/lib.sh"
export PB_TEST_SESSION_TOKEN="pb-test-session-token/with+chars="
source "$PB_SOURCE_DIR/tests/integration/s3_lib.sh"
start_s3 nostr-archive
export PB_S3_ALLOW_SMALL_PARTS=1  # 64 KiB parts: several parts per day file, quickly
SMALL=(--s3-part-size 64K --s3-jobs 3)

gen 4000 51 --days 3 -o a.jsonl
gen 1500 52 --days 2 -o b.jsonl

# 1. convert --s3-output: the archive, then every file uploaded (day files multipart).
"$PB" convert a.jsonl -o A --no-progress --s3-output s3://nostr-archive/hosts/a "${SMALL[@]}" > conv.out 2> conv.err \
  || fail "convert --s3-output exited $? ($(cat conv.err))"
grep -q "S3 push to s3://nostr-archive/hosts/a: 5 transferred" conv.out || fail "upload summary: $(cat conv.out)"
[ "$(count_op CreateMultipartUpload)" -ge 3 ] || fail "day files above the part size were not uploaded multipart"
[ "$(count_op UploadPart)" -ge 9 ] || fail "expected several parts per day file, saw $(count_op UploadPart)"
[ "$(count_op CompleteMultipartUpload)" -ge 3 ] || fail "multipart uploads not completed"
grep -q "s3 push A s3://nostr-archive/hosts/a start" A/proton-beam.log || fail "the upload is not in the archive log"
[ ! -e A/.proton-beam-s3/index.db.snapshot ] || fail "the index snapshot was left behind"

# 2. A rerun transfers nothing: every object is identical (size + sha256 metadata).
puts_before=$(( $(count_op PutObject) + $(count_op UploadPart) ))
"$PB" s3 push A s3://nostr-archive/hosts/a "${SMALL[@]}" --json > push2.json || fail "second push exited $?"
assert_eq "$(json_get push2.json transferred)" 0 "objects uploaded by an unchanged rerun"
assert_eq "$(json_get push2.json skipped)" 5 "objects skipped by an unchanged rerun"
assert_eq "$(( $(count_op PutObject) + $(count_op UploadPart) ))" "$puts_before" "uploads during an unchanged rerun"
[ "$(count_op HeadObject)" -ge 5 ] || fail "unchanged objects were not checked with HEAD"
# The day files and the log are unchanged since the first push hashed them: their sha256 comes from
# .proton-beam-s3/sha256-cache; the index goes up as a fresh snapshot, which is read.
assert_eq "$(json_get push2.json digests_cached)" 4 "files not re-read by the unchanged rerun"

# 3. More events into the archive: only the changed day files, the index and the log go up again.
"$PB" convert b.jsonl -o A --no-progress > /dev/null
"$PB" s3 push A s3://nostr-archive/hosts/a "${SMALL[@]}" --json > push3.json || fail "third push exited $?"
changed=$(json_get push3.json transferred)
[ "$changed" -ge 3 ] && [ "$changed" -lt 7 ] || fail "push after a change transferred $changed files"
[ "$(json_get push3.json skipped)" -ge 1 ] || fail "untouched day files were uploaded again"
assert_eq "$(json_get push3.json digests_cached)" "$(json_get push3.json skipped)" "files not re-read = untouched files"

# 4. pull: an identical archive that verify accepts and merge can read; a second pull moves nothing.
"$PB" s3 pull s3://nostr-archive/hosts/a P --json > pull1.json || fail "pull exited $?"
assert_eq "$(json_get pull1.json failed)" 0 "failed downloads"
assert_eq "$(day_files_digest P)" "$(day_files_digest A)" "pulled day files"
assert_eq "$(index_count P)" "$(index_count A)" "pulled index rows"
cmp -s P/proton-beam.log A/proton-beam.log || fail "pulled log differs"
"$PB" verify P > /dev/null || fail "verify rejects the pulled archive"
"$PB" s3 pull s3://nostr-archive/hosts/a P --json > pull2.json || fail "second pull exited $?"
assert_eq "$(json_get pull2.json transferred)" 0 "downloads in an unchanged pull"
"$PB" merge M P --no-progress --summary-json m.json > /dev/null || fail "merge of the pulled archive"
assert_eq "$(json_get m.json valid)" "$(index_count A)" "events merged from the pulled archive"

# 5. ListObjectsV2 pages (continuation tokens) and index rebuild --s3-output into another prefix.
"$PB" index rebuild A --no-progress --s3-output s3://nostr-archive/rebuilt --s3-list-page-size 2 > rb.out \
  || fail "index rebuild --s3-output exited $?"
"$PB" s3 pull s3://nostr-archive/rebuilt R --s3-list-page-size 2 --json > pull3.json || fail "paged pull exited $?"
assert_eq "$(json_get pull3.json transferred)" "$(( $(ls A/*.pb.gz | wc -l) + 2 ))" "files pulled through a paged listing"
[ "$(grep '"match": true' "$SIG_LOG" | grep '"op": "ListObjectsV2"' | grep -c '"continuation": true')" -ge 2 ] \
  || fail "no ListObjectsV2 with a continuation token was verified"
assert_eq "$(day_files_digest R)" "$(day_files_digest A)" "day files through the rebuilt prefix"

# 6. Every request so far carried the signature botocore computes, with the session token.
assert_eq "$(sig_mismatches)" 0 "requests whose SigV4 signature differs from botocore's"
for op in PutObject GetObject HeadObject ListObjectsV2 CreateMultipartUpload UploadPart CompleteMultipartUpload; do
  [ "$(count_op $op)" -ge 1 ] || fail "no verified $op request"
done
[ "$(grep -c '"token": false' "$SIG_LOG")" -eq 0 ] || fail "a request went without x-amz-security-token"

# 7. Negative control: a wrong secret is refused by the check (s3rver alone would accept it), the
#    error says why, and the secret appears nowhere.
set +e
AWS_SECRET_ACCESS_KEY=not-the-secret-XYZZY "$PB" s3 push A s3://nostr-archive/hosts/a > bad.out 2> bad.err
rc=$?
set -e
assert_eq "$rc" 5 "exit status with a wrong secret"
grep -q "SignatureDoesNotMatch" bad.err || fail "wrong secret: no SignatureDoesNotMatch in: $(cat bad.err)"
! grep -rq "XYZZY" bad.out bad.err A/proton-beam.log || fail "the secret leaked into output or log"
! grep -q "pb-test-session-token" bad.err || fail "the session token leaked into the error"
pass
