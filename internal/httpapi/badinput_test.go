package httpapi_test

import (
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// fixture is A's graph plus what the bad-input cases refer to: a second
// destination in A's project (so a new connection would be valid), a
// second source there (for slug clashes) with no connection and one event
// (dropped), a disabled source, a second project with its own source and
// destination, and another tenant's project.
type fixture struct {
	srv                *testserver.Server
	g                  graph
	owner              *caller
	dst2, src2         uint64
	dropped            string // the event of src2
	disabledSrc        uint64
	otherProject       uint64
	otherSrc, otherDst uint64
	otherIngestion     string // otherSrc's ingestion id
	foreignProject     uint64 // another tenant's
	member, outsider   string // emails: already a member, no account
	routes             []string
}

func setupBadInput(t *testing.T) *fixture {
	t.Helper()
	// The wall clock, not startFixed: the node's retention sweeper reads the
	// wall clock, so events stamped with a fixed past time would be swept
	// away a minute after the server starts, in the middle of a long test.
	srv := testserver.Start(t, testserver.Options{})
	f := &fixture{srv: srv, owner: callerOf(srv, testserver.AdminToken), routes: apiRoutes(t, srv),
		member: "member@example.com", outsider: "nobody@example.com"}
	f.g = buildGraph(t, srv, srv.AdminAccount(), "admin@localhost", "Alpha")
	create := func(path string, body map[string]any, key string) uint64 {
		return idOf(t, f.owner.must(t, http.StatusCreated, "POST", path, body), key)
	}
	p := fmt.Sprintf("/api/projects/%d", f.g.ProjectID)
	f.dst2 = create(p+"/destinations", map[string]any{"name": "Second", "url": "http://127.0.0.1:9/second"}, "destination")
	f.src2 = create(p+"/sources", map[string]any{"slug": "second"}, "source")
	f.otherProject = create("/api/projects", map[string]any{"name": "Other"}, "project")
	op := fmt.Sprintf("/api/projects/%d", f.otherProject)
	f.otherSrc = create(op+"/sources", map[string]any{"name": "Other source"}, "source")
	f.otherDst = create(op+"/destinations", map[string]any{"name": "Other", "url": "http://127.0.0.1:9/other"}, "destination")
	ingestionID := func(id uint64) string {
		return stringOf(t, f.owner.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/sources/%d", id), nil), "source", "ingestion_id")
	}
	f.otherIngestion = ingestionID(f.otherSrc)
	f.dropped = ingest(t, srv, ingestionID(f.src2), nil, `{"routed":false}`)
	f.disabledSrc = create(p+"/sources", map[string]any{"name": "Switched off", "status": "disabled"}, "source")
	srv.NewAccount(t, f.member, "Member")
	f.owner.must(t, http.StatusCreated, "POST", "/api/org/members", map[string]any{"email": f.member, "role": "member"})
	f.foreignProject = srv.NewAccount(t, "stranger@example.com", "Stranger").ProjectID
	return f
}

// badCase is one request that must be refused without changing anything.
type badCase struct {
	name         string
	method, path string
	body         any // a string is sent as is
	status       int
	field        string // the field the error must name ("" when none)
	says         string // text the error must contain, case-insensitively
}

// check runs c, then verifies the status, the error and that the owner's
// whole organization looks exactly as before.
func (f *fixture) check(t *testing.T, c badCase) {
	t.Helper()
	before := snapshot(t, f.owner)
	f.refused(t, c)
	sameSnapshot(t, before, snapshot(t, f.owner))
}

// refused runs c and verifies its status and error, without snapshots.
func (f *fixture) refused(t *testing.T, c badCase) {
	t.Helper()
	resp := f.owner.do(t, c.method, c.path, c.body)
	if resp.Status != c.status {
		t.Fatalf("%s %s = %d, want %d; body %s", c.method, c.path, resp.Status, c.status, resp.Body)
	}
	e := errorOf(t, resp)
	text := strings.ToLower(e.Error + " " + e.Message)
	if c.field != "" && e.Field != c.field && !strings.Contains(e.Error, c.field) {
		t.Errorf("error %+v does not name field %q", e, c.field)
	}
	if c.says != "" && !strings.Contains(text, strings.ToLower(c.says)) {
		t.Errorf("error %+v does not say %q", e, c.says)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	f := setupBadInput(t)
	g := f.g
	projects := "/api/projects"
	project := fmt.Sprintf("/api/projects/%d", g.ProjectID)
	srcs, dsts, conns := project+"/sources", project+"/destinations", project+"/connections"
	src := fmt.Sprintf("/api/sources/%d", g.SourceID)
	dst := fmt.Sprintf("/api/destinations/%d", g.DestinationID)
	conn := fmt.Sprintf("/api/connections/%d", g.ConnectionID)
	newConn := func(extra map[string]any) map[string]any {
		b := map[string]any{"source_id": g.SourceID, "destination_id": f.dst2}
		maps.Copy(b, extra)
		return b
	}
	newDst := func(url string) map[string]any { return map[string]any{"name": "New", "url": url} }
	const bad, conflict = http.StatusBadRequest, http.StatusConflict

	tests := []badCase{
		// Bodies that are not a JSON object.
		{"malformed JSON", "POST", projects, `{"name":`, bad, "", "malformed JSON"},
		{"trailing garbage", "PUT", src, `{"eps":1} {`, bad, "", "malformed JSON"},
		{"JSON array", "POST", projects, `[{"name":"x"}]`, bad, "", "must be a JSON object"},
		{"JSON array on update", "PUT", conn, `[{"eps":1}]`, bad, "", "must be a JSON object"},
		{"JSON string", "POST", srcs, `"x"`, bad, "", "must be a JSON object"},

		// Wrong JSON types.
		{"eps as string", "POST", srcs, map[string]any{"name": "x", "eps": "ten"}, bad, "eps", "integer"},
		{"eps as string on destination", "PUT", dst, map[string]any{"eps": "ten"}, bad, "eps", "integer"},
		{"max_retries as bool", "POST", conns, newConn(map[string]any{"max_retries": true}), bad, "max_retries", ""},
		{"source_id as string", "POST", conns, newConn(map[string]any{"source_id": "1"}), bad, "source_id", ""},
		{"destination_id negative", "POST", conns, newConn(map[string]any{"destination_id": -1}), bad, "destination_id", ""},
		{"name as number", "POST", projects, map[string]any{"name": 5}, bad, "name", "string"},
		{"name as number on source", "PUT", src, map[string]any{"name": 5}, bad, "name", "string"},
		{"verify_signature as string", "PUT", src, map[string]any{"verify_signature": "yes"}, bad, "verify_signature", ""},
		{"headers as list", "POST", dsts, map[string]any{"name": "x", "url": "http://127.0.0.1:9/", "headers": []string{"a"}}, bad, "headers", ""},

		// Numbers out of range.
		{"negative source eps", "POST", srcs, map[string]any{"name": "x", "eps": -1}, bad, "eps", ""},
		{"negative destination eps", "POST", dsts, map[string]any{"name": "x", "url": "http://127.0.0.1:9/", "eps": -1}, bad, "eps", ""},
		{"negative connection eps", "POST", conns, newConn(map[string]any{"eps": -1}), bad, "eps", ""},
		{"negative eps on update", "PUT", conn, map[string]any{"eps": -5}, bad, "eps", ""},
		{"source eps over max", "PUT", src, map[string]any{"eps": 100_001}, bad, "eps", "100000"},
		{"destination eps over max", "PUT", dst, map[string]any{"eps": 100_001}, bad, "eps", "100000"},
		{"connection eps over max", "POST", conns, newConn(map[string]any{"eps": 100_001}), bad, "eps", "100000"},
		{"max_retries over 100", "POST", conns, newConn(map[string]any{"max_retries": 101}), bad, "max_retries", "100"},
		{"max_retries over 100 on update", "PUT", conn, map[string]any{"max_retries": 101}, bad, "max_retries", "100"},
		{"negative max_retries", "PUT", conn, map[string]any{"max_retries": -1}, bad, "max_retries", ""},
		{"delay over 24 hours", "POST", conns, newConn(map[string]any{"delay_ms": 86_400_001}), bad, "delay_ms", "24 hours"},
		{"negative delay", "PUT", conn, map[string]any{"delay_ms": -1}, bad, "delay_ms", ""},
		{"unknown ordering", "PUT", conn, map[string]any{"ordering": "lifo"}, bad, "ordering", `"fifo"`},
		{"fifo without a key", "PUT", conn, map[string]any{"ordering": "fifo"}, bad, "ordering_key", "required"},
		{"ordering key not a path", "PUT", conn, map[string]any{"ordering": "fifo", "ordering_key": "customer.id"}, bad, "ordering_key", "$.customer.id"},
		{"ordering key bad index", "PUT", conn, map[string]any{"ordering": "fifo", "ordering_key": "$.items[x]"}, bad, "ordering_key", "[0]"},
		{"ordering key bad header", "POST", conns, newConn(map[string]any{"ordering": "fifo", "ordering_key": "header:"}), bad, "ordering_key", "header"},
		{"timeout_ms too short", "PUT", dst, map[string]any{"timeout_ms": 10}, bad, "timeout_ms", ""},

		// Missing required fields.
		{"project without name", "POST", projects, map[string]any{}, bad, "name", "required"},
		{"project with blank name", "POST", projects, map[string]any{"name": "   "}, bad, "name", "required"},
		{"project update with blank name", "PUT", project, map[string]any{"name": "   "}, bad, "name", "required"},
		{"org without name", "POST", "/api/org", map[string]any{}, bad, "name", "required"},
		{"source without name or slug", "POST", srcs, map[string]any{"eps": 1}, bad, "name", "required"},
		{"destination without name", "POST", dsts, map[string]any{"url": "http://127.0.0.1:9/"}, bad, "name", "required"},
		{"destination without url", "POST", dsts, map[string]any{"name": "x"}, bad, "url", "required"},
		{"connection without source_id", "POST", conns, map[string]any{"destination_id": f.dst2}, bad, "source_id", "required"},
		{"connection without destination_id", "POST", conns, map[string]any{"source_id": g.SourceID}, bad, "destination_id", "required"},
		{"connection with source_id 0", "POST", conns, newConn(map[string]any{"source_id": 0}), bad, "source_id", "required"},
		{"member without email", "POST", "/api/org/members", map[string]any{"role": "member"}, bad, "email", "required"},
		{"member without role", "POST", "/api/org/members", map[string]any{"email": f.outsider}, bad, "role", "required"},

		// URLs.
		{"ftp URL", "POST", dsts, newDst("ftp://example.com/x"), bad, "url", "http or https"},
		{"URL without host", "POST", dsts, newDst("http://"), bad, "url", "no host"},
		{"not a URL", "POST", dsts, newDst("not a url"), bad, "url", ""},
		{"metadata address", "POST", dsts, newDst("http://169.254.169.254/latest/meta-data"), bad, "url", "blocked by egress policy"},
		{"metadata address on update", "PUT", dst, map[string]any{"url": "http://169.254.169.254/"}, bad, "url", "blocked by egress policy"},
		{"private address", "POST", dsts, newDst("http://10.0.0.1/"), bad, "url", "blocked by egress policy"},
		{"unspecified address", "POST", dsts, newDst("http://0.0.0.0:8080/"), bad, "url", "blocked by egress policy"},
		{"IPv6 metadata address", "POST", dsts, newDst("http://[fd00:ec2::254]/"), bad, "url", "blocked by egress policy"},

		// Enumerations.
		{"unknown source status", "PUT", src, map[string]any{"status": "sleeping"}, bad, "status", "sleeping"},
		{"unknown source status on create", "POST", srcs, map[string]any{"name": "x", "status": "sleeping"}, bad, "status", "sleeping"},
		{"unknown destination status", "PUT", dst, map[string]any{"status": "sleeping"}, bad, "status", "sleeping"},
		{"unknown connection status", "PUT", conn, map[string]any{"status": "sleeping"}, bad, "status", "sleeping"},
		{"unknown connection status on create", "POST", conns, newConn(map[string]any{"status": "sleeping"}), bad, "status", "sleeping"},
		{"unknown source type", "POST", srcs, map[string]any{"name": "x", "type": "carrier-pigeon"}, bad, "type", ""},
		{"unknown auth_type", "POST", srcs, map[string]any{"name": "x", "auth_type": "oauth"}, bad, "auth_type", "oauth"},
		{"unknown auth_type on update", "PUT", src, map[string]any{"auth_type": "oauth"}, bad, "auth_type", "oauth"},
		{"unknown role", "POST", "/api/org/members", map[string]any{"email": f.member, "role": "boss"}, bad, "role", "boss"},

		// Source rules.
		{"verify_signature without webhook_secret", "POST", srcs, map[string]any{"name": "x", "type": "stripe", "verify_signature": true}, bad, "webhook_secret", "required"},
		{"verify_signature on a generic source", "POST", srcs, map[string]any{"name": "x", "verify_signature": true, "webhook_secret": "s3cret"}, bad, "verify_signature", ""},
		{"invalid slug", "POST", srcs, map[string]any{"slug": "Not A Slug"}, bad, "slug", ""},
		{"duplicate source slug", "POST", srcs, map[string]any{"name": "Alpha Source"}, conflict, "", "slug"},
		{"duplicate explicit slug", "POST", srcs, map[string]any{"slug": g.SourceSlug}, conflict, "", "slug"},
		{"slug renamed onto another", "PUT", fmt.Sprintf("/api/sources/%d", f.src2), map[string]any{"slug": g.SourceSlug}, conflict, "", "slug"},

		// Destination rules.
		{"malformed signing secret", "POST", dsts, map[string]any{"name": "x", "url": "http://127.0.0.1:9/", "signing_secret": "nope"}, bad, "signing_secret", "whsec_"},
		{"signing secret on update", "PUT", dst, map[string]any{"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, bad, "signing_secret", "rotate"},
		{"malformed rotated secret", "POST", dst + "/secret/rotate", map[string]any{"secret": "nope"}, bad, "secret", "whsec_"},
		{"reserved static header", "PUT", dst, map[string]any{"headers": map[string]string{"Webhook-Signature": "x"}}, bad, "headers", ""},

		// Connection rules.
		{"source in another project", "POST", conns, newConn(map[string]any{"source_id": f.otherSrc}), bad, "source_id", ""},
		{"destination in another project", "POST", conns, newConn(map[string]any{"destination_id": f.otherDst}), bad, "destination_id", ""},
		{"unknown source", "POST", conns, newConn(map[string]any{"source_id": 999999}), bad, "source_id", ""},
		{"duplicate connection", "POST", conns, map[string]any{"source_id": g.SourceID, "destination_id": g.DestinationID}, conflict, "", "already connected"},
		{"moving a connection", "PUT", conn, map[string]any{"source_id": g.SourceID, "destination_id": f.dst2}, bad, "destination_id", "cannot be changed"},

		// Projects and members.
		{"deleting the default project", "DELETE", fmt.Sprintf("/api/projects/%d", g.DefaultProjectID), nil, conflict, "", "default project"},
		{"unsetting the default project", "PUT", fmt.Sprintf("/api/projects/%d", g.DefaultProjectID), map[string]any{"is_default": false}, conflict, "", "default project"},
		{"member with a bad email", "POST", "/api/org/members", map[string]any{"email": "not an email", "role": "member"}, bad, "email", ""},
		{"member twice", "POST", "/api/org/members", map[string]any{"email": f.member, "role": "admin"}, conflict, "", "already a member"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { f.check(t, tt) })
	}
}

// TestBadListParams: every malformed filter or paging parameter of the
// event and attempt lists, on both clients' paths, is a 400 naming the
// parameter; a project that is not the caller's is a 404. All the calls are
// GETs: one pair of snapshots around them all proves they changed nothing.
func TestBadListParams(t *testing.T) {
	t.Parallel()
	f := setupBadInput(t)
	project := fmt.Sprintf("/api/projects/%d", f.g.ProjectID)
	type param struct{ query, field, says string }
	common := []param{
		{"limit=0", "limit", "1 to 500"},
		{"limit=501", "limit", "1 to 500"},
		{"limit=abc", "limit", `"abc"`},
		{"limit=-1", "limit", ""},
		{"limit=1.5", "limit", ""},
		{"offset=-1", "offset", "non-negative"},
		{"offset=abc", "offset", `"abc"`},
		{"status=bogus", "status", `"bogus"`},
		{"start_time=garbage", "start_time", "RFC 3339"},
		{"end_time=garbage", "end_time", "RFC 3339"},
		{"start_time=2026-13-01T00:00:00Z", "start_time", ""},
		{"start_date=yesterday", "start_date", ""},
		{"end_date=2026-02-30", "end_date", ""},
		{"source_id=abc", "source_id", `"abc"`},
		{"source_id=0", "source_id", ""},
		{"source_id=-1", "source_id", ""},
		{"source_id=src_unknown", "source_id", "src_unknown"},
		{"source_id=" + f.otherIngestion, "source_id", ""}, // a source of another project
		{"connection_id=abc", "connection_id", ""},
		{"destination_id=-3", "destination_id", ""},
	}
	attemptsOnly := []param{
		{"status=processed", "status", "success or failed"}, // an event status, not an attempt's
		{"sort=bogus", "sort", `"bogus"`},
		{"sort=TIME", "sort", ""},
	}
	lists := []struct {
		name, path string
		extra      []param
	}{
		{"events", project + "/requests?", nil},
		{"events (B)", project + "/events?", nil},
		{"attempts", project + "/delivery-attempts?", attemptsOnly},
		{"attempts (B)", fmt.Sprintf("/api/delivery-attempts?project_id=%d&", f.g.ProjectID), attemptsOnly},
	}
	var tests []badCase
	for _, l := range lists {
		for _, p := range append(common, l.extra...) {
			tests = append(tests, badCase{l.name + " " + p.query, "GET", l.path + p.query, nil, http.StatusBadRequest, p.field, p.says})
		}
	}
	tests = append(tests,
		badCase{"connections including something unknown", "GET", fmt.Sprintf("/api/projects/%d/connections?include=latency", f.g.ProjectID),
			nil, http.StatusBadRequest, "include", "the only choice is metrics"},
		badCase{"attempts (B) with project_id abc", "GET", "/api/delivery-attempts?project_id=abc", nil, http.StatusBadRequest, "project_id", ""},
		badCase{"attempts (B) with project_id 0", "GET", "/api/delivery-attempts?project_id=0&limit=5", nil, http.StatusBadRequest, "project_id", ""},
		badCase{"attempts (B) in another tenant's project", "GET", fmt.Sprintf("/api/delivery-attempts?project_id=%d", f.foreignProject), nil, http.StatusNotFound, "", "not found"},
		badCase{"attempts (B) in no project", "GET", "/api/delivery-attempts?project_id=999999", nil, http.StatusNotFound, "", "not found"},
		badCase{"events of another tenant's project", "GET", fmt.Sprintf("/api/projects/%d/events", f.foreignProject), nil, http.StatusNotFound, "", "not found"},
	)
	before := snapshot(t, f.owner)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { f.refused(t, tt) })
	}
	sameSnapshot(t, before, snapshot(t, f.owner))

	// Good values still pass, so the cases above fail for their value only.
	for _, l := range lists {
		for _, q := range []string{"limit=1", "limit=500", "offset=0", "start_time=2026-01-02T08:34:05%2B05:30", "start_time=2026-01-02T08:34:05+05:30",
			"end_time=2026-01-02T03:04:05.123456Z", "start_date=2026-01-02", "source_id=" + fmt.Sprint(f.g.SourceID), "source_id=" + f.g.IngestionID} {
			f.owner.must(t, http.StatusOK, "GET", l.path+q, nil)
		}
	}
}

// TestBadReplayAndSend: replay and test-event bodies that cannot be acted
// on are refused, and neither an event nor an attempt is recorded.
func TestBadReplayAndSend(t *testing.T) {
	t.Parallel()
	f := setupBadInput(t)
	g := f.g
	const bad, replay, send = http.StatusBadRequest, "/api/replay-event", "/api/webhooks"
	body := map[string]any{"order": 1}
	tests := []badCase{
		{"replay without event_id", "POST", replay, map[string]any{}, bad, "event_id", "required"},
		{"replay without a body", "POST", replay, nil, bad, "event_id", "required"},
		{"replay with a blank event_id", "POST", replay, map[string]any{"event_id": ""}, bad, "event_id", "required"},
		{"replay with a numeric event_id", "POST", replay, map[string]any{"event_id": g.RequestID}, bad, "event_id", "string"},
		{"replay of an unknown event", "POST", replay, map[string]any{"event_id": "evt_doesnotexist0000000"}, http.StatusNotFound, "", "not found"},
		{"replay through an unknown connection", "POST", replay, map[string]any{"event_id": g.EventID, "connection_id": 999999}, bad, "connection_id", ""},
		{"replay to a destination the source does not reach", "POST", replay, map[string]any{"event_id": g.EventID, "destination_id": f.dst2}, bad, "destination_id", ""},
		{"replay with a connection_id string", "POST", replay, map[string]any{"event_id": g.EventID, "connection_id": "1"}, bad, "connection_id", ""},
		{"replay of an event whose source has no connection", "POST", replay, map[string]any{"event_id": f.dropped}, http.StatusConflict, "", "no connection"},
		{"replay as JSON array", "POST", replay, `["evt_x"]`, bad, "", "must be a JSON object"},

		{"test event without body", "POST", send, map[string]any{"source_id": g.SourceID}, bad, "body", "required"},
		{"test event with a null body", "POST", send, map[string]any{"source_id": g.SourceID, "body": nil}, bad, "body", "required"},
		{"test event without source_id", "POST", send, map[string]any{"body": body}, bad, "source_id", "required"},
		{"test event on an unknown source", "POST", send, map[string]any{"source_id": 999999, "body": body}, bad, "source_id", ""},
		{"test event with a source_id string", "POST", send, map[string]any{"source_id": "src_x", "body": body}, bad, "source_id", ""},
		{"test event to an unknown destination", "POST", send, map[string]any{"source_id": g.SourceID, "destination_id": 999999, "body": body}, bad, "destination_id", ""},
		{"test event with a bad header name", "POST", send, map[string]any{"source_id": g.SourceID, "body": body, "headers": map[string]string{"Bad Name": "x"}}, bad, "headers", "Bad Name"},
		{"test event with a number header", "POST", send, map[string]any{"source_id": g.SourceID, "body": body, "headers": map[string]any{"X-N": 1}}, bad, "headers", ""},
		{"test event on a disabled source", "POST", send, map[string]any{"source_id": f.disabledSrc, "body": body}, http.StatusConflict, "", "disabled"},
		{"test event as malformed JSON", "POST", send, `{"source_id":`, bad, "", "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { f.check(t, tt) })
	}
}

// TestBadPathIDs: a path id that is not a positive integer is a 400 naming
// the segment, on every route with an id, before anything happens. String
// ids ({event_id}) have no format to violate: a malformed one is an id that
// does not exist, a 404.
func TestBadPathIDs(t *testing.T) {
	t.Parallel()
	f := setupBadInput(t)
	before := snapshot(t, f.owner)
	for _, pattern := range f.routes {
		for _, p := range placeholders(pattern) {
			for _, bad := range []string{"abc", "0", "-1", "1.5", "18446744073709551616"} {
				vals := maps.Clone(f.g.ids())
				vals[p] = bad
				method, path, missing := fill(pattern, vals)
				if len(missing) > 0 {
					t.Errorf("unhandled route %q: no id for {%v}", pattern, missing)
					continue
				}
				resp := f.owner.do(t, method, path, mutationBody(f.g, f.outsider))
				if stringIDParams[p] {
					if resp.Status != http.StatusNotFound {
						t.Errorf("%s %s = %d, want 404; body %s", method, path, resp.Status, resp.Body)
					} else {
						errorOf(t, resp)
					}
					continue
				}
				if resp.Status != http.StatusBadRequest {
					t.Errorf("%s %s = %d, want 400; body %s", method, path, resp.Status, resp.Body)
					continue
				}
				if e := errorOf(t, resp); e.Field != p || !strings.Contains(e.Error, p) {
					t.Errorf("%s %s: error %+v does not name %s", method, path, e, p)
				}
			}
		}
	}
	sameSnapshot(t, before, snapshot(t, f.owner))
}

// TestBadOrgHeader: an X-Organization-ID that is not a positive integer is a
// 400 on every route that acts inside an organization.
func TestBadOrgHeader(t *testing.T) {
	t.Parallel()
	f := setupBadInput(t)
	before := snapshot(t, f.owner)
	for _, pattern := range f.routes {
		if orgFree[pattern] {
			continue
		}
		method, path := mustFill(t, pattern, f.g.ids())
		for _, bad := range []string{"abc", "0", "-1", "1.5"} {
			resp := rawDo(t, f.srv, method, path, map[string]string{
				"Authorization": "Bearer " + testserver.AdminToken, "X-Organization-ID": bad,
			}, []byte(`{"name":"x"}`))
			if resp.Status != http.StatusBadRequest {
				t.Errorf("X-Organization-ID %q: %s %s = %d, want 400; body %s", bad, method, path, resp.Status, resp.Body)
				continue
			}
			if e := errorOf(t, resp); !strings.Contains(e.Error, "X-Organization-ID") {
				t.Errorf("X-Organization-ID %q: %s %s: error %q does not name the header", bad, method, path, e.Error)
			}
		}
	}
	sameSnapshot(t, before, snapshot(t, f.owner))
}

// TestBodyTooLarge: every POST and PUT route refuses a body over 1 MiB with
// 413 and changes nothing; exactly 1 MiB is still read.
func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	f := setupBadInput(t)
	const limit = 1 << 20
	// padded returns a valid JSON body of exactly n bytes; the API ignores
	// the unknown "pad" key.
	padded := func(n int) string {
		head, tail := `{"name":"Padded","pad":"`, `"}`
		return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
	}
	before := snapshot(t, f.owner)
	n := 0
	for _, pattern := range f.routes {
		method, _ := splitPattern(pattern)
		if method != "POST" && method != "PUT" {
			continue
		}
		n++
		method, path := mustFill(t, pattern, f.g.ids())
		resp := f.owner.do(t, method, path, padded(limit+1))
		if resp.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s with %d bytes = %d, want 413; body %s", method, path, limit+1, resp.Status, resp.Body)
			continue
		}
		if e := errorOf(t, resp); !strings.Contains(e.Error, "too large") {
			t.Errorf("%s %s: error %q does not say the body is too large", method, path, e.Error)
		}
	}
	if n == 0 {
		t.Fatal("no POST or PUT route")
	}
	sameSnapshot(t, before, snapshot(t, f.owner))
	f.owner.must(t, http.StatusCreated, "POST", "/api/projects", padded(limit))
}

// TestCamelCaseAliases: the Java SDK's camelCase keys give the same result
// as snake_case, and snake_case wins when a body has both.
func TestCamelCaseAliases(t *testing.T) {
	t.Parallel()
	srv, _ := startFixed(t)
	c := callerOf(srv, testserver.AdminToken)

	// aliasRun creates a project, a source, a destination and a connection
	// with one spelling of the keys and returns the three objects created
	// with aliased keys, without the ids that necessarily differ.
	type spelling struct {
		project, source map[string]any
		connection      func(source, destination uint64) map[string]any
	}
	aliasRun := func(sp spelling) (project, source, connection map[string]any) {
		t.Helper()
		resp := c.must(t, http.StatusCreated, "POST", "/api/projects", sp.project)
		base := fmt.Sprintf("/api/projects/%d", idOf(t, resp, "project"))
		project = wrapped(t, resp, "project", "id")
		resp = c.must(t, http.StatusCreated, "POST", base+"/sources", sp.source)
		sid := idOf(t, resp, "source")
		source = wrapped(t, resp, "source", "id", "project_id", "projectId", "ingestion_id", "ingestionId", "ingestion_url", "ingestionUrl")
		did := idOf(t, c.must(t, http.StatusCreated, "POST", base+"/destinations",
			map[string]any{"name": "Sink", "url": "http://127.0.0.1:9/sink"}), "destination")
		resp = c.must(t, http.StatusCreated, "POST", base+"/connections", sp.connection(sid, did))
		connection = wrapped(t, resp, "connection", "id", "project_id", "projectId", "sourceId", "destinationId")
		if fmt.Sprintf("%v→%v", connection["source_id"], connection["destination_id"]) != fmt.Sprintf("%d→%d", sid, did) {
			t.Errorf("connection joins %v → %v, want %d → %d", connection["source_id"], connection["destination_id"], sid, did)
		}
		delete(connection, "source_id")
		delete(connection, "destination_id")
		return project, source, connection
	}
	cp, cs, cc := aliasRun(spelling{
		project: map[string]any{"name": "Aliases", "isDefault": true},
		source:  map[string]any{"name": "Hook", "authType": "api_key", "authKey": "k", "authKeyName": "X-Key"},
		connection: func(s, d uint64) map[string]any {
			return map[string]any{"sourceId": s, "destinationId": d, "maxRetries": 7}
		},
	})
	sp, ss, sc := aliasRun(spelling{
		project: map[string]any{"name": "Aliases", "is_default": true},
		source:  map[string]any{"name": "Hook", "auth_type": "api_key", "auth_key": "k", "auth_key_name": "X-Key"},
		connection: func(s, d uint64) map[string]any {
			return map[string]any{"source_id": s, "destination_id": d, "max_retries": 7}
		},
	})
	for _, x := range []struct {
		what         string
		camel, snake map[string]any
	}{{"project", cp, sp}, {"source", cs, ss}, {"connection", cc, sc}} {
		if !reflect.DeepEqual(x.camel, x.snake) {
			t.Errorf("%s: camelCase gave\n%v\nsnake_case gave\n%v", x.what, x.camel, x.snake)
		}
	}
	if cp["is_default"] != true || cs["auth_type"] != "api_key" || fmt.Sprint(cc["max_retries"]) != "7" {
		t.Errorf("camelCase keys ignored: project %v, source %v, connection %v", cp, cs, cc)
	}

	// Both spellings in one body: snake_case wins.
	resp := c.must(t, http.StatusCreated, "POST", "/api/projects", `{"name":"snake","isDefault":true,"is_default":false}`)
	if got := wrapped(t, resp, "project")["is_default"]; got != false {
		t.Errorf("is_default with both spellings = %v, want the snake_case false", got)
	}
}

// wrapped returns the wrapper object key of a response, without the drop
// keys.
func wrapped(t *testing.T, resp *testserver.Response, key string, drop ...string) map[string]any {
	t.Helper()
	obj, ok := decodeObject(t, resp.Body)[key].(map[string]any)
	if !ok {
		t.Fatalf("no %s object in %s", key, resp.Body)
	}
	for _, k := range drop {
		delete(obj, k)
	}
	return obj
}
