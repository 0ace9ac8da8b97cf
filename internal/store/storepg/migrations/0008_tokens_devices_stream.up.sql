-- Issue 9: named API tokens that may expire, the CLI's device login, and
-- the listen stream.
--
-- api_tokens.expires_at: NULL means the token never expires (the first
-- admin token, and tokens created without an expiry).
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;

-- One row per `volley login` waiting for approval, shared by every node.
-- Both codes are stored as SHA-256 hashes; the approved token is read from
-- api_tokens (token_id) when the CLI collects it. Rows are deleted once
-- expired (at the next DeviceCodeCreate).
CREATE TABLE device_codes (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_hash  bytea       NOT NULL CONSTRAINT device_codes_device_hash_key UNIQUE,
    pairing_hash bytea       NOT NULL CONSTRAINT device_codes_pairing_hash_key UNIQUE,
    status       text        NOT NULL,
    account_id   bigint      REFERENCES accounts (id) ON DELETE CASCADE,
    device_name  text        NOT NULL DEFAULT '',
    token_id     bigint,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX device_codes_expires ON device_codes (expires_at);

-- The listen stream must not skip an event whose transaction commits after
-- one with a higher id (several writers, several nodes). Each event records
-- the id of the transaction that inserted it; the stream reads in
-- (commit_xid, id) order and only rows of transactions older than every
-- transaction still running (pg_snapshot_xmin), which can no longer gain
-- rows below the cursor. Events older than this migration keep NULL and
-- are never streamed (a stream starts at its first connection).
--
-- Cost: ADD COLUMN without a default and SET DEFAULT rewrite nothing; the
-- index is built in this transaction, which blocks writes to events while
-- it reads them all (seconds per million events).
ALTER TABLE events ADD COLUMN commit_xid xid8;
ALTER TABLE events ALTER COLUMN commit_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX events_source_commit ON events (source_id, commit_xid, id);
