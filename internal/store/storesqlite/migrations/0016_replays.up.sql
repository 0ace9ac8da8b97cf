-- Bulk replay jobs (issue 13): what to replay (the event list's filters as
-- JSON, and the target connection), how far a job got (its cursor in the
-- event list's order and its counts, written after each small batch, so
-- that a job survives restarts) and which node works on it (a lease).
--
-- Cost: a new table; jobs are few. replays_project serves the list of a
-- project's jobs newest first; replays_active the claim of the unfinished
-- job that progressed least recently, reading unfinished jobs only.
CREATE TABLE replays (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id          INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    filter              TEXT    NOT NULL, -- JSON of volley.ReplayFilter
    connection_id       INTEGER NOT NULL, -- 0: the events' own deliveries
    status              TEXT    NOT NULL,
    matched             INTEGER NOT NULL,
    matched_is_estimate INTEGER NOT NULL,
    processed           INTEGER NOT NULL DEFAULT 0,
    succeeded           INTEGER NOT NULL DEFAULT 0,
    failed              INTEGER NOT NULL DEFAULT 0,
    skipped             INTEGER NOT NULL DEFAULT 0,
    cursor_key          INTEGER NOT NULL DEFAULT 0,
    cursor_id           INTEGER NOT NULL DEFAULT 0,
    error               TEXT    NOT NULL DEFAULT '',
    created_by          INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    finished_at         INTEGER NOT NULL DEFAULT 0,
    lease_owner         TEXT    NOT NULL DEFAULT '',
    lease_until         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX replays_project ON replays (project_id, id);
CREATE INDEX replays_active ON replays (updated_at, id) WHERE status IN ('queued', 'running');
