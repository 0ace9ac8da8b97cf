package storesqlite

import "sync"

// writer serialises write transactions with two priorities. SQLite has one
// writer, and a background transaction (a batch of delivery outcomes, a
// lease, a retention round) can hold it for milliseconds; an acknowledged
// write (an ingest waiting to answer 202, an API change) should not queue
// behind it. Urgent writers go first, but after a few urgent turns in a row
// a waiting background writer gets one, so neither side starves.
type writer struct {
	mu         sync.Mutex
	cond       *sync.Cond
	busy       bool
	urgentWait int // urgent writers waiting
	bgWait     int // background writers waiting
	streak     int // urgent turns given in a row while background waited
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
func (w *writer) lock(urgent bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if urgent {
		w.urgentWait++
		for w.busy || (w.bgWait > 0 && w.streak >= maxUrgentStreak) {
			w.cond.Wait()
		}
		w.urgentWait--
		if w.bgWait > 0 {
			w.streak++
		}
	} else {
		w.bgWait++
		for w.busy || (w.urgentWait > 0 && w.streak < maxUrgentStreak) {
			w.cond.Wait()
		}
		w.bgWait--
		w.streak = 0
	}
	w.busy = true
}

// unlock ends the current writer's turn.
func (w *writer) unlock() {
	w.mu.Lock()
	w.busy = false
	w.mu.Unlock()
	w.cond.Broadcast()
}
