-- Parked deliveries have no meaning without ordering: they become pending,
-- due when they were stored, before the column that explains them goes.
UPDATE deliveries SET state = 'pending' WHERE ordering_key <> '' AND state = 'parked';

DROP TRIGGER deliveries_metrics_insert;
DROP TRIGGER deliveries_metrics_update;
DROP TRIGGER deliveries_metrics_delete;

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

DROP INDEX deliveries_ordering;
ALTER TABLE deliveries DROP COLUMN ordering_key;
ALTER TABLE connections DROP COLUMN ordering_key;
ALTER TABLE connections DROP COLUMN ordering;
ALTER TABLE connections DROP COLUMN delay_ms;
