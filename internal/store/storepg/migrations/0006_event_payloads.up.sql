-- Event payloads apart from the events row, searchable (issue 8).
--
-- events.status is rewritten as deliveries finish, and every UPDATE writes
-- a new version of the whole row; with 1 KiB bodies inline, a drain of 1M
-- events grew the table from 1.54 to 2.35 GB. The immutable payload
-- (query, headers, body) moves to event_payloads, one row per event,
-- deleted with it (ON DELETE CASCADE); events keeps narrow columns, and
-- gains external_id, the provider's own id of the webhook (the first of
-- the X-GitHub-Delivery, webhook-id, svix-id, X-Shopify-Webhook-Id and
-- X-Gitlab-Event-UUID headers, else the body's top-level "id" string; see
-- payload.ExternalID), searched exactly through its index.
--
-- Compression is PostgreSQL's own: lz4, kept inline (STORAGE MAIN) so that
-- reading a payload is one heap fetch. The database decompresses, so
-- searches check bodies in SQL. Correction (2026-12-03): PostgreSQL
-- compresses only rows longer than its compile-time TOAST_TUPLE_THRESHOLD
-- (about 2 KB); toast_tuple_target = 128 does not lower that, so payloads
-- of smaller webhooks are stored as they came (BenchmarkStoreSizePG:
-- none of 20,000 1 KiB bodies compressed).
--
-- The search index is a GIN full-text index ('simple' configuration: no
-- stemming, no stop words) of the first 128 KiB of each body;
-- volley_body_text reads a body as UTF-8 text, or, when it is not, as its
-- escaped bytes (ASCII words stay words).
--
-- Old events rows keep their dropped columns' bytes until rewritten (a
-- status update or VACUUM FULL events); the space is then reused.
--
-- Cost: every payload is copied, parsed for its provider id and indexed,
-- in one transaction, at the first start of this version: linear in the
-- events table, like 0003 (3.4 s per 200,000 events on SQLite). Not yet
-- measured at 200,000 events for this migration: see the layout branch's
-- report; measure before upgrading a multi-million-event store.

CREATE FUNCTION volley_body_text(b bytea) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN convert_from(b, 'UTF8');
EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
    RETURN encode(b, 'escape');
END $$;

CREATE TABLE event_payloads (
    event_id bigint NOT NULL CONSTRAINT event_payloads_pkey PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    query    bytea  NOT NULL,
    headers  text   COMPRESSION lz4 NOT NULL, -- JSON object of string arrays
    body     bytea  COMPRESSION lz4 NOT NULL
) WITH (toast_tuple_target = 128);
ALTER TABLE event_payloads ALTER COLUMN headers SET STORAGE MAIN, ALTER COLUMN body SET STORAGE MAIN;

INSERT INTO event_payloads (event_id, query, headers, body) SELECT id, query, headers, body FROM events;

-- The body's top-level "id" string, if the body is a JSON object; only
-- this migration needs it (new events' ids are found as they arrive).
CREATE FUNCTION pg_temp.volley_json_id(b bytea) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE j jsonb;
BEGIN
    IF get_byte(b, 0) <> 123 THEN -- '{'
        RETURN NULL;
    END IF;
    j := convert_from(b, 'UTF8')::jsonb;
    IF jsonb_typeof(j -> 'id') = 'string' THEN
        RETURN j ->> 'id';
    END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

ALTER TABLE events DROP COLUMN query, DROP COLUMN headers, DROP COLUMN body, ADD COLUMN external_id text;
UPDATE events e SET external_id = x.id FROM (
    SELECT p.event_id, (SELECT v FROM (VALUES
        (h.j -> 'X-Github-Delivery' ->> 0, 1), (h.j -> 'Webhook-Id' ->> 0, 2), (h.j -> 'Svix-Id' ->> 0, 3),
        (h.j -> 'X-Shopify-Webhook-Id' ->> 0, 4), (h.j -> 'X-Gitlab-Event-Uuid' ->> 0, 5),
        (CASE WHEN length(p.body) > 0 THEN pg_temp.volley_json_id(p.body) END, 6)) AS c(v, o)
        WHERE octet_length(v) BETWEEN 1 AND 200 ORDER BY o LIMIT 1) AS id
    FROM event_payloads p, LATERAL (SELECT p.headers::jsonb AS j) h
) x WHERE e.id = x.event_id AND x.id IS NOT NULL;

CREATE INDEX events_external_id ON events (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX event_payloads_search ON event_payloads
    USING gin (to_tsvector('simple'::regconfig, left(volley_body_text(body), 131072)));
DROP FUNCTION pg_temp.volley_json_id(bytea);
