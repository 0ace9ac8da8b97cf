package ingest

import (
	"testing"
	"time"
)

func TestWindowLimiterNeverExceedsEPSInAnyWindow(t *testing.T) {
	t.Parallel()
	l := NewWindowLimiter()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var accepted []time.Time
	// Offer an event every 7ms for 5 seconds to a source limited to 20 eps.
	for i := 0; i < 5000/7; i++ {
		now := start.Add(time.Duration(i) * 7 * time.Millisecond)
		ok, wait := l.allow(1, 20, now)
		if ok {
			accepted = append(accepted, now)
		} else if wait <= 0 || wait > time.Second {
			t.Fatalf("refused with wait %v", wait)
		}
	}
	for i := range accepted {
		n := 0
		for j := i; j < len(accepted) && accepted[j].Sub(accepted[i]) < time.Second; j++ {
			n++
		}
		if n > 20 {
			t.Fatalf("%d events in the second from %v", n, accepted[i])
		}
	}
	if len(accepted) < 95 { // about 20 per second over 5 seconds
		t.Fatalf("only %d accepted", len(accepted))
	}
}

func TestWindowLimiterBurstAndRetryAfter(t *testing.T) {
	t.Parallel()
	l := NewWindowLimiter()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.allow(1, 3, now); !ok {
			t.Fatalf("burst event %d refused", i)
		}
	}
	ok, wait := l.allow(1, 3, now.Add(400*time.Millisecond))
	if ok || wait != 600*time.Millisecond {
		t.Fatalf("4th event: ok=%v wait=%v, want refused for 600ms", ok, wait)
	}
	if ok, _ := l.allow(2, 3, now); !ok {
		t.Fatal("another source is limited by the first one's traffic")
	}
	if ok, _ := l.allow(1, 3, now.Add(time.Second)); !ok {
		t.Fatal("refused after the window passed")
	}
	if ok, _ := l.allow(1, 0, now); !ok {
		t.Fatal("eps 0 must be unlimited")
	}
}

func TestWindowLimiterForgetsIdleSources(t *testing.T) {
	t.Parallel()
	l := NewWindowLimiter()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for id := range uint64(100) {
		l.allow(id, 5, now)
	}
	later := now.Add(2 * time.Second)
	for range sweepEvery {
		l.allow(1000, 5000, later)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.logs) != 1 {
		t.Fatalf("%d sources remembered after they went idle, want 1", len(l.logs))
	}
}
