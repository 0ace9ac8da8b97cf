-- What a PostgreSQL server is busy with, every 100 ms: the active statements
-- of database "test" (change it to yours) with their wait events and how long
-- each has run. Run it beside `volley bench --scale N --database …` and count
-- the lines by statement and wait event (docs/benchmarks.md, "PostgreSQL at
-- 2,000,000 events: the next-due plan"):
--
--   psql -q -At -F'|' "$URL" -f docs/tools/pg-activity.sql > activity.log
--   awk -F'|' '{print $3"/"$4, substr($6,1,30)}' activity.log | sort | uniq -c | sort -rn
select to_char(clock_timestamp(), 'HH24:MI:SS.MS'), pid, coalesce(wait_event_type, '-'), coalesce(wait_event, '-'),
    round(extract(epoch from clock_timestamp() - query_start) * 1000), regexp_replace(left(query, 70), '\s+', ' ', 'g')
from pg_stat_activity
where state = 'active' and pid <> pg_backend_pid() and datname = 'test'
\watch 0.1
