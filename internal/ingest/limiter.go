package ingest

import (
	"sync"
	"time"
)

// RateLimiter decides whether a source may ingest one more event now.
type RateLimiter interface {
	// Allow reports whether an event of the source may be accepted under a
	// limit of eps events per second, and if not, how long to wait.
	Allow(sourceID uint64, eps int, now time.Time) (bool, time.Duration)
}

// WindowLimiter is the single-node source limiter: a sliding log of the
// last eps acceptance times per source. It allows bursts of up to eps
// events, and never more than eps in any one-second window.
type WindowLimiter struct {
	mu   sync.Mutex
	logs map[uint64]*window
}

type window struct {
	at   []time.Time // ring of the last len(at) acceptances
	head int         // oldest entry
	n    int
}

// NewWindowLimiter returns an empty limiter.
func NewWindowLimiter() *WindowLimiter { return &WindowLimiter{logs: map[uint64]*window{}} }

// Allow implements RateLimiter.
func (l *WindowLimiter) Allow(sourceID uint64, eps int, now time.Time) (bool, time.Duration) {
	if eps <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.logs[sourceID]
	if w == nil || len(w.at) != eps {
		w = &window{at: make([]time.Time, eps)} // a changed limit starts afresh
		l.logs[sourceID] = w
	}
	if w.n < eps {
		w.at[(w.head+w.n)%eps] = now
		w.n++
		return true, 0
	}
	oldest := w.at[w.head]
	if wait := oldest.Add(time.Second).Sub(now); wait > 0 {
		return false, wait
	}
	w.at[w.head] = now
	w.head = (w.head + 1) % eps
	return true, 0
}
