ALTER TABLE destinations DROP COLUMN forward_traceparent;
ALTER TABLE events DROP COLUMN traceparent;
