package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// outcome is what replaying one event did.
type outcome struct {
	attempts          []*volley.Attempt // made, not yet recorded
	succeeded, failed int64
	skipped           bool
	err               error // the first error that was not an attempt's
}

// batch reads the job's next page of events and replays them, at most
// Concurrency at a time, and returns the progress to store. A batch cut
// short (the runner stops, the job is cancelled or taken over) reports no
// progress: its events are sent again when the job resumes.
func (r *Runner) batch(ctx context.Context, job *volley.Replay) (store.ReplayProgressParams, error) {
	var p store.ReplayProgressParams
	if job.ConnectionID != 0 {
		cn, err := r.cfg.Store.ConnectionGetByID(ctx, job.ConnectionID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && cn.ProjectID != job.ProjectID) {
			p.Status, p.Error = volley.ReplayFailed, fmt.Sprintf("connection %d, the replay's target, was deleted", job.ConnectionID)
			return p, nil
		}
		if err != nil {
			return p, err
		}
	}
	f := job.Filter
	params := store.EventListParams{
		ProjectID: job.ProjectID, SourceID: f.SourceID, ConnectionID: f.ConnectionID, DestinationID: f.DestinationID,
		Status: f.Status, Start: f.Start, End: f.End, Search: f.Search, Limit: r.cfg.Batch,
		// The list's count is not needed: stop counting at once.
		Page: store.PageParams{CountLimit: 1},
	}
	if job.CursorID != 0 {
		params.Page.After = &store.Cursor{Key: job.CursorKey, ID: job.CursorID}
	}
	events, _, err := r.cfg.Store.EventList(ctx, params)
	if err != nil {
		return p, fmt.Errorf("list events: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kept := make(chan struct{})
	go r.keepLease(ctx, cancel, job.ID, kept)
	results := make([]outcome, len(events))
	conns := &connections{store: r.cfg.Store, bySource: map[uint64]map[uint64]volley.Connection{}}
	sem := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
send:
	for i := range events {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break send
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = r.event(ctx, job, &events[i], conns)
		}()
	}
	wg.Wait()
	cut := ctx.Err() != nil
	cancel()
	<-kept
	// The batch's attempts in one transaction: one commit (and, on
	// SQLite, one wait for the disk) per batch, not per attempt. Those of
	// a batch cut short are recorded too: they were made.
	var made []*volley.Attempt
	for _, o := range results {
		made = append(made, o.attempts...)
	}
	if err := r.cfg.Store.DeliveryReplayed(context.WithoutCancel(ctx), made...); err != nil {
		return store.ReplayProgressParams{}, fmt.Errorf("record replay attempts: %w", err)
	}
	if cut {
		return store.ReplayProgressParams{}, nil
	}
	logged := false
	for _, o := range results {
		p.Succeeded += o.succeeded
		p.Failed += o.failed
		if o.skipped {
			p.Skipped++
		}
		if o.err != nil && !logged {
			logged = true // one line per batch, not one per event
			r.log.Warn("replay event", "replay_id", job.ID, "err", o.err)
		}
	}
	p.Processed = int64(len(events))
	p.Status = volley.ReplayRunning
	if n := len(events); n > 0 {
		last := events[n-1]
		p.CursorKey, p.CursorID = last.CreatedAt.UnixMicro(), last.ID
	}
	if len(events) < r.cfg.Batch {
		p.Status = volley.ReplayDone
	}
	return p, nil
}

// keepLease renews the job's lease every third of its length until ctx
// ends, and cancels the batch when the job was cancelled or taken over.
func (r *Runner) keepLease(ctx context.Context, cancel context.CancelFunc, id uint64, done chan<- struct{}) {
	defer close(done)
	for {
		t := r.clock.NewTimer(r.cfg.Lease / 3)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		now := r.clock.Now()
		job, err := r.cfg.Store.ReplayProgress(ctx, store.ReplayProgressParams{ID: id, Owner: r.cfg.Owner,
			Status: volley.ReplayRunning, Now: now, Until: now.Add(r.cfg.Lease)})
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Warn("renew replay lease", "replay_id", id, "err", err)
		case err == nil && (job.Finished() || job.LeaseOwner != r.cfg.Owner):
			cancel()
			return
		}
	}
}

// event replays one event: each delivery the job selects, one attempt
// each, in turn.
func (r *Runner) event(ctx context.Context, job *volley.Replay, ev *volley.Event, conns *connections) outcome {
	var o outcome
	targets, err := r.targets(ctx, job, ev, conns)
	if err != nil {
		o.err, o.failed = err, 1
		return o
	}
	o.skipped = len(targets) == 0
	for _, d := range targets {
		a, err := r.cfg.Replayer.ReplayLowPriority(ctx, ev, d)
		if a != nil {
			o.attempts = append(o.attempts, a)
		}
		switch {
		case ctx.Err() != nil:
			return o
		case err != nil:
			// Not an attempt (the destination was deleted meanwhile, a
			// transformation is not available): it counts as failed.
			o.failed++
			if o.err == nil {
				o.err = err
			}
		case a.Status == volley.AttemptSuccess:
			o.succeeded++
		default:
			o.failed++
		}
	}
	return o
}

// targets picks the deliveries of ev that the job replays: with a target
// connection, the event's delivery on it (created when the event was never
// routed there, as a single replay does); otherwise the event's deliveries
// whose connection still exists. Either way only deliveries that the
// filter's connection, destination and status select, and that are
// finished: pending and held ones are still the engine's, and filtered
// ones were dropped by their connection's filter.
func (r *Runner) targets(ctx context.Context, job *volley.Replay, ev *volley.Event, conns *connections) ([]volley.Delivery, error) {
	ds, err := r.cfg.Store.DeliveryListByEvent(ctx, ev.ID)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of event %d: %w", ev.ID, err)
	}
	cs, err := conns.of(ctx, ev.SourceID)
	if err != nil {
		return nil, err
	}
	f := job.Filter
	var out []volley.Delivery
	routed := false
	for _, d := range ds {
		if job.ConnectionID != 0 && d.ConnectionID != job.ConnectionID {
			continue
		}
		routed = true
		if _, ok := cs[d.ConnectionID]; !ok ||
			(f.ConnectionID != 0 && d.ConnectionID != f.ConnectionID) ||
			(f.DestinationID != 0 && d.DestinationID != f.DestinationID) {
			continue
		}
		switch {
		case d.State == volley.DeliveryPending, d.State == volley.DeliveryHeld,
			d.State == volley.DeliveryFiltered, d.State == volley.DeliveryCancelled:
		case f.Status == volley.EventFailed && d.State != volley.DeliveryFailed:
		default:
			out = append(out, d)
		}
	}
	if job.ConnectionID == 0 || routed {
		return out, nil
	}
	cn, ok := cs[job.ConnectionID]
	if !ok || cn.ProjectID != ev.ProjectID {
		return nil, nil // the target does not carry this event's source
	}
	now := r.clock.Now()
	d := volley.Delivery{
		EventID: ev.ID, EventUID: ev.UID, ProjectID: ev.ProjectID, SourceID: ev.SourceID,
		ConnectionID: cn.ID, DestinationID: cn.DestinationID,
		// Not queued: only the replay sends it, and its outcome decides.
		State: volley.DeliveryFailed, NextAttemptAt: now, CreatedAt: now,
	}
	if err := r.cfg.Store.DeliveryCreate(ctx, &d); err != nil {
		return nil, fmt.Errorf("create delivery of event %d: %w", ev.ID, err)
	}
	return []volley.Delivery{d}, nil
}

// connections caches the connections of each source for one batch.
type connections struct {
	store    store.Store
	mu       sync.Mutex
	bySource map[uint64]map[uint64]volley.Connection
}

func (c *connections) of(ctx context.Context, sourceID uint64) (map[uint64]volley.Connection, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.bySource[sourceID]; ok {
		return m, nil
	}
	list, err := c.store.ConnectionListBySource(ctx, sourceID)
	if err != nil {
		return nil, fmt.Errorf("list connections of source %d: %w", sourceID, err)
	}
	m := make(map[uint64]volley.Connection, len(list))
	for _, cn := range list {
		m[cn.ID] = cn
	}
	c.bySource[sourceID] = m
	return m, nil
}
