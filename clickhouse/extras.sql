-- Optional improvements for newer ClickHouse servers, applied by bootstrap.sh after schema.sql.
-- A '-- @requires MAJOR.MINOR' line applies to the statements after it, until the next one; the script
-- runs them only when SELECT version() is at least that. All are idempotent. None change what queries
-- return: they shrink storage (codecs, LowCardinality) or skip granules (indexes, projections).
-- Debian 12's server (18.16) has none of these, so they are not exercised by the test suite here.

-- @requires 20.3
ALTER TABLE nostr.events MODIFY COLUMN content String CODEC(ZSTD(3));
ALTER TABLE nostr.events MODIFY COLUMN tags Array(Array(String)) CODEC(ZSTD(3));
ALTER TABLE nostr.events MODIFY COLUMN created_at Int64 CODEC(T64, ZSTD(1));
ALTER TABLE nostr.event_tags MODIFY COLUMN tag_name LowCardinality(String);
ALTER TABLE nostr.events ADD INDEX IF NOT EXISTS idx_pubkey pubkey TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE nostr.events ADD INDEX IF NOT EXISTS idx_kind kind TYPE minmax GRANULARITY 4;
ALTER TABLE nostr.events ADD INDEX IF NOT EXISTS idx_created_at created_at TYPE minmax GRANULARITY 4;

-- @requires 24.8
-- Projections on a ReplacingMergeTree need to know what to do when a merge drops rows.
ALTER TABLE nostr.events MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';
ALTER TABLE nostr.events ADD PROJECTION IF NOT EXISTS by_author (SELECT id, pubkey, created_at, kind ORDER BY pubkey, created_at);
