package delivery_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/volleyhq/volley/internal/testserver"
)

// headerSink answers each request with the next status of its script (200
// once the script is used up) and records the traceparent header of each.
type headerSink struct {
	*httptest.Server
	mu      sync.Mutex
	script  []int
	parents []string
}

func newHeaderSink(t *testing.T, script ...int) *headerSink {
	s := &headerSink{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.parents = append(s.parents, r.Header.Get("Traceparent"))
		status := http.StatusOK
		if len(s.script) > 0 {
			status, s.script = s.script[0], s.script[1:]
		}
		s.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *headerSink) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.parents...)
}

// spansOf waits until the exporter holds at least n spans of the trace id
// and returns them.
func spansOf(t *testing.T, exp *tracetest.InMemoryExporter, id trace.TraceID, n int) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got tracetest.SpanStubs
		for _, s := range exp.GetSpans() {
			if s.SpanContext.TraceID() == id {
				got = append(got, s)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s has %d spans, want %d: %+v", id, len(got), n, got)
		}
		time.Sleep(10 * time.Millisecond) // polling, bounded by the deadline
	}
}

// named returns the spans called name, in the order they ended.
func named(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// wantAttrs checks that span has the attributes want.
func wantAttrs(t *testing.T, span tracetest.SpanStub, want ...attribute.KeyValue) {
	t.Helper()
	have := map[attribute.Key]attribute.Value{}
	for _, kv := range span.Attributes {
		have[kv.Key] = kv.Value
	}
	for _, kv := range want {
		if got, ok := have[kv.Key]; !ok || got != kv.Value {
			t.Errorf("span %s: %s = %v (present %v), want %v", span.Name, kv.Key, got.String(), ok, kv.Value.String())
		}
	}
}

// TestTraceIngestToAttempts ingests an event that continues a caller's
// trace and is delivered to two destinations: one that fails once then
// succeeds and has forward_traceparent on, one without it. The ingest
// request, its commit and all three attempts (the retry included, which
// runs later, read back from the store) form one trace; only the
// destination that opted in receives Volley's traceparent.
func TestTraceIngestToAttempts(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(t.Context()) })
	srv := testserver.Start(t, testserver.Options{Delivery: fastConfig(), TracerProvider: tp})
	e := newEnv(t, srv, srv.AdminAccount().ProjectID)

	forward := newHeaderSink(t, http.StatusInternalServerError)
	plain := newHeaderSink(t)
	src := e.source(t, "traced")
	fwdDest := e.destination(t, "forward", forward.URL, map[string]any{"forward_traceparent": true})
	plainDest := e.destination(t, "plain", plain.URL, nil)
	fwdConn := e.connect(t, src.ID, fwdDest, nil)
	plainConn := e.connect(t, src.ID, plainDest, nil)

	const upstream = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	upstreamSpan, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	uid := e.ingestRequest(t, http.MethodPost, src.IngestionID, "", http.Header{"Traceparent": {upstream}}, `{"n":1}`)

	spans := spansOf(t, exp, traceID, 5)
	if len(spans) != 5 {
		t.Fatalf("trace has %d spans, want ingest, commit and three attempts: %+v", len(spans), spans)
	}
	ingest, commit := named(spans, "ingest"), named(spans, "ingest.commit")
	if len(ingest) != 1 || len(commit) != 1 {
		t.Fatalf("want one ingest and one ingest.commit span, got %d and %d", len(ingest), len(commit))
	}
	if ingest[0].Parent.SpanID() != upstreamSpan || !ingest[0].Parent.IsRemote() {
		t.Errorf("ingest span's parent = %v, want the caller's span %s", ingest[0].Parent.SpanID(), upstreamSpan)
	}
	if ingest[0].SpanKind != trace.SpanKindServer {
		t.Errorf("ingest span kind = %v, want server", ingest[0].SpanKind)
	}
	wantAttrs(t, ingest[0], attribute.Int64("volley.source_id", int64(src.ID)), attribute.String("volley.event_uid", uid),
		attribute.Int("http.response.status_code", http.StatusAccepted), attribute.String("volley.outcome", "accepted"))
	if commit[0].Parent.SpanID() != ingest[0].SpanContext.SpanID() {
		t.Errorf("commit span is not a child of the ingest span")
	}
	wantAttrs(t, commit[0], attribute.Int64("volley.source_id", int64(src.ID)), attribute.String("volley.event_uid", uid))

	attempts := named(spans, "attempt")
	byDest := map[int64]tracetest.SpanStubs{}
	for _, a := range attempts {
		if a.Parent.SpanID() != commit[0].SpanContext.SpanID() {
			t.Errorf("attempt span %s is not a child of the commit span", a.SpanContext.SpanID())
		}
		for _, kv := range a.Attributes {
			if kv.Key == "volley.destination_id" {
				byDest[kv.Value.AsInt64()] = append(byDest[kv.Value.AsInt64()], a)
			}
		}
	}
	fwd, pl := byDest[int64(fwdDest)], byDest[int64(plainDest)]
	if len(fwd) != 2 || len(pl) != 1 {
		t.Fatalf("attempt spans by destination: %d to the forwarding one, %d to the plain one; want 2 and 1", len(fwd), len(pl))
	}
	common := []attribute.KeyValue{attribute.Int64("volley.source_id", int64(src.ID)), attribute.String("volley.event_uid", uid)}
	wantAttrs(t, fwd[0], append(common, attribute.Int64("volley.connection_id", int64(fwdConn)), attribute.Int("volley.attempt", 1),
		attribute.Int("http.response.status_code", 500), attribute.String("volley.outcome", "failed_attempt"))...)
	wantAttrs(t, fwd[1], append(common, attribute.Int64("volley.connection_id", int64(fwdConn)), attribute.Int("volley.attempt", 2),
		attribute.Int("http.response.status_code", 200), attribute.String("volley.outcome", "success"))...)
	wantAttrs(t, pl[0], append(common, attribute.Int64("volley.connection_id", int64(plainConn)), attribute.Int("volley.attempt", 1),
		attribute.Int("http.response.status_code", 200), attribute.String("volley.outcome", "success"))...)

	// The destination that opted in got each attempt's own span as parent;
	// the other got the event's headers as they came, the caller's
	// traceparent included, and nothing of Volley's.
	got := forward.received()
	if len(got) != 2 {
		t.Fatalf("forwarding destination got %d requests, want 2", len(got))
	}
	for i, a := range fwd {
		want := "00-" + traceID.String() + "-" + a.SpanContext.SpanID().String() + "-01"
		if got[i] != want {
			t.Errorf("attempt %d sent traceparent %q, want the attempt span's %q", i+1, got[i], want)
		}
	}
	if got := plain.received(); len(got) != 1 || got[0] != upstream {
		t.Errorf("plain destination got traceparent %q, want only the caller's own %q", got, upstream)
	}

	// An event ingested without a traceparent starts a trace of its own,
	// and the plain destination then gets no traceparent at all.
	uid2 := e.ingest(t, src.IngestionID, `{"n":2}`)
	var root tracetest.SpanStub
	deadline := time.Now().Add(20 * time.Second)
	for root.Name == "" {
		for _, s := range exp.GetSpans() {
			for _, kv := range s.Attributes {
				if s.Name == "ingest" && kv.Key == "volley.event_uid" && kv.Value.AsString() == uid2 {
					root = s
				}
			}
		}
		if root.Name == "" && time.Now().After(deadline) {
			t.Fatalf("no ingest span for %s", uid2)
		}
		time.Sleep(10 * time.Millisecond) // polling, bounded by the deadline
	}
	if root.Parent.IsValid() {
		t.Errorf("ingest span of an untraced request has parent %v", root.Parent)
	}
	second := spansOf(t, exp, root.SpanContext.TraceID(), 4) // ingest, commit, two attempts
	if n := len(named(second, "attempt")); n != 2 {
		t.Errorf("second event's trace has %d attempt spans, want 2", n)
	}
	if got := plain.received(); len(got) != 2 || got[1] != "" {
		t.Errorf("plain destination got traceparent %q for an untraced event, want none", got)
	}
	if got := forward.received(); len(got) != 3 || got[2] == "" {
		t.Errorf("forwarding destination got %q for the second event, want Volley's traceparent", got)
	}
}

// TestTraceAcrossRestart fails an event's first attempt on one node,
// stops it, and lets a second node started on the same store make the
// retry: the retry's span joins the first node's trace, as a child of the
// commit span whose context the store kept.
func TestTraceAcrossRestart(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(t.Context()) })
	dir := t.TempDir()
	cfg := fastConfig()
	cfg.Retry.Schedule = []time.Duration{time.Hour} // the retry is the second node's
	first, stop, err := testserver.Launch(dir, testserver.Options{Delivery: cfg, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, first, first.AdminAccount().ProjectID)
	sink := newHeaderSink(t, http.StatusServiceUnavailable)
	src, _, _ := e.route(t, sink.URL, nil, map[string]any{"max_retries": 3})
	uid := e.ingest(t, src.IngestionID, `{"n":1}`)
	var commit tracetest.SpanStub
	deadline := time.Now().Add(20 * time.Second)
	for commit.Name == "" || len(named(spansOf(t, exp, commit.SpanContext.TraceID(), 0), "attempt")) == 0 {
		for _, s := range exp.GetSpans() {
			for _, kv := range s.Attributes {
				if s.Name == "ingest.commit" && kv.Key == "volley.event_uid" && kv.Value.AsString() == uid {
					commit = s
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no commit span and first attempt for %s", uid)
		}
		time.Sleep(10 * time.Millisecond) // polling, bounded by the deadline
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Two hours later by the second node's clock, the retry is due.
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	_, stop2, err := testserver.Launch(dir, testserver.Options{Delivery: cfg, TracerProvider: tp, NowFunc: later})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop2() })
	spans := spansOf(t, exp, commit.SpanContext.TraceID(), 4) // ingest, commit, two attempts
	attempts := named(spans, "attempt")
	if len(attempts) != 2 {
		t.Fatalf("trace has %d attempt spans, want 2: %+v", len(attempts), spans)
	}
	for i, a := range attempts {
		if a.Parent.SpanID() != commit.SpanContext.SpanID() {
			t.Errorf("attempt %d is not a child of the first node's commit span", i+1)
		}
	}
	wantAttrs(t, attempts[1], attribute.String("volley.event_uid", uid), attribute.Int("volley.attempt", 2),
		attribute.Int("http.response.status_code", 200), attribute.String("volley.outcome", "success"))
}
