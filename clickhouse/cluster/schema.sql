-- Proton Beam on a sharded cluster (cluster name nostr_cluster, see remote_servers.xml). Run this on
-- EVERY server (clickhouse/bootstrap.sh --schema clickhouse/cluster/schema.sql --no-extras --host ...).
-- Each shard holds its events in nostr.events_local (the single-server table, renamed); nostr.events is
-- a Distributed table over them, sharded by sipHash64(id), so an event, and every re-import of it,
-- always lands on the same shard, where ReplacingMergeTree collapses duplicates. Import and query
-- through nostr.events on any server (import with insert_distributed_sync=1 so the insert is
-- synchronous, i.e. acknowledged only once every shard has its rows).

CREATE DATABASE IF NOT EXISTS nostr;

CREATE TABLE IF NOT EXISTS nostr.events_local
(
    id          FixedString(64),
    pubkey      FixedString(64),
    created_at  Int64,
    kind        UInt16,
    tags        Array(Array(String)),
    content     String,
    sig         FixedString(128),
    imported_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(imported_at)
PARTITION BY toYYYYMM(toDateTime(least(greatest(created_at, 0), 4102444800)))
ORDER BY id
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS nostr.event_tags_local
(
    event_id    FixedString(64),
    tag_index   UInt32,
    tag_name    String,
    tag_value   String,
    tag_rest    Array(String),
    pubkey      FixedString(64),
    created_at  Int64,
    kind        UInt16,
    imported_at DateTime
)
ENGINE = ReplacingMergeTree(imported_at)
PARTITION BY toYYYYMM(toDateTime(least(greatest(created_at, 0), 4102444800)))
ORDER BY (tag_name, tag_value, event_id, tag_index)
SETTINGS index_granularity = 8192;

CREATE MATERIALIZED VIEW IF NOT EXISTS nostr.event_tags_mv TO nostr.event_tags_local AS
SELECT
    id AS event_id,
    toUInt32(tag_pos) AS tag_index,
    tag[1] AS tag_name,
    tag[2] AS tag_value,
    arraySlice(tag, 3) AS tag_rest,
    pubkey,
    created_at,
    kind,
    imported_at
FROM nostr.events_local
ARRAY JOIN tags AS tag, arrayEnumerate(tags) AS tag_pos;

CREATE TABLE IF NOT EXISTS nostr.events AS nostr.events_local
ENGINE = Distributed(nostr_cluster, nostr, events_local, sipHash64(id));

CREATE TABLE IF NOT EXISTS nostr.event_tags AS nostr.event_tags_local
ENGINE = Distributed(nostr_cluster, nostr, event_tags_local, sipHash64(event_id));

-- The analytics views, over the Distributed table. FINAL is applied on each shard, which is exact
-- because all copies of an event live on one shard.
CREATE VIEW IF NOT EXISTS nostr.events_per_day_kind AS
SELECT
    toDate(toDateTime(least(greatest(created_at, 0), 4102444800))) AS day,
    kind,
    count() AS events
FROM nostr.events FINAL
GROUP BY day, kind
ORDER BY day, kind;

CREATE VIEW IF NOT EXISTS nostr.top_authors AS
SELECT
    pubkey,
    count() AS events,
    min(created_at) AS first_created_at,
    max(created_at) AS last_created_at
FROM nostr.events FINAL
GROUP BY pubkey
ORDER BY events DESC, pubkey;

CREATE VIEW IF NOT EXISTS nostr.daily_active_authors AS
SELECT
    toDate(toDateTime(least(greatest(created_at, 0), 4102444800))) AS day,
    uniqExact(pubkey) AS authors,
    count() AS events
FROM nostr.events FINAL
GROUP BY day
ORDER BY day;
