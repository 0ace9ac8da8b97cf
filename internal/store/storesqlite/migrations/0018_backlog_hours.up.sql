-- Each project's delivery backlog over time, for the console's overview: the
-- backlog counters (connection_backlog of migration 0006) and the oldest
-- pending event are current values only. The sampler (internal/backlog)
-- reads them every minute for the projects that have a backlog, and keeps
-- the highest of each hour here (store.BacklogSample): an upsert of the
-- maximum, so a sample taken twice changes nothing.
--
-- project_id 0 marks the hours the sampler ran at all: an hour with that row
-- and none for a project had no backlog in that project, an hour without it
-- was not sampled (no node was running). Rows of hours before the retention
-- period go with ConnectionMetricsDelete.
CREATE TABLE backlog_hours (
    project_id INTEGER NOT NULL,
    hour       INTEGER NOT NULL, -- Unix time / 3600
    backlog    INTEGER NOT NULL, -- most pending and held deliveries sampled
    oldest_age INTEGER NOT NULL, -- greatest age of the oldest pending event sampled, in seconds
    PRIMARY KEY (project_id, hour)
) WITHOUT ROWID;
CREATE INDEX backlog_hours_hour ON backlog_hours (hour);
