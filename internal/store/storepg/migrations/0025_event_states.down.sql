ALTER TABLE events ADD COLUMN status text NOT NULL DEFAULT 'processed';
ALTER TABLE events ALTER COLUMN status DROP DEFAULT;
UPDATE events e SET status = s.status FROM event_states s WHERE s.event_id = e.id;
CREATE INDEX events_project_status ON events (project_id, status, created_at);
DROP TABLE event_states;
