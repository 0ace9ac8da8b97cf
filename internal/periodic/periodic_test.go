package periodic_test

import (
	"context"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/periodic"
)

// await polls cond until it holds, failing the test after a bounded wait.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestLoopWaitsWhatTheRoundAsks runs rounds on a fake clock: the first at
// once, a round that asks for no wait followed at once by the next, and
// one that asks for a minute only once the clock has moved a minute.
func TestLoopWaitsWhatTheRoundAsks(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rounds := make(chan int, 10)
	n := 0
	l := periodic.New(clk, func(ctx context.Context) time.Duration {
		n++
		rounds <- n
		if n == 1 {
			return 0 // more work: the next round at once
		}
		return time.Minute
	})
	l.Start()
	defer l.Stop()
	for want := 1; want <= 2; want++ {
		if got := <-rounds; got != want {
			t.Fatalf("round %d ran as round %d", want, got)
		}
	}
	await(t, "the loop to wait on the clock", func() bool { return clk.Timers() == 1 })
	select {
	case got := <-rounds:
		t.Fatalf("round %d ran before the clock moved", got)
	default:
	}
	clk.Advance(59 * time.Second)
	select {
	case got := <-rounds:
		t.Fatalf("round %d ran a second early", got)
	default:
	}
	clk.Advance(time.Second)
	if got := <-rounds; got != 3 {
		t.Fatalf("after a minute, round %d ran, want 3", got)
	}
}

// TestStopCancelsTheRoundUnderWay stops the loop while a round blocks on
// its context: Stop cancels it, waits for it, and no round runs after.
func TestStopCancelsTheRoundUnderWay(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	started, ended := make(chan struct{}), make(chan struct{})
	runs := 0
	l := periodic.New(clk, func(ctx context.Context) time.Duration {
		runs++
		close(started)
		<-ctx.Done()
		close(ended)
		return 0
	})
	l.Start()
	<-started
	l.Stop()
	select {
	case <-ended:
	default:
		t.Fatal("Stop returned before the round under way ended")
	}
	if runs != 1 {
		t.Fatalf("%d rounds ran, want 1", runs)
	}
}

// TestStopWhileWaiting stops a loop that waits on the clock: Stop returns
// and leaves no timer behind.
func TestStopWhileWaiting(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := periodic.New(clk, func(ctx context.Context) time.Duration { return time.Hour })
	l.Start()
	await(t, "the loop to wait on the clock", func() bool { return clk.Timers() == 1 })
	l.Stop()
	if n := clk.Timers(); n != 0 {
		t.Fatalf("%d timers left after Stop, want 0", n)
	}
}

// TestWakeEndsTheWait wakes a loop that waits an hour on the clock: the
// next round runs without the clock moving.
func TestWakeEndsTheWait(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rounds := make(chan struct{}, 10)
	l := periodic.New(clk, func(ctx context.Context) time.Duration {
		rounds <- struct{}{}
		return time.Hour
	})
	l.Start()
	defer l.Stop()
	<-rounds
	await(t, "the loop to wait on the clock", func() bool { return clk.Timers() == 1 })
	l.Wake()
	<-rounds
	if n := clk.Timers(); n > 1 {
		t.Fatalf("%d timers waiting, want the woken one stopped", n)
	}
}
