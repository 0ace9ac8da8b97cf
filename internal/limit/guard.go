package limit

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// GuardConfig tunes a Guard. The zero value of every field means its
// default.
type GuardConfig struct {
	// Free is how many failures an address may make within Window before
	// each further failure is answered late; 0 means 5.
	Free int
	// Block is the number of failures within Window at which the address
	// is refused (429) for BlockFor; 0 means 20.
	Block int
	// Window is how long failures are counted: the count starts afresh
	// once Window has passed since the first one; 0 means 15 minutes.
	Window time.Duration
	// BlockFor is how long a blocked address stays refused; 0 means 15
	// minutes.
	BlockFor time.Duration
	// BaseDelay is the delay of the first failure over Free, doubling with
	// each further one up to MaxDelay; 0 means 250ms and 4s.
	BaseDelay, MaxDelay time.Duration
	// MaxAddrs caps the addresses tracked; when it is reached the expired
	// ones are dropped, then arbitrary ones; 0 means 100,000 (a few MB).
	MaxAddrs int
	// NowFunc returns the current time; nil means time.Now.
	NowFunc func() time.Time
	// SleepFunc waits d or until ctx ends (the slow-down); nil waits on a
	// timer. Tests record the delays instead of waiting.
	SleepFunc func(ctx context.Context, d time.Duration)
}

// Guard counts failed authentications per client address. Past Free
// failures an address's failures are answered late (BaseDelay, doubling,
// capped at MaxDelay); at Block failures it is refused for BlockFor. A nil
// *Guard limits nothing. Its methods never hold a lock while waiting: the
// delay blocks only the failing request.
type Guard struct {
	cfg GuardConfig

	mu        sync.Mutex
	addrs     map[netip.Addr]*failures
	lastSweep time.Time
}

type failures struct {
	first        time.Time // start of the counting window
	n            int
	blockedUntil time.Time
}

// NewGuard returns a guard with cfg's limits.
func NewGuard(cfg GuardConfig) *Guard {
	if cfg.Free <= 0 {
		cfg.Free = 5
	}
	if cfg.Block <= 0 {
		cfg.Block = 20
	}
	cfg.Block = max(cfg.Block, cfg.Free+1)
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.BlockFor <= 0 {
		cfg.BlockFor = 15 * time.Minute
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = 250 * time.Millisecond
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 4 * time.Second
	}
	if cfg.MaxAddrs <= 0 {
		cfg.MaxAddrs = 100_000
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.SleepFunc == nil {
		cfg.SleepFunc = sleep
	}
	return &Guard{cfg: cfg, addrs: map[netip.Addr]*failures{}}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// key is what failures are counted by: the address, and for IPv6 its /64
// (one subscriber's network, which hands its owner countless addresses).
func key(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// Blocked reports whether addr is refused now, and for how long still.
func (g *Guard) Blocked(addr netip.Addr) (time.Duration, bool) {
	if g == nil {
		return 0, false
	}
	now := g.cfg.NowFunc()
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.addrs[key(addr)]
	if f == nil || !now.Before(f.blockedUntil) {
		return 0, false
	}
	return f.blockedUntil.Sub(now), true
}

// Fail records a failed authentication from addr. When the address is (or
// now becomes) blocked it returns at once with how long it stays refused;
// otherwise it waits the address's slow-down delay, if any, and returns
// blocked false.
func (g *Guard) Fail(ctx context.Context, addr netip.Addr) (time.Duration, bool) {
	if g == nil {
		return 0, false
	}
	retry, blocked, delay := g.record(key(addr), g.cfg.NowFunc())
	if blocked {
		return retry, true
	}
	if delay > 0 {
		g.cfg.SleepFunc(ctx, delay)
	}
	return 0, false
}

func (g *Guard) record(k netip.Addr, now time.Time) (retry time.Duration, blocked bool, delay time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.addrs[k]
	if f == nil {
		g.makeRoom(now)
		f = &failures{first: now}
		g.addrs[k] = f
	}
	if now.Before(f.blockedUntil) {
		return f.blockedUntil.Sub(now), true, 0
	}
	if !f.blockedUntil.IsZero() || now.Sub(f.first) >= g.cfg.Window {
		*f = failures{first: now} // a served block or an elapsed window starts afresh
	}
	f.n++
	if f.n >= g.cfg.Block {
		f.blockedUntil = now.Add(g.cfg.BlockFor)
		return g.cfg.BlockFor, true, 0
	}
	if over := f.n - g.cfg.Free; over > 0 {
		delay = g.cfg.BaseDelay
		for i := 1; i < over && delay < g.cfg.MaxDelay; i++ {
			delay *= 2
		}
		delay = min(delay, g.cfg.MaxDelay)
	}
	return 0, false, delay
}

// makeRoom keeps the map under MaxAddrs before an address is added: it
// drops the entries that say nothing any more (window over, not blocked),
// at most once a second so that a flood of new addresses cannot make every
// failure scan the map, and otherwise one arbitrary entry.
func (g *Guard) makeRoom(now time.Time) {
	if len(g.addrs) < g.cfg.MaxAddrs {
		return
	}
	if now.Sub(g.lastSweep) >= time.Second {
		g.lastSweep = now
		for k, f := range g.addrs {
			if now.Sub(f.first) >= g.cfg.Window && !now.Before(f.blockedUntil) {
				delete(g.addrs, k)
			}
		}
	}
	for k := range g.addrs {
		if len(g.addrs) < g.cfg.MaxAddrs {
			break
		}
		delete(g.addrs, k)
	}
}

// Len returns the number of addresses tracked.
func (g *Guard) Len() int {
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.addrs)
}
