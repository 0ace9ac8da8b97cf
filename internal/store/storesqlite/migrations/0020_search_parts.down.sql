-- Back to one index (migration 0017's form), empty: the indexer of the
-- version before refills it from the first event, and searches check the
-- bodies of the events not yet indexed meanwhile. The parts' tables are
-- dropped before this runs (dropSearchParts, in Go: SQL cannot name them).
CREATE VIRTUAL TABLE event_search USING fts5(
    body, content='', contentless_delete=1, detail=none,
    tokenize="unicode61 remove_diacritics 0 categories 'L* N* Co'");
UPDATE search_index SET indexed_through = 0;
DROP TABLE search_parts;
