// Package yield slows a node's bulk work (backlog drains, retention
// purges, bulk replays) while its ingestion commits slowly, and lets it
// run at full speed the rest of the time. Sweeps after a configuration
// change do not yield: see delivery's sweeper.
//
// The stores already keep bulk work out of ingestion's way at the lock
// level: small batches, SQLite's writer queueing them behind every waiting
// ingest, PostgreSQL locking only the rows a batch changes. What that cannot
// see is the machine: a drain at full speed takes the CPU and the disk
// (PostgreSQL's WAL) that ingest commits then wait for. So each ingest group
// commit reports how long it took to a Signal, and each kind of bulk work
// asks its Throttle how long to wait before its next batch. A Throttle is
// unlimited until a look (at most one every Adjust) finds that at least a
// tenth of the commits since its last look took longer than the Signal's
// target; then it caps its work's rate below what it was doing, and lowers
// the cap again on every look that finds as many slow commits, down to a
// floor that keeps the work moving whatever happens; each look that finds
// fewer raises the cap by a tenth, until it is back above the rate it was
// first capped at and the Throttle is unlimited again (additive increase
// would take minutes to give a drain its speed back).
//
// A share rather than any slow commit: a machine's commits have a tail of
// their own (a checkpoint, another process), which throttling bulk work
// does not shorten; a drain that holds the CPU shifts most of them. The
// first version slowed on any slow commit, and on PostgreSQL on two cores
// it held a drain at its floor throughout while the tail stayed.
//
// A cap that has held its work for a while with commits still slow has
// not met its target, and may be trading the work's speed for a tail it
// cannot shorten: on PostgreSQL on two cores, on slow hours, the empty
// store's own ingest commits had a p99 over 25 ms, and a drain capped
// throughout ran at 41 % of its speed while the tail stayed. So once a
// Throttle has capped its work for Measure with a tenth of the commits or
// more still slow, it runs uncapped for a Trial and compares: if the cap
// did not at least halve the share of slow commits, capping does not help
// enough to pay for itself and the work runs uncapped for Holdoff; if it
// did, the cap goes back to where it was and stays (the work does slow
// ingestion, if not below the target), without another trial for as long.
//
// A Signal sees only its own node's commits: on a store shared by several
// nodes, one node's drain slowing another node's ingestion is not seen.
package yield

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/volleyhq/volley/internal/clock"
)

// DefaultTarget is the ingest commit time above which bulk work slows: the
// 25 ms an ingest request may take at the 99th percentile (issue 8). With
// 10 ms, PostgreSQL on two cores had a tenth of its commits over it even
// with bulk work at its floor, which then held a drain there throughout.
const DefaultTarget = 25 * time.Millisecond

// Adjust is how often, at most, a Throttle changes its cap: long enough for
// the last change to show in the commits that follow.
const Adjust = 200 * time.Millisecond

const (
	decrease = 0.7 // the cap's factor on each look that finds a slow commit
	increase = 1.1 // and on each look that finds none
	// burst is how far ahead of its cap a Throttle lets work go after an
	// idle moment, so that batches need not be spaced exactly.
	burst = 100 * time.Millisecond
	// window is how long a Throttle measures its work's rate over.
	window = time.Second
	// slowShare: a look finds ingestion slow when at least 1/slowShare of
	// the commits since the last look were slower than the target.
	slowShare = 10
)

// Measure is how long a Throttle measures the share of slow commits while
// it caps its work before it may try without; Trial is how long it then
// runs uncapped to compare.
const (
	Measure = 2 * time.Second
	Trial   = time.Second
)

// Holdoff is how long a Throttle keeps what a trial decided: uncapped when
// the cap did not halve the share of slow commits, capped without another
// trial otherwise.
const Holdoff = 30 * time.Second

// Signal collects how long ingest group commits take. A nil *Signal sees
// nothing, and its Throttles never wait.
type Signal struct {
	clock  clock.Clock
	target time.Duration
	// commits and slow count the commits, and those slower than target;
	// written on the ingest path, hence atomic.
	commits, slow atomic.Int64

	mu        sync.Mutex
	throttles []*Throttle // for Caps
}

// Cap is one Throttle's cap, for metrics.
type Cap struct {
	Work string  // the kind of bulk work
	Rate float64 // units a second; 0: no cap
	// GaveUp counts the trials after which the Throttle ran uncapped for
	// Holdoff because its cap did not halve the share of slow commits.
	GaveUp int64
}

// Caps returns the caps of the Signal's Throttles, in the order they were
// made.
func (s *Signal) Caps() []Cap {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	ths := s.throttles
	s.mu.Unlock()
	caps := make([]Cap, len(ths))
	for i, t := range ths {
		t.mu.Lock()
		caps[i] = Cap{Work: t.work, Rate: t.rate, GaveUp: t.gaveUp}
		t.mu.Unlock()
	}
	return caps
}

// NewSignal returns a Signal with the given target (commits taking longer
// are slow); target <= 0 returns nil: bulk work never yields.
func NewSignal(c clock.Clock, target time.Duration) *Signal {
	if target <= 0 {
		return nil
	}
	if c == nil {
		c = clock.Real{}
	}
	return &Signal{clock: c, target: target}
}

// Committed records one ingest group commit that took took.
func (s *Signal) Committed(took time.Duration) {
	if s == nil {
		return
	}
	s.commits.Add(1)
	if took > s.target {
		s.slow.Add(1)
	}
}

// Throttle returns a Throttle for one kind of bulk work, named work in
// Caps, which keeps at least floor units of work a second (floor > 0).
func (s *Signal) Throttle(work string, floor float64) *Throttle {
	if s == nil {
		return nil
	}
	now := s.clock.Now()
	t := &Throttle{sig: s, work: work, floor: floor, looked: now, winStart: now, seen: s.tally()}
	s.mu.Lock()
	s.throttles = append(s.throttles, t)
	s.mu.Unlock()
	return t
}

// tally is a Signal's counts at one moment: commits, and slow ones.
type tally struct{ commits, slow int64 }

func (s *Signal) tally() tally { return tally{s.commits.Load(), s.slow.Load()} }

// since is the commits made between then and a.
func (a tally) since(then tally) tally { return tally{a.commits - then.commits, a.slow - then.slow} }

// share is the share of slow commits, 0 without any.
func (a tally) share() float64 {
	if a.commits <= 0 {
		return 0
	}
	return float64(a.slow) / float64(a.commits)
}

// Throttle paces one kind of bulk work. A nil *Throttle never waits. Its
// methods may be called from several goroutines.
type Throttle struct {
	sig   *Signal
	work  string
	floor float64

	mu sync.Mutex
	// rate caps the work in units a second; 0 means no cap.
	rate float64
	// ceiling is the rate the work ran at when it was first capped: once
	// the cap is back above it, the Throttle is unlimited again.
	ceiling float64
	// next is when the work may go on (a GCRA's theoretical arrival time).
	next time.Time
	// looked is when the cap was last adjusted, and seen the Signal's
	// counts then.
	looked time.Time
	seen   tally
	// The work's rate: units done since winStart, and the rate of the last
	// full window.
	winStart time.Time
	winUnits float64
	recent   float64

	// The trial (see the package comment). mark is the Signal's counts at
	// the start of the current measure of the capped work (markAt; zero:
	// none under way) or of a trial's uncapped run, which ends at trialEnd
	// (zero: no trial under way); cappedShare is the share of slow commits
	// the measure before the trial found, and resume the cap to go back
	// to. Until holdUntil, what the last trial decided holds: uncapped if
	// uncapped, else capped as the looks say without another trial.
	mark        tally
	markAt      time.Time
	trialEnd    time.Time
	cappedShare float64
	resume      float64
	holdUntil   time.Time
	uncapped    bool
	gaveUp      int64
}

// Delay says how long the work should wait before its next batch: 0 while
// it is not capped or within its cap.
func (t *Throttle) Delay() time.Duration {
	if t == nil {
		return 0
	}
	now := t.sig.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.look(now)
	if t.rate == 0 {
		return 0
	}
	return max(0, t.next.Sub(now))
}

// Done records n units of work just done.
func (t *Throttle) Done(n int) {
	if t == nil || n <= 0 {
		return
	}
	now := t.sig.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.measure(now, float64(n))
	t.look(now)
	if t.rate == 0 {
		return
	}
	start := t.next
	if earliest := now.Add(-burst); start.Before(earliest) {
		start = earliest
	}
	t.next = start.Add(time.Duration(float64(n) / t.rate * float64(time.Second)))
}

// Rate is the current cap in units a second; 0 means none.
func (t *Throttle) Rate() float64 {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rate
}

// look adjusts the cap, at most once every Adjust: down when at least a
// tenth of the commits since the last look were slow, up by a tenth for
// every Adjust since the last look otherwise. A worker that was idle for
// longer than a window does not pay for old news: it starts afresh.
func (t *Throttle) look(now time.Time) {
	since := now.Sub(t.looked)
	if since < Adjust {
		return
	}
	seen := t.sig.tally()
	d := seen.since(t.seen)
	t.looked, t.seen = now, seen
	if since > window {
		// Idle: a trial or a measure under way counted commits the work
		// did not make.
		d = tally{}
		t.trialEnd, t.markAt = time.Time{}, time.Time{}
	}
	if t.trial(now, seen) {
		return
	}
	t.adjust(now, since, d.commits > 0 && d.slow*slowShare >= d.commits)
	t.watch(now, seen)
}

// adjust lowers the cap when congested, else raises it for every Adjust in
// since, lifting it once it is back above the rate it was first set at.
func (t *Throttle) adjust(now time.Time, since time.Duration, congested bool) {
	switch {
	case congested && t.rate == 0:
		t.ceiling = max(t.current(now), t.floor)
		t.rate = max(t.floor, t.ceiling*decrease)
		t.next = now
	case congested:
		t.rate = max(t.floor, t.rate*decrease)
	case t.rate > 0:
		for n := min(int(since/Adjust), 10); n > 0 && t.rate > 0; n-- {
			t.rate *= increase
			if t.rate >= t.ceiling {
				t.rate = 0
			}
		}
	}
}

// trial runs the trial's uncapped half and keeps what it decided for
// Holdoff; it reports whether the look must leave the cap as it is.
func (t *Throttle) trial(now time.Time, seen tally) bool {
	if !t.trialEnd.IsZero() {
		if now.Before(t.trialEnd) {
			return true
		}
		t.trialEnd = time.Time{}
		t.holdUntil = now.Add(Holdoff)
		t.uncapped = 2*t.cappedShare > seen.since(t.mark).share()
		if t.uncapped {
			t.gaveUp++
			return true
		}
		t.rate, t.next = t.resume, now
		return true
	}
	return t.uncapped && now.Before(t.holdUntil)
}

// watch measures the share of slow commits while the work is capped, a
// Measure at a time, and starts a trial's uncapped half when a measure
// finds a tenth or more slow, unless the last trial's decision holds.
func (t *Throttle) watch(now time.Time, seen tally) {
	switch {
	case t.rate == 0:
		t.markAt = time.Time{}
		return
	case t.markAt.IsZero():
		t.mark, t.markAt = seen, now
		return
	case now.Sub(t.markAt) < Measure:
		return
	}
	t.cappedShare = seen.since(t.mark).share()
	t.mark, t.markAt = seen, now
	if t.cappedShare*slowShare < 1 || now.Before(t.holdUntil) {
		return
	}
	// The trial's uncapped run counts from the same mark.
	t.resume, t.rate, t.markAt, t.trialEnd = t.rate, 0, time.Time{}, now.Add(Trial)
}

// measure adds units done at now to the rate measurement.
func (t *Throttle) measure(now time.Time, units float64) {
	if d := now.Sub(t.winStart); d >= window {
		t.recent = t.winUnits / d.Seconds()
		t.winStart, t.winUnits = now, 0
	}
	t.winUnits += units
}

// current is the work's rate: over the window under way once it is half
// through, over the last full one before that.
func (t *Throttle) current(now time.Time) float64 {
	if d := now.Sub(t.winStart); d >= window/2 {
		return t.winUnits / d.Seconds()
	}
	return t.recent
}
