package volley_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley"
)

// recent reports whether t is a UTC time within the last minute: what every
// created_at/updated_at of a fresh resource must be.
func recent(t *testing.T, what string, ts time.Time) {
	t.Helper()
	if ts.Location() != time.UTC || time.Since(ts) > time.Minute || time.Since(ts) < -time.Second {
		t.Errorf("%s = %v, want a UTC time from the last minute", what, ts)
	}
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var apiErr *volley.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != status || apiErr.ErrorMsg == "" {
		t.Fatalf("err = %#v, want an APIError with status %d and a message", err, status)
	}
}

func TestSDKOrganizationsAndProjects(t *testing.T) {
	t.Parallel()
	acct := newAccount("Org Owner")
	c := volley.NewClient(acct.Token, volley.WithBaseURL(baseURL()))

	orgs, err := c.ListOrganizations()
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 1 {
		t.Fatalf("ListOrganizations = %+v", orgs)
	}
	o := orgs[0]
	if o.ID != acct.Org.ID || o.Name != "Org Owner's organization" || o.Slug != acct.Org.Slug ||
		o.AccountID != acct.Account.ID || o.Role != "owner" || !o.CreatedAt.Equal(acct.Org.CreatedAt) {
		t.Fatalf("organization = %+v, want %+v", o, acct.Org)
	}
	got, err := c.GetOrganization(nil)
	if err != nil || *got != o {
		t.Fatalf("GetOrganization(nil) = %+v, %v", got, err)
	}

	second, err := c.CreateOrganization(volley.CreateOrganizationRequest{Name: "Second Org"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Name != "Second Org" || !strings.HasPrefix(second.Slug, "second-org") || second.Role != "owner" || second.AccountID != acct.Account.ID {
		t.Fatalf("CreateOrganization = %+v", second)
	}
	recent(t, "org created_at", second.CreatedAt)
	if got, err := c.GetOrganization(&second.ID); err != nil || got.ID != second.ID {
		t.Fatalf("GetOrganization(&second) = %+v, %v", got, err)
	}
	if c.OrganizationID() != nil {
		t.Fatal("GetOrganization(&id) changed the client's organization")
	}

	// Projects act in the organization context.
	c.SetOrganizationID(second.ID)
	projects, err := c.ListProjects()
	if err != nil {
		t.Fatal(err)
	}
	if len(projects) != 1 || projects[0].Name != "Default" || !projects[0].IsDefault || projects[0].OrganizationID != second.ID {
		t.Fatalf("projects of a new org = %+v", projects)
	}
	p, err := c.CreateProject(volley.CreateProjectRequest{Name: "Staging"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Staging" || p.IsDefault || p.OrganizationID != second.ID || p.ID == 0 || !p.CreatedAt.Equal(p.UpdatedAt) ||
		p.UserID != acct.Account.ID {
		t.Fatalf("CreateProject = %+v", p)
	}
	recent(t, "project created_at", p.CreatedAt)
	u, err := c.UpdateProject(p.ID, volley.UpdateProjectRequest{Name: "Staging 2"})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != p.ID || u.Name != "Staging 2" || !u.CreatedAt.Equal(p.CreatedAt) || u.UpdatedAt.Before(p.UpdatedAt) {
		t.Fatalf("UpdateProject = %+v", u)
	}
	moved, err := c.CreateProject(volley.CreateProjectRequest{Name: "Main", IsDefault: true})
	if err != nil || !moved.IsDefault {
		t.Fatalf("CreateProject(default) = %+v, %v", moved, err)
	}
	if err := c.DeleteProject(moved.ID); err == nil {
		t.Fatal("deleting the default project succeeded")
	} else {
		wantStatus(t, err, http.StatusConflict)
	}
	if err := c.DeleteProject(p.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteProject(p.ID); err == nil {
		t.Fatal("second delete succeeded")
	} else {
		wantStatus(t, err, http.StatusNotFound)
	}
	projects, _ = c.ListProjects()
	if len(projects) != 2 {
		t.Fatalf("projects after delete = %+v", projects)
	}

	// Back to the first organization: its project list is untouched.
	c.ClearOrganizationID()
	projects, _ = c.ListProjects()
	if len(projects) != 1 || projects[0].ID != acct.Project.ID {
		t.Fatalf("first org's projects = %+v", projects)
	}
	// An organization the caller is not a member of is refused.
	c.SetOrganizationID(1)
	_, err = c.ListProjects()
	wantStatus(t, err, http.StatusForbidden)
}

func TestSDKSourcesDestinationsConnections(t *testing.T) {
	t.Parallel()
	acct := newAccount("Graph Builder")
	c := volley.NewClient(acct.Token, volley.WithBaseURL(baseURL()))
	pid := acct.Project.ID

	src, err := c.CreateSource(pid, volley.CreateSourceRequest{Name: "Stripe Webhooks", EPS: 10, AuthType: ""})
	if err != nil {
		t.Fatal(err)
	}
	if src.ID == 0 || src.Slug != "stripe-webhooks" || !strings.HasPrefix(src.IngestionID, "src_") || len(src.IngestionID) != 26 ||
		src.Type != "webhook" || src.EPS != 10 || src.Status != "active" || src.ConnectionCount != 0 || src.AuthType != "none" ||
		src.VerifySignature || src.WebhookSecretSet || src.AuthUsername != "" || src.AuthKeyName != "" {
		t.Fatalf("CreateSource = %+v", src)
	}
	recent(t, "source created_at", src.CreatedAt)
	got, err := c.GetSource(src.ID)
	if err != nil || *got != *src {
		t.Fatalf("GetSource = %+v, %v; want %+v", got, err, src)
	}
	eps := 20
	upd, err := c.UpdateSource(src.ID, volley.UpdateSourceRequest{Name: "Stripe", EPS: &eps, Status: "disabled"})
	if err != nil {
		t.Fatal(err)
	}
	if upd.EPS != 20 || upd.Status != "disabled" || upd.Slug != "stripe-webhooks" || upd.IngestionID != src.IngestionID ||
		!upd.CreatedAt.Equal(src.CreatedAt) || upd.UpdatedAt.Before(src.UpdatedAt) {
		t.Fatalf("UpdateSource = %+v", upd)
	}
	// The SDK cannot send credentials: switching to basic generates them.
	basic, err := c.UpdateSource(src.ID, volley.UpdateSourceRequest{AuthType: "basic"})
	if err != nil || basic.AuthType != "basic" || basic.AuthUsername != "volley" || len(basic.AuthKey) < 32 {
		t.Fatalf("UpdateSource to basic = %+v, %v; want generated credentials", basic, err)
	}
	_, err = c.UpdateSource(src.ID, volley.UpdateSourceRequest{AuthType: "oauth"})
	wantStatus(t, err, http.StatusBadRequest)

	dst, err := c.CreateDestination(pid, volley.CreateDestinationRequest{Name: "Prod", URL: "http://127.0.0.1:9/hook", EPS: 5})
	if err != nil {
		t.Fatal(err)
	}
	if dst.ID == 0 || dst.Name != "Prod" || dst.URL != "http://127.0.0.1:9/hook" || dst.EPS != 5 || dst.Status != "active" ||
		dst.TimeoutMS != 0 || dst.ForwardTraceparent || dst.InsecureSkipVerify || !dst.SigningSecretSet {
		t.Fatalf("CreateDestination = %+v", dst)
	}
	tuned, err := c.CreateDestination(pid, volley.CreateDestinationRequest{Name: "Tuned", URL: "https://127.0.0.1:9/hook",
		TimeoutMS: 5000, ForwardTraceparent: true, InsecureSkipVerify: true,
		SigningSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
	if err != nil {
		t.Fatal(err)
	}
	if tuned.TimeoutMS != 5000 || !tuned.ForwardTraceparent || !tuned.InsecureSkipVerify || !tuned.SigningSecretSet {
		t.Fatalf("CreateDestination with options = %+v", tuned)
	}
	off, timeout := false, 60000
	if u, err := c.UpdateDestination(tuned.ID, volley.UpdateDestinationRequest{TimeoutMS: &timeout, InsecureSkipVerify: &off}); err != nil ||
		u.TimeoutMS != 60000 || u.InsecureSkipVerify || !u.ForwardTraceparent {
		t.Fatalf("UpdateDestination options = %+v, %v", u, err)
	}
	_, err = c.CreateDestination(pid, volley.CreateDestinationRequest{Name: "Bad", URL: "http://127.0.0.1:9/x", SigningSecret: "nope"})
	wantStatus(t, err, http.StatusBadRequest)
	if err := c.DeleteDestination(tuned.ID); err != nil {
		t.Fatal(err)
	}
	if g, err := c.GetDestination(dst.ID); err != nil || *g != *dst {
		t.Fatalf("GetDestination = %+v, %v", g, err)
	}
	zero := 0
	ud, err := c.UpdateDestination(dst.ID, volley.UpdateDestinationRequest{URL: "http://localhost:9/v2", EPS: &zero, Status: "disabled"})
	if err != nil {
		t.Fatal(err)
	}
	if ud.URL != "http://localhost:9/v2" || ud.EPS != 0 || ud.Status != "disabled" || ud.Name != "Prod" {
		t.Fatalf("UpdateDestination = %+v", ud)
	}
	_, err = c.UpdateDestination(dst.ID, volley.UpdateDestinationRequest{URL: "http://169.254.169.254/latest"})
	wantStatus(t, err, http.StatusBadRequest)
	if ds, err := c.ListDestinations(pid); err != nil || len(ds) != 1 || ds[0] != *ud {
		t.Fatalf("ListDestinations = %+v, %v", ds, err)
	}

	conn, err := c.CreateConnection(pid, volley.CreateConnectionRequest{SourceID: src.ID, DestinationID: dst.ID, Status: "enabled", EPS: 5, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	if conn.ID == 0 || conn.SourceID != src.ID || conn.DestinationID != dst.ID || conn.Status != "enabled" || conn.EPS != 5 || conn.MaxRetries != 3 {
		t.Fatalf("CreateConnection = %+v", conn)
	}
	_, err = c.CreateConnection(pid, volley.CreateConnectionRequest{SourceID: src.ID, DestinationID: dst.ID})
	wantStatus(t, err, http.StatusConflict)
	four := 4
	uc, err := c.UpdateConnection(conn.ID, volley.UpdateConnectionRequest{Status: "paused", MaxRetries: &four})
	if err != nil {
		t.Fatal(err)
	}
	if uc.Status != "paused" || uc.MaxRetries != 4 || uc.EPS != 5 {
		t.Fatalf("UpdateConnection = %+v", uc)
	}
	gc, err := c.GetConnection(conn.ID)
	if err != nil || gc.ID != conn.ID || gc.Status != "paused" {
		t.Fatalf("GetConnection = %+v, %v", gc, err)
	}
	if cs, err := c.GetConnections(pid); err != nil || len(cs) != 1 || cs[0].ID != conn.ID {
		t.Fatalf("GetConnections = %+v, %v", cs, err)
	}
	if ss, err := c.ListSources(pid); err != nil || len(ss) != 1 || ss[0].ConnectionCount != 1 {
		t.Fatalf("ListSources = %+v, %v", ss, err)
	}

	if err := c.DeleteConnection(conn.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetConnection(conn.ID)
	wantStatus(t, err, http.StatusNotFound)
	if err := c.DeleteDestination(dst.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteSource(src.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSource(src.ID)
	wantStatus(t, err, http.StatusNotFound)

	// Another tenant sees none of it.
	other := volley.NewClient(apiToken("Intruder"), volley.WithBaseURL(baseURL()))
	_, err = other.ListSources(pid)
	wantStatus(t, err, http.StatusNotFound)
}
