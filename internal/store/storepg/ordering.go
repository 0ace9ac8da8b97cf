package storepg

import (
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// FIFO ordering (see store.Traffic.EventInsert). A node inserting a
// delivery of a key and a node finishing the key's head run at READ
// COMMITTED, each blind to the other's uncommitted rows: the insert could
// park behind a head that is finishing, and the finish find nothing parked
// to promote, leaving the new delivery parked for ever. Both transactions
// therefore take a transaction-level advisory lock on each (connection,
// key) they check or free, before reading, in sorted order (so two of them
// never wait on each other in a cycle); each statement after the lock sees
// what the previous holder committed. The two-key form keeps these locks
// apart from the idempotency keys' one-key locks.

// sqlOrderLock locks the (connection, key) pairs $1, $2 (by position).
// The sorted subquery fixes the order the locks are taken in.
const sqlOrderLock = `SELECT pg_advisory_xact_lock(k.a, k.b) FROM (
	SELECT DISTINCT (u.c % 2147483647)::integer AS a, hashtext(u.k) AS b
	FROM unnest($1::bigint[], $2::text[]) AS u(c, k) ORDER BY 1, 2) k`

// sqlFinishOrderLock locks the (connection, key) pairs of the deliveries
// $1 that have a key, as sqlOrderLock does.
const sqlFinishOrderLock = `SELECT pg_advisory_xact_lock(k.a, k.b) FROM (
	SELECT DISTINCT (connection_id % 2147483647)::integer AS a, hashtext(ordering_key) AS b
	FROM deliveries WHERE id = ANY($1::bigint[]) AND ordering_key <> '' ORDER BY 1, 2) k`

// sqlKeyBusy is true when the key of the row u (connection_id,
// ordering_key) has an unfinished delivery.
const sqlKeyBusy = `EXISTS (SELECT 1 FROM deliveries x
	WHERE x.connection_id = u.connection_id AND x.ordering_key = u.ordering_key
		AND x.ordering_key <> '' AND x.state IN ('pending', 'held', 'parked'))`

// sqlPromote makes, for each key of the deliveries $1 that finished, the
// key's first parked delivery (lowest id) due at $2 (or at its own due
// time, if later: a connection's delay), once no delivery of the key is
// pending or held any more. (The queries on deliveries_ordering repeat its
// WHERE clause, so that the planner need not prove it; the head is looked
// for once per state, each a seek on the key and state: "state IN
// ('pending', 'held')" would read every parked delivery of the key. The
// checks sit in the LATERAL subquery, whose LIMIT keeps the planner from
// turning them into anti joins that read every head of every key.) Guarded so, it is right to run after any
// delivery of a key finished, whether or not it was the key's head, and
// when a stale outcome changed nothing.
const sqlPromote = `UPDATE deliveries d SET state = 'pending', next_attempt_at = greatest(d.next_attempt_at, $2)
FROM (SELECT DISTINCT connection_id, ordering_key FROM deliveries
		WHERE id = ANY($1::bigint[]) AND ordering_key <> '') k
	CROSS JOIN LATERAL (SELECT p.id FROM deliveries p
		WHERE p.connection_id = k.connection_id AND p.ordering_key = k.ordering_key AND p.ordering_key <> ''
			AND p.state IN ('pending', 'held', 'parked') AND p.state = 'parked'
			AND NOT EXISTS (SELECT 1 FROM deliveries h WHERE h.connection_id = k.connection_id
				AND h.ordering_key = k.ordering_key AND h.ordering_key <> ''
				AND h.state IN ('pending', 'held', 'parked') AND h.state = 'pending')
			AND NOT EXISTS (SELECT 1 FROM deliveries h WHERE h.connection_id = k.connection_id
				AND h.ordering_key = k.ordering_key AND h.ordering_key <> ''
				AND h.state IN ('pending', 'held', 'parked') AND h.state = 'held')
		ORDER BY p.id LIMIT 1) n
WHERE d.id = n.id`

// orderKey is an ordering key on its connection.
type orderKey struct {
	connection uint64
	key        string
}

// orderedKeys returns the (connection, key) pairs of a batch's unfinished
// deliveries that have an ordering key, by position, each once.
func orderedKeys(events []store.NewEvent) (conns []uint64, keys []string) {
	seen := map[orderKey]bool{}
	for i := range events {
		for _, d := range events[i].Deliveries {
			k := orderKey{d.ConnectionID, d.OrderingKey}
			if d.OrderingKey == "" || volley.DeliveryFinal(d.State) || seen[k] {
				continue
			}
			seen[k] = true
			conns, keys = append(conns, k.connection), append(keys, validText(k.key))
		}
	}
	return conns, keys
}

// park makes a delivery being inserted wait behind the unfinished one of
// its ordering key. One handed straight to a worker is not leased after
// all, and is due when the event arrived; a delayed one keeps its due
// time, which its promotion respects.
func park(d *volley.Delivery, created time.Time) {
	if d.LeaseOwner != "" {
		d.NextAttemptAt = created
	}
	d.State, d.LeaseOwner, d.LeaseToken = volley.DeliveryParked, "", 0
}
