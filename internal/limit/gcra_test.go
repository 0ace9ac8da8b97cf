package limit

import (
	"context"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestLocalBurstThenRefill(t *testing.T) {
	t.Parallel()
	l := NewLocal(Rate{PerSecond: 50, Burst: 100})
	ctx := context.Background()
	// A full bucket: 100 requests at one instant pass, counting down.
	for i := range 100 {
		d, err := l.Take(ctx, "tok:1", t0)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.Limit != 100 || d.Remaining != 99-i {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", i, d, 99-i)
		}
	}
	d, _ := l.Take(ctx, "tok:1", t0)
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != 20*time.Millisecond || d.Reset != 2*time.Second {
		t.Fatalf("101st request: %+v, want refused, retry in 20ms, full in 2s", d)
	}
	// Another token has its own bucket.
	if d, _ := l.Take(ctx, "tok:2", t0); !d.Allowed || d.Remaining != 99 {
		t.Fatalf("other token: %+v", d)
	}
	// 19ms later: still refused; at 20ms one request passes, then none.
	if d, _ := l.Take(ctx, "tok:1", t0.Add(19*time.Millisecond)); d.Allowed || d.RetryAfter != time.Millisecond {
		t.Fatalf("at 19ms: %+v", d)
	}
	if d, _ := l.Take(ctx, "tok:1", t0.Add(20*time.Millisecond)); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("at 20ms: %+v", d)
	}
	if d, _ := l.Take(ctx, "tok:1", t0.Add(20*time.Millisecond)); d.Allowed {
		t.Fatalf("second at 20ms: %+v", d)
	}
	// One second later 50 requests have refilled.
	at := t0.Add(1020 * time.Millisecond)
	for i := range 50 {
		if d, _ := l.Take(ctx, "tok:1", at); !d.Allowed {
			t.Fatalf("refilled request %d refused: %+v", i, d)
		}
	}
	if d, _ := l.Take(ctx, "tok:1", at); d.Allowed {
		t.Fatalf("51st refilled request allowed: %+v", d)
	}
	// Idle long enough, the bucket is full again.
	if d, _ := l.Take(ctx, "tok:1", t0.Add(time.Hour)); !d.Allowed || d.Remaining != 99 {
		t.Fatalf("after an hour: %+v", d)
	}
}

func TestStepTable(t *testing.T) {
	t.Parallel()
	r := Rate{PerSecond: 2, Burst: 4} // interval 500ms
	for _, tc := range []struct {
		name          string
		tat           time.Time
		allowed       bool
		remaining     int
		retry, reset  time.Duration
		wantTATOffset time.Duration
	}{
		{"new key", time.Time{}, true, 3, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{"tat in the past", t0.Add(-time.Minute), true, 3, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{"half used", t0.Add(time.Second), true, 1, 0, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"last token", t0.Add(1500 * time.Millisecond), true, 0, 0, 2 * time.Second, 2 * time.Second},
		{"empty", t0.Add(2 * time.Second), false, 0, 500 * time.Millisecond, 2 * time.Second, 2 * time.Second},
		{"empty and more", t0.Add(2200 * time.Millisecond), false, 0, 700 * time.Millisecond, 2200 * time.Millisecond, 2200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tat, d := Step(r, tc.tat, t0)
			want := Decision{Allowed: tc.allowed, Limit: 4, Remaining: tc.remaining, Reset: tc.reset, RetryAfter: tc.retry}
			if d != want {
				t.Errorf("decision %+v, want %+v", d, want)
			}
			if got := tat.Sub(t0); got != tc.wantTATOffset {
				t.Errorf("tat now%+v, want now%+v", got, tc.wantTATOffset)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]int{0: 1, time.Nanosecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 15 * time.Minute: 900} {
		if got := Seconds(d); got != want {
			t.Errorf("Seconds(%v) = %d, want %d", d, got, want)
		}
	}
}

// BenchmarkLocalTake measures the in-process limit check of one API
// request (SQLite nodes), over 1,000 tokens.
func BenchmarkLocalTake(b *testing.B) {
	l := NewLocal(Rate{PerSecond: 1e9, Burst: 2e9})
	ctx := context.Background()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "t:" + strconv.Itoa(i)
	}
	now := t0
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			l.Take(ctx, keys[i%len(keys)], now)
		}
	})
}
