-- Back to migration 0017's function, which joins old_rows to new_rows.
CREATE OR REPLACE FUNCTION metrics_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
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
        SELECT connection_id, sh, count(*) FROM new_rows WHERE state IN ('pending', 'held', 'parked')
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
    SELECT n.connection_id, sh, sum((n.state IN ('pending', 'held', 'parked'))::int - (o.state IN ('pending', 'held', 'parked'))::int)
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (n.state IN ('pending', 'held', 'parked')) <> (o.state IN ('pending', 'held', 'parked'))
    GROUP BY n.connection_id ORDER BY n.connection_id
    ON CONFLICT (connection_id, shard) DO UPDATE SET n = b.n + excluded.n;
    RETURN NULL;
END $$;
