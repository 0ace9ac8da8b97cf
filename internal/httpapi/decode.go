package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode"
)

// maxBodyBytes limits management API request bodies.
const maxBodyBytes = 1 << 20

// decodeBody reads a JSON object into dst, a pointer to a struct whose fields
// are pointers (nil = absent). Keys are matched in snake_case after
// rewriting camelCase keys (the Java SDK sends sourceId, maxRetries, …);
// unknown keys are ignored so that every client's extra fields pass. An
// empty body decodes as {}.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	_, err := decodeFields(w, r, dst)
	return err
}

// decodeFields is decodeBody that also returns the body's top-level values
// as sent, byte for byte, for fields that must be kept exactly.
func decodeFields(w http.ResponseWriter, r *http.Request, dst any) (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, &Error{Status: http.StatusBadRequest, Message: "could not read the request body"}
	}
	if len(bytes.TrimSpace(body)) == 0 || isEmptyArray(body) {
		return nil, nil // PHP's json_encode writes an empty map as []
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, errorf(http.StatusBadRequest, "request body must be a JSON object")
		}
		return nil, &Error{Status: http.StatusBadRequest, Message: "malformed JSON", Detail: err.Error()}
	}
	norm := make(map[string]json.RawMessage, len(obj))
	for k, v := range obj {
		if s := snakeCase(k); s != k {
			if _, both := obj[s]; both {
				continue // the snake_case spelling wins
			}
			k = s
		}
		norm[k] = v
	}
	emptyArraysAsObjects(dst, norm)
	canon, _ := json.Marshal(norm) // re-encoding raw JSON values cannot fail
	if err := json.Unmarshal(canon, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return nil, &Error{Status: http.StatusBadRequest, Field: typeErr.Field,
				Message: fmt.Sprintf("%s: must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.String()), typeErr.Value)}
		}
		return nil, &Error{Status: http.StatusBadRequest, Message: "invalid request body", Detail: err.Error()}
	}
	return obj, nil
}

// isEmptyArray reports whether raw is the JSON array [] (with any spacing).
func isEmptyArray(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) >= 2 && raw[0] == '[' && raw[len(raw)-1] == ']' && len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0
}

// emptyArraysAsObjects rewrites [] as {} for the keys of fields whose type
// is a map: PHP encodes an empty associative array as [], so its SDK sends
// "headers": [] for no headers.
func emptyArraysAsObjects(dst any, fields map[string]json.RawMessage) {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if raw, ok := fields[name]; ok && ft.Kind() == reflect.Map && isEmptyArray(raw) {
			fields[name] = json.RawMessage(`{}`)
		}
	}
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "uint"):
		return "a non-negative integer"
	case strings.HasPrefix(t, "int"):
		return "an integer"
	case strings.HasPrefix(t, "map["):
		return "a JSON object"
	case strings.HasPrefix(t, "[]"):
		return "a JSON array"
	}
	return "of type " + t
}

// snakeCase rewrites camelCase to snake_case ("maxRetries" → "max_retries",
// "sourceID" → "source_id"); other keys come back unchanged. A run of
// capitals is one word, whose last capital starts the next word when a
// lower-case letter follows ("HTTPStatus" → "http_status").
func snakeCase(s string) string {
	if strings.IndexFunc(s, unicode.IsUpper) < 0 {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && !unicode.IsUpper(rs[i-1]) && rs[i-1] != '_'
			endsRun := i > 0 && unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || endsRun {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pathID parses a numeric id from the named path segment.
func pathID(r *http.Request, name string) (uint64, error) {
	raw := r.PathValue(name)
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || id == 0 {
		return 0, &Error{Status: http.StatusBadRequest, Field: name,
			Message: fmt.Sprintf("%s: %q is not a valid id (a positive integer)", name, raw)}
	}
	return id, nil
}
