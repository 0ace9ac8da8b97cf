package volley_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

const testToken = "test-token"

// request is what a test server received.
type request struct {
	method   string
	path     string // escaped, as sent
	rawQuery string
	header   http.Header
	body     string
}

// server is a test API on 127.0.0.1 that records every request and answers
// each with the same status and body.
type server struct {
	url string
	// hc has its own transport: httptest.Server.Close closes the idle
	// connections of http.DefaultTransport, which would break requests of
	// tests running in parallel.
	hc *http.Client

	mu       sync.Mutex
	requests []request
}

func newServer(t *testing.T, status int, body string) *server {
	t.Helper()
	s := &server{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read request body: %v", err)
		}
		s.mu.Lock()
		s.requests = append(s.requests, request{
			method:   r.Method,
			path:     r.URL.EscapedPath(),
			rawQuery: r.URL.RawQuery,
			header:   r.Header.Clone(),
			body:     string(b),
		})
		s.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	s.url, s.hc = ts.URL, ts.Client()
	return s
}

// client returns a client of s with the test token.
func (s *server) client(opts ...volley.ClientOption) *volley.Client {
	return volley.NewClient(testToken, append([]volley.ClientOption{volley.WithBaseURL(s.url), volley.WithHTTPClient(s.hc)}, opts...)...)
}

// only returns the one request s received.
func (s *server) only(t *testing.T) request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) != 1 {
		t.Fatalf("server got %d requests, want 1", len(s.requests))
	}
	return s.requests[0]
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// wantRequest is a management API request as it must reach the server.
type wantRequest struct {
	method   string
	path     string
	rawQuery string // exact, "" for none
	body     string // exact JSON, "" for none
	orgID    string // X-Organization-ID, "" for absent
}

func (w wantRequest) check(t *testing.T, got request) {
	t.Helper()
	if got.method != w.method || got.path != w.path || got.rawQuery != w.rawQuery {
		t.Errorf("request %s %s?%s, want %s %s?%s", got.method, got.path, got.rawQuery, w.method, w.path, w.rawQuery)
	}
	if got.body != w.body {
		t.Errorf("request body %q, want %q", got.body, w.body)
	}
	if v := got.header.Get("Authorization"); v != "Bearer "+testToken {
		t.Errorf("Authorization %q, want %q", v, "Bearer "+testToken)
	}
	if v := got.header.Get("Content-Type"); v != "application/json" {
		t.Errorf("Content-Type %q, want application/json", v)
	}
	if v, sent := got.header["X-Organization-Id"]; w.orgID == "" && sent {
		t.Errorf("X-Organization-ID %q sent, want none", v)
	} else if v := got.header.Get("X-Organization-ID"); v != w.orgID {
		t.Errorf("X-Organization-ID %q, want %q", v, w.orgID)
	}
}

// apiCase is one method call against a canned response.
type apiCase struct {
	name   string
	opts   []volley.ClientOption
	call   func(*volley.Client) (any, error)
	want   wantRequest
	status int    // response status
	resp   string // response body
	result any    // what call must return; nil for methods that return only an error
	full   bool   // result must have every field set, so decoding is checked field by field
}

func runCases(t *testing.T, cases []apiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tc.status, tc.resp)
			got, err := tc.call(srv.client(tc.opts...))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			tc.want.check(t, srv.only(t))
			if tc.full {
				if zero := zeroFields(reflect.ValueOf(tc.result), "result"); len(zero) > 0 {
					t.Fatalf("fixture leaves fields unset: %v", zero)
				}
			}
			if !reflect.DeepEqual(got, tc.result) {
				t.Errorf("result:\n got %#v\nwant %#v", got, tc.result)
			}
		})
	}
}

// zeroFields lists the zero-valued fields under v, following pointers,
// structs, and the elements of slices and maps.
func zeroFields(v reflect.Value, path string) []string {
	if !v.IsValid() || v.IsZero() {
		return []string{path}
	}
	var zero []string
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		zero = zeroFields(v.Elem(), path)
	case reflect.Slice:
		for i := range v.Len() {
			zero = append(zero, zeroFields(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			break
		}
		for i := range v.NumField() {
			zero = append(zero, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
	}
	return zero
}

func ptr[T any](v T) *T { return &v }

func TestNewClientDefaults(t *testing.T) {
	t.Parallel()
	c := volley.NewClient(testToken)
	if got := c.BaseURL(); got != volley.DefaultBaseURL {
		t.Errorf("BaseURL() = %q, want %q", got, volley.DefaultBaseURL)
	}
	if got := c.OrganizationID(); got != nil {
		t.Errorf("OrganizationID() = %d, want nil", *got)
	}
}

func TestWithBaseURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://api-staging.volleyhooks.com":   "https://api-staging.volleyhooks.com",
		"https://api-staging.volleyhooks.com/":  "https://api-staging.volleyhooks.com",
		"http://localhost:8080/volley/":         "http://localhost:8080/volley",
		"https://api-staging.volleyhooks.com//": "https://api-staging.volleyhooks.com",
	} {
		if got := volley.NewClient(testToken, volley.WithBaseURL(in)).BaseURL(); got != want {
			t.Errorf("WithBaseURL(%q): BaseURL() = %q, want %q", in, got, want)
		}
	}

	// The path is appended after the trimmed base, with no double slash.
	srv := newServer(t, http.StatusOK, `{"projects":[]}`)
	c := volley.NewClient(testToken, volley.WithBaseURL(srv.url+"/"), volley.WithHTTPClient(srv.hc))
	if _, err := c.ListProjects(); err != nil {
		t.Fatal(err)
	}
	if got := srv.only(t).path; got != "/api/projects" {
		t.Errorf("path %q, want /api/projects", got)
	}
}

func TestOrganizationID(t *testing.T) {
	t.Parallel()
	c := volley.NewClient(testToken, volley.WithOrganizationID(123))
	if got := c.OrganizationID(); got == nil || *got != 123 {
		t.Fatalf("OrganizationID() = %v, want 123", got)
	}

	// The result is a copy.
	*c.OrganizationID() = 7
	if got := c.OrganizationID(); *got != 123 {
		t.Errorf("OrganizationID() = %d after changing a returned copy, want 123", *got)
	}

	c.SetOrganizationID(456)
	if got := c.OrganizationID(); got == nil || *got != 456 {
		t.Errorf("OrganizationID() = %v after SetOrganizationID(456), want 456", got)
	}
	c.ClearOrganizationID()
	if got := c.OrganizationID(); got != nil {
		t.Errorf("OrganizationID() = %d after ClearOrganizationID, want nil", *got)
	}
}

// TestOrganizationIDHeader follows the header through the client's changes.
func TestOrganizationIDHeader(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.StatusOK, `{"projects":[]}`)
	c := srv.client()
	steps := []struct {
		change func()
		want   string
	}{
		{func() {}, ""},
		{func() { c.SetOrganizationID(0) }, "0"},
		{func() { c.SetOrganizationID(18446744073709551615) }, "18446744073709551615"},
		{c.ClearOrganizationID, ""},
	}
	for i, step := range steps {
		step.change()
		if _, err := c.ListProjects(); err != nil {
			t.Fatal(err)
		}
		srv.mu.Lock()
		got := srv.requests[i].header
		srv.mu.Unlock()
		_, sent := got["X-Organization-Id"]
		if v := got.Get("X-Organization-ID"); v != step.want || sent != (step.want != "") {
			t.Errorf("step %d: X-Organization-ID %q (sent %t), want %q", i, v, sent, step.want)
		}
	}
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWithHTTPClient(t *testing.T) {
	t.Parallel()
	var got *http.Request
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(`{"organizations":[{"id":1,"name":"Acme"}]}`)),
			Request:    r,
		}, nil
	})}
	c := volley.NewClient(testToken, volley.WithHTTPClient(hc))
	orgs, err := c.ListOrganizations()
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.URL.String() != volley.DefaultBaseURL+"/api/org/list" {
		t.Fatalf("custom client got request %v, want one to %s/api/org/list", got, volley.DefaultBaseURL)
	}
	if want := []volley.Organization{{ID: 1, Name: "Acme"}}; !reflect.DeepEqual(orgs, want) {
		t.Errorf("orgs = %+v, want %+v", orgs, want)
	}
}

// TestContextCancelInFlight cancels a request the server is holding.
func TestContextCancelInFlight(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	t.Cleanup(ts.Close)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	c := volley.NewClient(testToken, volley.WithBaseURL(ts.URL), volley.WithHTTPClient(ts.Client()))
	_, err := c.ListSourcesContext(ctx, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !strings.HasPrefix(err.Error(), "volley: ") {
		t.Errorf("err = %q, want it prefixed with \"volley: \"", err)
	}
}
