-- Bulk replay jobs (issue 13): what to replay (the event list's filters as
-- JSON, and the target connection), how far a job got (its cursor in the
-- event list's order and its counts, written after each small batch, so
-- that a job survives restarts) and which node works on it (a lease that
-- other nodes take over when it runs out).
--
-- Cost: a new table; jobs are few. replays_project serves the list of a
-- project's jobs newest first; replays_active the claim of the unfinished
-- job that progressed least recently, reading unfinished jobs only.
CREATE TABLE replays (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    filter              text        NOT NULL, -- JSON of volley.ReplayFilter
    connection_id       bigint      NOT NULL, -- 0: the events' own deliveries
    status              text        NOT NULL,
    matched             bigint      NOT NULL,
    matched_is_estimate boolean     NOT NULL,
    processed           bigint      NOT NULL DEFAULT 0,
    succeeded           bigint      NOT NULL DEFAULT 0,
    failed              bigint      NOT NULL DEFAULT 0,
    skipped             bigint      NOT NULL DEFAULT 0,
    cursor_key          bigint      NOT NULL DEFAULT 0,
    cursor_id           bigint      NOT NULL DEFAULT 0,
    error               text        NOT NULL DEFAULT '',
    created_by          bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    finished_at         timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    lease_owner         text        NOT NULL DEFAULT '',
    lease_until         timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00'
);
CREATE INDEX replays_project ON replays (project_id, id);
CREATE INDEX replays_active ON replays (updated_at, id) WHERE status IN ('queued', 'running');
