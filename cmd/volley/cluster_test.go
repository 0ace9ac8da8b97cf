package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestClusterKillOneNode runs three nodes on one PostgreSQL schema, spreads
// a few thousand events over them and kills one with SIGKILL halfway. The
// other two take over its leases once its heartbeat is NodeTTL (15s) old.
// It checks that every event answered 202 reaches the destination, that no
// delivery is ever in flight twice at once, that only deliveries the killed
// node had sent without recording the outcome are repeated, and that every
// event ends processed.
//
// A repeat is attributed by the attempts the nodes recorded, not by when it
// reached the destination: every node records every attempt it finishes
// (even one whose lease was taken over), so a request without a recorded
// attempt was sent by the node that died. Arrival times cannot tell: a
// request the killed node sent just before the kill may be read by the
// destination after the test noted the kill.
func TestClusterKillOneNode(t *testing.T) {
	dbURL := testDatabaseURL(t)
	t.Parallel()
	const (
		nodes   = 3
		events  = 3000
		workers = 16
		killAt  = 1200 // acknowledged events before the kill
		// concurrency is --destination-concurrency's default: the requests
		// a node has in flight to one destination, which a kill interrupts.
		concurrency = 32
		// dupMargin allows for deliveries the killed node had completed but
		// whose outcome was still on its way to the database (the recorder
		// commits outcomes in batches).
		dupMargin = 16
	)
	bin := buildVolley(t)
	nodeURL := withSearchPath(t, dbURL, freshSchema(t, dbURL))
	// The delay makes deliveries overlap in time, so that two nodes sending
	// one delivery at once would be seen. It also holds a node to 320
	// deliveries a second (32 in flight), less than it is sent, so the
	// killed node leaves a backlog of leased deliveries to take over. The
	// requests it has in flight are cut off and not counted as delivered:
	// they too must be taken over.
	sink := newHookSink(t, 100*time.Millisecond)
	ns := make([]*volleyProc, nodes)
	for i := range ns {
		ns[i] = startPGNode(t, bin, nodeURL)
	}
	r := createRoute(t, ns[0], sink.srv.URL, nil, map[string]any{"max_retries": 5})
	victim := nodes - 1

	var (
		mu     sync.Mutex
		alive  = []int{0, 1, 2} // indexes into ns of the nodes to send to
		killed time.Time        // when the victim was gone; written once, read after wg.Wait
	)
	ackedBy := make([]atomic.Int64, nodes)
	acked := newSeqSet()
	victimAcked := newSeqSet() // acknowledged by the victim before it died
	var failed atomic.Int64
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			ns[victim].kill(t)
			mu.Lock()
			killed, alive = time.Now(), []int{0, 1}
			mu.Unlock()
		})
	}

	start := time.Now()
	client := newIngestClient(t, workers)
	seqs := make(chan int)
	go func() {
		for seq := range events {
			seqs <- seq
		}
		close(seqs)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for seq := range seqs {
				mu.Lock()
				i := alive[seq%len(alive)]
				mu.Unlock()
				if postSeq(client, ns[i].url, r.ingestionID, seq) != http.StatusAccepted {
					failed.Add(1) // e.g. sent to the victim as it died
					continue
				}
				ackedBy[i].Add(1)
				if i == victim {
					victimAcked.add(seq)
				}
				if acked.add(seq) == killAt {
					kill()
				}
			}
		})
	}
	wg.Wait()
	if killed.IsZero() {
		t.Fatalf("only %d of %d events acknowledged, the kill never happened; node 0 log:\n%s", acked.len(), events, ns[0].log.String())
	}
	ingested := time.Since(start)
	t.Logf("ingested for %v: %d acknowledged (by node: %d, %d, %d; node %d killed after %d acknowledgements), %d refused or unanswered",
		ingested.Round(time.Millisecond), acked.len(), ackedBy[0].Load(), ackedBy[1].Load(), ackedBy[2].Load(),
		victim, killAt, failed.Load())

	// The victim's leases are taken over NodeTTL (15s) after its last
	// heartbeat, by a reaper running every NodeTTL/2: at most 22.5s after
	// the kill.
	sink.waitDelivered(t, acked.all(), 60*time.Second, ns[:victim]...)
	delivered := time.Since(killed)

	st := sink.stats()
	inFlightAtKill := st.aborted // requests whose sender died before the answer
	// The survivors send their own events within moments; what is sent
	// 10s (NodeTTL minus a heartbeat interval) after the kill or later was
	// taken over from the victim.
	// The victim's events are delivered by the node that took them in
	// (its leases) unless its queue was full: those not sent before the
	// kill were the victim's backlog, delivered by the others.
	backlog := 0
	for _, seq := range victimAcked.all() {
		if sink.firstDelivery(seq).After(killed) {
			backlog++
		}
	}
	t.Logf("%d events acknowledged by the killed node, %d of them delivered only after the kill", victimAcked.len(), backlog)
	t.Logf("every acknowledged event delivered %v after the kill; the destination got %d requests for %d deliveries: "+
		"%d repeated, %d cut off by the kill, %d sent after the takeover",
		delivered.Round(time.Millisecond), st.requests, st.deliveries, len(st.duplicates), inFlightAtKill,
		sink.startedSince(killed.Add(10*time.Second)))
	if len(st.overlaps) > 0 {
		t.Errorf("%d requests started while the same delivery was in flight (sent by two nodes at once): %v",
			len(st.overlaps), st.overlaps[:min(10, len(st.overlaps))])
	}
	if len(st.twoIDs) > 0 {
		t.Errorf("sequence numbers %v arrived under two Webhook-Ids: an event was stored twice", st.twoIDs[:min(10, len(st.twoIDs))])
	}
	if n := len(st.duplicates); n > concurrency+dupMargin {
		t.Errorf("%d deliveries repeated; only the killed node's unrecorded ones may be (at most %d in flight + %d)",
			n, concurrency, dupMargin)
	}
	if inFlightAtKill > concurrency {
		t.Errorf("%d requests were cut off by the kill, more than the %d a node may have in flight to a destination",
			inFlightAtKill, concurrency)
	}
	// The requests cut off by the kill were leased by the victim: the
	// survivors' reapers made them due again and count them in /metrics.
	var takenOver float64
	for _, n := range ns[:victim] {
		takenOver += scrapeValue(t, n.url+"/metrics", "volley_lease_takeovers_total")
	}
	if takenOver < float64(inFlightAtKill) {
		t.Errorf("volley_lease_takeovers_total summed over the survivors = %v, want at least the %d deliveries in flight at the kill",
			takenOver, inFlightAtKill)
	}

	// Outcomes are recorded after the destination answered: wait for them.
	waitUntil(t, 30*time.Second, "no event is pending", func() bool {
		return ns[0].total(t, "events", r.project, "pending") == 0
	})
	all := ns[0].total(t, "events", r.project, "")
	processed := ns[0].total(t, "events", r.project, "processed")
	t.Logf("%d events stored, %d processed", all, processed)
	if processed != all {
		t.Errorf("%d of %d events processed, want all (failed: %d)", processed, all, ns[0].total(t, "events", r.project, "failed"))
	}
	if processed < acked.len() {
		t.Errorf("%d events processed, fewer than the %d acknowledged", processed, acked.len())
	}
	// With every outcome recorded, each repeated delivery must have had a
	// request that no node recorded: one the killed node sent.
	repeated := map[string]bool{}
	for _, id := range st.duplicates {
		repeated[id] = true
	}
	for id := range repeated {
		requests, uid := sink.requestsOf(id), sink.event(id)
		if recorded := ns[0].attemptCount(t, r.project, uid); recorded >= requests {
			t.Errorf("delivery %s (event %s) reached the destination %d times and %d attempts were recorded: "+
				"a repeat must stand for a send of the killed node, which recorded nothing", id, uid, requests, recorded)
		}
	}
}

// attemptCount returns how many attempts of event uid the nodes recorded.
func (p *volleyProc) attemptCount(t *testing.T, project uint64, uid string) int {
	t.Helper()
	var out struct{ Total int }
	p.apiJSON(t, "GET", fmt.Sprintf("/api/projects/%d/delivery-attempts?limit=1&event_id=%s", project, url.QueryEscape(uid)), nil, &out)
	return out.Total
}

// attemptStarts returns when each attempt to a destination started, as the
// nodes recorded it (the start its rate limits granted), in order, and
// fails the test unless each is a first attempt that succeeded.
func (p *volleyProc) attemptStarts(t *testing.T, project, destination uint64) []time.Time {
	t.Helper()
	var out struct {
		Attempts []struct {
			ID        uint64    `json:"id"`
			Status    string    `json:"status"`
			Number    int       `json:"attempt_number"`
			CreatedAt time.Time `json:"created_at"`
		}
	}
	p.apiJSON(t, "GET", fmt.Sprintf("/api/projects/%d/delivery-attempts?destination_id=%d&sort=time_oldest&limit=500", project, destination), nil, &out)
	starts := make([]time.Time, 0, len(out.Attempts))
	for _, a := range out.Attempts {
		if a.Status != "success" || a.Number != 1 {
			t.Errorf("attempt %d: %s, number %d; want a first attempt that succeeded", a.ID, a.Status, a.Number)
		}
		starts = append(starts, a.CreatedAt)
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	return starts
}

// maxInWindow returns the most times that fall in one closed window
// [a, a+w] of a sorted list.
func maxInWindow(times []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for j < len(times) && !times[j].After(times[i].Add(w)) {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// TestClusterEPS runs two nodes sending to one destination limited to 20
// events per second and checks that together they never exceed it: the
// slots are reserved through the database. The check is on the attempts
// the nodes recorded, whose start is the slot each was granted: at most
// eps+1 in any one-second window, spread over at least (n-1)/eps. When
// the requests reached the destination is only logged: on a loaded machine
// requests sent exactly on their slots arrive bunched up.
func TestClusterEPS(t *testing.T) {
	dbURL := testDatabaseURL(t)
	t.Parallel()
	const (
		nodes   = 2
		events  = 100
		eps     = 20
		workers = 8
	)
	bin := buildVolley(t)
	nodeURL := withSearchPath(t, dbURL, freshSchema(t, dbURL))
	sink := newHookSink(t, 0)
	ns := make([]*volleyProc, nodes)
	for i := range ns {
		ns[i] = startPGNode(t, bin, nodeURL)
	}
	r := createRoute(t, ns[0], sink.srv.URL, map[string]any{"eps": eps}, nil)

	client := newIngestClient(t, workers)
	acked := newSeqSet()
	var refused atomic.Int64
	seqs := make(chan int)
	go func() {
		for seq := range events {
			seqs <- seq
		}
		close(seqs)
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for seq := range seqs {
				if postSeq(client, ns[seq%nodes].url, r.ingestionID, seq) == http.StatusAccepted {
					acked.add(seq)
				} else {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := refused.Load(); n > 0 {
		t.Fatalf("%d events refused; node 0 log:\n%s", n, ns[0].log.String())
	}
	ingested := time.Since(start)
	sink.waitDelivered(t, acked.all(), 30*time.Second, ns...)
	took := time.Since(start)

	st := sink.stats()
	t.Logf("%d events ingested in %v, delivered in %v; the destination saw at most %d requests arrive in one second "+
		"(limit %d; arrivals are not checked), the closest %d spanning %v",
		events, ingested.Round(time.Millisecond), took.Round(time.Millisecond), sink.maxPerSecond(), eps,
		eps+1, sink.tightestSpan(eps+1).Round(time.Millisecond))
	if len(st.duplicates) > 0 || len(st.overlaps) > 0 {
		t.Errorf("%d deliveries repeated, %d overlapping, with no node failing", len(st.duplicates), len(st.overlaps))
	}
	waitUntil(t, 30*time.Second, "no event is pending", func() bool {
		return ns[0].total(t, "events", r.project, "pending") == 0
	})
	if n := ns[0].total(t, "delivery-attempts", r.project, "failed"); n > 0 {
		t.Errorf("%d attempts recorded as failed: waiting for the rate limit must not be an attempt", n)
	}
	starts := ns[0].attemptStarts(t, r.project, r.destination)
	if len(starts) != events {
		t.Fatalf("%d attempts recorded, want %d", len(starts), events)
	}
	if most := maxInWindow(starts, time.Second); most > eps+1 {
		t.Errorf("%d attempts started within one second across the nodes, want at most %d (eps %d)", most, eps+1, eps)
	}
	// A thousandth less for a wall clock being slewed; the slots are
	// whole microseconds apart, as stored.
	least := time.Duration(events-1) * time.Second / eps
	least -= least / 1000
	if span := starts[events-1].Sub(starts[0]); span < least {
		t.Errorf("%d attempts started over %v, want at least %v at %d per second", events, span, least, eps)
	}
}
