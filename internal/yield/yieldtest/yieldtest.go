// Package yieldtest helps test that bulk work waits for its yield.Throttle:
// a record of the fake times a batch ran at, and the check that batches
// were spaced at the work's floor once an ingest commit was slow.
package yieldtest

import (
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/yield"
)

// Times records the fake time of each batch (a store call wrapped by the
// test).
type Times struct {
	clock *clock.Fake
	mu    sync.Mutex
	at    []time.Time
}

// NewTimes returns an empty record on c.
func NewTimes(c *clock.Fake) *Times { return &Times{clock: c} }

// Mark records a batch now.
func (r *Times) Mark() {
	now := r.clock.Now()
	r.mu.Lock()
	r.at = append(r.at, now)
	r.mu.Unlock()
}

// All returns the times recorded.
func (r *Times) All() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at...)
}

// SlowCommit reports a slow ingest commit to sig and moves the clock on by
// yield.Adjust, so that the work's next look caps it; it returns the time
// of that look.
func SlowCommit(c *clock.Fake, sig *yield.Signal) time.Time {
	c.Advance(time.Millisecond)
	sig.Committed(time.Hour)
	c.Advance(yield.Adjust)
	return c.Now()
}

// Spaced waits for n batches, the first at start while the clock stands
// still, then moving the clock on by a tenth of gap at a time; and checks
// that batch k ran no earlier than k gaps after start (a throttle keeps an
// average: a batch may follow a late one sooner).
func Spaced(t *testing.T, c *clock.Fake, r *Times, n int, start time.Time, gap time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(r.All()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("batches at %v after 10s, want %d", r.All(), n)
		}
		if len(r.All()) > 0 {
			c.Advance(gap / 10)
		}
		time.Sleep(time.Millisecond) // polling, bounded by the deadline
	}
	at := r.All()
	if !at[0].Equal(start) {
		t.Fatalf("first batch at %v, want at once (%v)", at[0], start)
	}
	for k := 1; k < len(at); k++ {
		if earliest := start.Add(time.Duration(k) * gap); at[k].Before(earliest) {
			t.Fatalf("batches at %v: batch %d before %v (one every %v)", at, k+1, earliest, gap)
		}
	}
}
