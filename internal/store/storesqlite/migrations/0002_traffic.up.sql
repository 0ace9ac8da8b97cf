-- Events, deliveries and attempts. Every index here is paid for on the
-- ingest and delivery hot paths, so each one serves a documented query. Traffic rows keep plain ids of the
-- configuration they came through (no foreign keys to sources, connections
-- or destinations): history outlives configuration, and deleting a project
-- leaves its traffic to be swept in the background (project_tombstones).

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT    NOT NULL UNIQUE,
    project_id INTEGER NOT NULL,
    source_id  INTEGER NOT NULL,
    method     TEXT    NOT NULL,
    query      TEXT    NOT NULL,
    headers    TEXT    NOT NULL, -- JSON object of string arrays
    body       BLOB    NOT NULL,
    status     TEXT    NOT NULL, -- derived from deliveries
    created_at INTEGER NOT NULL
);
CREATE INDEX events_project_created ON events (project_id, created_at);
CREATE INDEX events_project_status ON events (project_id, status, created_at);
CREATE INDEX events_source_created ON events (source_id, created_at);

CREATE TABLE idempotency_keys (
    source_id  INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    event_id   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (source_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    project_id      INTEGER NOT NULL,
    source_id       INTEGER NOT NULL,
    connection_id   INTEGER NOT NULL,
    destination_id  INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_token     INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER NOT NULL DEFAULT 0
);
-- The work queue: only pending rows, by due time.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, destination_id) WHERE state = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);
-- Pause/resume, cancellation and metrics, per connection (destinations go
-- through their connections).
CREATE INDEX deliveries_connection ON deliveries (connection_id, state, finished_at);

CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      INTEGER NOT NULL,
    event_id         INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    event_uid        TEXT    NOT NULL,
    project_id       INTEGER NOT NULL,
    source_id        INTEGER NOT NULL,
    connection_id    INTEGER NOT NULL,
    destination_id   INTEGER NOT NULL,
    number           INTEGER NOT NULL,
    trigger          TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    status_code      INTEGER NOT NULL,
    error_reason     TEXT    NOT NULL,
    duration_ms      INTEGER NOT NULL,
    response_headers TEXT    NOT NULL, -- JSON object of string arrays
    response_body    BLOB    NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX attempts_project_created ON attempts (project_id, created_at);
CREATE INDEX attempts_connection_created ON attempts (connection_id, created_at);
CREATE INDEX attempts_event ON attempts (event_id);

-- Projects deleted with traffic left to sweep.
CREATE TABLE project_tombstones (
    project_id INTEGER PRIMARY KEY,
    deleted_at INTEGER NOT NULL
);
