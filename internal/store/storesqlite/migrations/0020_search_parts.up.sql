-- The body search index in parts (issue 8; see search_parts.go): a series
-- of FTS5 tables event_search_<part>, each over a range of event ids, so
-- that a merge step or the drop of a part is bounded by a part's size,
-- not the store's. A part is dropped whole once no event of its range is
-- left; retention no longer deletes from the index.
--
-- The index of migration 0017 becomes part 1 as it is (a rename: no row
-- is read or written), covering the events indexed so far; the indexer
-- starts part 2 with the next event. A store with millions of events
-- keeps its index and searches it at once; part 1 goes once retention has
-- deleted every event in it, emptied in short steps like any other part.
CREATE TABLE search_parts (
    part        INTEGER PRIMARY KEY, -- the table is event_search_<part>
    first_event INTEGER NOT NULL,    -- the event ids it covers, both included
    last_event  INTEGER NOT NULL,
    dropping    INTEGER NOT NULL DEFAULT 0 -- 1: out of searches, being emptied before its drop
);
ALTER TABLE event_search RENAME TO event_search_1;
INSERT INTO search_parts (part, first_event, last_event)
    SELECT 1, 0, indexed_through FROM search_index;
