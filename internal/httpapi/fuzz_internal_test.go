package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/volleyhq/volley/internal/store"
)

// The request decoders and the list-query parser read what any client
// sends, before anything else looks at it: whatever the input, they must
// not panic and must fail only with errors that answer 400 or 413, never a
// 500. Run longer with, for example:
//
//	go test -run '^$' -fuzz '^FuzzDecodeBody$' -fuzztime 60s ./internal/httpapi

// FuzzDecodeBody decodes arbitrary bodies into every request type of the
// API.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"name":"Stripe","eps":10,"auth_type":"api_key","auth_key":"k3y"}`,
		`{"sourceId":1,"destinationId":2,"maxRetries":3,"source_id":4}`,
		`{"headers":[],"url":"http://127.0.0.1:9/x","timeout_ms":5000}`,
		`{"name":null,"is_default":true}`,
		`{"event_id":"evt_1","connection_id":-1}`,
		`{"eps":"ten"}`, `{"eps":1e400}`, `{"role":["owner"]}`, `[]`, `[1]`, `"x"`, `null`, ``, `{`, "{\"a\":\"\xff\"}",
		`{"expires_at":"2027-01-01T00:00:00+01:00","pairing_code":"ABCD-EFGH"}`,
	} {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return &sourceRequest{} }, func() any { return &destinationRequest{} },
		func() any { return &connectionRequest{} }, func() any { return &projectRequest{} },
		func() any { return &memberRequest{} }, func() any { return &orgRequest{} },
		func() any { return &tokenRequest{} }, func() any { return &rotateRequest{} },
		func() any { return &credentialsRotateRequest{} }, func() any { return &deviceDecisionRequest{} },
		func() any { return &replayRequest{} },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, newDst := range targets {
			dst := newDst()
			r := httptest.NewRequest(http.MethodPost, "/api/x", bytes.NewReader(body))
			fields, err := decodeFields(httptest.NewRecorder(), r, dst)
			if err != nil {
				if e, internal := classify(err); internal || (e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge) {
					t.Fatalf("decode %T of %q: %v answers %d", dst, body, err, e.Status)
				}
				continue
			}
			for k, v := range fields {
				if !json.Valid(v) {
					t.Fatalf("decode %T of %q: field %q kept as invalid JSON %q", dst, body, k, v)
				}
			}
		}
	})
}

// FuzzSnakeCase: the key rewriting terminates, keeps valid text valid and
// is idempotent, so that a key and its rewriting never name two fields.
func FuzzSnakeCase(f *testing.F) {
	for _, s := range []string{"maxRetries", "sourceID", "HTTPStatus", "ID", "a_B", "ǅx", "_A", "aB_C"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := snakeCase(s)
		if utf8.ValidString(s) && !utf8.ValidString(once) {
			t.Fatalf("snakeCase(%q) = %q is not valid UTF-8", s, once)
		}
		if utf8.ValidString(s) {
			if twice := snakeCase(once); twice != once {
				t.Fatalf("snakeCase(%q) = %q, but snakeCase of that = %q", s, once, twice)
			}
		}
	})
}

// FuzzListQuery parses arbitrary query strings as every list does: ids,
// paging, times, cursors of each kind, and the audit log's filters.
func FuzzListQuery(f *testing.F) {
	for _, s := range []string{
		"limit=50&offset=0&connection_id=3",
		"start_time=2026-01-02T08%3A30%3A00%2B05%3A30&end_date=2026-01-02",
		"start_time=2026-01-02T08:30:00 05:30",
		"after=" + encodeCursor(cursorEvents, 1767323405000000, 19),
		"before=" + encodeCursor("t", -5, 1),
		"after=YToxOjI&before=x", "limit=0", "limit=501", "offset=-1", "id=18446744073709551616",
		"after=" + encodeCursor(cursorAudit, 0, 0) + "&target=source:12&actor=1",
		"%zz", "after=%%%", "limit=1e3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := &http.Request{URL: &url.URL{RawQuery: raw}}
		q := newQuery(r)
		q.id("connection_id")
		q.id("actor")
		limit, offset := q.page()
		q.time(false, "start_time", "start_date")
		q.time(true, "end_time", "end_date")
		kinds := []string{cursorEvents, cursorAudit}
		for _, k := range attemptCursorKinds {
			kinds = append(kinds, k)
		}
		var pages []store.PageParams
		for _, k := range kinds {
			pages = append(pages, q.pageParams(k))
		}
		if q.err != nil {
			if e, internal := classify(q.err); internal || e.Status != http.StatusBadRequest || e.Message == "" {
				t.Fatalf("query %q: %v answers %d", raw, q.err, e.Status)
			}
			return
		}
		if limit < 1 || limit > maxLimit || offset < 0 {
			t.Fatalf("query %q accepted limit %d, offset %d", raw, limit, offset)
		}
		for _, p := range pages {
			if p.After != nil && p.Before != nil {
				t.Fatalf("query %q gave both cursors", raw)
			}
		}
	})
}

// FuzzCursorRoundTrip: every cursor a page hands out reads back as the
// position it names, and only for its own list.
func FuzzCursorRoundTrip(f *testing.F) {
	f.Add("e", int64(1767323405000000), uint64(19))
	f.Add("a", int64(-1), uint64(0))
	f.Add("d", int64(9223372036854775807), uint64(18446744073709551615))
	f.Fuzz(func(t *testing.T, kind string, key int64, id uint64) {
		if kind == "" || bytes.ContainsRune([]byte(kind), ':') {
			return // kinds are fixed one-letter names
		}
		c := encodeCursor(kind, key, id)
		q := newQuery(&http.Request{URL: &url.URL{RawQuery: "after=" + url.QueryEscape(c)}})
		p := q.pageParams(kind)
		if q.err != nil || p.After == nil || p.After.Key != key || p.After.ID != id {
			t.Fatalf("cursor %q of (%q, %d, %d) read back as %+v, %v", c, kind, key, id, p.After, q.err)
		}
		other := newQuery(&http.Request{URL: &url.URL{RawQuery: "after=" + url.QueryEscape(c)}})
		if other.pageParams(kind + "x"); other.err == nil {
			t.Fatalf("cursor %q of kind %q was accepted for kind %q", c, kind, kind+"x")
		}
	})
}
