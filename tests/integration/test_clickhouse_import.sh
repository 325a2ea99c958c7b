#!/usr/bin/env bash
# proton-beam-clickhouse-import against a real ClickHouse server (Debian's 18.16, started here on
# loopback in a temp dir): bootstrap idempotency; the sample archive, a generated one and hand-made edge
# records imported and compared with the archives field for field; rejections by reason; the tags table
# and the analytics views against independent counts; re-import leaves no duplicates (FINAL and after
# OPTIMIZE ... FINAL); a rerun skips finished files; a kill -9 mid-run resumes from the checkpoint;
# transient failures (a stopped server) are retried; server errors surface with their message; a table
# with other column types (String hex, DateTime, Int32) is probed and range-checked; HTTPS with --ca-file.
source "$(dirname "$0")/lib.sh"
source "$PB_SOURCE_DIR/tests/clickhouse/ch_server.sh"
trap 'ch_stop_all; rm -rf "$WORK"' EXIT
IMPORT="$PB_BIN/proton-beam-clickhouse-import"
CHECK="python3 $PB_SOURCE_DIR/tests/clickhouse/check.py"
BOOT="$PB_SOURCE_DIR/clickhouse/bootstrap.sh"

# HTTPS too (a self-signed certificate for localhost), for --secure.
HTTPS_PORT=$(ch_free_port)
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2> /dev/null
cat > tls.xml <<XML
<yandex>
  <https_port>$HTTPS_PORT</https_port>
  <openSSL><server><certificateFile>$WORK/cert.pem</certificateFile><privateKeyFile>$WORK/key.pem</privateKeyFile>
    <verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile>
    <disableProtocols>sslv2,sslv3</disableProtocols></server></openSSL>
</yandex>
XML
ch_start A "$WORK/ch" tls.xml
P=$CH_HTTP_A
q() { chq "$P" "$1"; }
import() { "$IMPORT" --host 127.0.0.1 --port "$P" --no-progress "$@"; }

# --- bootstrap: idempotent; --drop-existing refuses without a terminal or --yes --------------------
"$BOOT" --host 127.0.0.1 --port "$P" 2> boot1.log
"$BOOT" --host 127.0.0.1 --port "$P" 2> boot2.log
assert_eq "$(q 'SELECT count() FROM system.tables WHERE database = '"'nostr'")" 6 "tables and views after bootstrap"
set +e; "$BOOT" --host 127.0.0.1 --port "$P" --drop-existing < /dev/null 2> /dev/null; rc=$?; set -e
assert_eq "$rc" 2 "--drop-existing without --yes and without a terminal"
CLICKHOUSE_PORT=$P CLICKHOUSE_HOST=127.0.0.1 "$BOOT" --drop-existing --yes 2> boot3.log
grep -q 'dropped database nostr' boot3.log || fail "bootstrap --drop-existing --yes did not drop"

# --- archives ----------------------------------------------------------------------------------------
"$PB" convert "$DATA/sample_events.jsonl" -o sample --no-progress > /dev/null
gen 10000 5 --days 3 --authors 300 -o gen.jsonl -q
"$PB" convert gen.jsonl -o gen --no-progress --validate-signatures=false > /dev/null
python3 "$PB_SOURCE_DIR/tests/clickhouse/make_edge_archive.py" edge edge.jsonl
"$PB_BIN/pb-dump-archive" sample > sample.jsonl
"$PB_BIN/pb-dump-archive" gen > gen.jsonl.dump
N_SAMPLE=$(wc -l < sample.jsonl); N_GEN=$(wc -l < gen.jsonl.dump); N_EDGE=$(wc -l < edge.jsonl)
N=$((N_SAMPLE + N_GEN + N_EDGE))
echo "events: sample $N_SAMPLE, generated $N_GEN, edge $N_EDGE"

# --- first import: sample (folder), generated (glob, quoted), edge (file); several batches in flight -
import --input sample --summary-json s1.json
assert_eq "$(json_get s1.json events_inserted)" "$N_SAMPLE" "sample events inserted"
assert_eq "$(json_get s1.json server_version)" "18.16.1" "server version seen"
import --input 'gen/*.pb.gz' --batch-size 300 --parallel 3 --summary-json s2.json
assert_eq "$(json_get s2.json events_inserted)" "$N_GEN" "generated events inserted"
[ "$(json_get s2.json batches)" -gt 20 ] || fail "expected many batches"
set +e; import -i edge/1970_01_01.pb.gz --summary-json s3.json -v 2> edge.log; rc=$?; set -e
assert_eq "$rc" 0 "edge import exit status"
assert_eq "$(json_get s3.json events_inserted)" "$N_EDGE" "edge events inserted"
assert_eq "$(json_get s3.json rejected.kind)" 2 "kind 70000 and -1 rejected"
assert_eq "$(json_get s3.json rejected.created_at)" 1 "created_at -1 rejected"
assert_eq "$(json_get s3.json rejected.decode)" 1 "invalid record rejected"
grep -q 'rejected (kind).*kind 70000' edge.log || fail "-v names the rejected event and its reason"

COLS='id, pubkey, created_at, kind, tags, content, sig'
q "SELECT $COLS FROM nostr.events FINAL FORMAT JSONEachRow" > rows.jsonl
$CHECK events sample.jsonl gen.jsonl.dump edge.jsonl -- rows.jsonl
assert_eq "$(q 'SELECT count() FROM nostr.events WHERE kind = 4464')" 0 "no wrapped kind 70000"
q "SELECT event_id, tag_index, tag_name, tag_value, tag_rest FROM nostr.event_tags FINAL FORMAT JSONEachRow" > tags.jsonl
$CHECK tags sample.jsonl gen.jsonl.dump edge.jsonl -- tags.jsonl
q "SELECT * FROM nostr.events_per_day_kind FORMAT JSONEachRow" > v1.jsonl
q "SELECT * FROM nostr.top_authors FORMAT JSONEachRow" > v2.jsonl
q "SELECT * FROM nostr.daily_active_authors FORMAT JSONEachRow" > v3.jsonl
$CHECK views sample.jsonl gen.jsonl.dump edge.jsonl -- v1.jsonl v2.jsonl v3.jsonl

# --- rerun: the checkpoint says everything is done ---------------------------------------------------
import --input sample --input 'gen/*.pb.gz' --summary-json s4.json
assert_eq "$(json_get s4.json events_inserted)" 0 "rerun inserts nothing"
assert_eq "$(json_get s4.json files_skipped)" "$(json_get s4.json files)" "rerun skips every finished file"

# --- re-import everything: duplicates collapse -------------------------------------------------------
import --restart -i sample -i gen -i edge --summary-json s5.json
assert_eq "$(json_get s5.json events_inserted)" "$N" "re-import sends everything again"
assert_eq "$(q 'SELECT count() FROM nostr.events FINAL')" "$N" "FINAL count after re-import"
ch_optimize "$P" nostr.events
ch_optimize "$P" nostr.event_tags
assert_eq "$(q 'SELECT count(), uniqExact(id) FROM nostr.events')" "$N	$N" "rows after OPTIMIZE FINAL"
q "SELECT $COLS FROM nostr.events FORMAT JSONEachRow" > rows2.jsonl
$CHECK events sample.jsonl gen.jsonl.dump edge.jsonl -- rows2.jsonl
q "SELECT event_id, tag_index, tag_name, tag_value, tag_rest FROM nostr.event_tags FORMAT JSONEachRow" > tags2.jsonl
$CHECK tags sample.jsonl gen.jsonl.dump edge.jsonl -- tags2.jsonl

# --- kill -9 mid-run, then resume ---------------------------------------------------------------------
q 'TRUNCATE TABLE nostr.events'
q 'TRUNCATE TABLE nostr.event_tags'
CK=$WORK/kill.ckpt
"$IMPORT" --host 127.0.0.1 --port "$P" --no-progress -i gen --batch-size 100 --parallel 1 --checkpoint "$CK" \
  > kill.log 2>&1 &
IPID=$!
# wait until the checkpoint shows acknowledged progress but not the end
for _ in $(seq 1 400); do
  if [ -f "$CK" ] && awk 'NR > 1 && $3 > 0 { found = 1 } END { exit !found }' "$CK"; then break; fi
  sleep 0.01
done
kill -9 "$IPID" 2> /dev/null || fail "the importer finished before it could be killed"
wait "$IPID" 2> /dev/null || true
DONE_AT_KILL=$(awk 'NR > 1 { s += $3 } END { print s + 0 }' "$CK")
IN_TABLE=$(q 'SELECT uniqExact(id) FROM nostr.events')
echo "killed: checkpoint covers $DONE_AT_KILL records, table holds $IN_TABLE distinct events of $N_GEN"
[ "$DONE_AT_KILL" -lt "$N_GEN" ] || fail "kill came too late"
[ "$IN_TABLE" -ge "$DONE_AT_KILL" ] || fail "checkpoint claims events the server does not have"
import -i gen --checkpoint "$CK" --summary-json s6.json
[ "$(json_get s6.json files_resumed)" -ge 1 ] || fail "rerun after kill did not resume"
READ=$(json_get s6.json records_read)
[ "$READ" -le $((N_GEN - DONE_AT_KILL)) ] || fail "resume re-read $READ records (checkpoint had $DONE_AT_KILL of $N_GEN)"
assert_eq "$(q 'SELECT count() FROM nostr.events FINAL')" "$N_GEN" "events after resume (FINAL)"
ch_optimize "$P" nostr.events
q "SELECT $COLS FROM nostr.events FORMAT JSONEachRow" > rows3.jsonl
$CHECK events gen.jsonl.dump -- rows3.jsonl

# --- transient failure: the server stops answering; the importer times out, retries and completes ----
q 'TRUNCATE TABLE nostr.events'
kill -STOP "$CH_PID_A"
# The server comes back only once the importer has timed out and logged a retry (no sleep racing it).
(for _ in $(seq 600); do grep -q 'retrying in' retry.log 2>/dev/null && break; sleep 0.05; done
 kill -CONT "$CH_PID_A") &
RESUMER=$!
import -i sample --skip-test --no-checkpoint --timeout 1 --retries 10 --summary-json s7.json 2> retry.log
wait "$RESUMER"
[ "$(json_get s7.json retries)" -ge 1 ] || fail "no retry recorded"
assert_eq "$(json_get s7.json events_inserted)" "$N_SAMPLE" "events inserted after retries"
grep -q 'retrying in' retry.log || fail "retries are logged"
sleep 0.5
assert_eq "$(q 'SELECT count() FROM nostr.events FINAL')" "$N_SAMPLE" "no event lost or duplicated across retries"

# --- another table layout: String hex columns, DateTime created_at, Int32 kind (probed, encoded, checked) -
q "CREATE TABLE nostr.events_alt (id String, pubkey String, created_at DateTime, kind Int32,
   tags Array(Array(String)), content String, sig String) ENGINE = MergeTree ORDER BY id"
import -i edge --table events_alt --no-checkpoint --summary-json s10.json 2> /dev/null
assert_eq "$(json_get s10.json events_inserted)" 2 "edge events a DateTime column can hold"
assert_eq "$(json_get s10.json rejected.created_at)" 4 "created_at beyond 2106 (and -1) rejected for DateTime"
q "SELECT id, pubkey, toUInt32(created_at) AS created_at, kind, tags, content, sig FROM nostr.events_alt FORMAT JSONEachRow" > alt.jsonl
python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["created_at"] < 2**32: print(l, end="")' edge.jsonl > edge_small.jsonl
$CHECK events edge_small.jsonl -- alt.jsonl

# --- fatal errors surface with the server's message ---------------------------------------------------
set +e
import -i sample --table nope --no-checkpoint 2> err1.log; rc1=$?
import -i sample --table nope --no-checkpoint --skip-test 2> err2.log; rc2=$?
"$IMPORT" --host 127.0.0.1 --port "$(ch_free_port)" -i sample --no-checkpoint --retries 1 2> err3.log; rc3=$?
"$IMPORT" -i sample --batch-size 0 2> /dev/null; rc4=$?
set -e
assert_eq "$rc1" 1 "missing table exit status"
grep -q 'nope does not exist' err1.log || fail "missing table not explained: $(cat err1.log)"
assert_eq "$rc2" 1 "server error exit status"
grep -q "Code: 60.*nope" err2.log || fail "server error text not surfaced: $(cat err2.log)"
assert_eq "$rc3" 1 "unreachable server exit status"
grep -qi 'connect' err3.log || fail "connection error not explained: $(cat err3.log)"
assert_eq "$rc4" 2 "bad option exit status"

# --- HTTPS: trusted through --ca-file; refused (at once, no retries) when the certificate is unknown --
q 'TRUNCATE TABLE nostr.events'
"$IMPORT" --host localhost --port "$HTTPS_PORT" --secure --ca-file cert.pem -i sample --no-checkpoint \
  --no-progress --summary-json s11.json 2> /dev/null
assert_eq "$(json_get s11.json events_inserted)" "$N_SAMPLE" "events inserted over HTTPS"
set +e
"$IMPORT" --host localhost --port "$HTTPS_PORT" --secure -i sample --no-checkpoint --skip-test 2> err5.log; rc5=$?
set -e
assert_eq "$rc5" 1 "unknown certificate exit status"
grep -q 'certificate' err5.log || fail "certificate error not explained: $(cat err5.log)"

# --- dry run, TOML config and environment ------------------------------------------------------------
cat > import.toml <<TOML
host = "127.0.0.1"
port = 1
table = "events"
batch-size = 50
input = ["sample"]
TOML
CLICKHOUSE_PORT=$P "$PB_BIN/proton-beam-clickhouse-import" --config import.toml --dry-run --summary-json s8.json 2> /dev/null
assert_eq "$(json_get s8.json events_inserted)" "$N_SAMPLE" "dry run counts"
assert_eq "$(json_get s8.json batches)" $(( (N_SAMPLE + 49) / 50 )) "batch size from the config file"
q 'TRUNCATE TABLE nostr.events'
CLICKHOUSE_PORT=$P "$PB_BIN/proton-beam-clickhouse-import" --config import.toml --no-checkpoint --summary-json s9.json 2> /dev/null
assert_eq "$(q 'SELECT count() FROM nostr.events')" "$N_SAMPLE" "environment wins over the config file"
pass
