package delivery

import (
	"context"
	"testing"
	"time"
)

func TestFenceTripsWhenHeartbeatsFail(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFence(context.Background(), t0)
	ctx := f.context()
	if f.check(t0.Add(7*time.Second), 7500*time.Millisecond) {
		t.Fatal("tripped before the limit")
	}
	if !f.check(t0.Add(8*time.Second), 7500*time.Millisecond) {
		t.Fatal("not tripped after the limit")
	}
	if ctx.Err() == nil {
		t.Fatal("attempts in flight were not cancelled")
	}
	// A heartbeat succeeds again: new attempts may run, and leases taken
	// before it may have been taken over meanwhile.
	f.beat(context.Background(), t0.Add(9*time.Second), t0.Add(9500*time.Millisecond), 7500*time.Millisecond)
	if f.context().Err() != nil {
		t.Fatal("still fenced after a successful heartbeat")
	}
	if !f.stale(t0.Add(time.Second)) || f.stale(t0.Add(10*time.Second)) {
		t.Fatal("leases before the recovery must be stale, later ones not")
	}
}

// TestFenceCatchesAPausedProcess: nothing ran while the process was
// stopped (SIGSTOP, a frozen VM), so no check tripped the fence; the first
// heartbeat after the silence must still treat it as one.
func TestFenceCatchesAPausedProcess(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFence(context.Background(), t0)
	ctx := f.context()
	f.beat(context.Background(), t0.Add(5*time.Second), t0.Add(5*time.Second), 7500*time.Millisecond)
	if ctx.Err() != nil || f.stale(t0) {
		t.Fatal("a regular heartbeat fenced the node")
	}
	f.beat(context.Background(), t0.Add(40*time.Second), t0.Add(40*time.Second), 7500*time.Millisecond)
	if ctx.Err() == nil {
		t.Fatal("attempts started before the pause were not cancelled")
	}
	if !f.stale(t0.Add(30 * time.Second)) {
		t.Fatal("a lease taken before the pause is not stale")
	}
}
