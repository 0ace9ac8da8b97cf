package storepg

// sqlLeaseSkipping is sqlLease for a lease that skips destinations
// (store.LeaseParams.SkipDestinations, the destinations whose lanes are
// full on this node). Walking deliveries_due would pass every due delivery
// of the skipped destinations first, and the engine skips a destination
// exactly when its backlog is too big for its lane: each such lease read
// the whole backlog. Here the destinations with pending deliveries are
// enumerated by skipping through deliveries_destination_due (one index
// probe each, however many deliveries they have), and each other
// destination's earliest due deliveries are read there; the earliest of
// those are leased. Rows the outer LIMIT leaves out stay locked only until
// the statement's transaction ends.
const sqlLeaseSkipping = `WITH RECURSIVE dest AS (
	(SELECT destination_id AS id FROM deliveries WHERE state = 'pending' ORDER BY destination_id LIMIT 1)
	UNION ALL
	SELECT (SELECT x.destination_id FROM deliveries x WHERE x.state = 'pending' AND x.destination_id > dest.id
		ORDER BY x.destination_id LIMIT 1)
	FROM dest WHERE dest.id IS NOT NULL
), pend AS MATERIALIZED (
	SELECT d.id, d.next_attempt_at AS at FROM dest CROSS JOIN LATERAL (
		SELECT id, next_attempt_at FROM deliveries
		WHERE state = 'pending' AND destination_id = dest.id AND next_attempt_at <= $2
		ORDER BY next_attempt_at LIMIT $5
		FOR UPDATE SKIP LOCKED) d
	WHERE dest.id IS NOT NULL AND dest.id <> ALL($4::bigint[])
	ORDER BY d.next_attempt_at LIMIT $5
)` + sqlLeaseTail
