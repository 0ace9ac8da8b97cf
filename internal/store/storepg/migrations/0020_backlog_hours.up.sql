-- Each project's delivery backlog over time, for the console's overview: the
-- backlog counters (connection_backlog of migration 0007) and the oldest
-- pending event are current values only. The sampler (internal/backlog) of
-- every node reads them every minute for the projects that have a backlog,
-- and keeps the highest of each hour here (store.BacklogSample): an upsert
-- of the maximum, so nodes sampling the same minute change nothing for each
-- other, and a row is only rewritten when a sample exceeds it.
--
-- project_id 0 marks the hours the sampler ran at all: an hour with that row
-- and none for a project had no backlog in that project, an hour without it
-- was not sampled (no node was running). Rows of hours before the retention
-- period go with ConnectionMetricsDelete.
CREATE TABLE backlog_hours (
    project_id bigint      NOT NULL,
    hour       timestamptz NOT NULL,
    backlog    bigint      NOT NULL, -- most pending and held deliveries sampled
    oldest_age bigint      NOT NULL, -- greatest age of the oldest pending event sampled, in seconds
    PRIMARY KEY (project_id, hour)
);
CREATE INDEX backlog_hours_hour ON backlog_hours (hour);
