-- Proton Beam ClickHouse schema. Runs as written on ClickHouse 18.16 (Debian 12) and on current
-- releases; clickhouse/bootstrap.sh applies clickhouse/extras.sql on servers that support more.
-- Every statement is idempotent (IF NOT EXISTS) and ends with a semicolon at the end of a line; full-line
-- comments hold none, so the bootstrap script can split statements there. Design: docs/clickhouse.md.

CREATE DATABASE IF NOT EXISTS nostr;

-- One row per event. ReplacingMergeTree ordered by id: re-importing an event (a rerun, a retried batch,
-- the same event in two archives) leaves one row after merges; read with FINAL for exact counts before
-- merges. created_at is Int64 as in the wire format (no DateTime wrap after 2106 or before 1970); the
-- partition month is computed from created_at clamped to 1970-01-01 .. 2100-01-01 so no value can wrap.
-- A duplicate always lands in the same partition (same created_at), where the merge collapses it.
CREATE TABLE IF NOT EXISTS nostr.events
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

-- One row per tag: the event, the tag's position (1-based, so repeated identical tags stay distinct),
-- its name (first element), first value (second element, '' if absent) and the rest.
CREATE TABLE IF NOT EXISTS nostr.event_tags
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

CREATE MATERIALIZED VIEW IF NOT EXISTS nostr.event_tags_mv TO nostr.event_tags AS
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
FROM nostr.events
ARRAY JOIN tags AS tag, arrayEnumerate(tags) AS tag_pos;

-- Analytics views. They read with FINAL, so they are exact even before background merges.
-- day is the UTC date of created_at (clamped into 1970-01-01 .. 2100-01-01 like the partition key).
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
