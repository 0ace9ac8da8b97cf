ALTER TABLE destinations DROP COLUMN insecure_skip_verify;
