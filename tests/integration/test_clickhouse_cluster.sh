#!/usr/bin/env bash
# Scale-out on ClickHouse's own engine: two clickhouse-server processes on loopback form the two-shard
# cluster of clickhouse/cluster/remote_servers.xml; clickhouse/cluster/schema.sql creates local tables on
# each shard and Distributed tables sharded by sipHash64(id). Importing through the Distributed table must
# place every event on exactly one shard, re-imports must land on the same shard (so they collapse), and
# queries through either server must return the whole archive, tags and views included.
source "$(dirname "$0")/lib.sh"
source "$PB_SOURCE_DIR/tests/clickhouse/ch_server.sh"
trap 'ch_stop_all; rm -rf "$WORK"' EXIT
IMPORT="$PB_BIN/proton-beam-clickhouse-import"
CHECK="python3 $PB_SOURCE_DIR/tests/clickhouse/check.py"

CH_TCP_A=$(ch_free_port)
CH_TCP_B=$(ch_free_port)
ch_start A "$WORK/ch" "$PB_SOURCE_DIR/clickhouse/cluster/remote_servers.xml"
ch_start B "$WORK/ch" "$PB_SOURCE_DIR/clickhouse/cluster/remote_servers.xml"
for port in "$CH_HTTP_A" "$CH_HTTP_B"; do
  "$PB_SOURCE_DIR/clickhouse/bootstrap.sh" --host 127.0.0.1 --port "$port" \
    --schema "$PB_SOURCE_DIR/clickhouse/cluster/schema.sql" --no-extras 2> /dev/null
done
assert_eq "$(chq "$CH_HTTP_A" "SELECT count() FROM system.clusters WHERE cluster = 'nostr_cluster'")" 2 "shards in the cluster"

gen 8000 9 --days 2 --authors 200 -o gen.jsonl -q
"$PB" convert gen.jsonl "$DATA/sample_events.jsonl" -o arch --no-progress --validate-signatures=false > /dev/null
"$PB_BIN/pb-dump-archive" arch > expected.jsonl
N=$(wc -l < expected.jsonl)

# Import through the Distributed table of server A; synchronous distributed inserts.
"$IMPORT" --host 127.0.0.1 --port "$CH_HTTP_A" -i arch --table events --setting insert_distributed_sync=1 \
  --no-checkpoint --no-progress --batch-size 1000 --summary-json s1.json 2> /dev/null
assert_eq "$(json_get s1.json events_inserted)" "$N" "events inserted through the Distributed table"

NA=$(chq "$CH_HTTP_A" 'SELECT count() FROM nostr.events_local')
NB=$(chq "$CH_HTTP_B" 'SELECT count() FROM nostr.events_local')
echo "shard A: $NA events, shard B: $NB events, archive: $N"
assert_eq "$((NA + NB))" "$N" "shards together hold every event once"
[ "$NA" -gt $((N / 3)) ] && [ "$NB" -gt $((N / 3)) ] || fail "sharding is badly skewed: $NA / $NB"
chq "$CH_HTTP_A" 'SELECT id FROM nostr.events_local FORMAT TSV' > ids_a
chq "$CH_HTTP_B" 'SELECT id FROM nostr.events_local FORMAT TSV' > ids_b
assert_eq "$(sort ids_a ids_b | uniq -d | wc -l)" 0 "no event on both shards"

# Re-import through server B: every copy lands on the shard that already has the event.
"$IMPORT" --host 127.0.0.1 --port "$CH_HTTP_B" -i arch --setting insert_distributed_sync=1 \
  --no-checkpoint --no-progress --summary-json s2.json 2> /dev/null
for port in "$CH_HTTP_A" "$CH_HTTP_B"; do ch_optimize "$port" nostr.events_local; done
assert_eq "$(chq "$CH_HTTP_A" 'SELECT count() FROM nostr.events_local')" "$NA" "shard A after re-import and merge"
assert_eq "$(chq "$CH_HTTP_B" 'SELECT count() FROM nostr.events_local')" "$NB" "shard B after re-import and merge"

# Queries over the Distributed table, from either server, return the whole archive.
COLS='id, pubkey, created_at, kind, tags, content, sig'
for port in "$CH_HTTP_A" "$CH_HTTP_B"; do
  chq "$port" "SELECT $COLS FROM nostr.events FINAL FORMAT JSONEachRow" > rows.jsonl
  $CHECK events expected.jsonl -- rows.jsonl
done
for port in "$CH_HTTP_A" "$CH_HTTP_B"; do ch_optimize "$port" nostr.event_tags_local; done
chq "$CH_HTTP_B" "SELECT event_id, tag_index, tag_name, tag_value, tag_rest FROM nostr.event_tags FORMAT JSONEachRow" > tags.jsonl
$CHECK tags expected.jsonl -- tags.jsonl
chq "$CH_HTTP_A" "SELECT * FROM nostr.events_per_day_kind FORMAT JSONEachRow" > v1.jsonl
chq "$CH_HTTP_A" "SELECT * FROM nostr.top_authors FORMAT JSONEachRow" > v2.jsonl
chq "$CH_HTTP_A" "SELECT * FROM nostr.daily_active_authors FORMAT JSONEachRow" > v3.jsonl
$CHECK views expected.jsonl -- v1.jsonl v2.jsonl v3.jsonl
pass
