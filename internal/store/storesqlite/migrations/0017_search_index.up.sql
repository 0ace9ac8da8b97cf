-- A full-text index of event bodies (event_search), filled in the
-- background, and indexes for the attempt lists' status filter and sorts.
--
-- event_search holds the words of the first 128 KiB of each body
-- (payload.SearchText when this migration was written; since then
-- payload.IndexText, the same words cut to 12 characters): contentless (no copy of the text), detail=none
-- (rowids only: a search checks each candidate's body for the whole text),
-- contentless_delete=1 (retention deletes an event's row by its rowid, the
-- event id). unicode61 with remove_diacritics 0 and the categories of
-- payload.Terms' words (letters, numbers, private use): a word is the same
-- word to the index, to payload.Matches and, but for e-mail addresses, host
-- names and URLs, to PostgreSQL's parser.
--
-- It is not filled here nor at ingest: an indexer (storesqlite's
-- SearchIndex, run by internal/searchindex) indexes the events past
-- search_index.indexed_through in short background transactions, so a
-- store of any size migrates at once and backfills while it serves; a
-- search reads the index up to the cursor and checks the bodies past it.
--
-- Cost of the attempt indexes: built by this migration, reading the
-- attempts table once (linear in it, at the first start of this version);
-- then one entry per attempt in the two full indexes, and one per failed
-- attempt in the partial one.
CREATE VIRTUAL TABLE event_search USING fts5(
    body, content='', contentless_delete=1, detail=none,
    tokenize="unicode61 remove_diacritics 0 categories 'L* N* Co'");

CREATE TABLE search_index (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL -- every event with id <= it is in event_search
);
INSERT INTO search_index (id, indexed_through) VALUES (1, 0);

-- status=failed (rare, so a walk of the project's attempts would read
-- nearly all of them) and the duration and status-code sorts, each in the
-- list's order (ties by id, which SQLite appends to every index). The
-- failed attempts' index holds every column the list filters on, so that
-- the count of a filtered list reads it alone: without them SQLite counted
-- through another index of the project and read every attempt's row.
CREATE INDEX attempts_project_failed ON attempts (project_id, created_at, id, connection_id, destination_id, source_id, event_id)
    WHERE status = 'failed';
CREATE INDEX attempts_project_duration ON attempts (project_id, duration_ms);
CREATE INDEX attempts_project_status_code ON attempts (project_id, status_code);
