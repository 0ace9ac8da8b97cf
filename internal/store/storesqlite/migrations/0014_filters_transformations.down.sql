ALTER TABLE event_payloads DROP COLUMN path;
ALTER TABLE attempts DROP COLUMN transformation_error;
ALTER TABLE attempts DROP COLUMN transformation_logs;
ALTER TABLE deliveries DROP COLUMN reason;
DROP INDEX connections_transformation;
ALTER TABLE connections DROP COLUMN transformation_id;
ALTER TABLE connections DROP COLUMN filter;
DROP TABLE transformations;
