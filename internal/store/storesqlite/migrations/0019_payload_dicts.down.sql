-- Payloads compressed with a dictionary cannot be read without it: going
-- down past this version needs them decoded first, which this step does
-- not do. It refuses while any dictionary exists (the CHECK fails), rather
-- than lose them.
CREATE TEMP TABLE payload_dicts_guard (n INTEGER CHECK (n = 0));
INSERT INTO payload_dicts_guard SELECT count(*) FROM payload_dicts;
DROP TABLE payload_dicts_guard;
DROP TABLE payload_dicts;
