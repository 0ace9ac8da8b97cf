-- Delivery outcomes count their own connection metrics (issue 8; see
-- tally.go). The triggers ran for every outcome (the delivery's update, the
-- attempt's insert) three upserts of counters a whole batch shares; with
-- the RETURNING the update no longer needs, they were over a quarter of a
-- lease and finish's writer time (docs/benchmarks.md). The batch now adds
-- them up and writes each counter once.
--
-- Attempts: every insert of an attempt is the store's own (insertAttempt),
-- which counts the latency of successful ones in Go; the trigger goes.
DROP TRIGGER attempts_metrics_insert;

-- Deliveries: their state changes in many bulk statements (sweeps,
-- cancels, retention), which keep the trigger. A row in metrics_deferred
-- says that the transaction holding the writer counts the changes of its
-- own statements itself: finishSome inserts it before its outcomes'
-- updates and deletes it after them, in the same transaction, so no other
-- writer ever sees it and a rollback takes it away.
CREATE TABLE metrics_deferred (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);

DROP TRIGGER deliveries_metrics_update;
CREATE TRIGGER deliveries_metrics_update AFTER UPDATE OF state, finished_at ON deliveries
WHEN (old.state <> new.state OR old.finished_at <> new.finished_at) AND NOT EXISTS (SELECT 1 FROM metrics_deferred) BEGIN
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
