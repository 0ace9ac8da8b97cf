// Package filter is the connection filter language: JSON patterns in
// Hookdeck's syntax matched against an event's body, headers, query and
// path. A filter is parsed and validated once (Parse), when its connection
// is saved or loaded into the routing cache, and then matched against many
// events without allocating (Filter.Match). Filter.Explain matches the same
// way and says why an event does not match, for the test endpoint.
//
// The language, decided here and documented in docs/api.md:
//   - a string, number, boolean or null matches an equal value;
//   - an object of field names matches an object that has those fields with
//     matching values (a subset: other fields are ignored);
//   - an array of patterns matches an array that has, for every pattern,
//     some element matching it;
//   - against an array value, a pattern that is not an array matches when
//     any element matches it ($neq and $nin: when no element equals);
//   - operators: $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith
//     $exist compare the value; $or $and take arrays of patterns and $not
//     one pattern. Operators of one object must all hold. $or, $and and $not
//     may stand beside field names (they apply to the same value);
//     comparison operators may not;
//   - a field that is missing matches only {"$exist": false}, $neq, $nin,
//     and a $not whose pattern does not match it;
//   - values of the wrong type for an operator (a string for $gt 5) do not
//     match; they are not errors.
package filter

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Sections are the parts of a request a filter may look at, in the order
// they are checked.
var sections = [...]string{"body", "headers", "query", "path"}

// Filter is a parsed connection filter. The zero Filter and a nil *Filter
// match everything. A Filter is immutable and safe for concurrent use.
type Filter struct {
	body, headers, query, path *node
}

// Request is what a filter looks at. Body is the decoded JSON body (as
// encoding/json decodes into any), or the body as a string when it is not
// JSON; Headers maps lower-case names to values (several values of one
// header joined with ", "); Query maps names to a string, or to []any of
// strings when repeated.
type Request struct {
	Body    any
	Headers map[string]any
	Query   map[string]any
	Path    string
}

// Error is a filter that cannot be parsed: Path says where (for example
// "filter.body.amount.$gt") and Msg what is wrong.
type Error struct {
	Path string
	Msg  string
}

// Error implements error.
func (e *Error) Error() string { return e.Path + ": " + e.Msg }

// MaxBytes bounds a filter document: every routing cache entry holds its
// source's filters.
const MaxBytes = 64 << 10

// Parse parses a filter document, {"body": …, "headers": …, "query": …,
// "path": …}, each section optional. An empty document (nil, "null" or
// "{}") gives nil: no filter.
func Parse(doc []byte) (*Filter, error) {
	if len(strings.TrimSpace(string(doc))) == 0 {
		return nil, nil
	}
	if len(doc) > MaxBytes {
		return nil, &Error{Path: "filter", Msg: fmt.Sprintf("is %d bytes, more than the limit of %d", len(doc), MaxBytes)}
	}
	var raw any
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, &Error{Path: "filter", Msg: "is not valid JSON: " + err.Error()}
	}
	return FromValue(raw)
}

// FromValue parses a filter already decoded from JSON (as encoding/json
// decodes into any).
func FromValue(raw any) (*Filter, error) {
	if raw == nil {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, &Error{Path: "filter", Msg: "must be an object with body, headers, query or path"}
	}
	f := &Filter{}
	empty := true
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same error for the same document
	for _, k := range keys {
		v := m[k]
		p := "filter." + k
		var dst **node
		switch k {
		case "body":
			dst = &f.body
		case "headers":
			dst = &f.headers
		case "query":
			dst = &f.query
		case "path":
			dst = &f.path
		default:
			return nil, &Error{Path: p, Msg: "unknown section: use body, headers, query or path"}
		}
		if v == nil {
			continue
		}
		if (k == "headers" || k == "query") && !isObject(v) {
			return nil, &Error{Path: p, Msg: "must be an object of names to patterns"}
		}
		n, err := parse(p, v)
		if err != nil {
			return nil, err
		}
		if k == "headers" {
			lowerFields(n)
		}
		*dst = n
		empty = false
	}
	if empty {
		return nil, nil
	}
	return f, nil
}

func isObject(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// lowerFields makes a headers pattern's top-level names lower case, as the
// request's header names are.
func lowerFields(n *node) {
	for i := range n.fields {
		n.fields[i].name = strings.ToLower(n.fields[i].name)
	}
	for _, c := range n.and {
		if c.kind == kindObject {
			lowerFields(c)
		}
	}
	for _, c := range n.or {
		lowerFields(c)
	}
	if n.not != nil {
		lowerFields(n.not)
	}
}

// Match reports whether r matches the filter.
func (f *Filter) Match(r *Request) bool {
	ok, _ := f.match(r, nil)
	return ok
}

// Explanation says why a request does not match: the first failing pattern,
// where it is, and the value found there.
type Explanation struct {
	// Path locates the failing pattern, such as "body.data.amount.$gt".
	Path string `json:"path"`
	// Expected describes what the pattern wanted, such as "> 100".
	Expected string `json:"expected"`
	// Actual is the value found (JSON), or "missing".
	Actual string `json:"actual"`
}

// Explain matches like Match and, when r does not match, says why.
func (f *Filter) Explain(r *Request) (bool, *Explanation) {
	var why Explanation
	ok, _ := f.match(r, &why)
	if ok {
		return true, nil
	}
	return false, &why
}

func (f *Filter) match(r *Request, why *Explanation) (bool, error) {
	if f == nil {
		return true, nil
	}
	if f.body != nil && !f.body.match(r.Body, true, why) {
		return false, nil
	}
	if f.headers != nil && !f.headers.match(r.Headers, true, why) {
		return false, nil
	}
	if f.query != nil && !f.query.match(r.Query, true, why) {
		return false, nil
	}
	if f.path != nil && !f.path.match(r.Path, true, why) {
		return false, nil
	}
	return true, nil
}

// UsesBody reports whether the filter looks at the body, so that callers
// decode bodies only for the connections that need them.
func (f *Filter) UsesBody() bool { return f != nil && f.body != nil }

// Sections returns the sections the filter looks at, sorted.
func (f *Filter) Sections() []string {
	if f == nil {
		return nil
	}
	var out []string
	for i, n := range [4]*node{f.body, f.headers, f.query, f.path} {
		if n != nil {
			out = append(out, sections[i])
		}
	}
	sort.Strings(out)
	return out
}

// describe renders a value for an explanation.
func describe(v any, present bool) string {
	if !present {
		return "missing"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
