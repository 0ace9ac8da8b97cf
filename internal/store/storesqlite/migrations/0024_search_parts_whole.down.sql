ALTER TABLE search_parts DROP COLUMN whole;
