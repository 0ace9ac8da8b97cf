package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The test panes of the transformation page and the connection form run
// code or a filter on a sample request, through the API's dry runs
// (POST /api/transformations/{id}/test, POST /api/connections/test-filter):
// one of the project's recent events, or a request typed into the pane.
// Nothing is stored or sent.

// recentSamples is how many of the newest events the pane offers.
const recentSamples = 20

// sampleForm is the test pane as typed.
type sampleForm struct {
	// Use is "event" (EventID) or "request" (the typed request).
	Use     string
	EventID string
	// Path is the path below the ingestion URL, with an optional ?query.
	Path    string
	Headers string // one "Name: value" per line
	Body    string // JSON, or any text
}

// samplePane is what the "sample-pane" template shows.
type samplePane struct {
	Form   sampleForm
	Events []apiEvent // the newest events, for the picker
	// Problem is what is wrong with the sample (an unknown event, a
	// malformed header line), shown next to its field.
	Problem *problem
}

// readSampleForm reads the pane's fields of a posted form.
func readSampleForm(r *http.Request) sampleForm {
	f := sampleForm{Use: r.PostFormValue("sample"), EventID: strings.TrimSpace(r.PostFormValue("sample_event_id")),
		Path: strings.TrimSpace(r.PostFormValue("sample_path")), Headers: r.PostFormValue("sample_headers"),
		Body: r.PostFormValue("sample_body")}
	if f.Use != "request" {
		f.Use = "event"
	}
	return f
}

// input is the part of a dry run's request that names the sample:
// {"event_id": …} or {"request": {method, path, query, headers, body}}.
// A body that is valid JSON is sent as JSON, anything else as text.
func (f sampleForm) input() (map[string]any, *problem) {
	if f.Use == "event" {
		if f.EventID == "" {
			return nil, &problem{Status: http.StatusBadRequest, Field: "sample_event_id",
				Message: "Choose an event to test with, or type a request."}
		}
		return map[string]any{"event_id": f.EventID}, nil
	}
	headers, bad := parseHeaderLines(f.Headers)
	if bad > 0 {
		return nil, &problem{Status: http.StatusBadRequest, Field: "sample_headers",
			Message: "Headers: line " + strconv.Itoa(bad) + " is not \"Name: value\"."}
	}
	path, query, _ := strings.Cut(f.Path, "?")
	if path != "" && !strings.HasPrefix(path, "/") {
		return nil, &problem{Status: http.StatusBadRequest, Field: "sample_path",
			Message: "The path starts with / (it is the part after the ingestion URL), such as /orders/42?topic=paid."}
	}
	req := map[string]any{"method": http.MethodPost, "path": path, "query": query, "headers": headers}
	if body := strings.TrimSpace(f.Body); body != "" && json.Valid([]byte(body)) {
		req["body"] = json.RawMessage(body)
	} else {
		req["body"] = f.Body
	}
	return map[string]any{"request": req}, nil
}

// sampleField is the pane's field an API refusal of a dry run is about.
func sampleField(apiField string) string {
	switch {
	case apiField == "event_id":
		return "sample_event_id"
	case apiField == "request.query" || apiField == "request.path":
		return "sample_path"
	case strings.HasPrefix(apiField, "request.headers"):
		return "sample_headers"
	case strings.HasPrefix(apiField, "request"):
		return "sample_body"
	}
	return apiField
}

// recentEvents loads the newest events of the project (of one source when
// sourceID is not 0) for the pane's picker: one page of the indexed,
// newest-first list.
func (c *Console) recentEvents(r *http.Request, a *account, sc *scope, sourceID uint64) ([]apiEvent, error) {
	q := url.Values{"limit": {strconv.Itoa(recentSamples)}}
	if sourceID != 0 {
		q.Set("source_id", strconv.FormatUint(sourceID, 10))
	}
	var list struct {
		Events []apiEvent `json:"requests"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("events")+"?"+q.Encode(), nil, &list); err != nil {
		return nil, err
	}
	return list.Events, nil
}

// dryRun sends a test request to the API. A refusal about the sample or
// the code (4xx but 403) comes back as a problem, with its field renamed
// to the pane's; anything else is an error for failAPI.
func (c *Console) dryRun(r *http.Request, a *account, sc *scope, path string, in, out any) (*problem, error) {
	err := c.call(r, a, sc.Org.ID, http.MethodPost, path, in, out)
	if ae := asAPIError(err); ae != nil && ae.Status < 500 && ae.Status != http.StatusForbidden {
		p := *ae
		p.Field = sampleField(p.Field)
		if p.Field == "" && p.Status == http.StatusNotFound && strings.HasPrefix(p.Message, "Event") {
			// The event was deleted (retention) since the page listed it.
			p.Field = "sample_event_id"
		}
		return &p, nil
	}
	return nil, err
}
