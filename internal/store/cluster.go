package store

import (
	"context"
	"time"
)

// Cluster is implemented by stores that several nodes share (PostgreSQL).
// It carries what the nodes coordinate through: liveness, wake-ups, and
// rate limits that hold across all of them. A store owned by one process
// (SQLite) does not implement it.
type Cluster interface {
	// NodeHeartbeat records, in the database's clock, that owner is alive.
	NodeHeartbeat(ctx context.Context, owner string) error
	// NodeReap makes the pending deliveries leased by nodes silent for
	// longer than ttl due now, forgets those nodes, and returns how many
	// deliveries it released. Safe to run on every node at once.
	NodeReap(ctx context.Context, ttl time.Duration) (int64, error)

	// Listen calls onWork when another node stored work it did not take
	// (deliveries inserted without a lease, or released), and onConfig when
	// another node changed configuration, until ctx ends or the connection
	// fails (then it returns the error; the caller listens again).
	Listen(ctx context.Context, onWork, onConfig func()) error
	// NotifyConfig tells the other nodes that configuration changed.
	NotifyConfig(ctx context.Context) error

	// RateReserve reserves the next start under every limit at once and
	// returns it: the earliest time, not before now, at which an event may
	// start without any key exceeding its eps, spacing starts of one key at
	// least 1/eps apart across all nodes. Keys with eps ≤ 0 are ignored.
	RateReserve(ctx context.Context, limits []RateLimit, now time.Time) (time.Time, error)
	// SourceRateAllow counts one event of a source against its eps across
	// all nodes: at most eps in any one-second window. It reports whether
	// the event may be accepted and, if not, how long to wait.
	SourceRateAllow(ctx context.Context, sourceID uint64, eps int, now time.Time) (bool, time.Duration, error)
	// APIRateTake counts one API request of key (a token) across all
	// nodes, as one step of the generic cell rate algorithm in a single
	// atomic statement: the request is allowed when max(tat, now) +
	// interval − burst × interval ≤ now, and then the key's theoretical
	// arrival time (tat) moves to max(tat, now) + interval. It returns the
	// tat afterwards and whether the request was allowed.
	APIRateTake(ctx context.Context, key string, interval time.Duration, burst int, now time.Time) (time.Time, bool, error)
}

// RateLimit names one rate limit: "d:<destination id>" or "c:<connection
// id>".
type RateLimit struct {
	Key string
	EPS int
}
