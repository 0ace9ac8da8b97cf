package storesqlite

import "sync"

// writer serialises write transactions with two priorities. SQLite has one
// writer, and a background transaction (a batch of delivery outcomes, a
// lease, a retention round) can hold it for milliseconds; an acknowledged
// write (an ingest waiting to answer 202, an API change) should not queue
// behind it. Urgent writers go first, but after a few urgent turns in a row
// a waiting background writer gets one, so neither side starves.
//
// Background writers also wait while the writer is throttled: the
// checkpointer throttles it when the WAL has run too far ahead of what it
// could copy back (checkpoint.go). A throttled background writer does not
// count as waiting for the urgent side's streak, so ingestion goes on.
// The checkpointer's own turn is exempt from the throttle.
type writer struct {
	mu         sync.Mutex
	cond       *sync.Cond
	busy       bool
	urgentWait int  // urgent writers waiting
	bgWait     int  // background writers waiting, the throttle applying to them
	exemptWait int  // background writers waiting that the throttle does not hold
	streak     int  // urgent turns given in a row while background waited
	throttled  bool // background writers (but exempt ones) wait
}

// maxUrgentStreak bounds how many urgent turns in a row may pass a waiting
// background writer.
const maxUrgentStreak = 4

func newWriter() *writer {
	w := &writer{}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// lock waits for the writer's turn.
func (w *writer) lock(urgent bool) { w.lockAs(urgent, false) }

// lockAs waits for the writer's turn; an exempt background writer goes
// even while the writer is throttled.
func (w *writer) lockAs(urgent, exempt bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if urgent {
		w.urgentWait++
		for w.busy || (w.backgroundReady() && w.streak >= maxUrgentStreak) {
			w.cond.Wait()
		}
		w.urgentWait--
		if w.backgroundReady() {
			w.streak++
		}
	} else {
		wait := &w.bgWait
		if exempt {
			wait = &w.exemptWait
		}
		*wait++
		for w.busy || (w.urgentWait > 0 && w.streak < maxUrgentStreak) || (w.throttled && !exempt) {
			w.cond.Wait()
		}
		*wait--
		w.streak = 0
	}
	w.busy = true
}

// backgroundReady reports whether a background writer is waiting that
// could have the next turn. The caller holds w.mu.
func (w *writer) backgroundReady() bool {
	return w.exemptWait > 0 || (w.bgWait > 0 && !w.throttled)
}

// throttle makes background writers (but exempt ones) wait, or lets them
// go again.
func (w *writer) throttle(on bool) {
	w.mu.Lock()
	changed := w.throttled != on
	w.throttled = on
	w.mu.Unlock()
	if changed {
		w.cond.Broadcast()
	}
}

// unlock ends the current writer's turn.
func (w *writer) unlock() {
	w.mu.Lock()
	w.busy = false
	w.mu.Unlock()
	w.cond.Broadcast()
}

// urgentWaiting reports whether an urgent writer (an ingest, an API
// change) waits for the writer: a background batch that can stop between
// two rows stops there for it (see yieldAfter).
func (w *writer) urgentWaiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.urgentWait > 0
}

// isThrottled reports whether background writers wait.
func (w *writer) isThrottled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.throttled
}
