// Package periodic runs the rounds of a background service (retention,
// the search indexer, the backlog sampler, the dictionary trainer) on a
// goroutine of its own: the first round at once, each next one after the
// wait the previous round asked for, until Stop. One loop for all of them,
// so that each service is only its round: how it stops, waits and cancels
// is the same everywhere and tested once.
package periodic

import (
	"context"
	"time"

	"github.com/volleyhq/volley/internal/clock"
)

// Round runs one round of work and returns how long to wait before the
// next; 0 runs the next at once. ctx ends when the loop is stopped: a round
// under way is cancelled, not waited for to the end, so it must leave the
// store as a failed round would (every store change is its own
// transaction).
type Round func(ctx context.Context) time.Duration

// Loop runs a Round again and again.
type Loop struct {
	clock clock.Clock
	round Round
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

// New returns a Loop that runs round, waiting on c; Start runs it.
func New(c clock.Clock, round Round) *Loop {
	return &Loop{clock: c, round: round, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// Wake ends the current wait, so that the next round runs at once (new
// work was stored); a wake during a round makes the wait after it end at
// once. It never blocks.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Start runs the rounds until Stop. It is called once.
func (l *Loop) Start() { go l.run() }

// Stop cancels the round under way, if any, and waits for the loop to end.
// It is called once, after Start.
func (l *Loop) Stop() {
	close(l.stop)
	<-l.done
}

func (l *Loop) run() {
	defer close(l.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		wait := l.round(ctx)
		if ctx.Err() != nil {
			return
		}
		if wait <= 0 {
			continue
		}
		t := l.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-l.wake:
			t.Stop()
		case <-t.C():
		}
	}
}
