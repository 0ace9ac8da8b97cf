-- Connection delays and FIFO ordering (issue 13): a delay and an ordering
-- per connection, and each delivery's ordering key. A delivery whose key
-- already has an unfinished delivery on its connection waits in the new
-- state 'parked' (not due: outside deliveries_due) until that one finishes;
-- it counts in the backlog like pending and held ones, so the counters'
-- triggers are written again with it.
--
-- Cost: columns with constant defaults only rewrite the schema. The new
-- index is partial: it holds the unfinished deliveries that have a key
-- (nothing at migration time, since no delivery has one yet), and answers
-- "is this key busy" and "the next parked delivery of this key" with one
-- seek each, whatever the size of deliveries.
ALTER TABLE connections ADD COLUMN delay_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none';
ALTER TABLE connections ADD COLUMN ordering_key TEXT NOT NULL DEFAULT '';

ALTER TABLE deliveries ADD COLUMN ordering_key TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_ordering ON deliveries (connection_id, ordering_key, state, id)
    WHERE ordering_key <> '' AND state IN ('pending', 'held', 'parked');

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
    INSERT INTO connection_backlog (connection_id, n) SELECT new.connection_id, 1 WHERE new.state IN ('pending', 'held', 'parked')
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
        SELECT new.connection_id, (new.state IN ('pending', 'held', 'parked')) - (old.state IN ('pending', 'held', 'parked'))
        WHERE (new.state IN ('pending', 'held', 'parked')) <> (old.state IN ('pending', 'held', 'parked'))
        ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

-- Retention deletes finished deliveries (the WHEN clause keeps that free);
-- a deleted project's purge may delete unfinished ones.
CREATE TRIGGER deliveries_metrics_delete AFTER DELETE ON deliveries WHEN old.state IN ('pending', 'held', 'parked') BEGIN
    UPDATE connection_backlog SET n = n - 1 WHERE connection_id = old.connection_id;
END;

