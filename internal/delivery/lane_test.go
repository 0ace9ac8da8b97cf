package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// TestLanePacingSurvivesIdle checks that a lane whose work ran out keeps
// its rate limit: a destination (or connection) limited to one delivery a
// second gets one that succeeds at once, then, at the same instant on the
// fake clock, another. The second must wait for the clock to reach the next
// second, even though the lane was idle in between.
func TestLanePacingSurvivesIdle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		destEPS, connEPS int
	}{
		{"destination eps", 1, 0},
		{"connection eps", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setupEngine(t, engineOptions{destEPS: tt.destEPS, connEPS: tt.connEPS, retry: time.Second})
			first := s.insert(t)
			if n := s.await(t); n != 1 {
				t.Fatalf("request %d arrived first", n)
			}
			poll(t, "the first delivery to succeed", func() bool {
				return s.delivery(t, first).State == volley.DeliverySuccess
			})

			second := s.insert(t)
			poll(t, "the second delivery to be leased", func() bool { return s.spy.leasedJobs() == 2 })
			// Stop settles everything: the second delivery was either sent
			// (too early: the clock never moved) or given back unsent.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.engine.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case n := <-s.arrived:
				t.Fatalf("request %d was sent at the same instant as the first, despite eps 1", n)
			default:
			}
			if d := s.delivery(t, second); d.State != volley.DeliveryPending || d.Attempts != 0 {
				t.Errorf("second delivery: %s after %d attempts, want pending and unsent", d.State, d.Attempts)
			}
		})
	}
}

// TestConnectionEPSSparesOthers checks that a connection's eps holds back
// that connection only. The fake clock stands still, so the connection
// limited to one event a second gets exactly one start, whatever the speed
// of the machine, while another connection to the same destination, queued
// behind it, gets all of its events through.
func TestConnectionEPSSparesOthers(t *testing.T) {
	t.Parallel()
	const n = 5
	s := setupEngine(t, engineOptions{connEPS: 1, retry: time.Second})
	var limited, free []uint64
	for range n {
		limited = append(limited, s.insertOn(t, 1))
	}
	for range n {
		free = append(free, s.insertOn(t, 2))
	}
	poll(t, "every delivery of the unlimited connection to succeed", func() bool {
		for _, id := range free {
			if s.delivery(t, id).State != volley.DeliverySuccess {
				return false
			}
		}
		return true
	})
	// Stop settles everything: what the limited connection did not send is
	// given back unsent.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.engine.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, id := range limited {
		switch d := s.delivery(t, id); {
		case d.State == volley.DeliverySuccess && d.Attempts == 1:
			sent++
		case d.State != volley.DeliveryPending || d.Attempts != 0:
			t.Errorf("limited delivery of event %d: %s after %d attempts, want sent once or pending and unsent", id, d.State, d.Attempts)
		}
	}
	if sent != 1 {
		t.Errorf("the limited connection sent %d deliveries in one instant, want 1 (eps 1)", sent)
	}
	if got := len(s.arrived); got != n+1 {
		t.Errorf("the destination received %d requests, want %d", got, n+1)
	}
}
