-- Back to events holding their payloads. Compressed payloads are decoded
-- by volley_decode, a function the store registers with SQLite: this runs
-- only through volley migrate.

CREATE TABLE new_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT    NOT NULL UNIQUE,
    project_id INTEGER NOT NULL,
    source_id  INTEGER NOT NULL,
    method     TEXT    NOT NULL,
    query      TEXT    NOT NULL,
    headers    TEXT    NOT NULL, -- JSON object of string arrays
    body       BLOB    NOT NULL,
    status     TEXT    NOT NULL, -- derived from deliveries
    created_at INTEGER NOT NULL
);
INSERT INTO new_events (id, event_id, project_id, source_id, method, query, headers, body, status, created_at)
    SELECT e.id, e.event_id, e.project_id, e.source_id, e.method, p.query,
        CAST(volley_decode(p.encoding & 2, p.headers) AS TEXT), volley_decode(p.encoding & 1, p.body),
        e.status, e.created_at
    FROM events e JOIN event_payloads p ON p.event_id = e.id;

DROP TABLE event_payloads;
CREATE TEMP TABLE events_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'events';
DROP TABLE events;
ALTER TABLE new_events RENAME TO events;
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(seq) FROM temp.events_seq), 0)) WHERE name = 'events';
DROP TABLE temp.events_seq;
CREATE INDEX events_project_created ON events (project_id, created_at);
CREATE INDEX events_project_status ON events (project_id, status, created_at);
CREATE INDEX events_source_created ON events (source_id, created_at);
