-- Which statements wait for a lock, every 100 ms, and what the sessions
-- holding it are running (database "test": change it to yours):
--
--   psql -q -At -F'|' "$URL" -f docs/tools/pg-locks.sql > locks.log
select to_char(clock_timestamp(), 'HH24:MI:SS.MS'), a.pid, regexp_replace(left(a.query, 40), '\s+', ' ', 'g'),
    l.locktype, coalesce(l.relation::regclass::text, '-'), l.mode,
    (select string_agg(regexp_replace(left(b.query, 50), '\s+', ' ', 'g'), ' || ')
        from pg_stat_activity b where b.pid = any(pg_blocking_pids(a.pid)))
from pg_stat_activity a join pg_locks l on l.pid = a.pid and not l.granted
where a.datname = 'test'
\watch 0.1
