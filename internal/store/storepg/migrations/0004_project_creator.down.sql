ALTER TABLE projects DROP COLUMN account_id;
