package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type attemptPage struct {
	Attempts []struct {
		ID           uint64    `json:"id"`
		EventID      string    `json:"event_id"`
		SourceID     uint64    `json:"source_id"`
		ConnectionID uint64    `json:"connection_id"`
		Status       string    `json:"status"`
		CreatedAt    time.Time `json:"created_at"`
	} `json:"attempts"`
	Total  int64 `json:"total"`
	Limit  int   `json:"limit"`
	Offset int   `json:"offset"`
}

func (p attemptPage) events() []string {
	out := make([]string, len(p.Attempts))
	for i, a := range p.Attempts {
		out[i] = a.EventID
	}
	return out
}

// TestAttemptsAcrossOrganization: family B's GET /api/delivery-attempts
// without project_id lists the attempts of every project of the context
// organization (Ruby, PHP and .NET call it so), with every filter, sort and
// page, and nothing of another organization.
func TestAttemptsAcrossOrganization(t *testing.T) {
	t.Parallel()
	e := setupTenants(t)
	// A second project of A's organization, with its own traffic.
	a2 := buildGraph(t, e.srv, e.srv.AdminAccount(), "admin@localhost", "Alto")
	if a2.ProjectID == e.a.ProjectID {
		t.Fatal("the second graph reused the first one's project")
	}

	list := func(c *caller, query string) attemptPage {
		t.Helper()
		var p attemptPage
		c.must(t, http.StatusOK, "GET", "/api/delivery-attempts"+query, nil).JSON(t, &p)
		return p
	}

	// Newest first across both projects; B's attempt is not among them.
	all := list(e.asA, "")
	if got, want := all.events(), []string{a2.EventID, e.a.EventID}; !slices.Equal(got, want) || all.Total != 2 {
		t.Fatalf("A's organization-wide attempts = %v (total %d), want %v (total 2)", got, all.Total, want)
	}
	if got := list(e.asB, ""); !slices.Equal(got.events(), []string{e.b.EventID}) || got.Total != 1 {
		t.Errorf("B's organization-wide attempts = %v (total %d), want only %s", got.events(), got.Total, e.b.EventID)
	}

	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"oldest first", "?sort=time_oldest", []string{e.a.EventID, a2.EventID}},
		{"paged", "?limit=1&offset=1", []string{e.a.EventID}},
		{"by connection", fmt.Sprintf("?connection_id=%d", a2.ConnectionID), []string{a2.EventID}},
		{"by source ingestion id", "?source_id=" + e.a.IngestionID, []string{e.a.EventID}},
		{"by event", "?event_id=" + e.a.EventID, []string{e.a.EventID}},
		{"by status", "?status=failed", []string{a2.EventID, e.a.EventID}},
		{"none succeeded", "?status=success", []string{}},
		{"one project", fmt.Sprintf("?project_id=%d", a2.ProjectID), []string{a2.EventID}},
		{"B's event", "?event_id=" + e.b.EventID, []string{}},
		{"B's connection", fmt.Sprintf("?connection_id=%d", e.b.ConnectionID), []string{}},
	} {
		got := list(e.asA, tc.query)
		if !slices.Equal(got.events(), tc.want) {
			t.Errorf("%s (%s): attempts of %v, want %v", tc.name, tc.query, got.events(), tc.want)
		}
	}
	if got := list(e.asA, "?limit=1&offset=1"); got.Total != 2 || got.Limit != 1 || got.Offset != 1 {
		t.Errorf("paged envelope = total %d, limit %d, offset %d; want 2, 1, 1", got.Total, got.Limit, got.Offset)
	}

	// B's ingestion id and project are refused, not searched.
	resp := e.asA.do(t, "GET", "/api/delivery-attempts?source_id="+e.b.IngestionID, nil)
	if resp.Status != http.StatusBadRequest {
		t.Errorf("A filtering on B's source: %d, want 400; body %s", resp.Status, resp.Body)
	}
	unknown := e.asA.do(t, "GET", "/api/delivery-attempts?source_id=src_unknown", nil)
	if a, b := strings.ReplaceAll(string(resp.Body), e.b.IngestionID, "ID"), strings.ReplaceAll(string(unknown.Body), "src_unknown", "ID"); a != b {
		t.Errorf("B's source is told apart from an unknown one: %s vs %s", a, b)
	}
	e.asA.must(t, http.StatusNotFound, "GET", fmt.Sprintf("/api/delivery-attempts?project_id=%d", e.b.ProjectID), nil)

	// A member of A's organization sees the same list in it, and only their
	// own organization's without the header.
	m := e.srv.NewAccount(t, "member@example.com", "Member")
	e.asA.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": "member@example.com", "role": "member"})
	asMember := callerOf(e.srv, m.Token)
	if got := list(asMember.in(e.a.OrgID), ""); !slices.Equal(got.events(), all.events()) {
		t.Errorf("member in A's organization sees %v, want %v", got.events(), all.events())
	}
	if got := list(asMember.in(m.OrgID), ""); len(got.Attempts) != 0 || got.Total != 0 {
		t.Errorf("member in their own organization sees %v", got.events())
	}
	// Outside the organization: 403, nothing listed.
	outsider := callerOf(e.srv, e.srv.NewAccount(t, "outsider@example.com", "Outsider").Token)
	outsider.in(e.a.OrgID).must(t, http.StatusForbidden, "GET", "/api/delivery-attempts", nil)
}
