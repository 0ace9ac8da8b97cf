-- An event's status out of the events row (issue 8: status updates must not
-- bloat the events table).
--
-- events.status was a key of events_project_status, so no status update
-- could be HOT: each outcome that finished an event wrote a new version of
-- its row and an entry in every one of events' indexes, one of which
-- (events_external_id) has random keys. At 2,000,000 events that was 2.0
-- of the drain's 4.58 GB of WAL (docs/benchmarks.md), and the dead rows
-- and entries stayed behind in the table and its indexes.
--
-- event_states holds the status of the events that are not processed
-- (pending, failed, dropped, filtered): an event without a row is
-- processed, the final state of nearly every event. Ingest inserts the
-- row; an event becoming processed deletes it (no index write); events
-- rows are never updated. Lists by status seek (project_id, status,
-- created_at, event_id), in the list's own order; the oldest pending event
-- is the first entry of (project_id, 'pending').
--
-- Cost: one scan of events, copying the rows not processed (after a drain,
-- few); dropping the column and the index is instant: 1.5 s for 2,000,000
-- events, 80,000 of them not processed. Not additive: nodes of earlier
-- versions read and write events.status, so the upgrade stops every node
-- first (docs/operations.md, "Upgrades").
CREATE TABLE event_states (
    event_id   bigint      NOT NULL CONSTRAINT event_states_pkey PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    project_id bigint      NOT NULL,
    status     text        NOT NULL CHECK (status <> 'processed'),
    created_at timestamptz NOT NULL
);
INSERT INTO event_states (event_id, project_id, status, created_at)
    SELECT id, project_id, status, created_at FROM events WHERE status <> 'processed';
CREATE INDEX event_states_project_status ON event_states (project_id, status, created_at, event_id);
DROP INDEX events_project_status;
ALTER TABLE events DROP COLUMN status;
