package filter

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// NewRequest builds what a filter looks at from an event's parts. The body
// is decoded only when decodeBody is set (callers set it when some filter
// UsesBody): a JSON body becomes its value, any other body a string.
func NewRequest(body []byte, headers http.Header, query, path string, decodeBody bool) *Request {
	r := &Request{Path: path, Headers: Headers(headers), Query: Query(query)}
	if decodeBody {
		r.Body = Body(body)
	}
	return r
}

// Body decodes a body for matching: its JSON value, or the body as a string
// when it is not JSON.
func Body(b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	return v
}

// Headers converts headers for matching: lower-case names, several values
// joined with ", ".
func Headers(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return out
}

// Query converts a raw query string for matching: a name maps to its value,
// or to an array of values when it is repeated. An unparsable query keeps
// the pairs that parse.
func Query(raw string) map[string]any {
	vals, _ := url.ParseQuery(raw)
	out := make(map[string]any, len(vals))
	for k, vs := range vals {
		if len(vs) == 1 {
			out[k] = vs[0]
			continue
		}
		arr := make([]any, len(vs))
		for i, v := range vs {
			arr[i] = v
		}
		out[k] = arr
	}
	return out
}
