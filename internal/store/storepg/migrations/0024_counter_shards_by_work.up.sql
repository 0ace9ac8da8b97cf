-- Counter shards by kind of work (issue 8: ingestion is never delayed by
-- anything else). Each transaction adds to the shard txid % 8 of a counter
-- (migration 0007), and a batch of delivery outcomes holds its shards'
-- rows from its deliveries update to its commit: an ingest whose
-- transaction fell on one of them waited for the rest of that batch (205
-- of 7,282 sightings of an ingest insert during a 2M-event drain and purge,
-- docs/benchmarks.md). Background transactions set volley.shard_base to 8
-- (storepg's sqlBackground) and add to shards 8-15; everything else
-- (ingest, API changes, replays) to shards 0-7, as before, so concurrent
-- ingests meet as often as they did. Readers sum every shard, so existing
-- rows keep counting.
--
-- Cost: a catalog change; no row is read or written.
CREATE OR REPLACE FUNCTION metrics_shard() RETURNS smallint LANGUAGE sql VOLATILE
    RETURN (CASE WHEN current_setting('volley.shard_base', true) = '8' THEN 8 ELSE 0 END + txid_current() % 8)::smallint;
