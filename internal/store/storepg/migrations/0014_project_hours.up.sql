-- Events received per project and hour, kept up to date for the console's
-- overview instead of counting events: the events table can hold millions
-- of rows. Like the connection counters of migration 0007, the trigger
-- counts once per statement (a group commit adds to each project's counter
-- once) into the shard txid % 8 of the counter, so that nodes inserting at
-- once seldom wait on the same row; readers sum the shards. Rows of hours
-- before the retention period go with ConnectionMetricsDelete; deleting
-- events does not change them.
CREATE TABLE project_hours (
    project_id bigint      NOT NULL,
    hour       timestamptz NOT NULL,
    shard      smallint    NOT NULL,
    received   bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, hour, shard)
);
CREATE INDEX project_hours_hour ON project_hours (hour);

-- metrics_hour is the hour a time falls in, whatever the session's time
-- zone.
CREATE FUNCTION metrics_hour(t timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN date_bin('1 hour', t, timestamptz '2000-01-01 00:00:00+00');

CREATE FUNCTION metrics_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO project_hours AS h (project_id, hour, shard, received)
    SELECT project_id, metrics_hour(created_at) AS hour, metrics_shard(), count(*)
    FROM new_rows GROUP BY project_id, hour ORDER BY project_id, hour
    ON CONFLICT (project_id, hour, shard) DO UPDATE SET received = h.received + excluded.received;
    RETURN NULL;
END $$;
CREATE TRIGGER events_received_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metrics_events();

-- Fill the counters from the existing events (shard 0), once.
INSERT INTO project_hours (project_id, hour, shard, received)
SELECT project_id, metrics_hour(created_at) AS hour, 0, count(*) FROM events GROUP BY project_id, hour;
