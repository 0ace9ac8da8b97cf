-- Tracing (OpenTelemetry): an event keeps the W3C trace context of its
-- ingest request, so that every attempt, however much later, on whatever
-- node and after whatever restart, joins the ingest's trace. '' when the
-- event was accepted with tracing off.
--
-- A destination may opt in to receive the attempt's traceparent header.
--
-- Cost: adding a column with a constant default rewrites no rows, so this
-- runs in constant time whatever the size of the store.
ALTER TABLE events ADD COLUMN traceparent text NOT NULL DEFAULT '';
ALTER TABLE destinations ADD COLUMN forward_traceparent INTEGER NOT NULL DEFAULT 0;
