-- Coordination between nodes sharing this database.

-- Liveness: every node records a heartbeat; the deliveries leased by a node
-- silent for too long are taken over by the others.
CREATE TABLE nodes (
    owner        text        PRIMARY KEY,
    heartbeat_at timestamptz NOT NULL,
    started_at   timestamptz NOT NULL
);
CREATE INDEX deliveries_leased ON deliveries (lease_owner) WHERE state = 'pending' AND lease_owner <> '';

-- Destination and connection eps across nodes: the earliest start of the
-- next attempt under each limit (a GCRA without burst).
CREATE TABLE rate_slots (
    key     text        PRIMARY KEY,
    next_at timestamptz NOT NULL
);

-- Source eps across nodes: accepted events per 100 ms bucket.
CREATE TABLE source_rate (
    source_id bigint  NOT NULL,
    bucket    bigint  NOT NULL,
    n         integer NOT NULL,
    PRIMARY KEY (source_id, bucket)
);
