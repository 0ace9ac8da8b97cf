-- Payloads back into events. PostgreSQL compressed them itself: they come
-- back as they were sent.
ALTER TABLE events ADD COLUMN query bytea, ADD COLUMN headers text, ADD COLUMN body bytea;
UPDATE events e SET query = p.query, headers = p.headers, body = p.body FROM event_payloads p WHERE p.event_id = e.id;
ALTER TABLE events ALTER COLUMN query SET NOT NULL, ALTER COLUMN headers SET NOT NULL, ALTER COLUMN body SET NOT NULL;
DROP INDEX events_external_id;
ALTER TABLE events DROP COLUMN external_id;
DROP TABLE event_payloads;
DROP FUNCTION volley_body_text(bytea);
