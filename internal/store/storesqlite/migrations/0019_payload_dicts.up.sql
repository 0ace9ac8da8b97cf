-- Trained zstd dictionaries of event payloads (issue 8, "smaller on disk").
--
-- A source's payloads are compressed with its newest dictionary (see
-- package payload); each zstd frame names its dictionary in its header, so
-- event_payloads needs no new column, and rows written before keep their
-- encoding. A dictionary is never changed nor deleted: rows compressed
-- with it may live as long as retention keeps them, and a source's events
-- outlive the source (hence no foreign key). At most a few per source, of
-- up to 32 KiB each (payload.DictSize).
CREATE TABLE payload_dicts (
    id         INTEGER PRIMARY KEY, -- the dictionary's zstd id
    source_id  INTEGER NOT NULL,
    dict       BLOB    NOT NULL,
    ratio      REAL    NOT NULL,    -- stored/plain size of the training sample
    created_at INTEGER NOT NULL
);
CREATE INDEX payload_dicts_source ON payload_dicts (source_id, created_at);
