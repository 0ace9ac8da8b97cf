package httpapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/volleyhq/volley/internal/httpapi/openapi"
)

// The Java SDK reads responses with lowerCamelCase keys (its Gson has no
// naming policy), every other client snake_case. So every multi-word key of
// the API's own response types is written twice, snake_case and then its
// camelCase twin with the same value: {"created_at":…,"createdAt":…}.
//
// Twins come only from struct field tags. Map keys are data (event and
// response headers, a destination's custom headers), so they are written as
// they are, and so are strings such as raw bodies: nothing a user sent is
// ever rewritten.

// marshalTwinned encodes v like json.Marshal, adding the camelCase twin of
// every multi-word struct field.
func marshalTwinned(v any) ([]byte, error) {
	return appendTwinned(make([]byte, 0, 512), reflect.ValueOf(v))
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func appendTwinned(b []byte, v reflect.Value) ([]byte, error) {
	if !v.IsValid() {
		return append(b, "null"...), nil
	}
	t := v.Type()
	if t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) {
		return appendMarshal(b, v)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, "null"...), nil
		}
		return appendTwinned(b, v.Elem())
	case reflect.Struct:
		return appendStruct(b, v)
	case reflect.Map:
		return appendMap(b, v)
	case reflect.Slice:
		if v.IsNil() {
			return append(b, "null"...), nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return appendMarshal(b, v) // []byte is base64, as json.Marshal writes it
		}
		fallthrough
	case reflect.Array:
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendTwinned(b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	}
	return appendMarshal(b, v)
}

// appendMarshal leaves a value to encoding/json: strings (its escaping),
// floats, times and anything with its own encoding.
func appendMarshal(b []byte, v reflect.Value) ([]byte, error) {
	out, err := json.Marshal(v.Interface())
	if err != nil {
		return nil, err
	}
	return append(b, out...), nil
}

func appendStruct(b []byte, v reflect.Value) ([]byte, error) {
	b = append(b, '{')
	first := true
	for _, f := range structFields(v.Type()) {
		fv := v.Field(f.index)
		if f.omitEmpty && fv.IsZero() && omittable(fv) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.key...)
		start := len(b)
		var err error
		if b, err = appendTwinned(b, fv); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.key, err)
		}
		if f.twinKey != "" {
			end := len(b)
			b = append(b, ',')
			b = append(b, f.twinKey...)
			b = append(b, b[start:end]...)
		}
	}
	return append(b, '}'), nil
}

// omittable mirrors encoding/json's omitempty: false, 0, "", nil and empty
// collections are left out; structs (times included) never are.
func omittable(v reflect.Value) bool { return v.Kind() != reflect.Struct && v.Kind() != reflect.Array }

func appendMap(b []byte, v reflect.Value) ([]byte, error) {
	if v.IsNil() {
		return append(b, "null"...), nil
	}
	if v.Type().Key().Kind() != reflect.String {
		return appendMarshal(b, v)
	}
	keys := v.MapKeys()
	slices.SortFunc(keys, func(x, y reflect.Value) int { return strings.Compare(x.String(), y.String()) })
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendMarshal(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendTwinned(b, v.MapIndex(k)); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// twinField is an encoded struct field: its quoted key with the colon, and
// the quoted camelCase twin for a multi-word key.
type twinField struct {
	index     int
	key       string // `"created_at":`
	twinKey   string // `"createdAt":`, or "" for a one-word key
	omitEmpty bool
}

var twinFieldCache sync.Map // reflect.Type → []twinField

func structFields(t reflect.Type) []twinField {
	if fs, ok := twinFieldCache.Load(t); ok {
		return fs.([]twinField)
	}
	var fs []twinField
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		f := twinField{index: i, key: strconv.Quote(name) + ":", omitEmpty: strings.Contains(","+opts+",", ",omitempty,")}
		if twin := camelCase(name); twin != name {
			f.twinKey = strconv.Quote(twin) + ":"
		}
		fs = append(fs, f)
	}
	twinFieldCache.Store(t, fs)
	return fs
}

// camelCase is the twin of a key: the rule lives beside the OpenAPI
// document, which describes the twins the server writes.
func camelCase(s string) string { return openapi.CamelCase(s) }
