-- The triggers count every outcome again, as migrations 0006 and 0015 left them.
DROP TRIGGER deliveries_metrics_update;
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
DROP TABLE metrics_deferred;

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
