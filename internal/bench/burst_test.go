package bench

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/volleyhq/volley"
	"github.com/volleyhq/volley/internal/testserver"
)

func TestBurstReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		res     burstResult
		wantErr bool
		want    []string
		notWant []string
	}{
		{
			name: "Complete",
			res: burstResult{events: 100, ingestTook: time.Second, delivered: 100, deliveredTook: 2 * time.Second,
				recorded: 100, recordedTook: 4 * time.Second, timeout: time.Minute, peakMiB: 42},
			want: []string{"ingested in 1.00 s (100/s)", "delivered to the sink in 2.00 s: 50 events/s",
				"every attempt recorded after 4.00 s: 25 events/s sustained (100 attempts)",
				"over the phase (ingestion and drain): 42 MiB"},
			notWant: []string{"INCOMPLETE"},
		},
		{
			name: "NotAllRecorded",
			res: burstResult{events: 100, ingestTook: time.Second, delivered: 100, deliveredTook: 2 * time.Second,
				recorded: 60, recordedTook: time.Minute, timeout: time.Minute, peakMiB: 42},
			wantErr: true,
			want: []string{"ingested in 1.00 s (100/s)", "INCOMPLETE: gave up 1m0s after the resume",
				"100 of 100 events delivered to the sink, 60 of 100 attempts recorded", "42 MiB"},
			notWant: []string{"events/s", "sustained"},
		},
		{
			name: "NotAllDelivered",
			res: burstResult{events: 100, ingestTook: time.Second, delivered: 0, deliveredTook: time.Minute,
				recorded: 0, recordedTook: time.Minute, timeout: time.Minute},
			wantErr: true,
			want:    []string{"INCOMPLETE", "0 of 100 events delivered to the sink, 0 of 100 attempts recorded"},
			notWant: []string{"events/s", "sustained"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			err := tc.res.report(&out)
			if got := errors.Is(err, ErrBurstIncomplete); got != tc.wantErr {
				t.Errorf("report error = %v, want ErrBurstIncomplete: %v", err, tc.wantErr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("report has %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// TestBurstIncomplete runs phase (c) against a node whose destination
// never answers, with a short drain deadline: the phase reports what
// finished, no rate, and fails.
func TestBurstIncomplete(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t, testserver.Options{})
	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	// Runs before the node stops, so that its shutdown need not wait for
	// the attempts in flight to time out.
	t.Cleanup(func() {
		close(release)
		silent.Close()
	})
	sk, err := startSink()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sk.close)
	api := sdk.NewClient(testserver.AdminToken, sdk.WithBaseURL(ts.URL))
	g, err := setupGraph(t.Context(), api, silent.URL)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r := &runner{
		cfg: Config{Burst: 5, Clients: 2, DrainTimeout: 300 * time.Millisecond},
		out: &out, api: api, graph: g, sink: sk, body: payload(64),
		hookURLs: []string{ts.URL + "/hook/" + g.ingestionID}, peak: &rssPeak{},
	}
	err = r.burst(t.Context())
	if !errors.Is(err, ErrBurstIncomplete) {
		t.Errorf("burst = %v, want ErrBurstIncomplete", err)
	}
	if s := out.String(); !strings.Contains(s, "INCOMPLETE") || !strings.Contains(s, "0 of 5 attempts recorded") || strings.Contains(s, "sustained") {
		t.Errorf("report:\n%s", s)
	}
}

// TestBurstComplete runs phase (c) against a node delivering to the sink:
// every event arrives and the phase sees every attempt recorded, through
// the connection's backlog rather than list totals, which stop counting at
// 10,000.
func TestBurstComplete(t *testing.T) {
	t.Parallel()
	ts := testserver.Start(t, testserver.Options{})
	sk, err := startSink()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sk.close)
	api := sdk.NewClient(testserver.AdminToken, sdk.WithBaseURL(ts.URL))
	g, err := setupGraph(t.Context(), api, sk.url)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r := &runner{
		cfg: Config{Burst: 40, Clients: 2, DrainTimeout: time.Minute},
		out: &out, api: api, graph: g, sink: sk, body: payload(64),
		hookURLs: []string{ts.URL + "/hook/" + g.ingestionID}, peak: &rssPeak{},
	}
	if err := r.burst(t.Context()); err != nil {
		t.Fatalf("burst: %v\n%s", err, out.String())
	}
	if s := out.String(); !strings.Contains(s, "sustained (40 attempts)") {
		t.Errorf("report:\n%s", s)
	}
}
