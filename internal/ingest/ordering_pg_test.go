package ingest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/testserver"
	"github.com/volleyhq/volley/internal/volley"
)

// pgNodes starts n nodes on one new PostgreSQL schema (dropped when the
// test ends, after the nodes stopped), or skips the test without a
// database.
func pgNodes(t *testing.T, count int, opts testserver.Options) []*node {
	t.Helper()
	dbURL := os.Getenv("VOLLEY_TEST_DATABASE_URL")
	if dbURL == "" {
		t.Skip("VOLLEY_TEST_DATABASE_URL is not set: skipping the two-node ordering test")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "v_ordering_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	var nodes []*node
	for range count {
		// Each node opens its store after the previous one migrated it.
		st, err := storepg.Open(context.Background(), storepg.Config{URL: dbURL, Schema: schema, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		o := opts
		o.Store = st
		srv := testserver.Start(t, o)
		n := &node{srv: srv}
		if len(nodes) == 0 {
			n.acct = srv.AdminAccount()
		} else {
			n.acct = nodes[0].acct // bootstrapped by the first node only
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// keySink checks FIFO ordering from the destination's side: per key, one
// request at a time, and no event before every earlier one of its key has
// been answered 2xx. Each event's first request fails when fail says so.
type keySink struct {
	srv  *httptest.Server
	fail func(seq int) bool

	mu       sync.Mutex
	inFlight map[string]int
	next     map[string]int // per key, the seq whose success is due next
	tries    map[string]int // per "key:seq", requests so far
	errs     []string
}

func newKeySink(t *testing.T, fail func(seq int) bool) *keySink {
	t.Helper()
	k := &keySink{fail: fail, inFlight: map[string]int{}, next: map[string]int{}, tries: map[string]int{}}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev struct {
			Customer string `json:"customer"`
			Seq      int    `json:"seq"`
		}
		if json.Unmarshal(b, &ev) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		id := fmt.Sprintf("%s:%d", ev.Customer, ev.Seq)
		k.mu.Lock()
		k.inFlight[ev.Customer]++
		if k.inFlight[ev.Customer] > 1 {
			k.errs = append(k.errs, id+" arrived while another event of its key was in flight")
		}
		if ev.Seq > k.next[ev.Customer] {
			k.errs = append(k.errs, fmt.Sprintf("%s arrived before %s:%d succeeded", id, ev.Customer, k.next[ev.Customer]))
		}
		k.tries[id]++
		status := http.StatusOK
		if k.fail(ev.Seq) && k.tries[id] == 1 {
			status = http.StatusInternalServerError
		} else if ev.Seq == k.next[ev.Customer] {
			k.next[ev.Customer]++
		}
		k.inFlight[ev.Customer]--
		k.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

// TestIngestFIFOOrderingTwoNodes ingests events of several keys on two
// nodes sharing PostgreSQL at once, each key's events alternating between
// the nodes, with a destination that fails some first attempts: both
// nodes deliver, and every key's events arrive one at a time, in the order
// they were received, each after its predecessor succeeded.
func TestIngestFIFOOrderingTwoNodes(t *testing.T) {
	t.Parallel()
	nodes := pgNodes(t, 2, testserver.Options{Delivery: delivery.Config{
		Retry: delivery.RetryPolicy{Schedule: []time.Duration{time.Millisecond}},
	}})
	a := nodes[0]
	k := newKeySink(t, func(seq int) bool { return seq%3 == 1 })
	src := a.newSource(t, nil)
	conn := a.connect(t, src.ID, a.newDestination(t, k.srv.URL+"/inbox"), "")
	a.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/connections/%d", conn),
		map[string]any{"ordering": "fifo", "ordering_key": "$.customer", "max_retries": 10})

	const keys, perKey = 5, 12
	last := make([]string, keys)
	var wg sync.WaitGroup
	errs := make(chan error, keys)
	for c := range keys {
		wg.Go(func() {
			for seq := range perKey {
				body := fmt.Appendf(nil, `{"customer":"c%d","seq":%d}`, c, seq)
				r, err := tryHook(nodes[seq%2].srv.URL, src.IngestionID, hookRequest{Body: bodyOf(string(body))})
				if err == nil && r.Status != http.StatusAccepted {
					err = fmt.Errorf("c%d:%d: status %d %s", c, seq, r.Status, r.Body)
				}
				if err != nil {
					errs <- err
					return
				}
				var acc acceptedBody
				json.Unmarshal(r.Body, &acc)
				last[c] = acc.EventID
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for c := range keys {
		eventually(t, fmt.Sprintf("the last event of c%d to be processed", c), func() bool {
			return a.event(t, last[c]).Status == volley.EventProcessed
		})
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range k.errs {
		t.Error(e)
	}
	for c := range keys {
		if got := k.next[fmt.Sprintf("c%d", c)]; got != perKey {
			t.Errorf("c%d: %d events succeeded in order, want %d", c, got, perKey)
		}
	}
}
