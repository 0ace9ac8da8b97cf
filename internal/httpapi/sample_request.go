package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/filter"
	"github.com/volleyhq/volley/internal/transform"
	"github.com/volleyhq/volley/internal/volley"
)

// sampleRequest is a request given inline to the test endpoints, in place
// of a stored event: {method, path, query, headers, body}. query is a raw
// query string or an object of names to values; body is any JSON value
// (sent as that JSON) or a string (sent as those bytes).
type sampleRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   json.RawMessage   `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// sample is the request the test endpoints run on.
type sample struct {
	method, path, query string
	headers             http.Header
	body                []byte
}

func (s *sampleRequest) resolve() (*sample, error) {
	out := &sample{method: s.Method, path: s.Path, headers: http.Header{}}
	for k, v := range s.Headers {
		out.headers.Set(k, v)
	}
	if q := bytes.TrimSpace(s.Query); len(q) > 0 && string(q) != "null" {
		var str string
		var obj map[string]any
		switch {
		case json.Unmarshal(q, &str) == nil:
			out.query = strings.TrimPrefix(str, "?")
		case json.Unmarshal(q, &obj) == nil:
			vals := url.Values{}
			for k, v := range obj {
				vals.Set(k, fmt.Sprint(v))
			}
			out.query = vals.Encode()
		default:
			return nil, volley.Invalid("request.query", "must be a query string or an object of names to values")
		}
	}
	if b := bytes.TrimSpace(s.Body); len(b) > 0 && string(b) != "null" {
		var str string
		if json.Unmarshal(b, &str) == nil {
			out.body = []byte(str)
		} else {
			out.body = b
		}
	}
	if out.method == "" {
		out.method = http.MethodPost
	}
	return out, nil
}

// sampleInput is what the test endpoints run on: a stored event or a
// request given inline.
type sampleInput struct {
	EventID json.RawMessage `json:"event_id"`
	Request *sampleRequest  `json:"request"`
}

// load returns the input's request: the event event_id names (its public
// "evt_…" id or its numeric id) in the caller's organization, or request.
func (a *API) load(r *http.Request, org *volley.Membership, in *sampleInput) (*sample, error) {
	raw := bytes.TrimSpace(in.EventID)
	hasEvent := len(raw) > 0 && string(raw) != "null" && string(raw) != `""`
	switch {
	case hasEvent && in.Request != nil:
		return nil, volley.Invalid("event_id", "give event_id or request, not both")
	case in.Request != nil:
		return in.Request.resolve()
	case !hasEvent:
		return nil, volley.Invalid("event_id", "is required: give event_id (a stored event) or request {body, headers, query, path}")
	}
	var ev *volley.Event
	var err error
	var uid string
	if json.Unmarshal(raw, &uid) == nil {
		if id, perr := strconv.ParseUint(uid, 10, 64); perr == nil {
			ev, err = a.cfg.Store.EventGet(r.Context(), org.ID, id)
		} else {
			ev, err = a.cfg.Store.EventGetByUID(r.Context(), org.ID, uid)
		}
	} else {
		var id uint64
		if json.Unmarshal(raw, &id) != nil {
			return nil, volley.Invalid("event_id", "must be an event id such as \"evt_…\"")
		}
		ev, err = a.cfg.Store.EventGet(r.Context(), org.ID, id)
	}
	if err != nil {
		return nil, notFoundAs(err, "Event")
	}
	return &sample{method: ev.Method, path: ev.Path, query: ev.Query, headers: ev.Headers, body: ev.Body}, nil
}

type testFilterRequest struct {
	sampleInput
	Filter       json.RawMessage `json:"filter"`
	ConnectionID *uint64         `json:"connection_id"`
}

type testFilterJSON struct {
	Matches bool                `json:"matches"`
	Reason  *filter.Explanation `json:"reason,omitempty"`
	// Sections are the parts of the request the filter looks at.
	Sections []string `json:"sections"`
}

// testFilter serves POST /api/connections/test-filter: whether a filter
// (given, or a connection's) matches an event or a request, and if not,
// why. Every member may test.
func (a *API) testFilter(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	var req testFilterRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	doc := req.Filter
	if len(bytes.TrimSpace(doc)) == 0 && deref(req.ConnectionID) != 0 {
		conn, err := a.cfg.Store.ConnectionGet(r.Context(), org.ID, *req.ConnectionID)
		if err != nil {
			return notFoundAs(err, "Connection")
		}
		doc = conn.Filter
	} else if len(bytes.TrimSpace(doc)) == 0 {
		return volley.Invalid("filter", "is required (or give connection_id to test a connection's filter)")
	}
	f, err := filter.Parse(doc)
	var fe *filter.Error
	if errors.As(err, &fe) {
		return &Error{Status: http.StatusBadRequest, Message: fe.Error(), Field: "filter"}
	}
	if err != nil {
		return err
	}
	s, err := a.load(r, org, &req.sampleInput)
	if err != nil {
		return err
	}
	ok, why := f.Explain(filter.NewRequest(s.body, s.headers, s.query, s.path, f.UsesBody()))
	sections := f.Sections()
	if sections == nil {
		sections = []string{}
	}
	// A dry run changes nothing; it is recorded like a test send, since it
	// reads a stored event.
	c.audit("connection.test_filter", "connection", deref(req.ConnectionID), valueSet("matches", ok))
	return writeJSON(w, http.StatusOK, testFilterJSON{Matches: ok, Reason: why, Sections: sections})
}

type testTransformationRequest struct {
	sampleInput
	// Code runs instead of the saved code, to try an edit before saving.
	Code *string `json:"code"`
}

type transformedRequestJSON struct {
	Method  string         `json:"method"`
	Path    string         `json:"path"`
	Query   string         `json:"query"`
	Headers map[string]any `json:"headers"`
	Body    string         `json:"body"`
}

type testTransformationJSON struct {
	// Dropped: the code returned null, so the event would not be sent.
	Dropped bool `json:"dropped"`
	// Result is the request as it would be sent; absent when dropped or
	// failed.
	Result *transformedRequestJSON `json:"result,omitempty"`
	Logs   string                  `json:"logs"`
	// Error is why the run failed (the delivery would fail with it).
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// testTransformation serves POST /api/transformations/{id}/test: it runs
// the transformation (or code given with it) on an event or a request,
// sends nothing, and shows the result and the logs. Every member may test.
func (a *API) testTransformation(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	t, err := a.transformation(r, org)
	if err != nil {
		return err
	}
	var req testTransformationRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	code := t.Code
	if req.Code != nil {
		code = *req.Code
	}
	prog, err := transform.Compile(code)
	if err != nil {
		return volley.Invalid("code", "%s", err.Error())
	}
	s, err := a.load(r, org, &req.sampleInput)
	if err != nil {
		return err
	}
	t0 := time.Now()
	out, logs, runErr := a.runner.Run(r.Context(), prog, &transform.Request{
		Method: s.method, Path: s.path, Query: s.query, Headers: s.headers, Body: s.body,
	})
	res := testTransformationJSON{Logs: logs, DurationMS: time.Since(t0).Milliseconds()}
	var te *transform.Error
	switch {
	case errors.As(runErr, &te):
		res.Error = te.Error()
	case runErr != nil:
		return runErr
	case out == nil:
		res.Dropped = true
	default:
		res.Result = &transformedRequestJSON{Method: out.Method, Path: out.Path, Query: out.Query,
			Headers: headersOut(out.Headers), Body: string(out.Body)}
	}
	c.audit("transformation.test", "transformation", t.ID)
	return writeJSON(w, http.StatusOK, res)
}
