// Package broadcast wakes every waiter at once when something happens in
// this process: the ingest path signals a commit, and each open listen
// stream reads the store at once instead of at its next poll.
package broadcast

import "sync"

// Signal is a condition that any number of goroutines wait on together.
// Its zero value is ready to use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns a channel that is closed at the next Notify. A waiter takes
// the channel before it reads what it waits for, so that a Notify between
// the read and the wait is not lost.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes every current waiter. It never blocks and costs nothing
// when nobody waits.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
