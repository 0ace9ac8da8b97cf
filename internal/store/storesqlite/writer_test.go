package storesqlite

import (
	"sync"
	"testing"
	"time"
)

// waitFor polls until the writer has the given waiters queued.
func waitFor(t *testing.T, w *writer, urgent, bg int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		ok := w.urgentWait == urgent && w.bgWait == bg
		w.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiters never reached urgent=%d background=%d", urgent, bg)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWriterServesUrgentFirstWithoutStarvingBackground(t *testing.T) {
	t.Parallel()
	w := newWriter()
	w.lock(true) // held while the queue forms
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	enter := func(name string, urgent bool) {
		wg.Go(func() {
			w.lock(urgent)
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			w.unlock()
		})
	}
	enter("bg", false)
	waitFor(t, w, 0, 1)
	for i, name := range []string{"u1", "u2", "u3", "u4", "u5", "u6"} {
		enter(name, true)
		waitFor(t, w, i+1, 1)
	}
	w.unlock()
	wg.Wait()
	// Urgent writers pass the background one, but only maxUrgentStreak times
	// in a row.
	pos := -1
	for i, n := range order {
		if n == "bg" {
			pos = i
		}
	}
	if pos != maxUrgentStreak {
		t.Fatalf("order = %v: the background writer went at %d, want %d", order, pos, maxUrgentStreak)
	}
}

// TestWriterThrottle checks that a throttled writer holds background
// writers back, but neither urgent writers, however many pass in a row,
// nor an exempt background writer (the checkpointer's).
func TestWriterThrottle(t *testing.T) {
	t.Parallel()
	w := newWriter()
	w.throttle(true)
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	enter := func(name string, urgent, exempt bool) {
		wg.Go(func() {
			w.lockAs(urgent, exempt)
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			w.unlock()
		})
	}
	// went waits until n writers have had their turn.
	went := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			got := len(order)
			mu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writers went, want %d: %v", got, n, order)
			}
			time.Sleep(time.Millisecond)
		}
	}
	enter("bg", false, false)
	waitFor(t, w, 0, 1)
	// More urgent turns than a streak may have while background waits: a
	// throttled one is not waiting for a turn.
	for i := range 2 * maxUrgentStreak {
		enter("urgent", true, false)
		went(i + 1)
	}
	enter("checkpoint", false, true)
	went(2*maxUrgentStreak + 1)
	w.throttle(false)
	wg.Wait()
	if last := order[len(order)-1]; last != "bg" || order[len(order)-2] != "checkpoint" {
		t.Fatalf("order = %v: want the urgent writers, the exempt one, then the throttled one", order)
	}
}
