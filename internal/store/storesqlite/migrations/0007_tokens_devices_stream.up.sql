-- Issue 9: named API tokens that may expire, the CLI's device login, and
-- the listen stream.
--
-- api_tokens.expires_at: NULL means the token never expires (the first
-- admin token, and tokens created without an expiry). Adding a nullable
-- column rewrites nothing.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;

-- One row per `volley login` waiting for approval. Both codes are stored as
-- SHA-256 hashes; the approved token is read from api_tokens (token_id)
-- when the CLI collects it. Rows are deleted once expired (at the next
-- DeviceCodeCreate), so the table stays as small as the logins of the last
-- ten minutes.
CREATE TABLE device_codes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    device_hash  BLOB    NOT NULL UNIQUE,
    pairing_hash BLOB    NOT NULL UNIQUE,
    status       TEXT    NOT NULL,
    account_id   INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    device_name  TEXT    NOT NULL DEFAULT '',
    token_id     INTEGER,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX device_codes_expires ON device_codes (expires_at);

-- The listen stream reads a source's events after a cursor in id order:
-- SQLite commits one writer at a time, so ids are in commit order. The
-- index is (source_id, id) (the rowid is the id). Cost: one more index
-- entry per ingested event, and building it reads every event once at the
-- first start of this version (about a second per million events).
CREATE INDEX events_source_id ON events (source_id);
