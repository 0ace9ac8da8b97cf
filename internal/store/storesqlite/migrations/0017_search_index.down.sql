DROP INDEX attempts_project_status_code;
DROP INDEX attempts_project_duration;
DROP INDEX attempts_project_failed;
DROP TABLE search_index;
DROP TABLE event_search;
