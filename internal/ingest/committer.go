package ingest

import (
	"context"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

// maxBatch bounds the events committed in one transaction.
const maxBatch = 256

// pending is one event waiting for its commit.
type pending struct {
	ev   store.NewEvent
	done chan committed
}

type committed struct {
	res store.InsertedEvent
	err error
}

// committer turns concurrent ingests into shared transactions (group
// commit): while one batch commits, the next one fills, so a burst costs a
// few fsyncs instead of one per request.
type committer struct {
	store    store.Traffic
	in       chan *pending
	onCommit func() // nil for none
	obs      Observer
}

// run commits batches until in is closed.
func (c *committer) run() {
	batch := make([]*pending, 0, maxBatch)
	events := make([]store.NewEvent, 0, maxBatch)
	for first := range c.in {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case p, ok := <-c.in:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		events = events[:0]
		for _, p := range batch {
			events = append(events, p.ev)
		}
		// The commit is not tied to any one request: a client that hangs up
		// must not roll back its neighbours' events.
		// Measured with the machine's clock, not the injected one: this is
		// how long the store took, for metrics only.
		start := time.Now()
		res, err := c.store.EventInsert(context.Background(), events)
		if err == nil {
			c.obs.EventsCommitted(len(events), time.Since(start))
			if c.onCommit != nil {
				c.onCommit()
			}
		}
		for i, p := range batch {
			if err != nil {
				p.done <- committed{err: err}
			} else {
				p.done <- committed{res: res[i]}
			}
		}
		for i := range events {
			events[i] = store.NewEvent{} // let bodies be collected
		}
	}
}
