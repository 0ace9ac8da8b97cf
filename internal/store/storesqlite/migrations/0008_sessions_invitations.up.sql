-- Console sessions and invitations. Both keep only a SHA-256 hash of the
-- secret a browser or a link carries; an invitation also keeps its secret
-- sealed (like API tokens) so that the link can be shown to the inviter
-- again until it is used.

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hash         BLOB    NOT NULL UNIQUE,
    user_agent   TEXT    NOT NULL,
    client_addr  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    sealed     BLOB    NOT NULL,
    invited_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (org_id, email)
);
