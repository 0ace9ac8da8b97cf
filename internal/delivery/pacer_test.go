package delivery

import (
	"testing"
	"time"
)

// drive starts n events through p as fast as it allows, beginning at
// start, and returns their start times.
func drive(p *pacer, eps, n int, start time.Time) []time.Time {
	out := make([]time.Time, 0, n)
	now := start
	for range n {
		at := p.ready(eps, now)
		if at.Before(now) {
			panic("pacer returned a time in the past")
		}
		p.take(eps, at)
		out = append(out, at)
		now = at
	}
	return out
}

// maxInWindow returns the most times that fall in one closed window
// [a, a+w] of a sorted list (a window holding the most always starts at one
// of the times).
func maxInWindow(times []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for j < len(times) && !times[j].After(times[i].Add(w)) {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

func TestPacerWindow(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, eps := range []int{1, 2, 3, 7, 20, 60, 1000, 31623, 70000, 99999, 100000} {
		p := &pacer{}
		n := 3*eps + 5
		times := drive(p, eps, n, start)
		if got := maxInWindow(times, time.Second); got > eps+1 {
			t.Errorf("eps %d: %d starts in one second, want at most %d", eps, got, eps+1)
		}
		// Driven as fast as allowed, the pacer is no stricter than its rate:
		// the whole run takes no longer than n-1 intervals, rounded up.
		if span, most := times[n-1].Sub(times[0]), time.Duration(n-1)*(time.Second/time.Duration(eps)+1); span > most {
			t.Errorf("eps %d: %d starts took %v, want at most %v", eps, n, span, most)
		}
	}
}

func TestPacerSpacing(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		eps  int
		want time.Duration // between consecutive starts
	}{
		{1, time.Second},
		{4, 250 * time.Millisecond},
		{20, 50 * time.Millisecond},
		{1000, time.Millisecond},
	}
	for _, tt := range tests {
		times := drive(&pacer{}, tt.eps, 10, start)
		if !times[0].Equal(start) {
			t.Errorf("eps %d: first start %v, want at once (%v)", tt.eps, times[0], start)
		}
		for i := 1; i < len(times); i++ {
			if d := times[i].Sub(times[i-1]); d != tt.want {
				t.Errorf("eps %d: start %d came %v after the previous, want %v", tt.eps, i, d, tt.want)
			}
		}
	}
}

func TestPacerUnlimited(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, eps := range []int{0, -1} {
		p := &pacer{}
		for i, at := range drive(p, eps, 1000, start) {
			if !at.Equal(start) {
				t.Fatalf("eps %d: start %d at %v, want at once", eps, i, at)
			}
		}
	}
}

// TestPacerIdle checks that an idle pacer does not bank budget: after a
// pause the next start is immediate, and the one after it is spaced again.
func TestPacerIdle(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := &pacer{}
	p.take(10, start)
	if at := p.ready(10, start.Add(50*time.Millisecond)); !at.Equal(start.Add(100 * time.Millisecond)) {
		t.Fatalf("ready too early: %v", at)
	}
	later := start.Add(10 * time.Second)
	if at := p.ready(10, later); !at.Equal(later) {
		t.Fatalf("after a pause: ready at %v, want %v", at, later)
	}
	p.take(10, later)
	if at := p.ready(10, later); !at.Equal(later.Add(100 * time.Millisecond)) {
		t.Fatalf("second start after a pause: ready at %v, want %v", at, later.Add(100*time.Millisecond))
	}
}
