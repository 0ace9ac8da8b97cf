DROP TRIGGER attempts_metrics_insert;
DROP TRIGGER deliveries_metrics_delete;
DROP TRIGGER deliveries_metrics_update;
DROP TRIGGER deliveries_metrics_insert;
DROP TABLE connection_backlog;
DROP TABLE connection_latency;
DROP TABLE connection_minutes;
