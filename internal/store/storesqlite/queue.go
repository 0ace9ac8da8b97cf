package storesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// sqlReleaseIfRunnable makes a held delivery due again when its connection
// is enabled and its destination active.
const sqlReleaseIfRunnable = `UPDATE deliveries SET state = 'pending', next_attempt_at = ?
	WHERE id = ? AND state = 'held' AND EXISTS (SELECT 1 FROM connections c JOIN destinations d ON d.id = c.destination_id
		WHERE c.id = deliveries.connection_id AND ` + sqlRunnable + `)`

// The lease's updates (?1 the owner, ?2 the lease's end): the earliest due
// pending deliveries (?3 now, ?4 the limit), pending ones by id, and held
// ones of resumed connections by id (?3 a JSON array, idList). Two for the
// ids: naming state in the pending ones' SET would make SQLite rewrite
// their entries in every index on state.
const (
	sqlLeaseSet = `UPDATE deliveries SET lease_owner = ?1, lease_token = lease_token + 1, next_attempt_at = ?2`
	sqlLeased   = ` RETURNING id, event_id, project_id, source_id, connection_id, destination_id, state, attempts,
		next_attempt_at, lease_owner, lease_token, created_at, ordering_key`
	sqlLeaseDue = sqlLeaseSet + ` WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?3
		ORDER BY next_attempt_at LIMIT ?4)` + sqlLeased
	sqlLeasePending = sqlLeaseSet + ` WHERE id IN (SELECT value FROM json_each(?3))` + sqlLeased
	sqlLeaseHeld    = sqlLeaseSet + `, state = 'pending' WHERE state = 'held' AND id IN (SELECT value FROM json_each(?3))` + sqlLeased
)

// DeliveryLeaseBatch is how many deliveries, of at most max, the engine
// should lease at once: as many as hold the writer about holdTarget at the
// cost past leases measured (holdsize.go). Leasing a resumed connection's
// held deliveries writes more per delivery than leasing pending ones
// (lease.go), and the leaser runs its leases back to back during a drain.
func (s *Store) DeliveryLeaseBatch(max int) int { return s.leaseSize.size(max) }

// DeliveryLease implements store.Traffic.
func (s *Store) DeliveryLease(ctx context.Context, p store.LeaseParams) ([]store.Job, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	var jobs []store.Job
	byEvent := map[uint64][]int{} // jobs by event
	hold, err := s.txHeld(ctx, background(writeLease), func(tx *sql.Tx) error {
		h := s.hot(tx)
		lease := func(query string, args ...any) error {
			rows, err := h.QueryContext(ctx, query, append([]any{p.Owner, micros(p.Until)}, args...)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var d volley.Delivery
				var next, created int64
				if err := rows.Scan(&d.ID, &d.EventID, &d.ProjectID, &d.SourceID, &d.ConnectionID, &d.DestinationID,
					&d.State, &d.Attempts, &next, &d.LeaseOwner, &d.LeaseToken, &created, &d.OrderingKey); err != nil {
					return err
				}
				d.NextAttemptAt, d.CreatedAt = fromMicros(next), fromMicros(created)
				byEvent[d.EventID] = append(byEvent[d.EventID], len(jobs))
				jobs = append(jobs, store.Job{Delivery: d})
			}
			return rows.Err()
		}
		pk, err := leasePick(ctx, h, p)
		switch {
		case err != nil:
			return err
		case pk.due:
			return lease(sqlLeaseDue, micros(p.Now), p.Limit)
		}
		if len(pk.pending) > 0 {
			if err := lease(sqlLeasePending, idList(pk.pending)); err != nil {
				return err
			}
		}
		if len(pk.held) > 0 {
			return lease(sqlLeaseHeld, idList(pk.held))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lease deliveries: %w", err)
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	s.leaseSize.observe(len(jobs), hold)
	// The events are read after the commit, from a read connection: the
	// lease holds the writer only for its update. Nothing changes them
	// meanwhile but a deletion of their project, which deletes their
	// deliveries too: a job whose event is gone is dropped.
	ids := make([]any, 0, len(byEvent))
	for id := range byEvent {
		ids = append(ids, id)
	}
	erows, err := s.read.QueryContext(ctx, `SELECT `+eventCols+eventFrom+` WHERE e.id IN (?`+
		strings.Repeat(", ?", len(ids)-1)+`)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("lease deliveries: read events: %w", err)
	}
	events, err := collect(erows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("lease deliveries: read events: %w", err)
	}
	for _, e := range events {
		for _, i := range byEvent[e.ID] {
			jobs[i].Event = e
			jobs[i].Delivery.EventUID = e.UID
		}
	}
	return slices.DeleteFunc(jobs, func(j store.Job) bool { return j.Event.ID == 0 }), nil
}

func insertAttempt(ctx context.Context, st *sql.Stmt, a *volley.Attempt) error {
	r, err := st.ExecContext(ctx, a.DeliveryID, a.EventID, a.EventUID, a.ProjectID, a.SourceID, a.ConnectionID,
		a.DestinationID, a.Number, a.Trigger, a.Status, a.StatusCode, a.ErrorReason, a.DurationMS,
		encodeHTTPHeader(a.ResponseHeaders), nonNil(a.ResponseBody), micros(a.CreatedAt), a.TransformationLogs,
		a.TransformationError)
	if err != nil {
		return fmt.Errorf("insert attempt: %w", err)
	}
	id, _ := r.LastInsertId()
	a.ID = uint64(id)
	return nil
}

// final reports whether a delivery state is final.
func final(state string) bool {
	return volley.DeliveryFinal(state)
}

// DeliveryFinishBatch is how many outcomes, of at most max, the engine
// should pass to one DeliveryFinish: as many as hold the writer about
// holdTarget at the cost past batches measured (holdsize.go). The engine's
// recorder runs its batches back to back during a drain.
func (s *Store) DeliveryFinishBatch(max int) int { return s.finishSize.size(max) }

// DeliveryFinish implements store.Traffic. The outcomes are applied in
// order, in one transaction unless an ingest comes to wait for the writer
// meanwhile: then the batch commits what it has applied and lets the
// ingest go first (finishSome). A failure after such a commit is a
// *store.PartialError.
func (s *Store) DeliveryFinish(ctx context.Context, outcomes []store.Outcome) error {
	applied := 0
	for applied < len(outcomes) {
		n, hold, err := s.finishSome(ctx, outcomes[applied:])
		switch {
		case err != nil && applied > 0:
			return &store.PartialError{Applied: applied, Err: fmt.Errorf("finish deliveries: %w", err)}
		case err != nil:
			return fmt.Errorf("finish deliveries: %w", err)
		}
		s.finishSize.observe(n, hold)
		applied += n
	}
	return nil
}

// OpDeliveryFinish names DeliveryFinish's outcomes passed to
// Config.BatchFunc: it is called after each outcome's writes.
const OpDeliveryFinish = "delivery_finish"

// yieldAfter is how long a background batch that can stop between two rows
// (a batch of delivery outcomes) holds the writer before it stops for an
// ingest waiting: enough to make progress whatever the ingest rate, and
// short next to a batch's holdTarget, which is otherwise what the ingest
// would wait for.
const yieldAfter = time.Millisecond

// finishSome applies outcomes in one transaction, all of them or, once it
// has held the writer s.yieldAfter and an urgent writer waits, the ones
// applied so far, and returns how many it applied and how long it held the
// writer. The outcomes' updates run with the delivery metrics deferred,
// tallied (tally.go); what they lead to (an ordering key's next delivery
// made due, a held one released, the events' status) runs after, under
// the triggers again.
func (s *Store) finishSome(ctx context.Context, outcomes []store.Outcome) (int, time.Duration, error) {
	applied := len(outcomes)
	hold, err := s.txHeld(ctx, background(writeFinish), func(tx *sql.Tx) error {
		start := time.Now()
		st, err := s.finishStmts(ctx, tx)
		if err != nil {
			return err
		}
		h := s.hot(tx)
		if err := metricsDefer(ctx, h, true); err != nil {
			return err
		}
		var t tally
		var after []finished
		for i := range outcomes {
			f, err := finishOne(ctx, st, &outcomes[i], &t)
			if err != nil {
				return err
			}
			if f.matched {
				after = append(after, f)
			}
			s.batchHook(OpDeliveryFinish)
			if i+1 < len(outcomes) && time.Since(start) >= s.yieldAfter && s.writer.urgentWaiting() {
				applied = i + 1
				break
			}
		}
		if err := metricsDefer(ctx, h, false); err != nil {
			return err
		}
		if err := t.write(ctx, h); err != nil {
			return err
		}
		return s.afterFinish(ctx, tx, after)
	})
	if err != nil {
		return 0, 0, err
	}
	return applied, hold, nil
}

// finishStmts are the statements finishOne runs, in finishSome's
// transaction.
type finishStmts struct{ attempt, finish, keyed *sql.Stmt }

// finishStmts returns finishOne's statements bound to tx.
func (s *Store) finishStmts(ctx context.Context, tx *sql.Tx) (st finishStmts, err error) {
	if st.attempt, err = s.stmt(ctx, tx, sqlAttemptInsert); err != nil {
		return st, err
	}
	if st.finish, err = s.stmt(ctx, tx, sqlDeliveryFinish); err != nil {
		return st, err
	}
	st.keyed, err = s.stmt(ctx, tx, sqlDeliveryFinishKeyed)
	return st, err
}

// finished is an outcome finishOne applied: matched is false when its
// delivery was no longer leased with its token (the outcome came too late
// and changed nothing).
type finished struct {
	matched bool
	o       *store.Outcome
	conn    uint64
	key     string
}

// finishOne applies one outcome, with the delivery metrics deferred, and
// tallies what it changed.
func finishOne(ctx context.Context, st finishStmts, o *store.Outcome, t *tally) (finished, error) {
	counted := 0
	if o.Attempt != nil {
		switch err := insertAttempt(ctx, st.attempt, o.Attempt); {
		case foreignKeyViolation(err):
			// The event was swept (its project deleted) while the
			// attempt was in flight: there is nothing left to record
			// it on, and the batch's other outcomes must still apply.
			// SQLite undoes only the failed statement.
		case err != nil:
			return finished{}, err
		default:
			counted = 1
			t.attempt(o.Attempt)
		}
	}
	var at int64
	if final(o.State) {
		at = micros(o.Now)
	}
	args := []any{o.State, counted, micros(o.NextAttemptAt), at, o.Reason, o.DeliveryID, o.LeaseToken}
	f := finished{o: o, conn: o.ConnectionID}
	if o.ConnectionID != 0 && !o.Ordered {
		r, err := st.finish.ExecContext(ctx, args...)
		if err != nil {
			return finished{}, fmt.Errorf("update delivery: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return finished{}, fmt.Errorf("update delivery: %w", err)
		}
		f.matched = n > 0
	} else {
		switch err := st.keyed.QueryRowContext(ctx, args...).Scan(&f.conn, &f.key); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return finished{}, fmt.Errorf("update delivery: %w", err)
		default:
			f.matched = true
		}
	}
	if f.matched {
		t.finished(f.conn, o.State, o.Now)
	}
	return f, nil
}

// afterFinish runs, in finishSome's transaction and under the metrics
// triggers, what the applied outcomes lead to: the next delivery of an
// ordering key made due, a held delivery released, and the status of
// their events.
func (s *Store) afterFinish(ctx context.Context, tx *sql.Tx, done []finished) error {
	status, err := s.stmt(ctx, tx, sqlEventStatus)
	if err != nil {
		return err
	}
	promote, err := s.stmt(ctx, tx, sqlPromote)
	if err != nil {
		return err
	}
	touched := make(map[uint64]bool, len(done))
	for _, f := range done {
		o := f.o
		if f.key != "" && final(o.State) {
			if _, err := promote.ExecContext(ctx, f.conn, f.key, micros(o.Now)); err != nil {
				return fmt.Errorf("promote the next delivery of its ordering key: %w", err)
			}
		}
		if o.State == volley.DeliveryHeld {
			// The worker saw the connection paused; if it was resumed
			// before this commit, the resume found nothing held to
			// release, so release it here.
			if _, err := tx.ExecContext(ctx, sqlReleaseIfRunnable, micros(o.Now), o.DeliveryID); err != nil {
				return fmt.Errorf("release delivery: %w", err)
			}
		}
		if o.State != volley.DeliveryPending {
			touched[o.EventID] = true
		}
	}
	for id := range touched {
		if _, err := status.ExecContext(ctx, id); err != nil {
			return fmt.Errorf("update event status: %w", err)
		}
	}
	return nil
}

// DeliveryReplayed implements store.Traffic. It writes behind the writes
// clients wait on: bulk replays record thousands of attempts through it,
// and ingestion must never wait for them (a replay's own attempt took far
// longer than one background transaction it may queue behind).
func (s *Store) DeliveryReplayed(ctx context.Context, attempts ...*volley.Attempt) error {
	if len(attempts) == 0 {
		return nil
	}
	err := s.txBackground(ctx, writeReplay, func(tx *sql.Tx) error {
		insAttempt, err := s.stmt(ctx, tx, sqlAttemptInsert)
		if err != nil {
			return err
		}
		var t tally
		for _, a := range attempts {
			if err := insertAttempt(ctx, insAttempt, a); err != nil {
				return err
			}
			t.attempt(a)
			if a.Status != volley.AttemptSuccess {
				continue
			}
			var conn uint64
			var key string
			err := tx.QueryRowContext(ctx, `UPDATE deliveries SET state = 'success', lease_owner = '', finished_at = ?
				WHERE id = ? RETURNING connection_id, ordering_key`, micros(a.CreatedAt), a.DeliveryID).Scan(&conn, &key)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if key != "" {
				// A replay that succeeds finishes the delivery, which may
				// have been its key's head.
				if _, err := tx.ExecContext(ctx, sqlPromote, conn, key, micros(a.CreatedAt)); err != nil {
					return fmt.Errorf("promote the next delivery of its ordering key: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, sqlEventStatus, a.EventID); err != nil {
				return err
			}
		}
		return t.write(ctx, s.hot(tx))
	})
	if err != nil {
		return fmt.Errorf("record replay: %w", err)
	}
	return nil
}

// DeliveryResetLeases implements store.Traffic.
func (s *Store) DeliveryResetLeases(ctx context.Context, now time.Time) (int64, error) {
	r, err := s.execBackground(ctx, writeLease, `UPDATE deliveries SET next_attempt_at = ?, lease_owner = ''
		WHERE state = 'pending' AND lease_owner <> ''`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("reset leases: %w", err)
	}
	return r.RowsAffected()
}

// DeliveryNextDue implements store.Traffic.
func (s *Store) DeliveryNextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	// A resumed connection's held deliveries are due from the time its
	// sweep was recorded (lease.go).
	err := s.read.QueryRowContext(ctx, `SELECT min(t) FROM (
		SELECT min(next_attempt_at) AS t FROM deliveries WHERE state = 'pending'
		UNION ALL SELECT min(r.created_at) FROM (`+sqlResumedAll+`) r
		WHERE EXISTS (SELECT 1 FROM deliveries x WHERE x.connection_id = r.connection_id AND x.state = 'held'))`).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("next due delivery: %w", err)
	}
	return fromMicros(next.Int64), nil
}

// holdDeliveries moves the matching pending deliveries (not leased: a leased
// one is checked by its worker before it is sent) to held, and returns how
// many it moved.
func holdDeliveries(ctx context.Context, tx *sql.Tx, cond string, args ...any) (int64, error) {
	r, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'held' WHERE state = 'pending' AND lease_owner = '' AND (`+cond+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("hold deliveries: %w", err)
	}
	return r.RowsAffected()
}

// cancelDeliveries cancels the matching unfinished deliveries, recomputes
// their events' statuses, and returns how many it cancelled.
func cancelDeliveries(ctx context.Context, tx *sql.Tx, now time.Time, cond string, args ...any) (int64, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET state = 'cancelled', lease_owner = '', finished_at = ?
		WHERE state IN ('pending', 'held', 'parked') AND (`+cond+`) RETURNING event_id`, append([]any{micros(now)}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("cancel deliveries: %w", err)
	}
	var n int64
	events := map[uint64]bool{}
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		events[id] = true
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for id := range events {
		if _, err := tx.ExecContext(ctx, sqlEventStatus, id); err != nil {
			return 0, fmt.Errorf("update event status: %w", err)
		}
	}
	return n, nil
}
