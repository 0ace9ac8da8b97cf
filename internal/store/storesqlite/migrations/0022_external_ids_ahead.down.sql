-- The tables of external ids copied ahead of the index are dropped first
-- (dropXidAhead).
ALTER TABLE search_index DROP COLUMN xid_through;
