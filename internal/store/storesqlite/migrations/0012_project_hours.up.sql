-- Events received per project and hour, kept up to date for the console's
-- overview instead of counting events: the events table can hold millions
-- of rows. The trigger adds to the counter in the transaction that inserts
-- the event (one upsert per event; SQLite has one writer, so the row is no
-- contention point). Rows of hours before the retention period go with
-- ConnectionMetricsDelete; deleting events does not change them.
CREATE TABLE project_hours (
    project_id INTEGER NOT NULL,
    hour       INTEGER NOT NULL, -- Unix time / 3600
    received   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, hour)
) WITHOUT ROWID;
CREATE INDEX project_hours_hour ON project_hours (hour);

CREATE TRIGGER events_received_insert AFTER INSERT ON events BEGIN
    INSERT INTO project_hours (project_id, hour, received) VALUES (new.project_id, new.created_at / 3600000000, 1)
        ON CONFLICT DO UPDATE SET received = received + 1;
END;

-- Fill the counters from the existing events (one pass over the events'
-- (project_id, created_at) index, once).
INSERT INTO project_hours (project_id, hour, received)
    SELECT project_id, created_at / 3600000000, count(*) FROM events GROUP BY 1, 2;
