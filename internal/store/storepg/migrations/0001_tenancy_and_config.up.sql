-- Tenancy and the routing graph.
--
-- Times are timestamptz at microsecond precision. A time that is unset (a
-- token never used, no previous signing secret) is Go's zero time,
-- 0001-01-01 00:00:00 UTC, which no real timestamp takes: columns stay NOT
-- NULL, and it sorts before every real time as SQLite's 0 does.
-- Constraints are named: the driver maps a unique violation to the value
-- that clashed by the constraint's name.

CREATE TABLE accounts (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL CONSTRAINT accounts_email_key UNIQUE,
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE TABLE api_tokens (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind         text        NOT NULL,
    name         text        NOT NULL,
    hash         bytea       NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE,
    sealed       bytea       NOT NULL,
    prefix       text        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00'
);
CREATE INDEX api_tokens_account ON api_tokens (account_id, kind);

CREATE TABLE orgs (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL,
    slug       text        NOT NULL CONSTRAINT orgs_slug_key UNIQUE,
    account_id bigint      NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE memberships (
    org_id     bigint      NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    account_id bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role       text        NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (org_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id, org_id);

CREATE TABLE projects (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint      NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    is_default boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX projects_org ON projects (org_id);
-- At most one default project per organization.
CREATE UNIQUE INDEX projects_default ON projects (org_id) WHERE is_default;

CREATE TABLE sources (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id       bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name             text        NOT NULL,
    slug             text        NOT NULL,
    ingestion_id     text        NOT NULL,
    type             text        NOT NULL,
    eps              integer     NOT NULL,
    status           text        NOT NULL,
    auth_type        text        NOT NULL,
    auth_username    text        NOT NULL,
    auth_key_name    text        NOT NULL,
    auth_key         bytea,
    verify_signature boolean     NOT NULL,
    webhook_secret   bytea,
    hmac_header      text        NOT NULL,
    hmac_algorithm   text        NOT NULL,
    hmac_encoding    text        NOT NULL,
    hmac_prefix      text        NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- A row clashing on both reports the slug, as SQLite does: PostgreSQL
    -- checks unique indexes in creation order.
    CONSTRAINT sources_project_id_slug_key UNIQUE (project_id, slug),
    CONSTRAINT sources_ingestion_id_key UNIQUE (ingestion_id)
);

CREATE TABLE destinations (
    id                     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id             bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name                   text        NOT NULL,
    url                    text        NOT NULL,
    eps                    integer     NOT NULL,
    status                 text        NOT NULL,
    timeout_ms             integer     NOT NULL,
    headers                text        NOT NULL, -- JSON object
    signing_secret         bytea       NOT NULL,
    prev_signing_secret    bytea,
    prev_secret_expires_at timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL
);
CREATE INDEX destinations_project ON destinations (project_id);

CREATE TABLE connections (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id      bigint      NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    destination_id bigint      NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    name           text        NOT NULL,
    status         text        NOT NULL,
    eps            integer     NOT NULL,
    max_retries    integer     NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT connections_source_id_destination_id_key UNIQUE (source_id, destination_id)
);
CREATE INDEX connections_project ON connections (project_id);
CREATE INDEX connections_destination ON connections (destination_id);
