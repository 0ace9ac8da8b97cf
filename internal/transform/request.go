package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/dop251/goja"
)

// Request is the outgoing request a transformation sees and returns.
//
// In JavaScript it is an object {method, path, query, headers, body}:
// headers maps lower-case names to strings, query is the raw query string
// (without "?"), path is appended to the destination URL, and body is the
// decoded JSON body, or a string when the body is not JSON. A returned body
// that is a string is sent as it is; any other value is sent as JSON.
// method is read-only.
type Request struct {
	Method  string
	Path    string
	Query   string
	Headers http.Header
	Body    []byte
}

func (r *Request) toJS(vm *goja.Runtime) (goja.Value, error) {
	o := vm.NewObject()
	h := vm.NewObject()
	for k, vs := range r.Headers {
		if err := h.Set(strings.ToLower(k), strings.Join(vs, ", ")); err != nil {
			return nil, err
		}
	}
	var body any = string(r.Body)
	if len(bytes.TrimSpace(r.Body)) > 0 {
		var v any
		d := json.NewDecoder(bytes.NewReader(r.Body))
		d.UseNumber()
		if d.Decode(&v) == nil && !d.More() {
			body = jsValue(v)
		}
	}
	for k, v := range map[string]any{"method": r.Method, "path": r.Path, "query": r.Query, "headers": h, "body": body} {
		if err := o.Set(k, v); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// jsValue turns json.Numbers into float64 (what JavaScript numbers are),
// recursively, so the code sees plain numbers.
func jsValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = jsValue(e)
		}
	case []any:
		for i, e := range v {
			v[i] = jsValue(e)
		}
	}
	return v
}

// fromJS reads the request a transformation returned.
func fromJS(vm *goja.Runtime, res goja.Value, in *Request, maxBytes int) (*Request, error) {
	obj, ok := res.(*goja.Object)
	if !ok || obj.ClassName() == "Array" {
		return nil, &Error{Msg: "transformation returned " + res.String() + ": return the request object, or null to drop it"}
	}
	out := &Request{Method: in.Method, Path: in.Path, Query: in.Query, Headers: http.Header{}}
	size := 0
	if v := obj.Get("path"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
		s, ok := v.Export().(string)
		if !ok {
			return nil, &Error{Msg: "transformation returned a path that is not a string"}
		}
		if s != "" && !strings.HasPrefix(s, "/") {
			s = "/" + s
		}
		out.Path = s
		size += len(s)
	}
	if v := obj.Get("query"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
		switch q := v.Export().(type) {
		case string:
			out.Query = strings.TrimPrefix(q, "?")
		case map[string]any:
			vals := url.Values{}
			for k, e := range q {
				vals.Set(k, fmt.Sprint(e))
			}
			out.Query = vals.Encode()
		default:
			return nil, &Error{Msg: "transformation returned a query that is neither a string nor an object"}
		}
		size += len(out.Query)
	}
	if v := obj.Get("headers"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
		hm, ok := v.Export().(map[string]any)
		if !ok {
			return nil, &Error{Msg: "transformation returned headers that are not an object of names to strings"}
		}
		names := make([]string, 0, len(hm))
		for k := range hm {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			switch e := hm[k].(type) {
			case nil:
			case []any:
				for _, s := range e {
					out.Headers.Add(k, fmt.Sprint(s))
				}
			default:
				out.Headers.Add(k, fmt.Sprint(e))
			}
			size += len(k) + len(out.Headers.Get(k))
		}
	}
	switch v := obj.Get("body"); {
	case v == nil || goja.IsUndefined(v) || goja.IsNull(v):
		out.Body = nil
	default:
		if s, ok := v.Export().(string); ok {
			out.Body = []byte(s)
			break
		}
		b, err := json.Marshal(v.Export())
		if err != nil {
			return nil, &Error{Msg: "transformation returned a body that cannot be encoded as JSON: " + err.Error()}
		}
		out.Body = b
	}
	if size += len(out.Body); size > maxBytes {
		return nil, &Error{Msg: fmt.Sprintf("transformation returned %d bytes, more than the limit of %d", size, maxBytes), Err: ErrOutput}
	}
	return out, nil
}

// logBuffer keeps console output up to max bytes.
type logBuffer struct {
	max       int
	b         strings.Builder
	truncated bool
}

func (l *logBuffer) write(level string, args []goja.Value) {
	if l.truncated {
		return
	}
	var line strings.Builder
	if level != "log" {
		line.WriteString("[" + level + "] ")
	}
	for i, a := range args {
		if i > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(format(a))
	}
	line.WriteByte('\n')
	s := line.String()
	if l.b.Len()+len(s) > l.max {
		s = s[:max(0, l.max-l.b.Len())]
		l.truncated = true
	}
	l.b.WriteString(s)
	if l.truncated {
		l.b.WriteString("…(truncated)\n")
	}
}

func (l *logBuffer) String() string { return l.b.String() }

// format renders a console argument: strings as they are, other values as
// JSON where possible.
func format(v goja.Value) string {
	if goja.IsUndefined(v) {
		return "undefined"
	}
	if s, ok := v.Export().(string); ok {
		return s
	}
	if _, ok := v.(*goja.Object); ok {
		if b, err := json.Marshal(v.Export()); err == nil {
			if len(b) > 1024 {
				b = append(b[:1024], "…"...)
			}
			return string(b)
		}
	}
	return v.String()
}

func installConsole(vm *goja.Runtime, logs *logBuffer) error {
	console := vm.NewObject()
	for _, level := range []string{"log", "info", "warn", "error", "debug"} {
		if err := console.Set(level, func(call goja.FunctionCall) goja.Value {
			logs.write(level, call.Arguments)
			return goja.Undefined()
		}); err != nil {
			return err
		}
	}
	return vm.Set("console", console)
}
