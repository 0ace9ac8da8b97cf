-- The counters' trigger on UPDATE joined old_rows to new_rows by id. The
-- transition tables have no statistics and no index, so the planner may
-- loop over one for every row of the other: a release batch of 500 held
-- deliveries spent 188–202 ms in the trigger (docs/benchmarks.md, "The
-- PostgreSQL pause"). No join is needed: a row's contribution to a counter
-- is a function of the row alone, so the change is what new_rows contribute
-- minus what old_rows contribute, grouped; rows whose state did not change
-- (a lease, a retry) cancel out and the HAVING clauses drop them. Each
-- transition table is read once per counter, whatever the plan.
--
-- Cost: a catalog change; no row is read or written.
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
    INSERT INTO connection_minutes AS m (connection_id, minute, shard, delivered, failed)
    SELECT connection_id, minute, sh, sum(delivered), sum(failed) FROM (
        SELECT connection_id, metrics_minute(finished_at) AS minute,
            -(state = 'success')::int AS delivered, -(state = 'failed')::int AS failed
        FROM old_rows WHERE state IN ('success', 'failed')
        UNION ALL
        SELECT connection_id, metrics_minute(finished_at), (state = 'success')::int, (state = 'failed')::int
        FROM new_rows WHERE state IN ('success', 'failed')) c
    GROUP BY connection_id, minute HAVING sum(delivered) <> 0 OR sum(failed) <> 0
    ORDER BY connection_id, minute
    ON CONFLICT (connection_id, minute, shard) DO UPDATE SET
        delivered = m.delivered + excluded.delivered, failed = m.failed + excluded.failed;
    INSERT INTO connection_backlog AS b (connection_id, shard, n)
    SELECT connection_id, sh, sum(d) FROM (
        SELECT connection_id, -1 AS d FROM old_rows WHERE state IN ('pending', 'held', 'parked')
        UNION ALL
        SELECT connection_id, 1 FROM new_rows WHERE state IN ('pending', 'held', 'parked')) c
    GROUP BY connection_id HAVING sum(d) <> 0 ORDER BY connection_id
    ON CONFLICT (connection_id, shard) DO UPDATE SET n = b.n + excluded.n;
    RETURN NULL;
END $$;
