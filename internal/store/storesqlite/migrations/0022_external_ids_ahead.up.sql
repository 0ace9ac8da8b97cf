-- The external ids of events the body search index has not reached yet
-- are copied ahead of it while it is far behind (an upgrade's backfill, a
-- long burst), so that a search by a provider's id never reads those
-- events one by one (issue 8; see search_xid.go), into tables of 65,536
-- event ids each (event_xid_ahead_<n>), created as needed and dropped
-- whole once the index has passed them. Every event with an id up to
-- xid_through whose external id is set is in a part's table of external
-- ids or in one of those (or was deleted).
ALTER TABLE search_index ADD COLUMN xid_through INTEGER NOT NULL DEFAULT 0;
