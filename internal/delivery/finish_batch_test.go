package delivery_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/testserver"
)

// holdFirst holds a wrapped store's first DeliveryFinish until release is
// closed, so that outcomes pile up behind it.
type holdFirst struct {
	release chan struct{}
	first   sync.Once
}

func newHoldFirst() holdFirst { return holdFirst{release: make(chan struct{})} }

func (h *holdFirst) wait() { h.first.Do(func() { <-h.release }) }

// smallFinishes is a SQLite store that allows 3 outcomes per DeliveryFinish
// and holds the first call until released.
type smallFinishes struct {
	*storesqlite.Store
	holdFirst
	largest
}

func (s *smallFinishes) DeliveryFinishBatch(int) int { return 3 }

func (s *smallFinishes) DeliveryFinish(ctx context.Context, outcomes []store.Outcome) error {
	s.wait()
	s.see(len(outcomes))
	return s.Store.DeliveryFinish(ctx, outcomes)
}

// TestRecorderBatchSizedByStore checks that the recorder passes no more
// outcomes to one DeliveryFinish than the store's DeliveryFinishBatch
// allows, even with many waiting, and records them all.
func TestRecorderBatchSizedByStore(t *testing.T) {
	t.Parallel()
	var st *smallFinishes
	e, sk := onWrappedSQLite(t, func(sq *storesqlite.Store) store.Store {
		st = &smallFinishes{Store: sq, holdFirst: newHoldFirst()}
		return st
	})
	src, _, _ := e.route(t, sk.URL, nil, nil)
	const n = 30
	uids := e.ingestMany(t, src.IngestionID, n)
	sk.awaitCount(t, n, 30*time.Second) // every attempt made, their outcomes waiting
	close(st.release)
	for _, uid := range uids {
		e.awaitStatus(t, uid, "processed")
	}
	if most := st.most(); most > 3 {
		t.Errorf("a DeliveryFinish got %d outcomes, want at most 3", most)
	}
}

// onWrappedSQLite starts a node on a SQLite store in a temporary directory,
// as wrap returns it (a store whose batch sizes or calls a test controls),
// and returns its environment and a sink.
func onWrappedSQLite(t *testing.T, wrap func(*storesqlite.Store) store.Store) (*env, *sink) {
	t.Helper()
	sq, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "volley.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() }) // after the node stops (cleanups run last first)
	srv := testserver.Start(t, testserver.Options{Store: wrap(sq), Delivery: fastConfig()})
	return newEnv(t, srv, srv.AdminAccount().ProjectID), newSink(t, nil)
}

// largest records the largest batch a wrapped store was asked for.
type largest struct {
	mu sync.Mutex
	n  int
}

func (l *largest) see(n int) {
	l.mu.Lock()
	l.n = max(l.n, n)
	l.mu.Unlock()
}

func (l *largest) most() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// partialFinishes is a SQLite store whose first DeliveryFinish of two or
// more outcomes records the first and then fails, as a SQLite batch that
// stopped for an ingest and failed on the rest does (a *store.PartialError).
// Its first call of all waits for release.
type partialFinishes struct {
	*storesqlite.Store
	holdFirst
	injected atomic.Bool
}

func (s *partialFinishes) DeliveryFinish(ctx context.Context, outcomes []store.Outcome) error {
	s.wait()
	if len(outcomes) >= 2 && s.injected.CompareAndSwap(false, true) {
		if err := s.Store.DeliveryFinish(ctx, outcomes[:1]); err != nil {
			return err
		}
		return &store.PartialError{Applied: 1, Err: errors.New("injected failure after the first outcome")}
	}
	return s.Store.DeliveryFinish(ctx, outcomes)
}

// TestRecorderRetriesOnlyTheRest checks that after a partial failure the
// recorder retries only the outcomes not yet recorded: every event ends
// processed with exactly one attempt.
func TestRecorderRetriesOnlyTheRest(t *testing.T) {
	t.Parallel()
	var st *partialFinishes
	e, sk := onWrappedSQLite(t, func(sq *storesqlite.Store) store.Store {
		st = &partialFinishes{Store: sq, holdFirst: newHoldFirst()}
		return st
	})
	src, _, _ := e.route(t, sk.URL, nil, nil)
	const n = 20
	var uids []string
	for round := 0; round < 3 && !st.injected.Load(); round++ {
		uids = append(uids, e.ingestMany(t, src.IngestionID, n)...)
		sk.awaitCount(t, len(uids), 30*time.Second)
		if round == 0 {
			close(st.release)
		}
		for _, uid := range uids {
			e.awaitStatus(t, uid, "processed")
		}
	}
	if !st.injected.Load() {
		t.Fatal("no DeliveryFinish got two outcomes or more in 3 rounds: nothing was tested")
	}
	for _, uid := range uids {
		if as := e.attempts(t, "event_id="+uid); len(as) != 1 {
			t.Errorf("event %s has %d attempts, want 1", uid, len(as))
		}
	}
}
