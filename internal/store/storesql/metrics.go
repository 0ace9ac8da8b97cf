package storesql

import (
	"slices"
	"time"
)

// Connection metrics are kept per connection and minute (connection_minutes,
// connection_latency, connection_backlog) by triggers in each driver's
// migrations, and for the SQLite driver's delivery outcomes by the driver
// itself, in the same transaction as the rows they count, so
// that reading them costs the same whatever the store size. These helpers
// are the parts of the read both drivers share.

// MetricsSince rounds since down to its minute, the granularity of the
// counters.
func MetricsSince(since time.Time) time.Time { return since.UTC().Truncate(time.Minute) }

// LatencyBucket is the count of successful attempts whose duration fell in
// one latency bucket; UpperMS is the bucket's upper bound. The bounds (1, 2,
// 3, 5, 7, 10, 15, … 30,000, 60,000 ms, and 120,000 ms for anything longer)
// are LatencyBucketMS's.
type LatencyBucket struct {
	UpperMS int64
	N       int64
}

// latencyBounds are the latency buckets' upper bounds, in milliseconds.
var latencyBounds = [...]int64{1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000,
	3000, 5000, 7000, 10000, 15000, 20000, 30000, 60000}

// LatencyBucketMS is the upper bound of the latency bucket a duration of ms
// milliseconds counts in (120,000 past the last bound), as PostgreSQL's
// metrics_bucket function computes it; the SQLite driver counts in Go.
func LatencyBucketMS(ms int64) int64 {
	i, _ := slices.BinarySearch(latencyBounds[:], ms)
	if i == len(latencyBounds) {
		return 120_000
	}
	return latencyBounds[i]
}

// Percentile returns the upper bound of the bucket holding the p-th
// percentile (lower nearest rank: the (n-1)·p/100-th of the n durations,
// counting from 0) of buckets sorted by bound, or 0 when there are none.
func Percentile(buckets []LatencyBucket, p int) int64 {
	var n int64
	for _, b := range buckets {
		n += b.N
	}
	if n == 0 {
		return 0
	}
	rank := (n - 1) * int64(p) / 100
	for _, b := range buckets {
		if rank < b.N {
			return b.UpperMS
		}
		rank -= b.N
	}
	return buckets[len(buckets)-1].UpperMS // unreachable: rank < n
}
