-- A status row for processed events too (issue 8: every list with a single
-- filter fast at any size).
--
-- 0025 kept rows only for events that were not processed, so a list by
-- processed walked the project's events newest first and skipped those
-- with a row: behind a backlog of 1,000,000 pending events, 1.0 s for a
-- page (docs/benchmarks.md). With a row per event every status is a seek
-- of event_states_project_status. An event becoming processed now updates
-- its narrow row instead of deleting it (a new row version and two index
-- entries, not a delete mark); events rows are still never updated.
--
-- Cost: one scan of events and one row inserted per processed event, in the
-- upgrade's transaction; not additive (nodes of 0025 delete the row of an
-- event they finish, and lists by processed would miss it), so the upgrade
-- stops every node first (docs/operations.md, "Upgrades").
ALTER TABLE event_states DROP CONSTRAINT event_states_status_check;
INSERT INTO event_states (event_id, project_id, status, created_at)
    SELECT e.id, e.project_id, 'processed', e.created_at FROM events e
    WHERE NOT EXISTS (SELECT 1 FROM event_states st WHERE st.event_id = e.id);
