package storetest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// BenchEventInsert measures a durable group commit of 16 events with one
// delivery each (handed to a worker, as ingestion does when the engine has
// room); ns/op is per batch and ns/event per event.
func BenchEventInsert(b *testing.B, s store.Store) {
	c := Graph(b, s)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := s.EventInsert(ctx, Events(16, i, c, time.Time{})); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(16*b.N), "ns/event")
}

// BenchLeaseAndFinish measures the engine's two writes per batch: leasing
// 256 due deliveries, then recording 256 successful attempts.
func BenchLeaseAndFinish(b *testing.B, s store.Store) {
	c := Graph(b, s)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		for j := range 16 {
			if _, err := s.EventInsert(ctx, Events(16, i*16+j, c, time.Now())); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		now := time.Now()
		jobs, err := s.DeliveryLease(ctx, store.LeaseParams{Owner: "n", Now: now, Until: now.Add(time.Minute), Limit: 256})
		if err != nil || len(jobs) != 256 {
			b.Fatalf("lease: %d, %v", len(jobs), err)
		}
		out := make([]store.Outcome, len(jobs))
		for k, j := range jobs {
			d := j.Delivery
			out[k] = store.Outcome{DeliveryID: d.ID, LeaseToken: d.LeaseToken, EventID: d.EventID, State: volley.DeliverySuccess,
				Now: now, ConnectionID: d.ConnectionID,
				Attempt: &volley.Attempt{DeliveryID: d.ID, EventID: d.EventID, EventUID: d.EventUID, ProjectID: d.ProjectID,
					SourceID: d.SourceID, ConnectionID: d.ConnectionID, DestinationID: d.DestinationID, Number: 1,
					Trigger: volley.AttemptAuto, Status: volley.AttemptSuccess, StatusCode: 200, DurationMS: 1,
					ResponseHeaders: http.Header{"Content-Type": {"text/plain"}}, ResponseBody: []byte("ok"), CreatedAt: now}}
		}
		if err := s.DeliveryFinish(ctx, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(256*b.N), "ns/delivery")
}

// Graph creates an account with one source connected to one destination
// and returns the connection: the fixture of driver benchmarks and
// driver-specific tests.
func Graph(tb testing.TB, s store.Store) *volley.Connection {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	acct, err := s.AccountCreate(ctx, store.AccountCreateParams{
		Email: "b@example.com", Name: "B", PasswordHash: "x", OrgName: "b", OrgSlug: "b",
		Token: volley.APIToken{Kind: volley.TokenKindAPI, Name: "t", Hash: []byte("h"), Sealed: []byte("s"), Prefix: "vk_", CreatedAt: now},
		Now:   now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	src := &volley.Source{ProjectID: acct.Project.ID, Name: "s", Slug: "s", IngestionID: "src_bench", Type: "webhook",
		Status: "active", AuthType: "none", AuthKeyName: "X-API-Key", CreatedAt: now, UpdatedAt: now}
	if err := s.SourceCreate(ctx, src); err != nil {
		tb.Fatal(err)
	}
	dst := &volley.Destination{ProjectID: acct.Project.ID, Name: "d", URL: "http://127.0.0.1:1/", Status: "active",
		SigningSecret: []byte("x"), CreatedAt: now, UpdatedAt: now}
	if err := s.DestinationCreate(ctx, dst); err != nil {
		tb.Fatal(err)
	}
	conn := &volley.Connection{ProjectID: acct.Project.ID, SourceID: src.ID, DestinationID: dst.ID, Name: "c",
		Status: "enabled", MaxRetries: 5, CreatedAt: now, UpdatedAt: now}
	if err := s.ConnectionCreate(ctx, conn); err != nil {
		tb.Fatal(err)
	}
	return conn
}

// Events returns the seq-th batch of n events with one delivery each
// through c, due at due, or with a zero due, handed to a worker (leased) as
// ingestion does when the engine has room.
func Events(n, seq int, c *volley.Connection, due time.Time) []store.NewEvent {
	now := time.Now().UTC()
	body := []byte(`{"type":"invoice.paid","data":{"id":"in_123","amount":4200,"currency":"eur","customer":"cus_9s6XKzkNRiz8i3"}}`)
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Stripe/1.0"}, "Stripe-Signature": {"t=1,v1=abc"}}
	out := make([]store.NewEvent, n)
	for i := range out {
		d := volley.Delivery{ConnectionID: c.ID, DestinationID: c.DestinationID, State: volley.DeliveryPending, NextAttemptAt: due}
		if due.IsZero() {
			d.LeaseOwner, d.LeaseToken, d.NextAttemptAt = "node", 1, now.Add(time.Minute)
		}
		out[i] = store.NewEvent{
			Event: volley.Event{UID: fmt.Sprintf("evt_%022d", seq*n+i), ProjectID: c.ProjectID, SourceID: c.SourceID,
				Method: "POST", Headers: h, Body: body, CreatedAt: now},
			Deliveries: []volley.Delivery{d},
		}
	}
	return out
}

// BenchConnectionPause measures pausing and resuming a connection with a
// backlog of 100,000 pending deliveries (ns/op is one pause plus one
// resume, what a person waits for), and then one DeliverySweep batch of
// 1,000 deliveries over that backlog (ns/sweep, what the engine spends per
// transaction in the background).
func BenchConnectionPause(b *testing.B, s store.Store) {
	c := Graph(b, s)
	ctx := context.Background()
	due := time.Now().Add(time.Hour)
	for i := range 100 {
		if _, err := s.EventInsert(ctx, Events(1000, i, c, due)); err != nil {
			b.Fatal(err)
		}
	}
	paused, enabled := *c, *c
	paused.Status, enabled.Status = volley.ConnectionPaused, volley.ConnectionEnabled
	for b.Loop() {
		paused.UpdatedAt = time.Now()
		if err := s.ConnectionUpdate(ctx, &paused); err != nil {
			b.Fatal(err)
		}
		enabled.UpdatedAt = time.Now()
		if err := s.ConnectionUpdate(ctx, &enabled); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := b.Elapsed()
	// One pause, swept batch by batch.
	paused.UpdatedAt = time.Now()
	if err := s.ConnectionUpdate(ctx, &paused); err != nil {
		b.Fatal(err)
	}
	t0, batches := time.Now(), 0
	for {
		n, err := s.DeliverySweep(ctx, store.SweepParams{Now: time.Now(), Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
		batches++
	}
	b.ReportMetric(float64(time.Since(t0).Nanoseconds())/float64(batches), "ns/sweep")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "ns/pause+resume")
}
