-- Back to migration 0007's shards: txid % 8 for every transaction.
CREATE OR REPLACE FUNCTION metrics_shard() RETURNS smallint LANGUAGE sql VOLATILE
    RETURN (txid_current() % 8)::smallint;
