package httpapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

func TestFieldChanges(t *testing.T) {
	t.Parallel()
	type view struct {
		Name      string            `json:"name"`
		EPS       int               `json:"eps"`
		Headers   map[string]string `json:"headers,omitempty"`
		AuthKey   string            `json:"auth_key,omitempty"`
		UpdatedAt time.Time         `json:"updated_at"`
	}
	before := view{Name: "a", EPS: 1, Headers: map[string]string{"Authorization": "Bearer old"}, UpdatedAt: time.Unix(1, 0)}
	after := view{Name: "b", EPS: 1, Headers: map[string]string{"Authorization": "Bearer new"}, AuthKey: "generated", UpdatedAt: time.Unix(2, 0)}
	for _, tc := range []struct {
		name          string
		before, after any
		secret        []string
		want          []store.AuditChange
	}{
		{"update", before, after, []string{"headers"}, []store.AuditChange{
			{Field: "auth_key", Secret: true},
			{Field: "headers", Secret: true},
			{Field: "name", Old: json.RawMessage(`"a"`), New: json.RawMessage(`"b"`)},
		}},
		{"create", nil, view{Name: "c"}, nil, []store.AuditChange{
			{Field: "eps", New: json.RawMessage(`0`)},
			{Field: "name", New: json.RawMessage(`"c"`)},
		}},
		{"delete", view{Name: "c", EPS: 2}, nil, nil, []store.AuditChange{
			{Field: "eps", Old: json.RawMessage(`2`)},
			{Field: "name", Old: json.RawMessage(`"c"`)},
		}},
		{"nothing changed", before, before, nil, nil},
	} {
		got := fieldChanges(tc.before, tc.after, tc.secret...)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(tc.want)
		if string(gb) != string(wb) {
			t.Errorf("%s: fieldChanges = %s, want %s", tc.name, gb, wb)
		}
		for _, ch := range got {
			if ch.Secret && (ch.Old != nil || ch.New != nil) {
				t.Errorf("%s: secret change %+v carries a value", tc.name, ch)
			}
		}
	}
}
