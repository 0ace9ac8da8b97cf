package yield_test

import (
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/yield"
	"github.com/volleyhq/volley/internal/yield/yieldtest"
)

const (
	target = 10 * time.Millisecond
	slow   = target + time.Millisecond
)

// setup returns a Signal on a fake clock and a Throttle with floor 100.
func setup(t *testing.T) (*clock.Fake, *yield.Signal, *yield.Throttle) {
	t.Helper()
	fc := clock.NewFake(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	sig := yield.NewSignal(fc, target)
	return fc, sig, sig.Throttle("test", 100)
}

// work does n units every step for d on the fake clock, ignoring the
// throttle, and n more at its end: a rate of n/step the throttle has
// measured over a whole window.
func work(fc *clock.Fake, th *yield.Throttle, n int, step, d time.Duration) {
	for end := fc.Now().Add(d); fc.Now().Before(end); {
		th.Done(n)
		fc.Advance(step)
	}
	th.Done(n)
}

// slowLook reports a slow commit and lets the throttle look Adjust later.
func slowLook(fc *clock.Fake, sig *yield.Signal, th *yield.Throttle) {
	yieldtest.SlowCommit(fc, sig)
	th.Delay()
}

func TestOff(t *testing.T) {
	t.Parallel()
	sig := yield.NewSignal(clock.Real{}, 0)
	if sig != nil {
		t.Fatal("a Signal with target 0 is not nil: bulk work would yield when told not to")
	}
	sig.Committed(time.Hour) // a nil Signal and its Throttles are inert
	th := sig.Throttle("test", 100)
	th.Done(1000)
	if d := th.Delay(); d != 0 || th.Rate() != 0 {
		t.Fatalf("nil Throttle: delay %v rate %v, want 0 and 0", d, th.Rate())
	}
}

func TestUnlimitedWhileCommitsAreFast(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	for range 50 {
		sig.Committed(target) // at the target is not slow
		th.Done(1000)
		if d := th.Delay(); d != 0 {
			t.Fatalf("delay %v with every commit within the target", d)
		}
		fc.Advance(50 * time.Millisecond)
	}
	if r := th.Rate(); r != 0 {
		t.Fatalf("rate capped at %v with every commit within the target", r)
	}
}

func TestSlowCommitCapsBelowTheRateOfWork(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	work(fc, th, 100, 100*time.Millisecond, time.Second) // 1,000 a second
	fc.Advance(time.Millisecond)
	sig.Committed(slow)
	fc.Advance(yield.Adjust)
	if d := th.Delay(); d != 0 {
		t.Fatalf("delay %v before any work under the cap: the cap starts now", d)
	}
	if r := th.Rate(); r < 690 || r > 710 {
		t.Fatalf("rate capped at %.0f, want 0.7 × the 1,000 a second measured", r)
	}
	// 70 units at 700 a second: the next batch waits 100 ms.
	th.Done(70)
	if d := th.Delay(); d != 100*time.Millisecond {
		t.Fatalf("first batch under the cap: delay %v, want 100ms", d)
	}
	th.Done(70)
	if d := th.Delay(); d != 200*time.Millisecond {
		t.Fatalf("second batch under the cap: delay %v, want 200ms", d)
	}
}

func TestSlowCommitsLowerTheCapToTheFloor(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	work(fc, th, 100, 100*time.Millisecond, time.Second)
	prev := 0.0
	// Ten looks: seven reach the floor, and a trial (see
	// TestCapThatDoesNotHelpIsGivenUp) starts only after a Measure capped.
	for i := range 10 {
		slowLook(fc, sig, th)
		r := th.Rate()
		if r < 100 {
			t.Fatalf("look %d: rate %.1f below the floor of 100", i, r)
		}
		if i > 0 && r > prev {
			t.Fatalf("look %d: rate rose from %.1f to %.1f though a commit was slow", i, prev, r)
		}
		prev = r
	}
	if prev != 100 {
		t.Fatalf("rate %.1f after 10 slow looks, want the floor (100)", prev)
	}
	// At the floor, 100 units take a second; after a pause the work may
	// run ahead of its cap by 100 ms.
	th.Done(50)
	th.Done(50)
	if d := th.Delay(); d != 900*time.Millisecond {
		t.Fatalf("delay %v after 100 units at 100 a second, want 900ms (1s less the burst)", d)
	}
}

func TestCapRisesAndLiftsOnceCommitsAreFast(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	work(fc, th, 100, 100*time.Millisecond, time.Second)
	slowLook(fc, sig, th)
	capped := th.Rate()
	// Each Adjust without a slow commit raises the cap by a tenth: four
	// looks bring 700 to 1,025, above the 1,000 it was first capped at,
	// and the cap is lifted.
	want := []float64{770, 847, 931.7, 0}
	for i, w := range want {
		fc.Advance(yield.Adjust)
		th.Delay()
		if r := th.Rate(); r < w-1 || r > w+1 {
			t.Fatalf("calm look %d after a cap of %.0f: rate %.1f, want %.1f", i+1, capped, r, w)
		}
	}
	th.Done(10000)
	if d := th.Delay(); d != 0 {
		t.Fatalf("delay %v once the cap was lifted", d)
	}
}

func TestIdleWorkDoesNotPayForOldSlowCommits(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	fc.Advance(time.Millisecond)
	sig.Committed(slow)
	fc.Advance(2 * time.Second) // the work was idle meanwhile
	th.Done(100)
	if d, r := th.Delay(), th.Rate(); d != 0 || r != 0 {
		t.Fatalf("delay %v rate %v: a slow commit 2s before the work looked capped it", d, r)
	}
}

func TestLooksAtMostEveryAdjust(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	work(fc, th, 100, 100*time.Millisecond, time.Second)
	slowLook(fc, sig, th)
	first := th.Rate()
	for range 10 {
		fc.Advance(time.Millisecond)
		sig.Committed(slow)
		th.Delay()
	}
	if r := th.Rate(); r != first {
		t.Fatalf("rate %.1f after slow commits within one Adjust of the cap (%.1f): lowered more than once", r, first)
	}
}

func TestCapsOnlyWhenATenthOfCommitsAreSlow(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	work(fc, th, 100, 100*time.Millisecond, time.Second)
	// 1 slow commit in 11: the tail of a machine, not a drain's doing.
	for i := range 11 {
		took := target
		if i == 0 {
			took = slow
		}
		sig.Committed(took)
	}
	fc.Advance(yield.Adjust)
	th.Delay()
	if r := th.Rate(); r != 0 {
		t.Fatalf("rate capped at %.0f with 1 slow commit in 11", r)
	}
	// 1 in 10: slow.
	for i := range 10 {
		took := target
		if i == 0 {
			took = slow
		}
		sig.Committed(took)
	}
	fc.Advance(yield.Adjust)
	th.Delay()
	if r := th.Rate(); r == 0 {
		t.Fatal("no cap with 1 slow commit in 10")
	}
}

// commitsFor says how many ingest commits the machine makes in one Adjust,
// and how many of them are slow, while the work is capped or not.
type commitsFor func(capped bool) (n, slow int)

// looks runs the throttle's looks for d, one every Adjust, with the commits
// of each Adjust before its look, and calls each after every look.
func looks(fc *clock.Fake, sig *yield.Signal, th *yield.Throttle, d time.Duration, c commitsFor, each func()) {
	for end := fc.Now().Add(d); fc.Now().Before(end); {
		n, slow := c(th.Rate() > 0)
		for i := range n {
			took := target
			if i < slow {
				took = 2 * target
			}
			sig.Committed(took)
		}
		fc.Advance(yield.Adjust)
		th.Delay()
		each()
	}
}

func gaveUp(sig *yield.Signal) int64 { return sig.Caps()[0].GaveUp }

func TestCapThatDoesNotHelpIsGivenUp(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	work(fc, th, 100, 100*time.Millisecond, time.Second)
	// 3 commits in 10 slow whatever the work does: the machine's own tail.
	tail := func(bool) (int, int) { return 40, 12 }
	atFloor := false
	looks(fc, sig, th, 10*time.Second, tail, func() { atFloor = atFloor || th.Rate() == 100 })
	if !atFloor || gaveUp(sig) != 1 {
		t.Fatalf("after 10s of slow commits: reached the floor %v, gave up %d times; want true and 1", atFloor, gaveUp(sig))
	}
	if r := th.Rate(); r != 0 {
		t.Fatalf("rate %.0f after giving up, want uncapped", r)
	}
	// Uncapped for the rest of Holdoff however slow the commits.
	looks(fc, sig, th, yield.Holdoff-10*time.Second, tail, func() {
		if r := th.Rate(); r != 0 {
			t.Fatalf("at %v: capped at %.0f within Holdoff of giving up", fc.Now(), r)
		}
	})
	// Then it tries again: capped, and given up once more.
	capped := false
	looks(fc, sig, th, 10*time.Second, tail, func() { capped = capped || th.Rate() > 0 })
	if !capped || gaveUp(sig) != 2 {
		t.Fatalf("after Holdoff: capped again %v, gave up %d times; want true and 2", capped, gaveUp(sig))
	}
}

func TestCapThatHelpsIsKept(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	work(fc, th, 100, 100*time.Millisecond, time.Second)
	// 6 in 10 slow at full speed, 1 in 8 at any cap: the work makes most
	// of the slow commits, though not all of them.
	helps := func(capped bool) (int, int) {
		if capped {
			return 40, 5
		}
		return 40, 24
	}
	var uncapped []time.Time
	looks(fc, sig, th, 2*yield.Holdoff, helps, func() {
		if th.Rate() == 0 {
			uncapped = append(uncapped, fc.Now())
		}
	})
	if gaveUp(sig) != 0 {
		t.Fatalf("gave up %d times, though the cap cut the slow commits from 6 in 10 to 1 in 8", gaveUp(sig))
	}
	if r := th.Rate(); r != 100 {
		t.Fatalf("rate %.0f, want the floor", r)
	}
	// Uncapped only for the trials: at most one a Holdoff, a Trial long.
	most := int(2*yield.Trial/yield.Adjust) + 1
	if len(uncapped) == 0 || len(uncapped) > most {
		t.Fatalf("uncapped at %d looks in 2 Holdoffs, want 1 to %d (two trials)", len(uncapped), most)
	}
}

// TestIdleWorkForgetsItsTrial checks that a trial under way when the work
// goes idle is dropped, not decided on the commits made while it was idle.
func TestIdleWorkForgetsItsTrial(t *testing.T) {
	t.Parallel()
	fc, sig, th := setup(t)
	work(fc, th, 100, 100*time.Millisecond, time.Second)
	tail := func(bool) (int, int) { return 40, 12 }
	// Capped for a Measure and then some: the trial's uncapped half runs.
	looks(fc, sig, th, yield.Measure+3*yield.Adjust, tail, func() {})
	if r := th.Rate(); r != 0 {
		t.Fatalf("rate %.0f, want uncapped for the trial", r)
	}
	// The work goes idle past the trial's end while slow commits go on,
	// then comes back: the trial is forgotten, not decided on commits the
	// work did not make.
	for range 10 {
		sig.Committed(2 * target)
	}
	fc.Advance(2 * time.Second)
	th.Delay()
	if r, n := th.Rate(), gaveUp(sig); r != 0 || n != 0 {
		t.Fatalf("after an idle 2s: rate %.0f, gave up %d times; want uncapped and 0", r, n)
	}
}
