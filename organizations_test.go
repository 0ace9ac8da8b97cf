package volley_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

const orgJSON = `{"id":123,"name":"Acme","slug":"acme","account_id":9,"role":"owner","created_at":"2024-01-02T03:04:05Z"}`

var wantOrg = &volley.Organization{
	ID: 123, Name: "Acme", Slug: "acme", AccountID: 9, Role: "owner",
	CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
}

func TestOrganizations(t *testing.T) {
	t.Parallel()
	runCases(t, []apiCase{
		{
			name:   "ListOrganizations",
			call:   func(c *volley.Client) (any, error) { return c.ListOrganizations() },
			want:   wantRequest{method: "GET", path: "/api/org/list"},
			status: http.StatusOK,
			resp:   `{"organizations":[` + orgJSON + `,{"id":124,"name":"Beta","role":"member"}]}`,
			result: []volley.Organization{*wantOrg, {ID: 124, Name: "Beta", Role: "member"}},
		},
		{
			name:   "GetOrganization without an organization",
			call:   func(c *volley.Client) (any, error) { return c.GetOrganization(nil) },
			want:   wantRequest{method: "GET", path: "/api/org"},
			status: http.StatusOK,
			resp:   orgJSON,
			result: wantOrg,
			full:   true,
		},
		{
			name:   "GetOrganization with the client's organization",
			opts:   []volley.ClientOption{volley.WithOrganizationID(123)},
			call:   func(c *volley.Client) (any, error) { return c.GetOrganization(nil) },
			want:   wantRequest{method: "GET", path: "/api/org", orgID: "123"},
			status: http.StatusOK,
			resp:   orgJSON,
			result: wantOrg,
		},
		{
			name:   "GetOrganization with an explicit organization",
			opts:   []volley.ClientOption{volley.WithOrganizationID(5)},
			call:   func(c *volley.Client) (any, error) { return c.GetOrganization(ptr(uint64(123))) },
			want:   wantRequest{method: "GET", path: "/api/org", orgID: "123"},
			status: http.StatusOK,
			resp:   orgJSON,
			result: wantOrg,
		},
		{
			name: "CreateOrganization",
			opts: []volley.ClientOption{volley.WithOrganizationID(5)},
			call: func(c *volley.Client) (any, error) {
				return c.CreateOrganization(volley.CreateOrganizationRequest{Name: "Acme"})
			},
			want:   wantRequest{method: "POST", path: "/api/org", body: `{"name":"Acme"}`, orgID: "5"},
			status: http.StatusCreated,
			resp:   orgJSON,
			result: wantOrg,
		},
	})
}

// TestGetOrganizationOverride checks that an explicit organization ID is used
// for that call only: the client keeps its own, and concurrent calls never
// see the override. Run with -race.
func TestGetOrganizationOverride(t *testing.T) {
	t.Parallel()
	// The server answers with the organization the request asked for.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Organization-ID")
		if id == "" {
			id = "0"
		}
		fmt.Fprintf(w, `{"id":%s}`, id)
	}))
	t.Cleanup(ts.Close)
	c := volley.NewClient(testToken, volley.WithBaseURL(ts.URL), volley.WithOrganizationID(1), volley.WithHTTPClient(ts.Client()))

	var wg sync.WaitGroup
	for i := range 20 {
		override := uint64(100 + i)
		wg.Go(func() {
			org, err := c.GetOrganization(&override)
			if err != nil || org.ID != override {
				t.Errorf("GetOrganization(&%d) = %+v, %v; want organization %d", override, org, err, override)
			}
		})
		wg.Go(func() {
			org, err := c.GetOrganization(nil)
			if err != nil || org.ID != 1 {
				t.Errorf("GetOrganization(nil) = %+v, %v; want the client's organization 1", org, err)
			}
		})
		wg.Go(func() {
			if got := c.OrganizationID(); got == nil || *got != 1 {
				t.Errorf("OrganizationID() = %v during GetOrganization calls, want 1", got)
			}
		})
	}
	wg.Wait()
	if got := c.OrganizationID(); got == nil || *got != 1 {
		t.Errorf("OrganizationID() = %v after GetOrganization calls, want 1", got)
	}
}

// TestOrganizationIDConcurrentChanges changes the organization while requests
// run; every request must carry one of the values, and -race must stay quiet.
func TestOrganizationIDConcurrentChanges(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]bool{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("X-Organization-ID")] = true
		mu.Unlock()
		fmt.Fprint(w, `{"projects":[]}`)
	}))
	t.Cleanup(ts.Close)
	c := volley.NewClient(testToken, volley.WithBaseURL(ts.URL), volley.WithHTTPClient(ts.Client()))

	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			c.SetOrganizationID(uint64(i))
			c.ClearOrganizationID()
			c.SetOrganizationID(uint64(i))
		})
		wg.Go(func() {
			if _, err := c.ListProjects(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for v := range seen {
		if v == "" {
			continue
		}
		if n, err := strconv.ParseUint(v, 10, 64); err != nil || n >= 10 {
			t.Errorf("request carried X-Organization-ID %q, which no one set", v)
		}
	}
}
