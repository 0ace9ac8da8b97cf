DROP INDEX events_source_commit;
ALTER TABLE events DROP COLUMN commit_xid;
DROP TABLE device_codes;
ALTER TABLE api_tokens DROP COLUMN expires_at;
