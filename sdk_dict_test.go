package volley_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/volleyhq/volley"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/payload"
)

// dictWebhook is a JSON webhook like a source's others, in bytes a JSON
// encoder would not reproduce (spacing, key order, escapes).
func dictWebhook(i int) []byte {
	return fmt.Appendf(nil, "{ \"id\": \"evt_%06d\",\"type\":\"payment.captured\", \"amount\" :%d,\n\t\"note\":\"caf\\u00e9 #%d\","+
		"\"customer\":{\"email\":\"p%d@example.com\",\"tier\":\"gold\"},\"items\":[%d,%d,%d]}", i, i*37%10000, i, i, i, i+1, i%7)
}

// TestPayloadDictionaryEndToEnd checks that payloads stored with a trained
// dictionary are delivered and listed byte for byte, like those before it.
func TestPayloadDictionaryEndToEnd(t *testing.T) {
	t.Parallel()
	acct := newAccount("Dictionary")
	c := volley.NewClient(acct.Token, volley.WithBaseURL(baseURL()))
	pid := acct.Project.ID
	got := newSink(t, http.StatusOK)
	src, err := c.CreateSource(pid, volley.CreateSourceRequest{Name: "Payments"})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := c.CreateDestination(pid, volley.CreateDestinationRequest{Name: "sink", URL: got.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateConnection(pid, volley.CreateConnectionRequest{SourceID: src.ID, DestinationID: dst.ID}); err != nil {
		t.Fatal(err)
	}
	send := func(from, to int) {
		for i := from; i < to; i++ {
			resp, err := http.Post(baseURL()+"/hook/"+src.IngestionID, "application/json", bytes.NewReader(dictWebhook(i)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("webhook %d: status %d", i, resp.StatusCode)
			}
		}
	}
	send(0, 150)
	eventually(t, "the first deliveries", func() bool { return got.received() == 150 })

	// Train the source's dictionary as the trainer does (its threshold is
	// 1,000 events).
	sample, err := srv.Store.PayloadSample(t.Context(), src.ID, 150)
	if err != nil {
		t.Fatal(err)
	}
	var in [][]byte
	for _, p := range sample {
		in = append(in, p.Body, []byte(p.Headers))
	}
	raw, err := payload.TrainDict(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := payload.DictID(raw)
	if err := srv.Store.PayloadDictInsert(t.Context(), &store.PayloadDict{ID: id, SourceID: src.ID, Dict: raw, Ratio: 0.5,
		CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	send(150, 200)
	eventually(t, "the deliveries after the dictionary", func() bool { return got.received() == 200 })

	var want []string
	for i := range 200 {
		want = append(want, string(dictWebhook(i)))
	}
	got.mu.Lock()
	delivered := slices.Clone(got.bodies)
	got.mu.Unlock()
	slices.Sort(delivered)
	slices.Sort(want)
	if !slices.Equal(delivered, want) {
		t.Fatal("the destination did not receive the webhooks' exact bytes")
	}
	limit := 100
	var listed []string
	for offset := 0; offset < 200; offset += limit {
		page, err := c.ListEvents(pid, &volley.ListEventsOptions{Limit: &limit, Offset: &offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Requests {
			listed = append(listed, e.RawBody)
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Fatal("the API did not list the webhooks' exact bytes")
	}
}
