-- Events, deliveries and attempts. Every index here is paid for on the
-- ingest and delivery hot paths, so each one serves a documented query.
-- Traffic rows keep plain ids of the configuration they came through (no
-- foreign keys to sources, connections or destinations): history outlives
-- configuration, and deleting a project leaves its traffic to be swept in
-- the background (project_tombstones).
--
-- Bytes that come straight from a webhook request and may not be valid
-- UTF-8 (the raw query string, the Idempotency-Key header) are bytea: text
-- would reject them and fail the whole group commit they arrived in.

CREATE TABLE events (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The public id; "C" collation so that prefix searches are byte ranges
    -- on the unique index.
    event_id   text        COLLATE "C" NOT NULL CONSTRAINT events_event_id_key UNIQUE,
    project_id bigint      NOT NULL,
    source_id  bigint      NOT NULL,
    method     text        NOT NULL,
    query      bytea       NOT NULL,
    headers    text        NOT NULL, -- JSON object of string arrays
    body       bytea       NOT NULL,
    status     text        NOT NULL, -- derived from deliveries
    created_at timestamptz NOT NULL
);
CREATE INDEX events_project_created ON events (project_id, created_at);
CREATE INDEX events_project_status ON events (project_id, status, created_at);
CREATE INDEX events_source_created ON events (source_id, created_at);

CREATE TABLE idempotency_keys (
    source_id  bigint      NOT NULL,
    key        bytea       NOT NULL,
    event_id   bigint      NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (source_id, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

CREATE TABLE deliveries (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    project_id      bigint      NOT NULL,
    source_id       bigint      NOT NULL,
    connection_id   bigint      NOT NULL,
    destination_id  bigint      NOT NULL,
    state           text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_owner     text        NOT NULL DEFAULT '',
    lease_token     bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00'
);
-- The work queue: only pending rows, by due time.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, destination_id) WHERE state = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);
-- Pause/resume, cancellation and metrics, per connection (destinations go
-- through their connections).
CREATE INDEX deliveries_connection ON deliveries (connection_id, state, finished_at);

CREATE TABLE attempts (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      bigint      NOT NULL,
    event_id         bigint      NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    event_uid        text        NOT NULL,
    project_id       bigint      NOT NULL,
    source_id        bigint      NOT NULL,
    connection_id    bigint      NOT NULL,
    destination_id   bigint      NOT NULL,
    number           integer     NOT NULL,
    trigger          text        NOT NULL,
    status           text        NOT NULL,
    status_code      integer     NOT NULL,
    error_reason     text        NOT NULL,
    duration_ms      bigint      NOT NULL,
    response_headers text        NOT NULL, -- JSON object of string arrays
    response_body    bytea       NOT NULL,
    created_at       timestamptz NOT NULL
);
CREATE INDEX attempts_project_created ON attempts (project_id, created_at);
CREATE INDEX attempts_connection_created ON attempts (connection_id, created_at);
CREATE INDEX attempts_event ON attempts (event_id);

-- Projects deleted with traffic left to sweep.
CREATE TABLE project_tombstones (
    project_id bigint      PRIMARY KEY,
    deleted_at timestamptz NOT NULL
);
