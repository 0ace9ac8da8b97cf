DROP INDEX events_source_id;
DROP TABLE device_codes;
ALTER TABLE api_tokens DROP COLUMN expires_at;
