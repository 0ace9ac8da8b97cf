package storepg_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/limit"
)

// TestAPIRateSharedAcrossNodes runs the API limit of two nodes on one
// database: a token's burst is spent once between them, refills at the
// rate, and a refusal on one node holds on the other.
func TestAPIRateSharedAcrossNodes(t *testing.T) {
	databaseURL(t)
	t.Parallel()
	schema := freshSchema(t)
	rate := limit.Rate{PerSecond: 50, Burst: 100}
	a, b := limit.NewShared(rate, open(t, schema)), limit.NewShared(rate, open(t, schema))
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for _, l := range []*limit.Shared{a, b, a, b} {
		wg.Go(func() {
			for range 30 {
				d, err := l.Take(ctx, "t:1", now)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 100 {
		t.Fatalf("%d of 120 concurrent requests allowed on two nodes, want the burst of 100", n)
	}
	for _, l := range []*limit.Shared{a, b} {
		d, err := l.Take(ctx, "t:1", now)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed || d.RetryAfter != 20*time.Millisecond || d.Remaining != 0 || d.Reset != 2*time.Second {
			t.Fatalf("over the burst: %+v, want refused, retry in 20ms, full in 2s", d)
		}
	}
	// 20ms later one request passes, on whichever node asks first.
	later := now.Add(20 * time.Millisecond)
	if d, err := b.Take(ctx, "t:1", later); err != nil || !d.Allowed {
		t.Fatalf("after 20ms on node b: %+v, %v", d, err)
	}
	if d, err := a.Take(ctx, "t:1", later); err != nil || d.Allowed {
		t.Fatalf("second request after 20ms on node a: %+v, %v", d, err)
	}
	// Another token is untouched; a second later 50 have refilled.
	if d, err := a.Take(ctx, "t:2", now); err != nil || !d.Allowed || d.Remaining != 99 {
		t.Fatalf("other token: %+v, %v", d, err)
	}
	refill := now.Add(1020 * time.Millisecond)
	n := 0
	for i := range 60 {
		l := []*limit.Shared{a, b}[i%2]
		if d, err := l.Take(ctx, "t:1", refill); err != nil {
			t.Fatal(err)
		} else if d.Allowed {
			n++
		}
	}
	if n != 50 {
		t.Fatalf("%d requests allowed after a second's refill, want 50", n)
	}
}

// BenchmarkAPIRateTake measures one API request's limit check on
// PostgreSQL (allowed requests: one statement each).
func BenchmarkAPIRateTake(b *testing.B) {
	s := setup(b)
	l := limit.NewShared(limit.Rate{PerSecond: 1e6, Burst: 2e6}, s)
	ctx := context.Background()
	now := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := l.Take(ctx, fmt.Sprintf("t:%d", i%64), now); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
