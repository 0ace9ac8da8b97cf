-- The API rate limit per token across nodes: each key's theoretical
-- arrival time (GCRA). Unlogged: after a crash the limits start afresh,
-- which is harmless, and the writes skip the WAL on every API request.
CREATE UNLOGGED TABLE api_rate (
    key text        PRIMARY KEY,
    tat timestamptz NOT NULL
);
