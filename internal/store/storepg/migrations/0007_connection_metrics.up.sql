-- Connection metrics kept up to date instead of counted on demand: counting a
-- connection's deliveries and reading its attempts took 1.25 s during a
-- drain, and the backlog can be millions of rows. Triggers keep the counters
-- in the same transaction as the rows they count, whatever statement changes
-- them (ingest, replay, finish, sweep, retention), so they never drift.
--
-- Several nodes write at once, so no counter is one row every transaction
-- must lock: each transaction adds to the shard txid % 8 of a counter, and
-- readers sum the shards. Inserts and updates are counted once per statement
-- (transition tables), grouped and in key order, so a group commit of a
-- thousand deliveries adds to each counter once and concurrent statements
-- lock shared rows in the same order.
--
-- Migration time, filling the counters from existing rows: 4.6 s at 200k
-- events with one delivery and one attempt each (2-core development machine
-- shared with other builds), so about 45 s at 2M, once.

-- metrics_minute is the minute a time falls in, whatever the session's time
-- zone (date_trunc would use it).
CREATE FUNCTION metrics_minute(t timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN date_bin('1 minute', t, timestamptz '2000-01-01 00:00:00+00');

-- metrics_bucket is the upper bound of the latency bucket of a duration
-- (durations above 60 s count as 120 s).
CREATE FUNCTION metrics_bucket(ms bigint) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN ms <= 1 THEN 1 WHEN ms <= 2 THEN 2 WHEN ms <= 3 THEN 3 WHEN ms <= 5 THEN 5
        WHEN ms <= 7 THEN 7 WHEN ms <= 10 THEN 10 WHEN ms <= 15 THEN 15 WHEN ms <= 20 THEN 20
        WHEN ms <= 30 THEN 30 WHEN ms <= 50 THEN 50 WHEN ms <= 70 THEN 70 WHEN ms <= 100 THEN 100
        WHEN ms <= 150 THEN 150 WHEN ms <= 200 THEN 200 WHEN ms <= 300 THEN 300 WHEN ms <= 500 THEN 500
        WHEN ms <= 700 THEN 700 WHEN ms <= 1000 THEN 1000 WHEN ms <= 1500 THEN 1500 WHEN ms <= 2000 THEN 2000
        WHEN ms <= 3000 THEN 3000 WHEN ms <= 5000 THEN 5000 WHEN ms <= 7000 THEN 7000 WHEN ms <= 10000 THEN 10000
        WHEN ms <= 15000 THEN 15000 WHEN ms <= 20000 THEN 20000 WHEN ms <= 30000 THEN 30000 WHEN ms <= 60000 THEN 60000
        ELSE 120000 END;

-- metrics_shard is the counter shard of the current transaction.
CREATE FUNCTION metrics_shard() RETURNS smallint LANGUAGE sql VOLATILE
    RETURN (txid_current() % 8)::smallint;

-- Deliveries routed (by creation minute), and delivered or failed (by
-- finishing minute). Rows of minutes before the retention period go with
-- ConnectionMetricsDelete; deleting deliveries does not change them.
CREATE TABLE connection_minutes (
    connection_id bigint      NOT NULL,
    minute        timestamptz NOT NULL,
    shard         smallint    NOT NULL,
    routed        bigint      NOT NULL DEFAULT 0,
    delivered     bigint      NOT NULL DEFAULT 0,
    failed        bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (connection_id, minute, shard)
);
CREATE INDEX connection_minutes_minute ON connection_minutes (minute);

-- Successful attempts per connection, minute and latency bucket (its upper
-- bound): summing a window's buckets gives its percentiles to within one
-- bucket.
CREATE TABLE connection_latency (
    connection_id bigint      NOT NULL,
    minute        timestamptz NOT NULL,
    bucket_ms     integer     NOT NULL,
    shard         smallint    NOT NULL,
    n             bigint      NOT NULL,
    PRIMARY KEY (connection_id, minute, bucket_ms, shard)
);
CREATE INDEX connection_latency_minute ON connection_latency (minute);

-- The exact backlog (pending and held deliveries) per connection. Updated
-- by every delivery batch: room on each page for HOT updates.
CREATE TABLE connection_backlog (
    connection_id bigint   NOT NULL,
    shard         smallint NOT NULL,
    n             bigint   NOT NULL,
    PRIMARY KEY (connection_id, shard)
) WITH (fillfactor = 50);

-- metrics_deliveries adds the changes of deliveries from old_rows to new_rows
-- (either may be empty) to the counters: a row's contribution is 1 routed
-- in its creation minute (new rows only), 1 delivered or failed in its
-- finishing minute, and 1 backlog while pending or held; an update takes
-- the old contribution away and adds the new one.
CREATE FUNCTION metrics_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sh smallint := metrics_shard();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO connection_minutes AS m (connection_id, minute, shard, routed, delivered, failed)
        SELECT connection_id, minute, sh, sum(routed), sum(delivered), sum(failed) FROM (
            SELECT connection_id, metrics_minute(created_at) AS minute, 1 AS routed, 0 AS delivered, 0 AS failed
                FROM new_rows
            UNION ALL
            SELECT connection_id, metrics_minute(finished_at), 0, (state = 'success')::int, (state = 'failed')::int
                FROM new_rows WHERE state IN ('success', 'failed')) c
        GROUP BY connection_id, minute ORDER BY connection_id, minute
        ON CONFLICT (connection_id, minute, shard) DO UPDATE SET routed = m.routed + excluded.routed,
            delivered = m.delivered + excluded.delivered, failed = m.failed + excluded.failed;
        INSERT INTO connection_backlog AS b (connection_id, shard, n)
        SELECT connection_id, sh, count(*) FROM new_rows WHERE state IN ('pending', 'held')
        GROUP BY connection_id ORDER BY connection_id
        ON CONFLICT (connection_id, shard) DO UPDATE SET n = b.n + excluded.n;
        RETURN NULL;
    END IF;
    -- UPDATE: leases and retries change neither state nor finished_at, and
    -- count nothing.
    INSERT INTO connection_minutes AS m (connection_id, minute, shard, delivered, failed)
    SELECT connection_id, minute, sh, sum(delivered), sum(failed) FROM (
        SELECT o.connection_id, metrics_minute(o.finished_at) AS minute,
            -(o.state = 'success')::int AS delivered, -(o.state = 'failed')::int AS failed
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.state <> n.state OR o.finished_at <> n.finished_at) AND o.state IN ('success', 'failed')
        UNION ALL
        SELECT n.connection_id, metrics_minute(n.finished_at), (n.state = 'success')::int, (n.state = 'failed')::int
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.state <> n.state OR o.finished_at <> n.finished_at) AND n.state IN ('success', 'failed')) c
    GROUP BY connection_id, minute HAVING sum(delivered) <> 0 OR sum(failed) <> 0
    ORDER BY connection_id, minute
    ON CONFLICT (connection_id, minute, shard) DO UPDATE SET
        delivered = m.delivered + excluded.delivered, failed = m.failed + excluded.failed;
    INSERT INTO connection_backlog AS b (connection_id, shard, n)
    SELECT n.connection_id, sh, sum((n.state IN ('pending', 'held'))::int - (o.state IN ('pending', 'held'))::int)
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (n.state IN ('pending', 'held')) <> (o.state IN ('pending', 'held'))
    GROUP BY n.connection_id ORDER BY n.connection_id
    ON CONFLICT (connection_id, shard) DO UPDATE SET n = b.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER deliveries_metrics_insert AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_deliveries();
CREATE TRIGGER deliveries_metrics_update AFTER UPDATE ON deliveries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_deliveries();

-- Retention deletes finished deliveries, which the WHEN clause lets go
-- without a call (and a statement trigger would copy every deleted row); a
-- deleted project's purge may delete unfinished ones.
CREATE FUNCTION metrics_deliveries_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_backlog AS b (connection_id, shard, n) VALUES (OLD.connection_id, metrics_shard(), -1)
    ON CONFLICT (connection_id, shard) DO UPDATE SET n = b.n - 1;
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_metrics_delete AFTER DELETE ON deliveries
    FOR EACH ROW WHEN (OLD.state IN ('pending', 'held')) EXECUTE FUNCTION metrics_deliveries_deleted();

CREATE FUNCTION metrics_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO connection_latency AS l (connection_id, minute, bucket_ms, shard, n)
    SELECT connection_id, metrics_minute(created_at) AS minute, metrics_bucket(duration_ms) AS bucket, metrics_shard(),
        count(*)
    FROM new_rows WHERE status = 'success'
    GROUP BY connection_id, minute, bucket ORDER BY connection_id, minute, bucket
    ON CONFLICT (connection_id, minute, bucket_ms, shard) DO UPDATE SET n = l.n + excluded.n;
    RETURN NULL;
END $$;
CREATE TRIGGER attempts_metrics_insert AFTER INSERT ON attempts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_attempts();

-- Fill the counters from the existing rows (shard 0).
INSERT INTO connection_minutes (connection_id, minute, shard, routed, delivered, failed)
SELECT connection_id, minute, 0, sum(routed), sum(delivered), sum(failed) FROM (
    SELECT connection_id, metrics_minute(created_at) AS minute, 1 AS routed, 0 AS delivered, 0 AS failed FROM deliveries
    UNION ALL
    SELECT connection_id, metrics_minute(finished_at), 0, (state = 'success')::int, (state = 'failed')::int
        FROM deliveries WHERE state IN ('success', 'failed')) c
GROUP BY connection_id, minute;
INSERT INTO connection_backlog (connection_id, shard, n)
SELECT connection_id, 0, count(*) FROM deliveries WHERE state IN ('pending', 'held') GROUP BY connection_id;
INSERT INTO connection_latency (connection_id, minute, bucket_ms, shard, n)
SELECT connection_id, metrics_minute(created_at) AS minute, metrics_bucket(duration_ms) AS bucket, 0, count(*)
FROM attempts WHERE status = 'success' GROUP BY connection_id, minute, bucket;
