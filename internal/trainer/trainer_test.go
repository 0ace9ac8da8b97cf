package trainer_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/trainer"
	"github.com/volleyhq/volley/internal/volley"
)

var start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*storesqlite.Store, *volley.Connection) {
	t.Helper()
	s, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, storetest.Graph(t, s)
}

// orderBody is one shape of webhook; invoiceBody another, with other keys.
func orderBody(i int) []byte {
	return fmt.Appendf(nil, `{"id":"ord_%06d","event":"order.created","order":{"customer":{"email":"c%d@shop.example",`+
		`"first_name":"Ann","last_name":"Lee %d"},"line_items":[{"title":"Teapot","sku":"TP-%d","quantity":%d,"price":"%d.00"}],`+
		`"shipping_address":{"city":"Porto","zip":"4000-%03d","country_code":"PT"},"financial_status":"paid","total":"%d.00"}}`,
		i, i, i, i%50, 1+i%4, 10+i%90, i%1000, 20+i%300)
}

func invoiceBody(i int) []byte {
	return fmt.Appendf(nil, `<?xml version="1.0"?><Invoice number="INV-%06d"><Buyer><Name>Buyer %d</Name>`+
		`<TaxId>PT%09d</TaxId></Buyer><Lines><Line qty="%d" unit="EUR">%d.50</Line></Lines><Due>2026-04-%02d</Due></Invoice>`,
		i, i, i*7919, 1+i%9, i%700, 1+i%28)
}

func insert(t *testing.T, s *storesqlite.Store, c *volley.Connection, from, to int, body func(int) []byte, at time.Time) {
	t.Helper()
	var batch []store.NewEvent
	for i := from; i < to; i++ {
		batch = append(batch, store.NewEvent{Event: volley.Event{UID: fmt.Sprintf("evt_tr_%d_%06d", c.SourceID, i),
			ProjectID: c.ProjectID, SourceID: c.SourceID, Method: http.MethodPost,
			Headers: http.Header{"Content-Type": {"application/json"}, "X-Shop-Hmac": {fmt.Sprintf("%040x", i)}},
			Body:    body(i), CreatedAt: at.Add(time.Duration(i) * time.Millisecond)}})
	}
	if _, err := s.EventInsert(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
}

func sourceOf(t *testing.T, s *storesqlite.Store, id uint64) store.PayloadDictSource {
	t.Helper()
	page, err := s.PayloadDictSources(t.Context(), store.PayloadDictSourcesParams{After: id - 1, Limit: 1, MinEvents: 1})
	if err != nil || len(page) != 1 || page[0].SourceID != id {
		t.Fatalf("PayloadDictSources = %+v, %v; want source %d", page, err, id)
	}
	return page[0]
}

func pass(t *testing.T, tr *trainer.Trainer, want int) {
	t.Helper()
	n, err := tr.Pass(t.Context())
	if err != nil || n != want {
		t.Fatalf("Pass = %d, %v; want %d dictionaries trained", n, err, want)
	}
}

// TestTrainAndRetrain follows a source from too few events to its first
// dictionary, through a check that finds it still good, to a second
// dictionary once its payloads change shape; every payload reads back
// exactly throughout.
func TestTrainAndRetrain(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	clk := clock.NewFake(start)
	tr := trainer.New(trainer.Config{Store: s, MinEvents: 300, Sample: 400, Check: 100, Clock: clk,
		Rand: rand.New(rand.NewPCG(1, 2))})

	insert(t, s, c, 0, 299, orderBody, start.Add(-time.Hour))
	pass(t, tr, 0)
	insert(t, s, c, 299, 400, orderBody, start.Add(-time.Hour))
	pass(t, tr, 1)
	first := sourceOf(t, s, c.SourceID)
	if first.DictID == 0 || !first.DictCreatedAt.Equal(start) || first.DictRatio <= 0 || first.DictRatio > 0.5 {
		t.Fatalf("after the first training: %+v; want a dictionary of %v with a ratio under 0.5", first, start)
	}
	pass(t, tr, 0) // has one, too young to check

	// A day later, the same kind of payloads: checked, kept.
	insert(t, s, c, 400, 500, orderBody, start)
	clk.Advance(25 * time.Hour)
	pass(t, tr, 0)
	if got := sourceOf(t, s, c.SourceID); got.DictID != first.DictID {
		t.Fatalf("dictionary %d replaced by %d without its payloads changing", first.DictID, got.DictID)
	}

	// The source now sends something else: the next check finds its
	// dictionary degraded, and not before a day passed since the last one.
	insert(t, s, c, 500, 900, invoiceBody, clk.Now())
	pass(t, tr, 0)
	clk.Advance(24 * time.Hour)
	pass(t, tr, 1)
	second := sourceOf(t, s, c.SourceID)
	if second.DictID == first.DictID || !second.DictCreatedAt.Equal(clk.Now()) {
		t.Fatalf("after the payloads changed: %+v; want a new dictionary, not %d", second, first.DictID)
	}
	insert(t, s, c, 900, 950, invoiceBody, clk.Now())

	sample, err := s.PayloadSample(t.Context(), c.SourceID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(sample) != 950 {
		t.Fatalf("PayloadSample gave %d payloads, want 950", len(sample))
	}
	for k, p := range sample {
		i := 949 - k
		want := orderBody(i)
		if i >= 500 {
			want = invoiceBody(i)
		}
		if !bytes.Equal(p.Body, want) {
			t.Fatalf("payload %d = %q, want %q", i, p.Body, want)
		}
	}
}

// TestStartTrainsAndStops runs the loop: its first pass trains the busy
// source, the next waits for the interval on the injected clock.
func TestStartTrainsAndStops(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	insert(t, s, c, 0, 200, orderBody, start)
	clk := clock.NewFake(start)
	tr := trainer.New(trainer.Config{Store: s, MinEvents: 200, Sample: 200, Clock: clk, Interval: time.Hour})
	tr.Start()
	deadline := time.Now().Add(60 * time.Second)
	for sourceOf(t, s, c.SourceID).DictID == 0 || clk.Timers() == 0 {
		if time.Now().After(deadline) {
			tr.Stop()
			t.Fatal("no dictionary before the deadline")
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	tr.Stop()
}
