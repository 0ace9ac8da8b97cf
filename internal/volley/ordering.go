package volley

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// MaxDelayMS is the longest delivery delay of a connection: 24 hours.
const MaxDelayMS = 24 * 60 * 60 * 1000

// Connection orderings. With OrderingFIFO, a connection sends the
// deliveries of one ordering key one at a time, in the order their events
// were received: a delivery waits (DeliveryParked) until the one before it
// of the same key has finished (succeeded, failed after its last retry,
// been filtered or cancelled). Deliveries of other keys are not held.
const (
	OrderingNone = "none"
	OrderingFIFO = "fifo"
)

// MaxOrderingKey bounds the length of an ordering key expression, and
// MaxOrderingKeyValue the length of a key read from an event (a longer
// value is cut there).
const (
	MaxOrderingKey      = 200
	MaxOrderingKeyValue = 200
)

// validateOrdering checks Ordering and OrderingKey, and normalises an empty
// Ordering to OrderingNone.
func (c *Connection) validateOrdering() error {
	switch c.Ordering {
	case "", OrderingNone:
		c.Ordering = OrderingNone
		if c.OrderingKey != "" {
			if _, err := ParseOrderingKey(c.OrderingKey); err != nil {
				return err
			}
		}
		return nil
	case OrderingFIFO:
		if c.OrderingKey == "" {
			return Invalid("ordering_key", `is required with "ordering": "fifo": a body path such as "$.customer.id" or "header:X-Key"`)
		}
		_, err := ParseOrderingKey(c.OrderingKey)
		return err
	}
	return Invalid("ordering", `must be "none" or "fifo", not %q`, c.Ordering)
}

// OrderingKeyPath reads an event's ordering key: a header's value, or the
// value at a path in its JSON body.
type OrderingKeyPath struct {
	header string // canonical header name; "" for a body path
	steps  []keyStep
}

// keyStep is one step of a body path: an object member, or an array index
// when index >= 0.
type keyStep struct {
	name  string
	index int
}

// ParseOrderingKey parses an ordering key expression: "header:Name" reads
// the first value of a request header; "$.a.b[0].c" reads a JSON body
// path of member names (letters, digits, "_" and "-") and array indexes.
func ParseOrderingKey(s string) (*OrderingKeyPath, error) {
	const field = "ordering_key"
	if len(s) > MaxOrderingKey {
		return nil, Invalid(field, "must be at most %d characters", MaxOrderingKey)
	}
	if name, ok := strings.CutPrefix(s, "header:"); ok {
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsFunc(name, func(r rune) bool { return !headerNameRune(r) }) {
			return nil, Invalid(field, "%q is not a header name: use header:X-Key", name)
		}
		return &OrderingKeyPath{header: http.CanonicalHeaderKey(name)}, nil
	}
	rest, ok := strings.CutPrefix(s, "$")
	if !ok || rest == "" {
		return nil, Invalid(field, `must be a body path such as "$.customer.id" or a header such as "header:X-Key", not %q`, s)
	}
	k := &OrderingKeyPath{}
	for rest != "" {
		switch rest[0] {
		case '.':
			end := 1
			for end < len(rest) && nameByte(rest[end]) {
				end++
			}
			if end == 1 {
				return nil, Invalid(field, "%q: a member name must follow each \".\"", s)
			}
			k.steps, rest = append(k.steps, keyStep{name: rest[1:end], index: -1}), rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			n, err := strconv.Atoi(rest[1:max(end, 1)])
			if end < 0 || err != nil || n < 0 || n > 1<<20 {
				return nil, Invalid(field, "%q: an index is written [0], [1], …", s)
			}
			k.steps, rest = append(k.steps, keyStep{index: n}), rest[end+1:]
		default:
			return nil, Invalid(field, "%q: expected \".\" or \"[\" at %q", s, rest)
		}
	}
	return k, nil
}

func nameByte(b byte) bool {
	return b == '_' || b == '-' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func headerNameRune(r rune) bool {
	return r < 128 && (nameByte(byte(r)) || strings.ContainsRune("!#$%&'*+.^`|~", r))
}

// Key returns an event's ordering key, or "" when the event has none: the
// header is missing or empty, or the body is not JSON or has no string,
// number or boolean at the path. A number is its JSON text ("42"), so 42
// and "42" are the same key.
func (k *OrderingKeyPath) Key(body []byte, headers http.Header) string {
	if k.header != "" {
		return limitKey(strings.TrimSpace(headers.Get(k.header)))
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return ""
	}
	for _, st := range k.steps {
		if st.index >= 0 {
			a, ok := v.([]any)
			if !ok || st.index >= len(a) {
				return ""
			}
			v = a[st.index]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		if v, ok = m[st.name]; !ok {
			return ""
		}
	}
	switch x := v.(type) {
	case string:
		return limitKey(x)
	case json.Number:
		return limitKey(x.String())
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func limitKey(s string) string {
	if len(s) > MaxOrderingKeyValue {
		return s[:MaxOrderingKeyValue]
	}
	return s
}
