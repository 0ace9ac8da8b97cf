-- Connection delays and FIFO ordering (issue 13): a delay and an ordering
-- per connection, and each delivery's ordering key. A delivery whose key
-- already has an unfinished delivery on its connection waits in the new
-- state 'parked' (not due: outside deliveries_due) until that one finishes;
-- it counts in the backlog like pending and held ones, so the counters'
-- function and the delete trigger's condition are written again with it.
--
-- Cost: columns with constant defaults are added without rewriting rows
-- (PostgreSQL 11+). The new index is partial: it holds the unfinished
-- deliveries that have a key (none at migration time), and answers "is
-- this key busy" and "the next parked delivery of this key" with one seek
-- each, whatever the size of deliveries.
ALTER TABLE connections ADD COLUMN delay_ms integer NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN ordering text NOT NULL DEFAULT 'none';
ALTER TABLE connections ADD COLUMN ordering_key text NOT NULL DEFAULT '';

ALTER TABLE deliveries ADD COLUMN ordering_key text NOT NULL DEFAULT '';
CREATE INDEX deliveries_ordering ON deliveries (connection_id, ordering_key, state, id)
    WHERE ordering_key <> '' AND state IN ('pending', 'held', 'parked');

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

DROP TRIGGER deliveries_metrics_delete ON deliveries;
CREATE TRIGGER deliveries_metrics_delete AFTER DELETE ON deliveries
    FOR EACH ROW WHEN (OLD.state IN ('pending', 'held', 'parked')) EXECUTE FUNCTION metrics_deliveries_deleted();

