-- Back to the tables of 0001 and 0002, without AUTOINCREMENT (ids are again
-- max(id)+1) and without the creators of projects. The migrator runs this
-- with foreign keys off.

-- Tenancy and the routing graph (0001).

CREATE TABLE new_accounts (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
INSERT INTO new_accounts (id, email, name, password_hash, created_at)
    SELECT id, email, name, password_hash, created_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE new_accounts RENAME TO accounts;

CREATE TABLE new_api_tokens (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE,
    sealed       BLOB    NOT NULL,
    prefix       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0
);
INSERT INTO new_api_tokens (id, account_id, kind, name, hash, sealed, prefix, created_at, last_used_at)
    SELECT id, account_id, kind, name, hash, sealed, prefix, created_at, last_used_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE new_api_tokens RENAME TO api_tokens;
CREATE INDEX api_tokens_account ON api_tokens (account_id, kind);

CREATE TABLE new_orgs (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    slug       TEXT    NOT NULL UNIQUE,
    account_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO new_orgs (id, name, slug, account_id, created_at)
    SELECT id, name, slug, account_id, created_at FROM orgs;
DROP TABLE orgs;
ALTER TABLE new_orgs RENAME TO orgs;

CREATE TABLE new_projects (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO new_projects (id, org_id, name, is_default, created_at, updated_at)
    SELECT id, org_id, name, is_default, created_at, updated_at FROM projects;
DROP TABLE projects;
ALTER TABLE new_projects RENAME TO projects;
CREATE INDEX projects_org ON projects (org_id);
-- At most one default project per organization.
CREATE UNIQUE INDEX projects_default ON projects (org_id) WHERE is_default = 1;

CREATE TABLE new_sources (
    id               INTEGER PRIMARY KEY,
    project_id       INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name             TEXT    NOT NULL,
    slug             TEXT    NOT NULL,
    ingestion_id     TEXT    NOT NULL UNIQUE,
    type             TEXT    NOT NULL,
    eps              INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    auth_type        TEXT    NOT NULL,
    auth_username    TEXT    NOT NULL,
    auth_key_name    TEXT    NOT NULL,
    auth_key         BLOB,
    verify_signature INTEGER NOT NULL,
    webhook_secret   BLOB,
    hmac_header      TEXT    NOT NULL,
    hmac_algorithm   TEXT    NOT NULL,
    hmac_encoding    TEXT    NOT NULL,
    hmac_prefix      TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (project_id, slug)
);
INSERT INTO new_sources (id, project_id, name, slug, ingestion_id, type, eps, status, auth_type, auth_username,
        auth_key_name, auth_key, verify_signature, webhook_secret, hmac_header, hmac_algorithm, hmac_encoding,
        hmac_prefix, created_at, updated_at)
    SELECT id, project_id, name, slug, ingestion_id, type, eps, status, auth_type, auth_username,
        auth_key_name, auth_key, verify_signature, webhook_secret, hmac_header, hmac_algorithm, hmac_encoding,
        hmac_prefix, created_at, updated_at FROM sources;
DROP TABLE sources;
ALTER TABLE new_sources RENAME TO sources;

CREATE TABLE new_destinations (
    id                     INTEGER PRIMARY KEY,
    project_id             INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name                   TEXT    NOT NULL,
    url                    TEXT    NOT NULL,
    eps                    INTEGER NOT NULL,
    status                 TEXT    NOT NULL,
    timeout_ms             INTEGER NOT NULL,
    headers                TEXT    NOT NULL, -- JSON object
    signing_secret         BLOB    NOT NULL,
    prev_signing_secret    BLOB,
    prev_secret_expires_at INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
INSERT INTO new_destinations (id, project_id, name, url, eps, status, timeout_ms, headers, signing_secret,
        prev_signing_secret, prev_secret_expires_at, created_at, updated_at)
    SELECT id, project_id, name, url, eps, status, timeout_ms, headers, signing_secret,
        prev_signing_secret, prev_secret_expires_at, created_at, updated_at FROM destinations;
DROP TABLE destinations;
ALTER TABLE new_destinations RENAME TO destinations;
CREATE INDEX destinations_project ON destinations (project_id);

CREATE TABLE new_connections (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id      INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    destination_id INTEGER NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    eps            INTEGER NOT NULL,
    max_retries    INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (source_id, destination_id)
);
INSERT INTO new_connections (id, project_id, source_id, destination_id, name, status, eps, max_retries,
        created_at, updated_at)
    SELECT id, project_id, source_id, destination_id, name, status, eps, max_retries,
        created_at, updated_at FROM connections;
DROP TABLE connections;
ALTER TABLE new_connections RENAME TO connections;
CREATE INDEX connections_project ON connections (project_id);
CREATE INDEX connections_destination ON connections (destination_id);

-- Traffic (0002).

CREATE TABLE new_events (
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
INSERT INTO new_events (id, event_id, project_id, source_id, method, query, headers, body, status, created_at)
    SELECT id, event_id, project_id, source_id, method, query, headers, body, status, created_at FROM events;
DROP TABLE events;
ALTER TABLE new_events RENAME TO events;
CREATE INDEX events_project_created ON events (project_id, created_at);
CREATE INDEX events_project_status ON events (project_id, status, created_at);
CREATE INDEX events_source_created ON events (source_id, created_at);

CREATE TABLE new_deliveries (
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
INSERT INTO new_deliveries (id, event_id, project_id, source_id, connection_id, destination_id, state, attempts,
        next_attempt_at, lease_owner, lease_token, created_at, finished_at)
    SELECT id, event_id, project_id, source_id, connection_id, destination_id, state, attempts,
        next_attempt_at, lease_owner, lease_token, created_at, finished_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE new_deliveries RENAME TO deliveries;
-- The work queue: only pending rows, by due time.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, destination_id) WHERE state = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);
-- Pause/resume, cancellation and metrics, per connection (destinations go
-- through their connections).
CREATE INDEX deliveries_connection ON deliveries (connection_id, state, finished_at);

CREATE TABLE new_attempts (
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
INSERT INTO new_attempts (id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id,
        number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at)
    SELECT id, delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id,
        number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at
    FROM attempts;
DROP TABLE attempts;
ALTER TABLE new_attempts RENAME TO attempts;
CREATE INDEX attempts_project_created ON attempts (project_id, created_at);
CREATE INDEX attempts_connection_created ON attempts (connection_id, created_at);
CREATE INDEX attempts_event ON attempts (event_id);

DELETE FROM sqlite_sequence WHERE name IN ('accounts', 'api_tokens', 'orgs', 'projects', 'sources',
    'destinations', 'connections', 'events', 'deliveries', 'attempts');
