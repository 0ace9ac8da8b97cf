package delivery

import (
	"sync"
	"time"

	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/volley"
)

// laneHorizon is how much work a rate-limited lane queues in memory: at
// most this long at its rate. The rest stays in the store, due when the
// lane expects to reach it, so leases never wait long in memory.
const laneHorizon = 5 * time.Second

// queueFactor sizes an unlimited lane's queue in multiples of its
// concurrency.
const queueFactor = 8

// job is a leased delivery in memory.
type job struct {
	d    volley.Delivery
	ev   eventView
	conn *volley.Connection // configuration when admitted: paces the queue
	// throttled is set once the job has waited for a rate limit, so that
	// each job counts as throttled at most once.
	throttled bool
}

// lane delivers to one destination: a queue per connection, each paced by
// the connection's eps, all paced together by the destination's eps, with at
// most Concurrency requests in flight. A lane's goroutine runs while it has
// work and exits when idle.
type lane struct {
	e  *Engine
	id uint64

	mu       sync.Mutex
	conns    map[uint64]*connQueue
	queued   int
	inflight int
	eps      int // destination eps, as of the latest admitted job
	pace     pacer
	avg      time.Duration // moving average of attempt durations
	stopping bool
	starved  bool // the leaser skipped this lane as full: wake it on drain
	poke     chan struct{}
}

type connQueue struct {
	jobs []*job
	eps  int
	pace pacer
}

func newLane(e *Engine, id uint64) *lane {
	return &lane{e: e, id: id, conns: map[uint64]*connQueue{}, poke: make(chan struct{}, 1)}
}

func (l *lane) signal() {
	select {
	case l.poke <- struct{}{}:
	default:
	}
}

// capacity is how many queued jobs make the lane full for the leaser;
// called with l.mu held. A lane admits up to twice as many, so that one
// lease batch landing on a full lane is kept rather than written back.
func (l *lane) capacity() int {
	if l.eps > 0 {
		return max(1, int(float64(l.eps)*laneHorizon.Seconds()))
	}
	return l.e.cfg.Concurrency * queueFactor
}

// skipIfFull reports whether the leaser should lease nothing for this lane
// now; the lane then wakes the leaser once it has drained to half.
func (l *lane) skipIfFull() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.queued >= l.capacity() {
		l.starved = true
		return true
	}
	return false
}

// push queues j; false means no room (the caller puts it back in the
// store). Called with e.mu held.
func (l *lane) push(j *job, dest *routing.Destination) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.eps = dest.EPS
	cq := l.conns[j.conn.ID]
	if cq == nil {
		cq = &connQueue{}
		l.conns[j.conn.ID] = cq
	}
	cq.eps = j.conn.EPS
	if l.stopping || l.queued >= 2*l.capacity() ||
		(cq.eps > 0 && len(cq.jobs) >= 2*max(1, int(float64(cq.eps)*laneHorizon.Seconds()))) {
		return false
	}
	cq.jobs = append(cq.jobs, j)
	l.queued++
	l.signal()
	return true
}

// backlogWait estimates when a job that did not fit will get its turn.
func (l *lane) backlogWait() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	if l.eps > 0 {
		wait = time.Duration(float64(l.queued) / float64(l.eps) * float64(time.Second))
	} else {
		wait = time.Duration(l.queued/l.e.cfg.Concurrency+1) * max(l.avg, 100*time.Millisecond)
	}
	return min(max(wait, 100*time.Millisecond), time.Minute)
}

// next picks the job to start now, or returns when the earliest one may
// start. Called with l.mu held.
func (l *lane) next(now time.Time) (*job, time.Time) {
	var best *connQueue
	var bestAt time.Time
	var bestLimit string
	for _, cq := range l.conns {
		if len(cq.jobs) == 0 {
			continue
		}
		at, limit := l.pace.ready(l.eps, now), LimitDestination
		if t := cq.pace.ready(cq.eps, now); t.After(at) {
			at, limit = t, LimitConnection
		}
		if best == nil || at.Before(bestAt) ||
			(at.Equal(bestAt) && cq.jobs[0].d.CreatedAt.Before(best.jobs[0].d.CreatedAt)) {
			best, bestAt, bestLimit = cq, at, limit
		}
	}
	if bestAt.After(now) {
		if j := best.jobs[0]; !j.throttled {
			j.throttled = true
			l.e.cfg.Observer.AttemptThrottled(bestLimit)
		}
		return nil, bestAt
	}
	j := best.jobs[0]
	best.jobs[0] = nil
	best.jobs = best.jobs[1:]
	l.queued--
	l.inflight++
	if l.starved && l.queued <= l.capacity()/2 {
		l.starved = false
		l.e.Wake()
	}
	l.pace.take(l.eps, now)
	best.pace.take(best.eps, now)
	return j, now
}

// run starts the lane's jobs as pacing and concurrency allow.
func (l *lane) run() {
	for {
		l.mu.Lock()
		if l.stopping {
			jobs := l.drain()
			l.mu.Unlock()
			now := l.e.clock.Now()
			for _, j := range jobs {
				l.e.settle(&j.d, volley.DeliveryPending, now) // back in the store, due now
			}
			return
		}
		if l.queued == 0 || l.inflight >= l.e.cfg.Concurrency {
			idle := l.queued == 0 && l.inflight == 0
			l.mu.Unlock()
			if idle {
				retired, paced := l.e.retire(l)
				if retired {
					return
				}
				if !paced.IsZero() {
					// Stay until the rate limits have forgotten the last
					// start, or a new lane would start afresh too early.
					now := l.e.clock.Now()
					t := l.e.clock.NewTimer(paced.Sub(now))
					select {
					case <-t.C():
					case <-l.poke:
						t.Stop()
					}
					continue
				}
			}
			<-l.poke
			continue
		}
		now := l.e.clock.Now()
		j, at := l.next(now)
		l.mu.Unlock()
		if j == nil {
			t := l.e.clock.NewTimer(at.Sub(now))
			select {
			case <-t.C():
			case <-l.poke:
				t.Stop()
			}
			continue
		}
		l.e.attempts.Add(1)
		go l.e.deliver(l, j, at)
	}
}

// done records the end of an attempt that took d.
func (l *lane) done(d time.Duration) {
	l.mu.Lock()
	l.inflight--
	if l.avg == 0 {
		l.avg = d
	} else {
		l.avg = (l.avg*7 + d) / 8
	}
	l.mu.Unlock()
	l.signal()
}

// shutdown makes the lane give its queued jobs back and stop.
func (l *lane) shutdown() {
	l.mu.Lock()
	l.stopping = true
	l.mu.Unlock()
	l.signal()
}

// drain empties the queues and returns their jobs. Called with l.mu held.
func (l *lane) drain() []*job {
	var out []*job
	for _, cq := range l.conns {
		out = append(out, cq.jobs...)
		cq.jobs = nil
	}
	l.queued = 0
	return out
}

// retire removes an idle lane from the engine; false means work arrived
// meanwhile and the lane goes on. A lane whose pacers still hold back the
// next start (paced, when not zero) is not retired before then: its pacing
// would be lost with it.
func (e *Engine) retire(l *lane) (retired bool, paced time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.queued > 0 || l.inflight > 0 || l.stopping {
		return false, time.Time{}
	}
	now := e.clock.Now()
	if p := l.pace.next; p.After(now) {
		paced = p
	}
	for _, cq := range l.conns {
		if cq.pace.next.After(now) && cq.pace.next.After(paced) {
			paced = cq.pace.next
		}
	}
	if !paced.IsZero() {
		return false, paced
	}
	delete(e.lanes, l.id)
	return true, time.Time{}
}
