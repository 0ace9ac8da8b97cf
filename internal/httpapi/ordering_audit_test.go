package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

// TestAuditConnectionDelayOrdering: a change of a connection's delay and
// ordering is in its audit record, old and new values.
func TestAuditConnectionDelayOrdering(t *testing.T) {
	t.Parallel()
	r := setupRoles(t)
	conn := fmt.Sprintf("/api/connections/%d", r.a.ConnectionID)
	r.admin.must(t, http.StatusOK, "PUT", conn, map[string]any{"delay_ms": 1500, "ordering": "fifo", "ordering_key": "header:X-Key"})
	var page struct {
		AuditLog []struct {
			Changes []struct {
				Field string          `json:"field"`
				Old   json.RawMessage `json:"old"`
				New   json.RawMessage `json:"new"`
			} `json:"changes"`
		} `json:"audit_log"`
	}
	r.owner.must(t, http.StatusOK, "GET", "/api/audit-log?actor="+strconv.FormatUint(r.adminID, 10)+"&action=connection.update", nil).JSON(t, &page)
	if len(page.AuditLog) != 1 {
		t.Fatalf("connection updates = %+v, want one", page.AuditLog)
	}
	got := map[string]string{}
	for _, ch := range page.AuditLog[0].Changes {
		got[ch.Field] = string(ch.Old) + " → " + string(ch.New)
	}
	want := map[string]string{"delay_ms": `0 → 1500`, "ordering": `"none" → "fifo"`, "ordering_key": ` → "header:X-Key"`}
	for f, w := range want {
		if got[f] != w {
			t.Errorf("change of %s = %q, want %q (all: %v)", f, got[f], w, got)
		}
	}
}
