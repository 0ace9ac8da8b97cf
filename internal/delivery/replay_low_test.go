package delivery

import (
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// TestReplayWaitsForLiveWork checks that a low-priority replay never
// starts while live work is queued for its destination: with one request
// in flight (held by the sink) and one live delivery queued behind it, the
// replay backs off, however often it looks again on the fake clock, and
// starts only once the queued live delivery has started.
func TestReplayWaitsForLiveWork(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := setupEngine(t, engineOptions{concurrency: 1, retry: time.Second,
		handler: func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				<-release
			}
		}})
	first := s.insert(t)
	if n := <-s.arrived; n != 1 {
		t.Fatalf("request %d arrived first", n)
	}
	second := s.insert(t)
	poll(t, "the second live delivery to be queued", func() bool { return s.queued(1) == 1 })

	d := s.delivery(t, first)
	ev := s.event(d)
	type result struct {
		a   *volley.Attempt
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := s.engine.ReplayLowPriority(t.Context(), ev, d)
		done <- result{a, err}
	}()
	for i := int64(1); i <= 3; i++ {
		poll(t, "the replay to back off", func() bool { return s.engine.ReplayStats().Deferred >= i })
		s.clock.Advance(replayBackoffMax)
	}
	select {
	case n := <-s.arrived:
		t.Fatalf("request %d arrived while live work was queued", n)
	default:
	}
	if st := s.engine.ReplayStats(); st.Started != 0 {
		t.Fatalf("replay stats %+v: started while live work was queued", st)
	}

	close(release)
	if n := <-s.arrived; n != 2 {
		t.Fatalf("request %d arrived second, want the queued live delivery", n)
	}
	poll(t, "the replay to start", func() bool {
		s.clock.Advance(replayBackoffMax)
		select {
		case n := <-s.arrived:
			if n != 3 {
				t.Fatalf("request %d, want 3", n)
			}
			return true
		default:
			return false
		}
	})
	r := <-done
	if r.err != nil || r.a.Trigger != volley.AttemptReplay || r.a.Status != volley.AttemptSuccess {
		t.Fatalf("replay: %+v, %v; want a successful replay attempt", r.a, r.err)
	}
	if st := s.engine.ReplayStats(); st.Started != 1 || st.Deferred < 3 {
		t.Fatalf("replay stats %+v, want 1 start after at least 3 deferrals", st)
	}
	poll(t, "the second live delivery to succeed", func() bool {
		return s.delivery(t, second).State == volley.DeliverySuccess
	})
}

// TestReplayTakesPacingSlots checks that replays take starts of the
// destination's eps with live deliveries: at one event a second, a replay
// right after a live delivery, and another after it, each wait for the
// next second of the fake clock.
func TestReplayTakesPacingSlots(t *testing.T) {
	t.Parallel()
	s := setupEngine(t, engineOptions{destEPS: 1, retry: time.Second})
	id := s.insert(t)
	<-s.arrived
	poll(t, "the live delivery to succeed", func() bool { return s.delivery(t, id).State == volley.DeliverySuccess })
	d := s.delivery(t, id)
	ev := s.event(d)
	for i := range 2 {
		timers := s.clock.Timers()
		done := make(chan error, 1)
		go func() {
			_, err := s.engine.ReplayLowPriority(t.Context(), ev, d)
			done <- err
		}()
		poll(t, "the replay to wait for the pacer", func() bool { return s.clock.Timers() > timers })
		select {
		case n := <-s.arrived:
			t.Fatalf("request %d started in the same second as the one before at eps 1", n)
		default:
		}
		s.clock.Advance(time.Second)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := <-s.arrived; n != i+2 {
			t.Fatalf("request %d, want %d", n, i+2)
		}
	}
	if st := s.engine.ReplayStats(); st.Started != 2 || st.Deferred != 0 {
		t.Fatalf("replay stats %+v, want 2 starts and no deferral", st)
	}
}

// event is the event of an engine test's delivery, as replays take it.
func (s *engineSetup) event(d volley.Delivery) *volley.Event {
	return &volley.Event{ID: d.EventID, UID: d.EventUID, ProjectID: d.ProjectID, SourceID: d.SourceID,
		Method: http.MethodPost, Headers: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"n":1}`)}
}

// queued returns how many live jobs the lane of destination id holds.
func (s *engineSetup) queued(id uint64) int {
	s.engine.mu.Lock()
	defer s.engine.mu.Unlock()
	l := s.engine.lanes[id]
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.queued
}
