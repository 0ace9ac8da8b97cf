package limit

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
)

// setupGuard returns a guard on a fake clock whose slow-downs are recorded
// instead of waited.
func setupGuard(t *testing.T, cfg GuardConfig) (*Guard, *clock.Fake, func() []time.Duration) {
	t.Helper()
	clk := clock.NewFake(t0)
	var mu sync.Mutex
	var delays []time.Duration
	cfg.NowFunc = clk.Now
	cfg.SleepFunc = func(_ context.Context, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		delays = append(delays, d)
	}
	return NewGuard(cfg), clk, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), delays...)
	}
}

func TestGuardSlowsThenBlocksOneAddress(t *testing.T) {
	t.Parallel()
	g, clk, delays := setupGuard(t, GuardConfig{Free: 2, Block: 6, BaseDelay: time.Second, MaxDelay: 3 * time.Second, BlockFor: time.Minute})
	ctx := context.Background()
	bad, other := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("198.51.100.9")
	for i := range 5 {
		if _, blocked := g.Fail(ctx, bad); blocked {
			t.Fatalf("failure %d blocked", i+1)
		}
	}
	// Two free failures, then 1s, 2s, 3s (capped).
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if got := delays(); !equalDurations(got, want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	if retry, blocked := g.Fail(ctx, bad); !blocked || retry != time.Minute {
		t.Fatalf("sixth failure: blocked %v retry %v, want blocked for 1m", blocked, retry)
	}
	if len(delays()) != 3 {
		t.Fatal("a blocking failure was delayed")
	}
	clk.Advance(10 * time.Second)
	if retry, blocked := g.Blocked(bad); !blocked || retry != 50*time.Second {
		t.Fatalf("Blocked(bad) = %v, %v; want 50s, true", retry, blocked)
	}
	// Another address is neither slowed nor blocked.
	if _, blocked := g.Blocked(other); blocked {
		t.Fatal("other address blocked")
	}
	if _, blocked := g.Fail(ctx, other); blocked || len(delays()) != 3 {
		t.Fatal("other address's first failure was slowed or blocked")
	}
	// The block ends; the count starts afresh.
	clk.Advance(50 * time.Second)
	if _, blocked := g.Blocked(bad); blocked {
		t.Fatal("still blocked after BlockFor")
	}
	if _, blocked := g.Fail(ctx, bad); blocked || len(delays()) != 3 {
		t.Fatal("first failure after the block was slowed or blocked")
	}
}

func TestGuardWindowForgetsOldFailures(t *testing.T) {
	t.Parallel()
	g, clk, delays := setupGuard(t, GuardConfig{Free: 1, Block: 3, Window: time.Minute})
	ctx := context.Background()
	a := netip.MustParseAddr("203.0.113.7")
	g.Fail(ctx, a)
	g.Fail(ctx, a) // delayed
	clk.Advance(time.Minute)
	if _, blocked := g.Fail(ctx, a); blocked {
		t.Fatal("failures of an elapsed window still counted")
	}
	if got := delays(); len(got) != 1 {
		t.Fatalf("delays %v, want one", got)
	}
}

func TestGuardIPv6CountsBySubnet(t *testing.T) {
	t.Parallel()
	g, _, _ := setupGuard(t, GuardConfig{Free: 1, Block: 2})
	ctx := context.Background()
	g.Fail(ctx, netip.MustParseAddr("2001:db8:1:2::1"))
	g.Fail(ctx, netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	if _, blocked := g.Blocked(netip.MustParseAddr("2001:db8:1:2::77")); !blocked {
		t.Fatal("another address of the same /64 is not blocked")
	}
	if _, blocked := g.Blocked(netip.MustParseAddr("2001:db8:1:3::1")); blocked {
		t.Fatal("a neighbouring /64 is blocked")
	}
	// IPv4 and its IPv4-mapped spelling are one address.
	g.Fail(ctx, netip.MustParseAddr("192.0.2.1"))
	g.Fail(ctx, netip.MustParseAddr("::ffff:192.0.2.1"))
	if _, blocked := g.Blocked(netip.MustParseAddr("192.0.2.1")); !blocked {
		t.Fatal("IPv4-mapped failures not counted with the IPv4 address")
	}
}

func TestGuardMemoryIsBounded(t *testing.T) {
	t.Parallel()
	g, clk, _ := setupGuard(t, GuardConfig{MaxAddrs: 100, Block: 2, Free: 1})
	ctx := context.Background()
	for i := range 1000 {
		g.Fail(ctx, netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		if i%10 == 0 {
			clk.Advance(time.Second)
		}
		if n := g.Len(); n > 100 {
			t.Fatalf("after %d addresses, %d tracked", i+1, n)
		}
	}
}

func TestNilGuardLimitsNothing(t *testing.T) {
	t.Parallel()
	var g *Guard
	a := netip.MustParseAddr("192.0.2.1")
	for range 100 {
		if _, blocked := g.Fail(context.Background(), a); blocked {
			t.Fatal("nil guard blocked")
		}
	}
	if _, blocked := g.Blocked(a); blocked || g.Len() != 0 {
		t.Fatal("nil guard blocked")
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
