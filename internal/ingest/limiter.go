package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

// RateLimiter decides whether a source may ingest one more event now.
type RateLimiter interface {
	// Allow reports whether an event of the source may be accepted under a
	// limit of eps events per second, and if not, how long to wait.
	Allow(ctx context.Context, sourceID uint64, eps int, now time.Time) (bool, time.Duration, error)
}

// WindowLimiter is the single-node source limiter: a sliding log of the
// last eps acceptance times per source. It allows bursts of up to eps
// events, and never more than eps in any one-second window.
type WindowLimiter struct {
	mu    sync.Mutex
	logs  map[uint64]*window
	calls int // since the last sweep of idle sources
}

// sweepEvery is how many calls pass between sweeps of sources idle for more
// than a second, whose windows say nothing any more (deleted or quiet
// sources would otherwise stay in memory for good).
const sweepEvery = 4096

type window struct {
	at   []time.Time // ring of the last len(at) acceptances
	head int         // oldest entry
	n    int
}

// NewWindowLimiter returns an empty limiter.
func NewWindowLimiter() *WindowLimiter { return &WindowLimiter{logs: map[uint64]*window{}} }

// Allow implements RateLimiter.
func (l *WindowLimiter) Allow(_ context.Context, sourceID uint64, eps int, now time.Time) (bool, time.Duration, error) {
	ok, wait := l.allow(sourceID, eps, now)
	return ok, wait, nil
}

func (l *WindowLimiter) allow(sourceID uint64, eps int, now time.Time) (bool, time.Duration) {
	if eps <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls++; l.calls >= sweepEvery {
		l.calls = 0
		for id, w := range l.logs {
			if w.n > 0 && now.Sub(w.at[(w.head+w.n-1)%len(w.at)]) > time.Second {
				delete(l.logs, id)
			}
		}
	}
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

// ClusterLimiter enforces source eps across every node through the shared
// store. A refusal is remembered until it expires, so a flood over the
// limit is refused locally without a database round trip per request.
type ClusterLimiter struct {
	store store.Cluster

	mu      sync.Mutex
	blocked map[uint64]time.Time // source → refused until
}

// NewClusterLimiter returns a limiter over a shared store.
func NewClusterLimiter(c store.Cluster) *ClusterLimiter {
	return &ClusterLimiter{store: c, blocked: map[uint64]time.Time{}}
}

// Allow implements RateLimiter.
func (l *ClusterLimiter) Allow(ctx context.Context, sourceID uint64, eps int, now time.Time) (bool, time.Duration, error) {
	if eps <= 0 {
		return true, 0, nil
	}
	l.mu.Lock()
	until, ok := l.blocked[sourceID]
	if ok && !now.Before(until) {
		delete(l.blocked, sourceID) // expired refusals do not pile up
	}
	l.mu.Unlock()
	if ok && now.Before(until) {
		return false, until.Sub(now), nil
	}
	allowed, wait, err := l.store.SourceRateAllow(ctx, sourceID, eps, now)
	if err != nil || allowed {
		return allowed, 0, err
	}
	l.mu.Lock()
	l.blocked[sourceID] = now.Add(wait)
	l.mu.Unlock()
	return false, wait, nil
}
