DROP TABLE source_rate;
DROP TABLE rate_slots;
DROP INDEX deliveries_leased;
DROP TABLE nodes;
