DROP TRIGGER events_received_insert;
DROP TABLE project_hours;
