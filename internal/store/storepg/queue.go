package storepg

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// sqlLease leases due deliveries and returns them with their events, in one
// statement. FOR UPDATE SKIP LOCKED makes nodes leasing at once take
// disjoint rows: a row another lease holds is skipped, and one it leased
// and committed meanwhile is re-checked, no longer due, and left out. An
// event leased with several deliveries is sent once, with the first.
const sqlLease = `WITH pend AS MATERIALIZED (
	SELECT id, next_attempt_at AS at FROM deliveries
	WHERE state = 'pending' AND next_attempt_at <= $2 AND destination_id <> ALL($4::bigint[])
	ORDER BY next_attempt_at LIMIT $5
	FOR UPDATE SKIP LOCKED
)` + sqlLeaseTail

// sqlLeaseTail leases the deliveries of the pend CTE (id, due time) and the
// held deliveries of resumed connections, earliest due first, and returns
// them with their events. A leased delivery is unfinished, so its event's
// status is pending by definition (sqlEventStatus): not read.
//
// A resumed connection's held deliveries are not released one by one: they
// stay held, and the lease takes them as if they were pending and due at the
// time the change was recorded (delivery_sweeps.created_at), moving each to
// pending as it leases it. Releasing them wrote every delivery of the
// backlog once more before its lease did (a dead tuple each, here). The
// resumed connections (sqlResumed) of destinations the lease skips are left
// out.
const sqlLeaseTail = `, resumed AS MATERIALIZED (
	SELECT s.connection_id, s.created_at FROM ` + sqlResumedSweeps + `
	WHERE ` + sqlResumed + ` AND s.created_at <= $2 AND t.id <> ALL($4::bigint[])
), held AS MATERIALIZED (
	SELECT h.id, s.created_at AS at FROM resumed s CROSS JOIN LATERAL (
		` + sqlHeld + ` LIMIT $5 FOR UPDATE SKIP LOCKED) h
), due AS (
	SELECT id FROM (SELECT id, at FROM pend UNION ALL SELECT id, at FROM held) u ORDER BY at LIMIT $5
), leased AS (
	UPDATE deliveries d SET state = 'pending', lease_owner = $1, lease_token = d.lease_token + 1, next_attempt_at = $3
	FROM due WHERE d.id = due.id
	RETURNING d.id, d.event_id, d.project_id, d.source_id, d.connection_id, d.destination_id, d.state, d.attempts,
		d.next_attempt_at, d.lease_owner, d.lease_token, d.created_at, d.ordering_key
), numbered AS (
	SELECT leased.*, row_number() OVER (PARTITION BY leased.event_id) = 1 AS first FROM leased
)
SELECT l.id, l.event_id, l.project_id, l.source_id, l.connection_id, l.destination_id, l.state, l.attempts,
	l.next_attempt_at, l.lease_owner, l.lease_token, l.created_at, l.ordering_key,
	l.first, e.event_id, e.project_id, e.source_id, coalesce(s.slug, ''), e.method, ep.query,
	CASE WHEN l.first THEN ep.headers END, CASE WHEN l.first THEN ep.body END, '` + volley.EventPending + `', e.created_at, ep.path, e.traceparent
FROM numbered l JOIN events e ON e.id = l.event_id JOIN event_payloads ep ON ep.event_id = e.id
	LEFT JOIN sources s ON s.id = e.source_id`

// DeliveryLease implements store.Traffic.
func (s *Store) DeliveryLease(ctx context.Context, p store.LeaseParams) ([]store.Job, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	lease := sqlLease
	if len(p.SkipDestinations) > 0 {
		lease = sqlLeaseSkipping
	}
	build := func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(lease, validText(p.Owner), ts(p.Now), ts(p.Until), nonNilSlice(p.SkipDestinations), p.Limit)
		return b
	}
	var jobs []store.Job
	var events map[uint64]*volley.Event
	err := s.bgSendBatch(ctx, build, func(br pgx.BatchResults) error {
		jobs, events = nil, map[uint64]*volley.Event{}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		return readLeased(rows, &jobs, events)
	})
	if err != nil {
		return nil, fmt.Errorf("lease deliveries: %w", err)
	}
	for i := range jobs {
		jobs[i].Event = *events[jobs[i].Delivery.EventID]
	}
	return jobs, nil
}

// readLeased reads the rows of a lease into jobs (without their events)
// and events (by id, each once).
func readLeased(rows pgx.Rows, jobs *[]store.Job, events map[uint64]*volley.Event) error {
	var d volley.Delivery
	var e volley.Event
	var first bool
	var query []byte
	var headers *string
	_, err := pgx.ForEachRow(rows, []any{&d.ID, &d.EventID, &d.ProjectID, &d.SourceID, &d.ConnectionID, &d.DestinationID,
		&d.State, &d.Attempts, &d.NextAttemptAt, &d.LeaseOwner, &d.LeaseToken, &d.CreatedAt, &d.OrderingKey,
		&first, &e.UID, &e.ProjectID, &e.SourceID, &e.SourceSlug, &e.Method, &query, &headers, &e.Body, &e.Status, &e.CreatedAt,
		&e.Path,
		&e.TraceParent,
	}, func() error {
		d.EventUID = e.UID
		*jobs = append(*jobs, store.Job{Delivery: d})
		if !first {
			return nil
		}
		ev := e
		ev.ID, ev.Query, ev.Body = d.EventID, string(query), nonNil(e.Body)
		if headers != nil {
			h, err := decodeHTTPHeader(*headers)
			if err != nil {
				return fmt.Errorf("event %d: %w", ev.ID, err)
			}
			ev.Headers = h
		}
		events[ev.ID] = &ev
		return nil
	})
	return err
}

// sqlAttemptInsert records attempts ($1…$18, in order) whose event still
// exists: one swept while its attempt was in flight has nothing left to
// record it on, and the batch's other outcomes must still apply (in
// PostgreSQL a failed statement would abort the whole transaction).
const sqlAttemptInsert = `INSERT INTO attempts (delivery_id, event_id, event_uid, project_id, source_id, connection_id,
	destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at,
	transformation_logs, transformation_error)
SELECT a.delivery_id, a.event_id, a.event_uid, a.project_id, a.source_id, a.connection_id, a.destination_id, a.number,
	a.trigger, a.status, a.status_code, a.error_reason, a.duration_ms, a.response_headers, a.response_body, a.created_at,
	a.transformation_logs, a.transformation_error
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::integer[],
	$9::text[], $10::text[], $11::integer[], $12::text[], $13::bigint[], $14::text[], $15::bytea[], $16::timestamptz[],
	$17::text[], $18::text[])
	WITH ORDINALITY AS a(delivery_id, event_id, event_uid, project_id, source_id, connection_id, destination_id, number,
		trigger, status, status_code, error_reason, duration_ms, response_headers, response_body, created_at,
		transformation_logs, transformation_error, ord)
WHERE EXISTS (SELECT 1 FROM events e WHERE e.id = a.event_id)
ORDER BY a.ord
RETURNING id`

// sqlFinish moves leased deliveries ($1…$7 by position: id, lease token,
// new state, attempts made, due time, finish time, now; $8 the reason) to their new state
// when their token still matches and they are still pending. A held
// outcome for a connection that is enabled again, with an active
// destination, makes the delivery due now instead: the worker saw it
// paused, and a resume that committed before this found nothing held to
// release.
//
// "state IS NOT DISTINCT FROM 'pending'" (the column is NOT NULL) is
// "state = 'pending'" that cannot be answered from the partial work-queue
// index: with "=", stale statistics (a queue that grew since the last
// ANALYZE) lead the planner to read every pending delivery through that
// index instead of looking the batch's deliveries up by id.
const sqlFinish = `UPDATE deliveries d SET state = o.state, attempts = d.attempts + o.counted,
	next_attempt_at = o.next_attempt_at, lease_owner = '', finished_at = o.finished_at, reason = o.reason
FROM (
	SELECT u.id, u.token, u.counted, u.finished_at, u.reason,
		CASE WHEN r.runnable THEN 'pending' ELSE u.state END AS state,
		CASE WHEN r.runnable THEN u.now ELSE u.next_attempt_at END AS next_attempt_at
	FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::integer[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[],
		$8::text[])
		AS u(id, token, state, counted, next_attempt_at, finished_at, now, reason)
	LEFT JOIN LATERAL (
		SELECT true AS runnable FROM deliveries x
		JOIN connections c ON c.id = x.connection_id JOIN destinations t ON t.id = c.destination_id
		WHERE u.state = 'held' AND x.id = u.id AND c.status = 'enabled' AND t.status = 'active'
	) r ON true
) o
WHERE d.id = o.id AND d.lease_token = o.token AND d.state IS NOT DISTINCT FROM 'pending'`

// sqlLockRunnable locks (FOR SHARE) the connections and destinations of
// deliveries about to be held. A ConnectionUpdate or DestinationUpdate on
// another node that enables them then either commits first, and sqlFinish
// sees it and releases, or waits for this transaction and then finds the
// deliveries held and releases them itself.
const sqlLockRunnable = `SELECT 1 FROM deliveries d
	JOIN connections c ON c.id = d.connection_id JOIN destinations t ON t.id = c.destination_id
	WHERE d.id = ANY($1::bigint[]) ORDER BY c.id FOR SHARE OF c, t`

// final reports whether a delivery state is final.
func final(state string) bool {
	return volley.DeliveryFinal(state)
}

// attemptArrays are the columns of attempts to insert with sqlAttemptInsert.
type attemptArrays struct {
	delivery, event, project, source, connection, destination []uint64
	number, code                                              []int
	uid, trigger, status, reason, headers, logs, tError       []string
	body                                                      [][]byte
	created                                                   []time.Time
	durationMS                                                []int64
}

func (a *attemptArrays) add(at *volley.Attempt) {
	a.delivery, a.event, a.uid = append(a.delivery, at.DeliveryID), append(a.event, at.EventID), append(a.uid, validText(at.EventUID))
	a.project, a.source = append(a.project, at.ProjectID), append(a.source, at.SourceID)
	a.connection, a.destination = append(a.connection, at.ConnectionID), append(a.destination, at.DestinationID)
	a.number, a.trigger, a.status = append(a.number, at.Number), append(a.trigger, at.Trigger), append(a.status, at.Status)
	a.code, a.reason, a.durationMS = append(a.code, at.StatusCode), append(a.reason, validText(at.ErrorReason)), append(a.durationMS, at.DurationMS)
	a.headers, a.body = append(a.headers, encodeHTTPHeader(at.ResponseHeaders)), append(a.body, nonNil(at.ResponseBody))
	a.created = append(a.created, ts(at.CreatedAt))
	a.logs, a.tError = append(a.logs, validText(at.TransformationLogs)), append(a.tError, validText(at.TransformationError))
}

func (a *attemptArrays) queue(b *pgx.Batch) {
	b.Queue(sqlAttemptInsert, a.delivery, a.event, a.uid, a.project, a.source, a.connection, a.destination, a.number,
		a.trigger, a.status, a.code, a.reason, a.durationMS, a.headers, a.body, a.created, a.logs, a.tError)
}

// DeliveryFinish implements store.Traffic.
//
// The whole batch is one pipelined round trip run as one implicit
// transaction. Deliveries are updated in id order, so that finishes on
// several nodes lock shared rows in one order.
func (s *Store) DeliveryFinish(ctx context.Context, outcomes []store.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	sorted := slices.Clone(outcomes)
	slices.SortStableFunc(sorted, func(a, b store.Outcome) int { return cmp.Compare(a.DeliveryID, b.DeliveryID) })
	n := len(sorted)
	ids, tokens, states, reasons := make([]uint64, n), make([]uint64, n), make([]string, n), make([]string, n)
	counted, next, finished, nows := make([]int, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	var held, touched, ended []uint64
	var attempts attemptArrays
	var recorded []*volley.Attempt
	var promoteAt time.Time
	for _, o := range outcomes { // attempts are recorded in the order given
		if o.Attempt != nil {
			attempts.add(o.Attempt)
			recorded = append(recorded, o.Attempt)
		}
	}
	for i, o := range sorted {
		ids[i], tokens[i], states[i], next[i], nows[i] = o.DeliveryID, o.LeaseToken, o.State, ts(o.NextAttemptAt), ts(o.Now)
		reasons[i] = validText(o.Reason)
		if o.Attempt != nil {
			// An attempt whose event is gone is not recorded, but its
			// delivery went with the event, so counting it changes nothing.
			counted[i] = 1
		}
		if final(o.State) {
			finished[i] = ts(o.Now)
			ended = append(ended, o.DeliveryID)
			promoteAt = later(promoteAt, ts(o.Now))
		}
		if o.State == volley.DeliveryHeld {
			held = append(held, o.DeliveryID)
		}
		if o.State != volley.DeliveryPending {
			touched = append(touched, o.EventID)
		}
	}
	slices.Sort(touched)
	touched = slices.Compact(touched)

	build := func() *pgx.Batch {
		b := &pgx.Batch{}
		if len(ended) > 0 {
			b.Queue(sqlFinishOrderLock, ended)
		}
		if len(held) > 0 {
			b.Queue(sqlLockRunnable, held)
		}
		if len(recorded) > 0 {
			attempts.queue(b)
		}
		b.Queue(sqlFinish, ids, tokens, states, counted, next, finished, nows, reasons)
		if len(ended) > 0 {
			b.Queue(sqlPromote, ended, promoteAt)
		}
		if len(touched) > 0 {
			queueEventStatus(b, touched)
		}
		return b
	}
	read := func(br pgx.BatchResults) error {
		if len(ended) > 0 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("lock ordering keys: %w", err)
			}
		}
		if len(held) > 0 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("lock connections: %w", err)
			}
		}
		if len(recorded) > 0 {
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("insert attempts: %w", err)
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[uint64])
			if err != nil {
				return fmt.Errorf("insert attempts: %w", err)
			}
			if len(ids) == len(recorded) { // else some events were swept: ids are unknown
				for i, id := range ids {
					recorded[i].ID = id
				}
			}
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("update deliveries: %w", err)
		}
		if len(ended) > 0 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("promote parked deliveries: %w", err)
			}
		}
		if len(touched) > 0 {
			return readEventStatus(br)
		}
		return nil
	}
	err := s.bgSendBatch(ctx, build, read)
	if pgCode(err) == codeForeignKey {
		// An event was swept between the attempts' existence check and
		// their insert: run the batch again, which skips it.
		err = s.bgSendBatch(ctx, build, read)
	}
	if err == nil && putBackNow(outcomes) {
		s.notify(ctx, channelWork) // given back unattempted: any node may take them
	}
	return wrap(err, "finish deliveries")
}

// DeliveryReplayed implements store.Traffic.
func (s *Store) DeliveryReplayed(ctx context.Context, recorded ...*volley.Attempt) error {
	if len(recorded) == 0 {
		return nil
	}
	var attempts attemptArrays
	var ids, events []uint64
	var finished []time.Time
	var latest time.Time // promoted deliveries are due then
	for _, a := range recorded {
		attempts.add(a)
		if a.Status == volley.AttemptSuccess {
			ids, finished, events = append(ids, a.DeliveryID), append(finished, ts(a.CreatedAt)), append(events, a.EventID)
			if t := ts(a.CreatedAt); t.After(latest) {
				latest = t
			}
		}
	}
	build := func() *pgx.Batch {
		b := &pgx.Batch{}
		attempts.queue(b)
		if len(ids) > 0 {
			// A replay that succeeds finishes the delivery, which may have
			// been its key's head: lock the keys, finish, promote.
			b.Queue(sqlFinishOrderLock, ids)
			b.Queue(`UPDATE deliveries d SET state = 'success', lease_owner = '', finished_at = u.finished
				FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, finished) WHERE d.id = u.id`, ids, finished)
			b.Queue(sqlPromote, ids, latest)
			queueEventStatus(b, events)
		}
		return b
	}
	err := s.sendBatch(ctx, build, func(br pgx.BatchResults) error {
		// The events' existence is checked by the insert: an attempt not
		// inserted means its event is gone, and so is its delivery.
		rows, err := br.Query()
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[uint64])
		if err != nil {
			return err
		}
		if len(got) == len(recorded) { // else some events were swept: ids are unknown
			for i, id := range got {
				recorded[i].ID = id
			}
		}
		if len(ids) > 0 {
			for range 3 {
				if _, err := br.Exec(); err != nil {
					return err
				}
			}
			return readEventStatus(br)
		}
		return nil
	})
	return wrap(err, "record replay")
}

// DeliveryResetLeases implements store.Traffic.
func (s *Store) DeliveryResetLeases(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET next_attempt_at = $1, lease_owner = ''
		WHERE state = 'pending' AND lease_owner <> ''`, ts(now))
	if err != nil {
		return 0, wrap(err, "reset leases")
	}
	return tag.RowsAffected(), nil
}

// sqlNextDue is the earliest due time of the pending deliveries: the first
// entry of deliveries_due. Its ORDER BY is that index's own order, so no
// statistics make another plan cheaper. As min(next_attempt_at), with
// statistics that counted no pending delivery (an ANALYZE while the
// backlog was held), the planner read every entry of
// deliveries_destination_due instead: 0.3–1 s a call with a million due,
// and the leaser calls it after every short lease of a drain
// (TestDeliveryDuePlan, docs/benchmarks.md).
// The held deliveries of resumed connections count as due from the time
// their sweep was recorded (sqlLeaseTail).
const sqlNextDue = `SELECT least((SELECT next_attempt_at FROM deliveries WHERE state = 'pending'
	ORDER BY next_attempt_at, destination_id LIMIT 1), (` + sqlResumedDue + `))`

// sqlResumedDue is the earliest time from which held deliveries of a
// resumed connection are due (NULL when there are none).
const sqlResumedDue = `SELECT min(s.created_at) FROM ` + sqlResumedSweeps + `
	WHERE ` + sqlResumed + ` AND (` + sqlHeld + ` LIMIT 1) IS NOT NULL`

// A connection is resumed when it has a sweep recorded and is enabled with
// an active destination. sqlResumedSweeps joins the sweeps (s) to their
// connections (c) and destinations (t); sqlResumed is the condition on
// that join. delivery_sweeps holds a row per connection changed and not yet
// swept: a handful.
const (
	sqlResumedSweeps = `delivery_sweeps s JOIN connections c ON c.id = s.connection_id
		JOIN destinations t ON t.id = c.destination_id`
	sqlResumed = `c.status = 'enabled' AND t.status = 'active'`
)

// sqlHeld selects the held deliveries of the connection of the row s (its
// connection_id), in deliveries_connection's order: a seek in that index,
// so that no statistics make a scan of the table look cheaper (every held
// delivery is finished_at 0 or NULL, so the order costs nothing). Used as a
// scalar subquery where only whether there is one matters: an EXISTS could
// be planned as a semi-join over the whole table.
const sqlHeld = `SELECT id FROM deliveries WHERE connection_id = s.connection_id AND state = 'held' ORDER BY finished_at`

// DeliveryNextDue implements store.Traffic.
func (s *Store) DeliveryNextDue(ctx context.Context) (time.Time, error) {
	var next *time.Time
	if err := s.pool.QueryRow(ctx, sqlNextDue).Scan(&next); err != nil {
		return time.Time{}, wrap(err, "next due delivery")
	}
	if next == nil {
		return time.Time{}, nil
	}
	return *next, nil
}

// holdDeliveries moves the pending deliveries matching cond (whose
// arguments are $1, …) to held, except leased ones: a leased delivery is
// checked by its worker before it is sent. It returns how many it moved.
func holdDeliveries(ctx context.Context, tx pgx.Tx, cond string, args ...any) (int64, error) {
	tag, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'held'
		WHERE state = 'pending' AND lease_owner = '' AND (`+cond+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("hold deliveries: %w", err)
	}
	return tag.RowsAffected(), nil
}

// cancelDeliveries cancels the unfinished deliveries matching cond (whose
// arguments are $2, …), recomputes their events' statuses, and returns how
// many it cancelled.
func cancelDeliveries(ctx context.Context, tx pgx.Tx, now time.Time, cond string, args ...any) (int64, error) {
	rows, err := tx.Query(ctx, `UPDATE deliveries SET state = 'cancelled', lease_owner = '', finished_at = $1
		WHERE state IN ('pending', 'held', 'parked') AND (`+cond+`) RETURNING event_id`, append([]any{ts(now)}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("cancel deliveries: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowTo[uint64])
	if err != nil {
		return 0, fmt.Errorf("cancel deliveries: %w", err)
	}
	n := int64(len(events))
	if n == 0 {
		return 0, nil
	}
	slices.Sort(events)
	if err := updateEventStatus(ctx, tx, slices.Compact(events)); err != nil {
		return 0, err
	}
	return n, nil
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// putBackNow reports whether outcomes make deliveries due again right away
// (put back by a draining or overloaded node, or released from hold).
func putBackNow(outcomes []store.Outcome) bool {
	for _, o := range outcomes {
		if o.State == volley.DeliveryPending && o.Attempt == nil && !o.NextAttemptAt.After(o.Now.Add(time.Second)) {
			return true
		}
	}
	return false
}
