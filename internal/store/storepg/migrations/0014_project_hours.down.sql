DROP TRIGGER events_received_insert ON events;
DROP FUNCTION metrics_events();
DROP FUNCTION metrics_hour(timestamptz);
DROP TABLE project_hours;
