DROP TABLE backlog_hours;
