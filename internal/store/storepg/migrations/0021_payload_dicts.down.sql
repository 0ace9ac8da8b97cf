DROP TABLE payload_dicts;
