package delivery

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// DefaultNodeTTL is how long a node may stay silent before the others take
// over its leases.
const DefaultNodeTTL = 15 * time.Second

// fence stops this node from sending when it cannot prove it is alive.
//
// Other nodes take over a silent node's leases NodeTTL after its last
// heartbeat. So that a delivery is never in flight on two nodes at once, a
// node whose heartbeats have failed for half that time cancels its attempts
// in flight and starts no new ones until a heartbeat succeeds again.
type fence struct {
	mu       sync.Mutex
	lastBeat time.Time
	tripped  bool
	// since is when the node last proved alive again after a silence:
	// leases taken before it may have been taken over meanwhile.
	since  time.Time
	ctx    context.Context // attempts run under it; cancelled when tripped
	cancel context.CancelFunc
}

func newFence(parent context.Context, now time.Time) *fence {
	ctx, cancel := context.WithCancel(parent)
	return &fence{lastBeat: now, ctx: ctx, cancel: cancel}
}

// beat records a heartbeat that started at start and succeeded at end. One
// that follows a silence longer than limit ends it, whether the fence
// tripped or nothing ran to notice (the process was paused): attempts
// started before are cancelled, and leases taken before end are stale.
func (f *fence) beat(parent context.Context, start, end time.Time, limit time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.tripped && start.Sub(f.lastBeat) > limit {
		f.tripped = true
		f.cancel()
	}
	if start.After(f.lastBeat) {
		f.lastBeat = start
	}
	if f.tripped {
		f.tripped = false
		f.since = end
		f.ctx, f.cancel = context.WithCancel(parent)
	}
}

// stale reports whether a lease taken at leasedAt may have been taken over
// by other nodes during a silence of this one.
func (f *fence) stale(leasedAt time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return leasedAt.Before(f.since)
}

// check trips the fence when the last heartbeat is older than limit, and
// reports whether it is tripped.
func (f *fence) check(now time.Time, limit time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.tripped && now.Sub(f.lastBeat) > limit {
		f.tripped = true
		f.cancel()
	}
	return f.tripped
}

// context returns the context attempts must run under now.
func (f *fence) context() context.Context {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ctx
}

// heartbeats records this node's liveness every NodeTTL/3 and trips the
// fence when that has failed for NodeTTL/2.
func (e *Engine) heartbeats() {
	defer e.clusterDone.Done()
	every := e.cfg.NodeTTL / 3
	for {
		t := e.clock.NewTimer(every)
		select {
		case <-e.stop:
			t.Stop()
			return
		case <-t.C():
		}
		start := e.clock.Now()
		ctx, cancel := context.WithTimeout(e.base, every)
		err := e.cfg.Cluster.NodeHeartbeat(ctx, e.cfg.Owner)
		cancel()
		if err == nil {
			e.fence.beat(e.base, start, e.clock.Now(), e.cfg.NodeTTL/2)
			continue
		}
		if e.fence.check(e.clock.Now(), e.cfg.NodeTTL/2) {
			e.log.Error("heartbeat failed: not sending until the database is reachable again", "err", err)
		}
	}
}

// reaper takes over the leases of nodes that stopped, every NodeTTL/2.
func (e *Engine) reaper() {
	defer e.clusterDone.Done()
	for {
		t := e.clock.NewTimer(e.cfg.NodeTTL / 2)
		select {
		case <-e.stop:
			t.Stop()
			return
		case <-t.C():
		}
		n, err := e.cfg.Cluster.NodeReap(e.base, e.cfg.NodeTTL)
		switch {
		case err != nil:
			e.log.Warn("reap leases of stopped nodes", "err", err)
		case n > 0:
			e.cfg.QueueObserver.LeasesTakenOver(n)
			e.log.Info("took over deliveries leased by a stopped node", "count", n)
			e.Wake()
		}
	}
}

// clusterStart waits, when the destination or connection has an eps limit
// shared with other nodes, until the slot reserved for this attempt, and
// returns the slot; otherwise it returns granted, the start the lane gave
// the attempt. It returns false when the attempt must not start now (the
// store failed or the engine is stopping); the caller puts the delivery
// back.
func (e *Engine) clusterStart(ctx context.Context, d *volley.Delivery, dest *routing.Destination, conn *volley.Connection, granted time.Time) (time.Time, bool) {
	if e.cfg.Cluster == nil || (dest.EPS <= 0 && conn.EPS <= 0) {
		return granted, true
	}
	start, err := e.cfg.Cluster.RateReserve(ctx, []store.RateLimit{
		{Key: "d:" + strconv.FormatUint(d.DestinationID, 10), EPS: dest.EPS},
		{Key: "c:" + strconv.FormatUint(d.ConnectionID, 10), EPS: conn.EPS},
	}, e.clock.Now())
	if err != nil {
		e.log.Warn("reserve a rate-limit slot", "destination_id", d.DestinationID, "err", err)
		return time.Time{}, false
	}
	wait := start.Sub(e.clock.Now())
	if wait <= 0 {
		return start, true
	}
	if dest.EPS > 0 {
		e.cfg.Observer.AttemptThrottled(LimitDestination)
	} else {
		e.cfg.Observer.AttemptThrottled(LimitConnection)
	}
	t := e.clock.NewTimer(wait)
	select {
	case <-t.C():
		return start, true
	case <-ctx.Done():
		t.Stop()
		return time.Time{}, false
	}
}
