package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/volley"
)

// Bulk replays (package replay) send their attempts through
// ReplayLowPriority: at the lowest priority of the node, so that live
// deliveries are never starved by them.
//
//   - A replay attempt starts only while its destination's lane on this
//     node has no live job queued (and the engine is not full, which means
//     live work is waiting in the store); otherwise it backs off and looks
//     again. A live job that arrives while replays run waits for no replay
//     to finish: replay attempts do not count against the lane's
//     Concurrency, so the most a live job can wait behind replays is the
//     pacing below.
//   - Each replay attempt takes a start of the destination's and the
//     connection's eps through the lane's own pacers (and, with a Cluster,
//     through the shared RateReserve like every live attempt), so live and
//     replay traffic together never exceed the limits. A live job that
//     arrives just after a replay start waits at most one 1/eps interval
//     for it, as it would behind another live job.

// ErrStopping means the engine is stopping and starts nothing new.
var ErrStopping = errors.New("the delivery engine is stopping")

// Replay backoff: while live work is queued, a replay waits replayBackoffMin,
// then twice as long each time it finds the lane busy again, up to
// replayBackoffMax (10ms, 20ms, 40ms, … 1.28s, 2s, 2s, …), each wait
// jittered down by up to a quarter so that replays of several jobs do not
// look again at the same instant.
const (
	replayBackoffMin = 10 * time.Millisecond
	replayBackoffMax = 2 * time.Second
)

// ReplayStats counts what ReplayLowPriority did on this node since start.
type ReplayStats struct {
	// Started counts replay attempts granted a start.
	Started int64
	// Deferred counts the times a replay found live work queued for its
	// destination (or the engine full) and backed off.
	Deferred int64
}

// replayCounters are the engine's ReplayStats.
type replayCounters struct {
	started, deferred atomic.Int64
}

// ReplayStats returns the counts of low-priority replays on this node.
func (e *Engine) ReplayStats() ReplayStats {
	return ReplayStats{Started: e.replays.started.Load(), Deferred: e.replays.deferred.Load()}
}

// ReplayLowPriority sends an event through one of its deliveries like
// Replay, once live traffic leaves room for it (see above), and returns
// the attempt (trigger "replay") without recording it: the caller records
// it with store.Traffic.DeliveryReplayed, so that a bulk replay writes a
// whole batch's attempts in one transaction instead of one per attempt.
// It returns ctx's error when ctx ends first, and ErrStopping when the
// engine stops.
func (e *Engine) ReplayLowPriority(ctx context.Context, ev *volley.Event, d volley.Delivery) (*volley.Attempt, error) {
	dest, err := e.cfg.Routes.Destination(ctx, d.DestinationID)
	if err != nil {
		return nil, fmt.Errorf("replay: load destination %d: %w", d.DestinationID, err)
	}
	conn, err := e.connectionOf(&d)
	if err != nil {
		return nil, fmt.Errorf("replay: load connection %d: %w", d.ConnectionID, err)
	}
	if err := e.replaySlot(ctx, &d, dest, conn); err != nil {
		return nil, err
	}
	return e.replayAttempt(ctx, ev, d)
}

// replaySlot waits until a replay of d may start and takes its start of
// the rate limits.
func (e *Engine) replaySlot(ctx context.Context, d *volley.Delivery, dest *routing.Destination, conn *volley.Connection) error {
	backoff := replayBackoffMin
	for {
		now := e.clock.Now()
		at, busy, err := e.takeReplaySlot(d, dest, conn, now)
		if err != nil {
			return err
		}
		if !busy && !at.After(now) {
			break
		}
		wait := at.Sub(now)
		if busy {
			e.replays.deferred.Add(1)
			wait = backoff - time.Duration(e.cfg.Rand()*float64(backoff)/4)
			backoff = min(2*backoff, replayBackoffMax)
		}
		t := e.clock.NewTimer(wait)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	if _, ok := e.clusterStart(ctx, d, dest, conn, e.clock.Now()); !ok {
		if err := ctx.Err(); err != nil {
			return err
		}
		return errors.New("replay: no rate-limit slot: the store failed")
	}
	e.replays.started.Add(1)
	return nil
}

// takeReplaySlot takes the start of a replay at now from the lane's
// pacers, unless live work is queued (busy) or the pacers allow the next
// start only later (at). The lane is created as live work would create it,
// so that its pacing holds for the live jobs that follow.
func (e *Engine) takeReplaySlot(d *volley.Delivery, dest *routing.Destination, conn *volley.Connection, now time.Time) (at time.Time, busy bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		return time.Time{}, false, ErrStopping
	}
	if e.jobs >= e.cfg.MaxJobs {
		return time.Time{}, true, nil
	}
	l := e.lanes[d.DestinationID]
	if l == nil {
		l = newLane(e, d.DestinationID)
		e.lanes[d.DestinationID] = l
		go l.run()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return time.Time{}, false, ErrStopping
	}
	if l.queued > 0 {
		return time.Time{}, true, nil
	}
	l.eps = dest.EPS
	cq := l.conns[d.ConnectionID]
	if cq == nil {
		cq = &connQueue{}
		l.conns[d.ConnectionID] = cq
	}
	cq.eps = conn.EPS
	at = l.pace.ready(l.eps, now)
	if t := cq.pace.ready(cq.eps, now); t.After(at) {
		at = t
	}
	if at.After(now) {
		return at, false, nil
	}
	l.pace.take(l.eps, now)
	cq.pace.take(cq.eps, now)
	return now, false, nil
}
