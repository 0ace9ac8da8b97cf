-- Connections whose deliveries must catch up with a configuration change
-- (pause, resume, disable, delete): DeliverySweep applies it in small
-- batches so that the change itself costs the same whatever the backlog.
-- generation grows with every change, so a sweep finishing an earlier one
-- does not forget a later one.
CREATE TABLE delivery_sweeps (
    connection_id INTEGER PRIMARY KEY,
    generation    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
