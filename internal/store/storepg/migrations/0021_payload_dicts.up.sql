-- Trained zstd dictionaries of event payloads (issue 8, "smaller on disk").
--
-- The table is the storage port's, as in SQLite; this driver does not
-- compress payloads with them: PostgreSQL compresses event_payloads itself
-- (lz4, migration 0006) and its full-text index and exact search check
-- read the body in SQL, which a zstd frame would hide from them. See
-- store.Payloads.PayloadDictsUsed.
CREATE TABLE payload_dicts (
    id         bigint           NOT NULL CONSTRAINT payload_dicts_pkey PRIMARY KEY, -- the zstd id
    source_id  bigint           NOT NULL,
    dict       bytea            NOT NULL,
    ratio      double precision NOT NULL,
    created_at timestamptz      NOT NULL
);
CREATE INDEX payload_dicts_source ON payload_dicts (source_id, created_at);
