-- The parts' tables of external ids are dropped first (dropXidTables).
CREATE INDEX events_external_id ON events (external_id) WHERE external_id IS NOT NULL;
