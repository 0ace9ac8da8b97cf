-- Timestamps are Unix microseconds (UTC). Booleans are 0/1.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
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
CREATE INDEX api_tokens_account ON api_tokens (account_id, kind);

CREATE TABLE orgs (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    slug       TEXT    NOT NULL UNIQUE,
    account_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    org_id     INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, account_id)
) WITHOUT ROWID;
CREATE INDEX memberships_account ON memberships (account_id, org_id);

CREATE TABLE projects (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX projects_org ON projects (org_id);
-- At most one default project per organization.
CREATE UNIQUE INDEX projects_default ON projects (org_id) WHERE is_default = 1;

CREATE TABLE sources (
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

CREATE TABLE destinations (
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
CREATE INDEX destinations_project ON destinations (project_id);

CREATE TABLE connections (
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
CREATE INDEX connections_project ON connections (project_id);
CREATE INDEX connections_destination ON connections (destination_id);
