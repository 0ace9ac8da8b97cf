-- Connection metrics kept up to date instead of counted on demand: counting a
-- connection's deliveries and reading its attempts took 0.63 s at 2M events,
-- and the backlog can be millions of rows. Triggers keep the counters in the
-- same transaction as the rows they count, whatever statement changes them
-- (ingest, replay, finish, sweep, retention), so they never drift.
--
-- Migration time, filling the counters from existing rows: 3.8 s at 200k
-- events with one delivery and one attempt each (2-core development machine
-- shared with other builds), so about 40 s at 2M, once, at start.

-- Deliveries routed (by creation minute), and delivered or failed (by
-- finishing minute), per connection and Unix minute. Rows of minutes before
-- the retention period go with ConnectionMetricsDelete; deleting deliveries
-- does not change them.
CREATE TABLE connection_minutes (
    connection_id INTEGER NOT NULL,
    minute        INTEGER NOT NULL, -- Unix time / 60
    routed        INTEGER NOT NULL DEFAULT 0,
    delivered     INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connection_id, minute)
) WITHOUT ROWID;
CREATE INDEX connection_minutes_minute ON connection_minutes (minute);

-- Successful attempts per connection, minute and latency bucket. bucket_ms is
-- the bucket's upper bound (durations above 60 s count as 120 s): summing a
-- window's buckets gives its percentiles to within one bucket.
CREATE TABLE connection_latency (
    connection_id INTEGER NOT NULL,
    minute        INTEGER NOT NULL,
    bucket_ms     INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (connection_id, minute, bucket_ms)
) WITHOUT ROWID;
CREATE INDEX connection_latency_minute ON connection_latency (minute);

-- The exact backlog (pending and held deliveries) per connection.
CREATE TABLE connection_backlog (
    connection_id INTEGER PRIMARY KEY,
    n             INTEGER NOT NULL
);

-- An UPSERT of INSERT … SELECT needs a WHERE clause (SQLite's parser would
-- read ON CONFLICT as a join constraint otherwise), hence the WHERE on each.
CREATE TRIGGER deliveries_metrics_insert AFTER INSERT ON deliveries BEGIN
    INSERT INTO connection_minutes (connection_id, minute, routed) VALUES (new.connection_id, new.created_at / 60000000, 1)
        ON CONFLICT DO UPDATE SET routed = routed + 1;
    INSERT INTO connection_minutes (connection_id, minute, delivered, failed)
        SELECT new.connection_id, new.finished_at / 60000000, new.state = 'success', new.state = 'failed'
        WHERE new.state IN ('success', 'failed')
        ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered, failed = failed + excluded.failed;
    INSERT INTO connection_backlog (connection_id, n) SELECT new.connection_id, 1 WHERE new.state IN ('pending', 'held')
        ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- Leases and retries change neither column, or change them to what they
-- were: the WHEN clause skips them.
CREATE TRIGGER deliveries_metrics_update AFTER UPDATE OF state, finished_at ON deliveries
WHEN old.state <> new.state OR old.finished_at <> new.finished_at BEGIN
    UPDATE connection_minutes SET delivered = delivered - (old.state = 'success'), failed = failed - (old.state = 'failed')
        WHERE old.state IN ('success', 'failed') AND connection_id = old.connection_id AND minute = old.finished_at / 60000000;
    INSERT INTO connection_minutes (connection_id, minute, delivered, failed)
        SELECT new.connection_id, new.finished_at / 60000000, new.state = 'success', new.state = 'failed'
        WHERE new.state IN ('success', 'failed')
        ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered, failed = failed + excluded.failed;
    INSERT INTO connection_backlog (connection_id, n)
        SELECT new.connection_id, (new.state IN ('pending', 'held')) - (old.state IN ('pending', 'held'))
        WHERE (new.state IN ('pending', 'held')) <> (old.state IN ('pending', 'held'))
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

-- Retention deletes finished deliveries (the WHEN clause keeps that free);
-- a deleted project's purge may delete unfinished ones.
CREATE TRIGGER deliveries_metrics_delete AFTER DELETE ON deliveries WHEN old.state IN ('pending', 'held') BEGIN
    UPDATE connection_backlog SET n = n - 1 WHERE connection_id = old.connection_id;
END;

CREATE TRIGGER attempts_metrics_insert AFTER INSERT ON attempts WHEN new.status = 'success' BEGIN
    INSERT INTO connection_latency (connection_id, minute, bucket_ms, n)
        VALUES (new.connection_id, new.created_at / 60000000, CASE
            WHEN new.duration_ms <= 1 THEN 1 WHEN new.duration_ms <= 2 THEN 2 WHEN new.duration_ms <= 3 THEN 3
            WHEN new.duration_ms <= 5 THEN 5 WHEN new.duration_ms <= 7 THEN 7 WHEN new.duration_ms <= 10 THEN 10
            WHEN new.duration_ms <= 15 THEN 15 WHEN new.duration_ms <= 20 THEN 20 WHEN new.duration_ms <= 30 THEN 30
            WHEN new.duration_ms <= 50 THEN 50 WHEN new.duration_ms <= 70 THEN 70 WHEN new.duration_ms <= 100 THEN 100
            WHEN new.duration_ms <= 150 THEN 150 WHEN new.duration_ms <= 200 THEN 200 WHEN new.duration_ms <= 300 THEN 300
            WHEN new.duration_ms <= 500 THEN 500 WHEN new.duration_ms <= 700 THEN 700 WHEN new.duration_ms <= 1000 THEN 1000
            WHEN new.duration_ms <= 1500 THEN 1500 WHEN new.duration_ms <= 2000 THEN 2000 WHEN new.duration_ms <= 3000 THEN 3000
            WHEN new.duration_ms <= 5000 THEN 5000 WHEN new.duration_ms <= 7000 THEN 7000 WHEN new.duration_ms <= 10000 THEN 10000
            WHEN new.duration_ms <= 15000 THEN 15000 WHEN new.duration_ms <= 20000 THEN 20000 WHEN new.duration_ms <= 30000 THEN 30000
            WHEN new.duration_ms <= 60000 THEN 60000 ELSE 120000 END, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- Fill the counters from the existing rows.
INSERT INTO connection_minutes (connection_id, minute, routed, delivered, failed)
    SELECT connection_id, minute, sum(routed), sum(delivered), sum(failed) FROM (
        SELECT connection_id, created_at / 60000000 AS minute, 1 AS routed, 0 AS delivered, 0 AS failed FROM deliveries
        UNION ALL
        SELECT connection_id, finished_at / 60000000, 0, state = 'success', state = 'failed' FROM deliveries
            WHERE state IN ('success', 'failed'))
    GROUP BY connection_id, minute;
INSERT INTO connection_backlog (connection_id, n)
    SELECT connection_id, count(*) FROM deliveries WHERE state IN ('pending', 'held') GROUP BY connection_id;
INSERT INTO connection_latency (connection_id, minute, bucket_ms, n)
    SELECT connection_id, minute, bucket_ms, count(*) FROM (SELECT connection_id, created_at / 60000000 AS minute, CASE
            WHEN duration_ms <= 1 THEN 1 WHEN duration_ms <= 2 THEN 2 WHEN duration_ms <= 3 THEN 3
            WHEN duration_ms <= 5 THEN 5 WHEN duration_ms <= 7 THEN 7 WHEN duration_ms <= 10 THEN 10
            WHEN duration_ms <= 15 THEN 15 WHEN duration_ms <= 20 THEN 20 WHEN duration_ms <= 30 THEN 30
            WHEN duration_ms <= 50 THEN 50 WHEN duration_ms <= 70 THEN 70 WHEN duration_ms <= 100 THEN 100
            WHEN duration_ms <= 150 THEN 150 WHEN duration_ms <= 200 THEN 200 WHEN duration_ms <= 300 THEN 300
            WHEN duration_ms <= 500 THEN 500 WHEN duration_ms <= 700 THEN 700 WHEN duration_ms <= 1000 THEN 1000
            WHEN duration_ms <= 1500 THEN 1500 WHEN duration_ms <= 2000 THEN 2000 WHEN duration_ms <= 3000 THEN 3000
            WHEN duration_ms <= 5000 THEN 5000 WHEN duration_ms <= 7000 THEN 7000 WHEN duration_ms <= 10000 THEN 10000
            WHEN duration_ms <= 15000 THEN 15000 WHEN duration_ms <= 20000 THEN 20000 WHEN duration_ms <= 30000 THEN 30000
            WHEN duration_ms <= 60000 THEN 60000 ELSE 120000 END AS bucket_ms
        FROM attempts WHERE status = 'success')
    GROUP BY connection_id, minute, bucket_ms;
