-- Connection filters and transformations (issue 13): a filter document and
-- a transformation per connection, why a delivery was filtered, what a
-- transformation printed or why it failed, with the attempt, and the path an
-- event was received on below its ingestion URL (which filters match).
--
-- Cost: columns with constant defaults are added without rewriting rows
-- (PostgreSQL 11+), whatever the size of deliveries and attempts; the
-- index on connections is small.
CREATE TABLE transformations (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    code       text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT transformations_project_id_name_key UNIQUE (project_id, name)
);

ALTER TABLE connections ADD COLUMN filter text;
-- NO ACTION (checked at the end of the statement) lets a project's delete
-- cascade to its connections and transformations together.
ALTER TABLE connections ADD COLUMN transformation_id bigint REFERENCES transformations (id);
CREATE INDEX connections_transformation ON connections (transformation_id) WHERE transformation_id IS NOT NULL;

ALTER TABLE deliveries ADD COLUMN reason text NOT NULL DEFAULT '';

ALTER TABLE attempts ADD COLUMN transformation_logs text NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN transformation_error text NOT NULL DEFAULT '';

ALTER TABLE event_payloads ADD COLUMN path text NOT NULL DEFAULT '';
