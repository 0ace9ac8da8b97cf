-- Event payloads apart, compressed, searchable (issue 8).
--
-- events keeps what changes or is filtered on (status, times, ids) and
-- gains external_id, the provider's own id of the webhook (the first of
-- the X-GitHub-Delivery, webhook-id, svix-id, X-Shopify-Webhook-Id and
-- X-Gitlab-Event-UUID headers, else the body's top-level "id" string; see
-- payload.ExternalID), searched exactly through its index. The immutable
-- payload (query, headers, body) moves to event_payloads, one row per
-- event, deleted with it (ON DELETE CASCADE). New rows' headers and bodies
-- are zstd frames when that saves 10% (encoding: bit 1 the body, bit 2
-- the headers); the rows copied here stay raw (encoding 0).
--
-- Bodies have no full-text index on SQLite (PostgreSQL has one): an FTS5
-- index filled in the ingest transaction made ingest quadratic on a
-- growing store (its segment merges, 7 s per 20,000 events at first, 24 s
-- by 60,000); the search reads the project's payloads instead.
--
-- Cost: every payload is copied and parsed for its provider id,
-- in one transaction, at the first start of this version: linear in the
-- events table, like 0003 (3.4 s per 200,000 events on SQLite). Not yet
-- measured at 200,000 events for this migration: see the layout branch's
-- report; measure before upgrading a multi-million-event store.

CREATE TABLE new_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT    NOT NULL UNIQUE,
    project_id  INTEGER NOT NULL,
    source_id   INTEGER NOT NULL,
    method      TEXT    NOT NULL,
    status      TEXT    NOT NULL, -- derived from deliveries
    created_at  INTEGER NOT NULL,
    external_id TEXT              -- the provider's id of the webhook, if any
);
INSERT INTO new_events (id, event_id, project_id, source_id, method, status, created_at, external_id)
    SELECT id, event_id, project_id, source_id, method, status, created_at, (
        SELECT x FROM (
            SELECT json_extract(headers, '$."X-Github-Delivery"[0]') AS x, 1 AS o
            UNION ALL SELECT json_extract(headers, '$."Webhook-Id"[0]'), 2
            UNION ALL SELECT json_extract(headers, '$."Svix-Id"[0]'), 3
            UNION ALL SELECT json_extract(headers, '$."X-Shopify-Webhook-Id"[0]'), 4
            UNION ALL SELECT json_extract(headers, '$."X-Gitlab-Event-Uuid"[0]'), 5
            UNION ALL SELECT CASE WHEN json_valid(CAST(body AS TEXT))
                AND json_type(CAST(body AS TEXT), '$.id') = 'text' THEN json_extract(CAST(body AS TEXT), '$.id') END, 6)
        WHERE typeof(x) = 'text' AND length(CAST(x AS BLOB)) BETWEEN 1 AND 200 ORDER BY o LIMIT 1)
    FROM events;

CREATE TABLE event_payloads (
    event_id INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    encoding INTEGER NOT NULL DEFAULT 0, -- 1: body is zstd, 2: headers are zstd
    query    TEXT    NOT NULL,
    headers  BLOB    NOT NULL, -- JSON object of string arrays
    body     BLOB    NOT NULL
);
INSERT INTO event_payloads (event_id, encoding, query, headers, body)
    SELECT id, 0, query, headers, body FROM events;


-- The copy set sqlite_sequence to the highest id copied; keep the highest
-- ever handed out (see 0003).
CREATE TEMP TABLE events_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'events';
DROP TABLE events;
ALTER TABLE new_events RENAME TO events;
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(seq) FROM temp.events_seq), 0)) WHERE name = 'events';
DROP TABLE temp.events_seq;

CREATE INDEX events_project_created ON events (project_id, created_at);
CREATE INDEX events_project_status ON events (project_id, status, created_at);
CREATE INDEX events_source_created ON events (source_id, created_at);
CREATE INDEX events_external_id ON events (external_id) WHERE external_id IS NOT NULL;

