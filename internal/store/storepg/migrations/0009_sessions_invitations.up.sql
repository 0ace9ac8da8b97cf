-- Console sessions and invitations. Both keep only a SHA-256 hash of the
-- secret a browser or a link carries; an invitation also keeps its secret
-- sealed (like API tokens) so that the link can be shown to the inviter
-- again until it is used.

CREATE TABLE sessions (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hash         bytea       NOT NULL CONSTRAINT sessions_hash_key UNIQUE,
    user_agent   text        NOT NULL,
    client_addr  text        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE invitations (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint      NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email      text        NOT NULL,
    role       text        NOT NULL,
    hash       bytea       NOT NULL CONSTRAINT invitations_hash_key UNIQUE,
    sealed     bytea       NOT NULL,
    invited_by bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT invitations_org_email_key UNIQUE (org_id, email)
);
