package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInOrderOnlyWhenDue(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	a, b := f.NewTimer(time.Second), f.NewTimer(3*time.Second)
	stopped := f.NewTimer(2 * time.Second)
	if !stopped.Stop() {
		t.Fatal("Stop of a waiting timer returned false")
	}
	if f.Timers() != 2 {
		t.Fatalf("Timers = %d, want 2", f.Timers())
	}
	f.Advance(999 * time.Millisecond)
	select {
	case <-a.C():
		t.Fatal("timer fired early")
	default:
	}
	f.Advance(time.Millisecond)
	if got := <-a.C(); !got.Equal(start.Add(time.Second)) {
		t.Fatalf("fired at %v", got)
	}
	f.Advance(5 * time.Second)
	<-b.C()
	select {
	case <-stopped.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if !f.Now().Equal(start.Add(6 * time.Second)) {
		t.Fatalf("Now = %v", f.Now())
	}
	if z := f.NewTimer(0); len(z.C()) != 1 {
		t.Fatal("zero-duration timer did not fire at once")
	}
}

func TestRealTimer(t *testing.T) {
	t.Parallel()
	var r Real
	tm := r.NewTimer(time.Millisecond)
	<-tm.C()
	if r.Now().IsZero() {
		t.Fatal("zero time")
	}
}
