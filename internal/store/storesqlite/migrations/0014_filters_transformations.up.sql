-- Connection filters and transformations (issue 13): a filter document and
-- a transformation per connection, why a delivery was filtered, what a
-- transformation printed or why it failed, with the attempt, and the path an
-- event was received on below its ingestion URL (which filters match).
--
-- Cost: adding columns with constant defaults only rewrites the schema, not
-- the rows, whatever the size of deliveries and attempts.
--
-- connections.transformation_id has no foreign key, so that the down
-- migration can drop it: SQLite cannot drop a column that is the child of a
-- foreign key. The store checks, in the writing transaction (SQLite has one
-- writer), that the transformation exists in the connection's project, and
-- refuses to delete a transformation a connection uses.
CREATE TABLE transformations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    code       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

ALTER TABLE connections ADD COLUMN filter TEXT;
ALTER TABLE connections ADD COLUMN transformation_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX connections_transformation ON connections (transformation_id) WHERE transformation_id <> 0;

ALTER TABLE deliveries ADD COLUMN reason TEXT NOT NULL DEFAULT '';

ALTER TABLE attempts ADD COLUMN transformation_logs TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN transformation_error TEXT NOT NULL DEFAULT '';

ALTER TABLE event_payloads ADD COLUMN path TEXT NOT NULL DEFAULT '';
