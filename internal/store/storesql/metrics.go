package storesql

import "time"

// Connection metrics are kept per connection and minute by triggers in each
// driver's migrations (connection_minutes, connection_latency,
// connection_backlog), in the same transaction as the rows they count, so
// that reading them costs the same whatever the store size. These helpers
// are the parts of the read both drivers share.

// MetricsSince rounds since down to its minute, the granularity of the
// counters.
func MetricsSince(since time.Time) time.Time { return since.UTC().Truncate(time.Minute) }

// LatencyBucket is the count of successful attempts whose duration fell in
// one latency bucket; UpperMS is the bucket's upper bound. The bounds (1, 2,
// 3, 5, 7, 10, 15, … 30,000, 60,000 ms, and 120,000 ms for anything longer)
// are written in the drivers' triggers.
type LatencyBucket struct {
	UpperMS int64
	N       int64
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
