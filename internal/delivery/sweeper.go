package delivery

import (
	"context"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

// ConfigChanged tells the engine that a connection or destination was
// paused, resumed, disabled or deleted: the sweeper applies the change to
// its deliveries in the background, and the leaser looks for work that may
// have become due.
func (e *Engine) ConfigChanged() {
	select {
	case e.swept <- struct{}{}:
	default:
	}
	e.Wake()
}

// sweeper applies configuration changes to deliveries (held, cancelled;
// a resume's held deliveries are taken by the lease as they are) one small
// batch at a time, so that neither the change nor the
// sweep ever holds the store long: right after ConfigChanged, and every
// SweepInterval for changes made on other nodes or left by a crash. Each
// batch is its own transaction, which on SQLite queues behind ingestion.
func (e *Engine) sweeper() {
	defer close(e.sweeperDone)
	wait := time.Duration(0)
	for {
		t := e.clock.NewTimer(wait)
		select {
		case <-e.stop:
			t.Stop()
			return
		case <-e.swept:
			t.Stop()
		case <-t.C():
		}
		wait = e.cfg.SweepInterval
		n, err := e.cfg.Store.DeliverySweep(context.Background(), store.SweepParams{Now: e.clock.Now(), Limit: e.cfg.SweepBatch})
		switch {
		case err != nil:
			e.log.Error("sweep deliveries after a configuration change", "err", err)
		case n > 0:
			// More may be left. Sweeps do not yield to slow ingest
			// commits (package yield): holding a paused backlog and
			// cancelling a deleted one spare the leaser the work, and
			// slowed sweeps made ingestion slower during pauses and resumes
			// (docs/benchmarks.md). A sweep makes nothing due (a resume's
			// held deliveries are due from the change, which woke the
			// leaser), so the leaser is not woken here.
			wait = 0
		}
	}
}
