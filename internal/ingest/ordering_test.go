package ingest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// orderSink records the bodies it gets, in the order requests arrive, and
// answers through respond.
type orderSink struct {
	srv     *httptest.Server
	respond func(id string, n int) int // status for the n-th request (from 1) of id

	mu   sync.Mutex
	got  []string       // "key:seq" of every request, in arrival order
	seen map[string]int // requests per "key:seq"
}

func newOrderSink(t *testing.T, respond func(id string, n int) int) *orderSink {
	t.Helper()
	k := &orderSink{respond: respond, seen: map[string]int{}}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Customer string `json:"customer"`
			Seq      int    `json:"seq"`
		}
		if json.Unmarshal(b, &body) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		id := fmt.Sprintf("%s:%d", body.Customer, body.Seq)
		k.mu.Lock()
		k.got = append(k.got, id)
		k.seen[id]++
		n := k.seen[id]
		k.mu.Unlock()
		w.WriteHeader(k.respond(id, n))
	}))
	t.Cleanup(k.srv.Close)
	return k
}

// arrivals returns the requests so far, in arrival order.
func (k *orderSink) arrivals() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.got...)
}

// requests returns how many requests id ("key:seq") got.
func (k *orderSink) requests(id string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.seen[id]
}

// TestIngestFIFOOrdering: on a FIFO connection keyed by $.customer, the
// first event of customer a is held in flight until every event of b has
// arrived (b is not held behind a), then fails three times; a's later
// events stay parked, shown so by the API, until it succeeds, and then go
// one at a time in the order they were received.
func TestIngestFIFOOrdering(t *testing.T) {
	t.Parallel()
	n := setupWith(t, testserver.Options{Delivery: delivery.Config{
		Retry: delivery.RetryPolicy{Schedule: []time.Duration{time.Millisecond}},
	}})
	const perKey = 4
	release := make(chan struct{})
	bDone := make(chan struct{})
	var once sync.Once
	k := newOrderSink(t, func(id string, n int) int {
		if id == "a:0" {
			if n == 1 {
				select { // held in flight until every event of b arrived
				case <-release:
				case <-time.After(20 * time.Second):
				}
			}
			if n <= 3 {
				return http.StatusServiceUnavailable
			}
		}
		if id == fmt.Sprintf("b:%d", perKey-1) {
			once.Do(func() { close(bDone) })
		}
		return http.StatusOK
	})
	src := n.newSource(t, nil)
	conn := n.connect(t, src.ID, n.newDestination(t, k.srv.URL+"/inbox"), "")
	n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", conn),
		map[string]any{"ordering": "fifo", "ordering_key": "$.customer"})

	uids := map[string]string{}
	post := func(customer string, seq int) {
		uids[fmt.Sprintf("%s:%d", customer, seq)] = accepted(t, n.post(t, src.IngestionID,
			fmt.Appendf(nil, `{"customer":%q,"seq":%d}`, customer, seq))).EventID
	}
	post("a", 0)
	eventually(t, "a:0 in flight", func() bool { return k.requests("a:0") == 1 })
	for i := range perKey {
		post("a", i+1)
		post("b", i)
	}
	// While a:0 is in flight, a's later events are parked and say so.
	for i := 1; i <= perKey; i++ {
		var got struct {
			Status     string `json:"status"`
			Deliveries []struct {
				State       string `json:"state"`
				OrderingKey string `json:"ordering_key"`
			} `json:"deliveries"`
		}
		n.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/projects/%d/events/%s", n.acct.ProjectID, uids[fmt.Sprintf("a:%d", i)]), nil).JSON(t, &got)
		if got.Status != volley.EventPending || len(got.Deliveries) != 1 || got.Deliveries[0].State != volley.DeliveryParked ||
			got.Deliveries[0].OrderingKey != "a" {
			t.Fatalf("a:%d while a:0 is in flight: %+v, want pending with one parked delivery of key a", i, got)
		}
	}
	select {
	case <-bDone:
	case <-time.After(20 * time.Second):
		t.Fatal("b's events were not delivered while a's first event was in flight")
	}
	close(release)
	eventually(t, "every event of a", func() bool { return k.requests(fmt.Sprintf("a:%d", perKey)) > 0 })
	eventually(t, "the last event processed", func() bool {
		return n.event(t, uids[fmt.Sprintf("a:%d", perKey)]).Status == volley.EventProcessed
	})

	var a []string
	for _, id := range k.arrivals() {
		if id[0] == 'a' {
			a = append(a, id)
		}
	}
	want := []string{"a:0", "a:0", "a:0", "a:0"}
	for i := 1; i <= perKey; i++ {
		want = append(want, fmt.Sprintf("a:%d", i))
	}
	if fmt.Sprint(a) != fmt.Sprint(want) {
		t.Fatalf("key a arrived as %v, want %v", a, want)
	}
}

// TestIngestDelay: a connection's delay stores each delivery due later,
// not handed to the engine; it goes once the (injected) clock reaches its
// due time. A change of delay applies to events received afterwards.
func TestIngestDelay(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := &clock{now: start}
	n := setupWith(t, testserver.Options{NowFunc: clk.Now})
	src := n.newSource(t, nil)
	k := newSink(t)
	conn := n.connect(t, src.ID, n.newDestination(t, k.URL()), "")
	n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", conn), map[string]any{"delay_ms": 60_000})

	e := n.event(t, accepted(t, n.post(t, src.IngestionID, []byte(`{"late":true}`))).EventID)
	ds := n.deliveries(t, e)
	if len(ds) != 1 || ds[0].State != volley.DeliveryPending || ds[0].LeaseOwner != "" ||
		!ds[0].NextAttemptAt.Equal(start.Add(time.Minute)) {
		t.Fatalf("delivery %+v, want pending and unleased, due a minute after reception", ds)
	}
	// A shorter delay from now on: the next event goes first.
	n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", conn), map[string]any{"delay_ms": 1000})
	soon := n.event(t, accepted(t, n.post(t, src.IngestionID, []byte(`{"soon":true}`))).EventID)
	if ds := n.deliveries(t, soon); !ds[0].NextAttemptAt.Equal(start.Add(time.Second)) {
		t.Fatalf("delivery after the change is due %v, want %v", ds[0].NextAttemptAt, start.Add(time.Second))
	}
	clk.Advance(time.Second)
	k.waitDelivered(t, soon.EventID)
	if len(k.of(e.EventID)) != 0 {
		t.Fatal("the event delayed by a minute was delivered after a second")
	}
	if ds := n.deliveries(t, e); ds[0].State != volley.DeliveryPending || ds[0].Attempts != 0 {
		t.Fatalf("the delayed delivery is %+v, want still pending without attempts", ds[0])
	}
	clk.Advance(time.Minute)
	k.waitDelivered(t, e.EventID)
	eventually(t, "the delayed event to be processed", func() bool { return n.event(t, e.EventID).Status == volley.EventProcessed })
}
