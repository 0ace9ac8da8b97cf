package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// leaseBatch bounds one lease query.
const leaseBatch = 256

// leaser leases due deliveries whenever there is room, until Stop.
func (e *Engine) leaser() {
	defer close(e.leaserDone)
	timer := e.clock.NewTimer(0)
	for {
		select {
		case <-e.stop:
			timer.Stop()
			return
		case <-e.wake:
		case <-timer.C():
		}
		timer.Stop()
		timer = e.clock.NewTimer(e.leaseDue())
	}
}

// leaseDue leases due work in batches while there is room and returns how
// long to wait before looking again.
func (e *Engine) leaseDue() time.Duration {
	var skip []uint64
	for {
		if wait := e.leaseYield.Delay(); wait > 0 {
			// Ingestion commits slowly: this is bulk work, it waits.
			return wait
		}
		e.mu.Lock()
		if e.closing {
			e.mu.Unlock()
			return e.cfg.PollInterval
		}
		n := min(e.cfg.MaxJobs-e.jobs, e.leaseBatch())
		skip = skip[:0]
		for id, l := range e.lanes {
			if l.skipIfFull() {
				skip = append(skip, id)
			}
		}
		if n > 0 {
			e.jobs += n
		}
		e.mu.Unlock()
		if n <= 0 {
			return e.cfg.PollInterval // finished() wakes us sooner
		}
		now := e.clock.Now()
		jobs, err := e.cfg.Store.DeliveryLease(e.base, store.LeaseParams{
			Owner: e.cfg.Owner, Now: now, Until: e.LeaseUntil(now), Limit: n, SkipDestinations: skip,
		})
		if err != nil {
			e.release(n)
			e.log.Error("lease deliveries", "err", err)
			return e.cfg.PollInterval
		}
		e.release(n - len(jobs))
		e.leaseYield.Done(len(jobs))
		for i := range jobs {
			e.admit(&jobs[i])
		}
		if len(jobs) < n {
			break
		}
	}
	next, err := e.cfg.Store.DeliveryNextDue(e.base)
	if err != nil {
		e.log.Error("find next due delivery", "err", err)
		return e.cfg.PollInterval
	}
	wait := next.Sub(e.clock.Now())
	if next.IsZero() || (wait <= 0 && len(skip) > 0) {
		// Nothing due, or only work for full lanes: they wake the leaser as
		// they drain.
		return e.cfg.PollInterval
	}
	return min(max(wait, time.Millisecond), e.cfg.PollInterval)
}

// admit puts a leased job into its destination's lane, or settles it at
// once when its connection or destination is gone, paused or disabled.
func (e *Engine) admit(sj *store.Job) {
	d := sj.Delivery
	now := e.clock.Now()
	conn, dest, ok := e.route(&d, now)
	if !ok {
		return
	}
	j := &job{d: d, conn: conn, ev: eventView{
		method: sj.Event.Method, path: sj.Event.Path, query: sj.Event.Query, headers: sj.Event.Headers, body: sj.Event.Body,
		traceParent: sj.Event.TraceParent,
	}}
	e.mu.Lock()
	l := e.lanes[d.DestinationID]
	if l == nil && !e.closing {
		l = newLane(e, d.DestinationID)
		e.lanes[d.DestinationID] = l
		go l.run()
	}
	ok = l != nil && l.push(j, dest)
	e.mu.Unlock()
	if !ok {
		wait := time.Duration(0)
		if l != nil {
			wait = l.backlogWait()
		}
		e.settle(&d, volley.DeliveryPending, now.Add(wait))
	}
}

// route loads a delivery's connection and destination. When the delivery
// cannot be attempted now it settles it (cancelled when either is gone,
// held when either is paused or disabled, put back when the store fails)
// and returns false.
func (e *Engine) route(d *volley.Delivery, now time.Time) (*volley.Connection, *routing.Destination, bool) {
	conn, err := e.connectionOf(d)
	if err == nil && conn.DestinationID != d.DestinationID {
		err = store.ErrNotFound // cannot happen: a connection's destination never changes
	}
	var dest *routing.Destination
	if err == nil {
		dest, err = e.cfg.Routes.Destination(e.base, d.DestinationID)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		e.settle(d, volley.DeliveryCancelled, now)
		e.cfg.Observer.DeliveryDropped()
	case err != nil:
		e.log.Error("load delivery configuration", "delivery_id", d.ID, "err", err)
		e.settle(d, volley.DeliveryPending, now.Add(e.cfg.PollInterval))
	case d.ConnectionID == 0 && dest.Status != volley.DestinationActive:
		// Held deliveries are released through their connection, which a
		// direct delivery has none of: it waits pending instead, looked at
		// again now and then, without an attempt.
		e.settle(d, volley.DeliveryPending, now.Add(directRecheck))
	case conn.Status != volley.ConnectionEnabled || dest.Status != volley.DestinationActive:
		e.settle(d, volley.DeliveryHeld, now)
	default:
		return conn, dest, true
	}
	return nil, nil, false
}

// directRecheck is how long a direct delivery to a disabled destination
// waits before it is looked at again.
const directRecheck = time.Minute

// connectionOf returns the connection a delivery goes through. A direct
// delivery (a test send to a destination its source is not connected to,
// ConnectionID 0) goes through an implicit enabled connection with the
// default retries and no rate limit of its own.
func (e *Engine) connectionOf(d *volley.Delivery) (*volley.Connection, error) {
	if d.ConnectionID == 0 {
		return &volley.Connection{DestinationID: d.DestinationID, Status: volley.ConnectionEnabled,
			MaxRetries: volley.DefaultMaxRetries}, nil
	}
	return e.cfg.Routes.Connection(e.base, d.ConnectionID)
}

// settle ends a job without an attempt.
func (e *Engine) settle(d *volley.Delivery, state string, next time.Time) {
	e.results <- store.Outcome{
		DeliveryID: d.ID, LeaseToken: d.LeaseToken, EventID: d.EventID,
		State: state, NextAttemptAt: next, Now: e.clock.Now(), Ordered: d.OrderingKey != "", ConnectionID: d.ConnectionID,
	}
	e.finished()
}

// leaseSafety is the least lease time left for an attempt to start: the
// attempt timeout plus this.
const leaseSafety = 5 * time.Second

// mayStart reports whether an attempt of d may start at now: its lease must
// outlive the attempt (else another node could send the same delivery at
// the same time), and with other nodes, this one must be able to prove it
// is alive and must not have been silent since it took the lease.
func (e *Engine) mayStart(d *volley.Delivery, timeout time.Duration, now time.Time) bool {
	if d.NextAttemptAt.Sub(now) < timeout+leaseSafety {
		return false
	}
	if e.cfg.Cluster == nil {
		return true
	}
	return !e.fence.check(now, e.cfg.NodeTTL/2) && !e.fence.stale(d.NextAttemptAt.Add(-LeaseDuration))
}

// deliver runs one attempt of a job that lane l let start at granted, and
// reports its outcome.
func (e *Engine) deliver(l *lane, j *job, granted time.Time) {
	defer e.attempts.Done()
	start := e.clock.Now()
	var took time.Duration
	defer func() { l.done(took) }()
	d := &j.d
	conn, dest, ok := e.route(d, start)
	if !ok {
		return
	}
	timeout := e.cfg.Timeout
	if dest.TimeoutMS > 0 {
		timeout = time.Duration(dest.TimeoutMS) * time.Millisecond
	}
	if !e.mayStart(d, timeout, start) {
		e.settle(d, volley.DeliveryPending, start)
		return
	}
	ctx := e.fence.context()
	granted, ok = e.clusterStart(ctx, d, dest, conn, granted)
	if !ok {
		e.settle(d, volley.DeliveryPending, e.clock.Now())
		return
	}
	if now := e.clock.Now(); !e.mayStart(d, timeout, now) { // the eps slot may have been far ahead
		e.settle(d, volley.DeliveryPending, now)
		return
	}
	number := d.Attempts + 1
	view := &j.ev
	var tr transformed
	if conn.TransformationID != 0 {
		tr = e.transform(ctx, conn.TransformationID, view)
		switch {
		case tr.unavailable:
			e.settle(d, volley.DeliveryPending, e.clock.Now().Add(e.cfg.PollInterval))
			return
		case tr.drop:
			e.results <- store.Outcome{
				DeliveryID: d.ID, LeaseToken: d.LeaseToken, EventID: d.EventID,
				State: volley.DeliveryFiltered, Reason: volley.ReasonTransformation, Now: e.clock.Now(),
				Ordered: d.OrderingKey != "", ConnectionID: d.ConnectionID,
			}
			e.finished()
			return
		case tr.err != "":
			// A transformation that fails fails the delivery at once: the
			// same code on the same event fails the same way, so retries
			// would only repeat it. Fix the code and replay the event. The
			// memory guard is the exception: it measures the process's
			// heap, which other work grows too, so that failure is retried
			// on the connection's schedule.
			a := e.newAttempt(d, number, granted)
			a.ErrorReason, a.TransformationError, a.TransformationLogs = tr.err, tr.err, tr.logs
			a.DurationMS = tr.took.Milliseconds()
			now := e.clock.Now()
			o := store.Outcome{
				DeliveryID: d.ID, LeaseToken: d.LeaseToken, EventID: d.EventID, Attempt: &a,
				State: volley.DeliveryFailed, Now: now, Ordered: d.OrderingKey != "", ConnectionID: d.ConnectionID,
			}
			if tr.retry {
				dec := e.cfg.Retry.Decide(number, conn.MaxRetries, &a, 0, now, e.cfg.Rand())
				o.State, o.NextAttemptAt = dec.State, dec.Next
			}
			e.cfg.Observer.AttemptFinished(d.DestinationID, outcomeOf(o.State), tr.took)
			e.results <- o
			e.finished()
			return
		}
		view = &tr.view
	}
	ctx, span := e.startSpan(ctx, "attempt", j.ev.traceParent, d, number)
	// The machine's clock, not the injected one: how long the request
	// took, for metrics only.
	t0 := time.Now()
	res := e.send(ctx, view, d, dest, number, granted)
	elapsed := time.Since(t0)
	res.attempt.TransformationLogs = tr.logs
	now := e.clock.Now()
	took = time.Duration(res.attempt.DurationMS) * time.Millisecond
	dec := e.cfg.Retry.Decide(number, conn.MaxRetries, &res.attempt, res.retryAfter, now, e.cfg.Rand())
	outcome := outcomeOf(dec.State)
	e.cfg.Observer.AttemptFinished(d.DestinationID, outcome, elapsed)
	endSpan(span, &res.attempt, outcome)
	e.results <- store.Outcome{
		DeliveryID: d.ID, LeaseToken: d.LeaseToken, EventID: d.EventID, Attempt: &res.attempt,
		State: dec.State, NextAttemptAt: dec.Next, Now: now, Ordered: d.OrderingKey != "", ConnectionID: d.ConnectionID,
	}
	e.finished()
}

// leaseBatcher is a store whose leases hold what ingestion waits for
// (SQLite's single writer): it sizes them by what they cost. A lease of a
// resumed connection's held deliveries writes more per delivery than one of
// pending deliveries.
type leaseBatcher interface {
	DeliveryLeaseBatch(max int) int
}

// leaseBatch is how many deliveries the next lease may take.
func (e *Engine) leaseBatch() int {
	return storeBatch(e.cfg.Store, leaseBatch, leaseBatcher.DeliveryLeaseBatch)
}

// storeBatch is how many of limit the store allows in its next batch of
// one kind of work, when it sizes that work (a B, asked through size), at
// least one; limit when it does not.
func storeBatch[B any](st store.Traffic, limit int, size func(B, int) int) int {
	if b, ok := st.(B); ok {
		return max(1, min(limit, size(b, limit)))
	}
	return limit
}

// recorderBatch bounds the outcomes committed in one transaction, and so
// how long the recorder holds the single writer (a few milliseconds) while
// ingestion waits.
const recorderBatch = 128

// finishBatcher is a store whose outcome transactions hold what ingestion
// waits for (SQLite's single writer): it sizes them by what they cost.
type finishBatcher interface {
	DeliveryFinishBatch(max int) int
}

// finishBatch is how many outcomes the next transaction may record.
func (e *Engine) finishBatch() int {
	return storeBatch(e.cfg.Store, recorderBatch, finishBatcher.DeliveryFinishBatch)
}

// recorder commits outcomes in batches until the results channel closes.
func (e *Engine) recorder() {
	defer close(e.recordDone)
	batch := make([]store.Outcome, 0, recorderBatch)
	for o := range e.results {
		batch = append(batch[:0], o)
		limit := e.finishBatch()
	fill:
		for len(batch) < limit {
			select {
			case o, ok := <-e.results:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		e.commit(batch)
	}
}

// commit stores a batch of outcomes, retrying with backoff while the store
// fails: outcomes are never dropped while the engine runs. If the engine is
// stopped meanwhile the leases simply expire and the deliveries are sent
// again (at least once).
func (e *Engine) commit(batch []store.Outcome) {
	all := batch
	backoff := 50 * time.Millisecond
	for {
		start := time.Now() // for metrics: how long the store took
		err := e.cfg.Store.DeliveryFinish(context.WithoutCancel(e.base), batch)
		var part *store.PartialError
		if errors.As(err, &part) {
			// Committed: retrying them would record their attempts twice.
			e.cfg.QueueObserver.OutcomesCommitted(part.Applied, time.Since(start))
			batch = batch[min(part.Applied, len(batch)):]
		}
		if err == nil {
			e.cfg.QueueObserver.OutcomesCommitted(len(batch), time.Since(start))
			for _, o := range all {
				// A retry may be due before the leaser's timer, and a
				// delivery of an ordering key that finished may have made
				// the next one of its key due now.
				if o.State == volley.DeliveryPending || o.Ordered && volley.DeliveryFinal(o.State) {
					e.Wake()
					break
				}
			}
			return
		}
		e.log.Error("record delivery outcomes", "count", len(batch), "err", err)
		t := e.clock.NewTimer(backoff)
		select {
		case <-t.C():
		case <-e.base.Done():
			t.Stop()
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
