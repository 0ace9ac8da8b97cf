package storesql

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	buckets := []LatencyBucket{{10, 5}, {100, 4}, {500, 1}}
	for _, tc := range []struct {
		p    int
		want int64
	}{{0, 10}, {50, 10}, {60, 100}, {95, 100}, {100, 500}} {
		if got := Percentile(buckets, tc.p); got != tc.want {
			t.Errorf("Percentile(p%d) = %d, want %d", tc.p, got, tc.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile of nothing = %d, want 0", got)
	}
}

func TestMetricsSince(t *testing.T) {
	t.Parallel()
	in := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	if got, want := MetricsSince(in), time.Date(2025, 1, 2, 2, 4, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("MetricsSince(%v) = %v, want %v", in, got, want)
	}
}

func TestLatencyBucketMS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ms, want int64 }{
		{-1, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 3}, {4, 5}, {6, 7}, {8, 10}, {11, 15}, {999, 1000}, {1000, 1000},
		{1001, 1500}, {59_999, 60_000}, {60_000, 60_000}, {60_001, 120_000}, {1 << 40, 120_000},
	} {
		if got := LatencyBucketMS(tc.ms); got != tc.want {
			t.Errorf("LatencyBucketMS(%d) = %d, want %d", tc.ms, got, tc.want)
		}
	}
}
