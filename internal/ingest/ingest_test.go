package ingest_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/volleyhq/volley/internal/testserver"
)

func TestIngestStoresTheRequestExactly(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src, k := n.routed(t, nil)

	for _, tc := range []struct {
		name   string
		method string
		query  string
		ctype  string
		body   []byte
	}{
		{"post json", "POST", "a=1&b=two%20words&a=3", "application/json", []byte(`{"id": 1,  "nested": {"x": [1, 2]}}` + "\n")},
		{"put binary", "PUT", "", "application/octet-stream", []byte{0xff, 0xfe, 0x00, 0x01, 'b', 'i', 'n', 0x80, 0xc3, 0x28}},
		{"patch empty", "PATCH", "empty=", "text/plain", nil},
		{"post form", "POST", "x=%2F%3F&y", "application/x-www-form-urlencoded", []byte("a=1&b=%C3%A9t%C3%A9")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			h.Set("Content-Type", tc.ctype)
			h.Set("X-Custom", "custom value")
			h.Add("X-Multi", "one")
			h.Add("X-Multi", "two")
			a := accepted(t, n.hook(t, src.IngestionID, hookRequest{Method: tc.method, Query: tc.query, Header: h, Body: bytes.NewReader(tc.body)}))

			e := n.event(t, a.EventID)
			if e.Method != tc.method || e.Query != tc.query || e.SourceID != src.ID {
				t.Errorf("stored method %q query %q source %d, want %q %q %d", e.Method, e.Query, e.SourceID, tc.method, tc.query, src.ID)
			}
			stored := []byte(e.RawBody)
			if !utf8.Valid(tc.body) {
				b, err := base64.StdEncoding.DecodeString(e.RawBodyBase64)
				if err != nil {
					t.Fatalf("raw_body_base64 %q: %v", e.RawBodyBase64, err)
				}
				stored = b
			} else if e.RawBodyBase64 != "" {
				t.Errorf("raw_body_base64 %q set for a UTF-8 body", e.RawBodyBase64)
			}
			if !bytes.Equal(stored, tc.body) {
				t.Errorf("stored body %q, want %q", stored, tc.body)
			}
			for name, want := range map[string][]string{
				"Content-Type": {tc.ctype}, "X-Custom": {"custom value"}, "X-Multi": {"one", "two"},
			} {
				if got := e.header(name); !slices.Equal(got, want) {
					t.Errorf("stored header %s = %q, want %q (all: %v)", name, got, want, e.Headers)
				}
			}

			// The delivery carries the same bytes, method and headers.
			got := k.waitDelivered(t, a.EventID)[0]
			if got.Method != tc.method || !bytes.Equal(got.Body, tc.body) {
				t.Errorf("delivered %s %q, want %s %q", got.Method, got.Body, tc.method, tc.body)
			}
			if v := got.Header.Values("X-Multi"); !slices.Equal(v, []string{"one", "two"}) {
				t.Errorf("delivered X-Multi %q", v)
			}
		})
	}
}

func TestIngestRefusesOtherMethods(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src := n.newSource(t, nil)
	for _, method := range []string{"GET", "DELETE", "OPTIONS"} {
		r := n.hook(t, src.IngestionID, hookRequest{Method: method})
		msg := refused(t, r, http.StatusMethodNotAllowed)
		allow := r.Header.Get("Allow")
		for _, m := range []string{"POST", "PUT", "PATCH"} {
			if !strings.Contains(allow, m) {
				t.Errorf("%s: Allow %q lacks %s", method, allow, m)
			}
		}
		if !strings.Contains(msg, method) {
			t.Errorf("%s: message %q does not name the method", method, msg)
		}
	}
	if got := n.total(t, src.ID); got != 0 {
		t.Fatalf("%d events stored by refused methods", got)
	}
}

func TestIngestUnknownDisabledAndDeletedSources(t *testing.T) {
	t.Parallel()
	n := setup(t)

	if msg := refused(t, n.post(t, "src_0000000000000000000000", []byte("{}")), http.StatusNotFound); msg != "unknown ingestion URL" {
		t.Errorf("unknown id: message %q", msg)
	}

	src := n.newSource(t, nil)
	accepted(t, n.post(t, src.IngestionID, []byte(`{"n":1}`))) // warms the routing cache
	n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/sources/%d", src.ID), map[string]any{"status": "disabled"})
	if msg := refused(t, n.post(t, src.IngestionID, []byte(`{"n":2}`)), http.StatusForbidden); !strings.Contains(msg, "disabled") {
		t.Errorf("disabled source: message %q does not say so", msg)
	}
	if got := n.total(t, src.ID); got != 1 {
		t.Errorf("total %d after a refused event, want 1", got)
	}
	n.must(t, http.StatusOK, "PUT", fmt.Sprintf("/api/sources/%d", src.ID), map[string]any{"status": "active"})
	accepted(t, n.post(t, src.IngestionID, []byte(`{"n":3}`)))

	resp := n.api(t, "DELETE", fmt.Sprintf("/api/sources/%d", src.ID), nil)
	if resp.Status != http.StatusOK && resp.Status != http.StatusNoContent {
		t.Fatalf("delete source: %d %s", resp.Status, resp.Body)
	}
	// At once: no cache may keep a deleted source alive.
	if msg := refused(t, n.post(t, src.IngestionID, []byte(`{"n":4}`)), http.StatusNotFound); msg != "unknown ingestion URL" {
		t.Errorf("deleted source: message %q", msg)
	}

	// Deleting a project deletes its sources' URLs too.
	var p struct{ ID uint64 }
	n.must(t, http.StatusCreated, "POST", "/api/projects", map[string]any{"name": "Doomed"}).JSON(t, &p)
	var inProject source
	n.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/projects/%d/sources", p.ID), map[string]any{"name": "doomed"}).JSON(t, &inProject)
	accepted(t, n.post(t, inProject.IngestionID, []byte(`{}`)))
	resp = n.api(t, "DELETE", fmt.Sprintf("/api/projects/%d", p.ID), nil)
	if resp.Status != http.StatusOK && resp.Status != http.StatusNoContent {
		t.Fatalf("delete project: %d %s", resp.Status, resp.Body)
	}
	refused(t, n.post(t, inProject.IngestionID, []byte(`{}`)), http.StatusNotFound)
}

func TestIngestSourceAuthentication(t *testing.T) {
	t.Parallel()
	n := setup(t)
	basic, basicSink := n.routed(t, map[string]any{"auth_type": "basic", "auth_username": "hooks", "auth_key": "s3cret:pass"})
	named, namedSink := n.routed(t, map[string]any{"auth_type": "api_key", "auth_key_name": "X-Hook-Key", "auth_key": "k-123"})
	deflt, defltSink := n.routed(t, map[string]any{"auth_type": "api_key", "auth_key": "k-456"})
	basicAuth := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}

	cases := []struct {
		name   string
		src    source
		sink   *sink
		header []string // name, value pairs
		want   int
		// creds are the headers that carried the credentials; they must
		// be neither stored nor forwarded.
		creds []string
	}{
		{"basic right", basic, basicSink, []string{"Authorization", basicAuth("hooks", "s3cret:pass")}, 202, []string{"Authorization"}},
		{"basic wrong password", basic, basicSink, []string{"Authorization", basicAuth("hooks", "s3cret")}, 401, nil},
		{"basic wrong user", basic, basicSink, []string{"Authorization", basicAuth("Hooks", "s3cret:pass")}, 401, nil},
		{"basic missing", basic, basicSink, nil, 401, nil},
		{"basic as bearer", basic, basicSink, []string{"Authorization", "Bearer s3cret:pass"}, 401, nil},
		{"api key in named header", named, namedSink, []string{"X-Hook-Key", "k-123"}, 202, []string{"X-Hook-Key"}},
		{"api key as bearer", named, namedSink, []string{"Authorization", "Bearer k-123"}, 202, []string{"Authorization"}},
		{"api key as lower-case bearer", named, namedSink, []string{"Authorization", "bearer k-123"}, 202, []string{"Authorization"}},
		{"api key wrong", named, namedSink, []string{"X-Hook-Key", "k-124"}, 401, nil},
		{"api key wrong bearer", named, namedSink, []string{"Authorization", "Bearer k-124"}, 401, nil},
		{"api key in the default header of another name", named, namedSink, []string{"X-API-Key", "k-123"}, 401, nil},
		{"api key missing", named, namedSink, nil, 401, nil},
		{"api key default header", deflt, defltSink, []string{"X-API-Key", "k-456"}, 202, []string{"X-API-Key"}},
		{"api key sent both ways", named, namedSink, []string{"X-Hook-Key", "k-123", "Authorization", "Bearer k-123"}, 202, []string{"X-Hook-Key", "Authorization"}},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				marker := strconv.Quote(tc.name)
				r := n.post(t, tc.src.IngestionID, []byte(`{"case":`+marker+`}`), append([]string{"X-Other", "kept"}, tc.header...)...)
				if tc.want != 202 {
					refused(t, r, tc.want)
					www := r.Header.Get("WWW-Authenticate")
					if tc.src == basic && !strings.HasPrefix(www, "Basic ") {
						t.Errorf("401 of a basic source: WWW-Authenticate %q", www)
					}
					return
				}
				a := accepted(t, r)
				e := n.event(t, a.EventID)
				for _, h := range tc.creds {
					if v := e.header(h); v != nil {
						t.Errorf("credential header %s stored: %q", h, v)
					}
				}
				if v := e.header("X-Other"); !slices.Equal(v, []string{"kept"}) {
					t.Errorf("X-Other stored as %q", v)
				}
				got := tc.sink.waitDelivered(t, a.EventID)[0]
				for _, h := range tc.creds {
					if v := got.Header.Values(h); len(v) > 0 {
						t.Errorf("credential header %s forwarded: %q", h, v)
					}
				}
			})
		}
	})
	// Refused requests store nothing: each source keeps only its 202s.
	for src, want := range map[source]int64{basic: 1, named: 4, deflt: 1} {
		if got := n.total(t, src.ID); got != want {
			t.Errorf("source %d: %d events stored, want %d", src.ID, got, want)
		}
	}
}

func TestIngestSourceEPS(t *testing.T) {
	t.Parallel()
	// The clock stands still, so "within a second" does not depend on how
	// fast this machine is.
	clk := &clock{now: time.Now()}
	n := setupWith(t, testserver.Options{NowFunc: clk.Now})
	limited := n.newSource(t, map[string]any{"eps": 5})
	free := n.newSource(t, nil)

	for i := range 5 {
		accepted(t, n.post(t, limited.IngestionID, []byte(fmt.Sprintf(`{"i":%d}`, i))))
	}
	for i := 5; i < 8; i++ {
		r := n.post(t, limited.IngestionID, []byte(fmt.Sprintf(`{"i":%d}`, i)))
		msg := refused(t, r, http.StatusTooManyRequests)
		ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || ra < 1 {
			t.Errorf("request %d: Retry-After %q, want whole seconds ≥ 1", i, r.Header.Get("Retry-After"))
		}
		if !strings.Contains(msg, "5") {
			t.Errorf("request %d: message %q does not state the limit", i, msg)
		}
	}
	if got := n.total(t, limited.ID); got != 5 {
		t.Fatalf("%d events stored, want the 5 accepted", got)
	}
	for range 20 { // another source is not limited by this one
		accepted(t, n.post(t, free.IngestionID, []byte(`{}`)))
	}

	clk.Advance(time.Second)
	for i := range 5 {
		accepted(t, n.post(t, limited.IngestionID, []byte(fmt.Sprintf(`{"second":%d}`, i))))
	}
	refused(t, n.post(t, limited.IngestionID, []byte(`{}`)), http.StatusTooManyRequests)
	if got := n.total(t, limited.ID); got != 10 {
		t.Fatalf("%d events stored, want 10", got)
	}
}
