package delivery

import "time"

// pacer spaces events of one rate limit at exactly 1/eps apart (a GCRA with
// a burst of one): in any one-second window at most eps+1 events start, the
// +1 being the one aligned on the window's edge. Waiting for the pacer is
// never an attempt.
type pacer struct {
	next time.Time // earliest start of the next event
}

// ready returns when the next event may start, given eps (0 = unlimited).
func (p *pacer) ready(eps int, now time.Time) time.Time {
	if eps <= 0 || p.next.Before(now) {
		return now
	}
	return p.next
}

// take records an event starting at t.
func (p *pacer) take(eps int, t time.Time) {
	if eps <= 0 {
		return
	}
	p.next = t.Add(interval(eps))
}

// interval is the spacing of events at eps, rounded up to the nanosecond:
// truncating it would let rates that do not divide a second (70000, 99999)
// start a few more than eps+1 events in a one-second window.
func interval(eps int) time.Duration {
	return (time.Second + time.Duration(eps) - 1) / time.Duration(eps)
}
