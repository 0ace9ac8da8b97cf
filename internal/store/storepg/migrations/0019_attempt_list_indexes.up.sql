-- Indexes for the attempt lists' status filter and sorts (issue 8): each
-- starts with the project and ends in the list's order, ties by id, so a
-- page of failed attempts, or of the slowest or highest status codes,
-- reads only its own rows instead of sorting the project's attempts.
-- Failed attempts have a partial index: the filter names 'failed' as a
-- literal (storesql.AttemptFilters), and successes need none (they are
-- most attempts, so a walk of the project's attempts finds them at once).
--
-- Cost: built by this migration, reading the attempts table once (linear
-- in it); writes to attempts wait for the build. Then one entry per
-- attempt in the two full indexes and one per failed attempt in the
-- partial one.
CREATE INDEX attempts_project_failed ON attempts (project_id, created_at, id) WHERE status = 'failed';
CREATE INDEX attempts_project_duration ON attempts (project_id, duration_ms, id);
CREATE INDEX attempts_project_status_code ON attempts (project_id, status_code, id);
