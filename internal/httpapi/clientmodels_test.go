package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/delivery"
	"github.com/volleyhq/volley/internal/testserver"
)

// The official clients decode responses into their own models, and a field
// the server sends under a key a client does not read is a field that client
// never sees (api-contract.md §1.6: the Java SDK reads only lowerCamelCase).
// TestClientModels drives one scenario through every route the Java SDK
// and the family B SDKs (Ruby, PHP, .NET) call, decodes each answer into
// Go copies of their models, and fails on any field left empty although the
// server sent a value for it. The Go SDK has its own end-to-end tests at the
// repository root, and Node reads the same snake_case keys through the same
// wrappers, so neither is repeated here.

// instant is a time as the Java SDK reads it: Gson's only adapter calls
// Instant.parse, which takes UTC with a Z and nothing else.
type instant struct{ time.Time }

// UnmarshalJSON parses s as Instant.parse does.
func (i *instant) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		return fmt.Errorf("Instant.parse(%q): not an RFC 3339 time in UTC with a Z", s)
	}
	i.Time = t
	return nil
}

// The Java SDK's models (volley-java 1.0.0, models/*.java): Gson without a
// naming policy, so every key is the Java field name. userId and
// responseCode are not in those files; they are kept so that the test holds
// the server to their camelCase twins as well.
type (
	javaOrganization struct {
		ID        int64   `json:"id"`
		Name      string  `json:"name"`
		Slug      string  `json:"slug"`
		AccountID int64   `json:"accountId"`
		Role      string  `json:"role"`
		CreatedAt instant `json:"createdAt"`
	}
	javaProject struct {
		ID             int64   `json:"id"`
		Name           string  `json:"name"`
		OrganizationID int64   `json:"organizationId"`
		IsDefault      bool    `json:"isDefault"`
		UserID         *int64  `json:"userId"`
		CreatedAt      instant `json:"createdAt"`
		UpdatedAt      instant `json:"updatedAt"`
	}
	javaSource struct {
		ID               int64   `json:"id"`
		Slug             string  `json:"slug"`
		IngestionID      string  `json:"ingestionId"`
		Type             string  `json:"type"`
		EPS              int32   `json:"eps"`
		Status           string  `json:"status"`
		ConnectionCount  int64   `json:"connectionCount"`
		AuthType         string  `json:"authType"`
		VerifySignature  bool    `json:"verifySignature"`
		WebhookSecretSet bool    `json:"webhookSecretSet"`
		AuthUsername     string  `json:"authUsername"`
		AuthKeyName      string  `json:"authKeyName"`
		CreatedAt        instant `json:"createdAt"`
		UpdatedAt        instant `json:"updatedAt"`
	}
	javaDestination struct {
		ID        int64   `json:"id"`
		Name      string  `json:"name"`
		URL       string  `json:"url"`
		EPS       int32   `json:"eps"`
		Status    string  `json:"status"`
		CreatedAt instant `json:"createdAt"`
		UpdatedAt instant `json:"updatedAt"`
	}
	javaConnection struct {
		ID            int64   `json:"id"`
		SourceID      int64   `json:"sourceId"`
		DestinationID int64   `json:"destinationId"`
		Status        string  `json:"status"`
		EPS           int32   `json:"eps"`
		MaxRetries    int32   `json:"maxRetries"`
		CreatedAt     instant `json:"createdAt"`
		UpdatedAt     instant `json:"updatedAt"`
	}
	javaEvent struct {
		ID               int64          `json:"id"`
		EventID          string         `json:"eventId"`
		SourceID         int64          `json:"sourceId"`
		ProjectID        int64          `json:"projectId"`
		RawBody          string         `json:"rawBody"`
		Headers          map[string]any `json:"headers"`
		Status           string         `json:"status"`
		DeliveryAttempts []javaAttempt  `json:"deliveryAttempts"`
		CreatedAt        instant        `json:"createdAt"`
	}
	javaAttempt struct {
		ID           int64   `json:"id"`
		EventID      string  `json:"eventId"`
		ConnectionID int64   `json:"connectionId"`
		Status       string  `json:"status"`
		StatusCode   int32   `json:"statusCode"`
		ResponseCode int32   `json:"responseCode"`
		ErrorReason  string  `json:"errorReason"`
		DurationMs   int64   `json:"durationMs"`
		CreatedAt    instant `json:"createdAt"`
	}
	javaReplay struct {
		Success     bool   `json:"success"`
		Status      string `json:"status"`
		StatusCode  int32  `json:"statusCode"`
		ErrorReason string `json:"errorReason"`
		DurationMs  int64  `json:"durationMs"`
		AttemptID   int64  `json:"attemptId"`
	}
)

// The family B models (volley-dotnet's Models/*.cs with their JsonProperty
// names; Ruby's and PHP's read the same keys). Times stay strings; Int32
// fields are int32 as in .NET.
type (
	bOrganization struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		Slug      string `json:"slug"`
		AccountID int64  `json:"account_id"`
		Role      string `json:"role"`
		CreatedAt string `json:"created_at"`
	}
	bProject struct {
		ID             int64  `json:"id"`
		Name           string `json:"name"`
		OrganizationID int64  `json:"organization_id"`
		UserID         *int64 `json:"user_id"`
		IsDefault      bool   `json:"is_default"`
		CreatedAt      string `json:"created_at"`
		UpdatedAt      string `json:"updated_at"`
	}
	bSource struct {
		ID               int64  `json:"id"`
		Slug             string `json:"slug"`
		IngestionID      string `json:"ingestion_id"`
		Type             string `json:"type"`
		EPS              int32  `json:"eps"`
		Status           string `json:"status"`
		ConnectionCount  int32  `json:"connection_count"`
		AuthType         string `json:"auth_type"`
		VerifySignature  bool   `json:"verify_signature"`
		WebhookSecretSet bool   `json:"webhook_secret_set"`
		AuthUsername     string `json:"auth_username"`
		AuthKeyName      string `json:"auth_key_name"`
		CreatedAt        string `json:"created_at"`
		UpdatedAt        string `json:"updated_at"`
	}
	bDestination struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		URL       string `json:"url"`
		EPS       int32  `json:"eps"`
		Status    string `json:"status"`
		CreatedAt string `json:"created_at"`
		UpdatedAt string `json:"updated_at"`
	}
	bConnection struct {
		ID            int64  `json:"id"`
		SourceID      int64  `json:"source_id"`
		DestinationID int64  `json:"destination_id"`
		Status        string `json:"status"`
		EPS           int32  `json:"eps"`
		MaxRetries    int32  `json:"max_retries"`
		CreatedAt     string `json:"created_at"`
		UpdatedAt     string `json:"updated_at"`
	}
	bEvent struct {
		ID               int64          `json:"id"`
		EventID          string         `json:"event_id"`
		SourceID         int64          `json:"source_id"`
		ProjectID        int64          `json:"project_id"`
		RawBody          string         `json:"raw_body"`
		Headers          map[string]any `json:"headers"`
		Status           string         `json:"status"`
		DeliveryAttempts []bAttempt     `json:"delivery_attempts"`
		CreatedAt        string         `json:"created_at"`
	}
	bAttempt struct {
		ID           int64  `json:"id"`
		EventID      string `json:"event_id"`
		ConnectionID int64  `json:"connection_id"`
		Status       string `json:"status"`
		StatusCode   int32  `json:"status_code"`
		ErrorReason  string `json:"error_reason"`
		DurationMs   int32  `json:"duration_ms"`
		CreatedAt    string `json:"created_at"`
	}
	// rubyPHPReplay and bSent are what Ruby, PHP and .NET read of a replay
	// and of POST /api/webhooks; .NET's mock adds delivery_attempt_id.
	rubyPHPReplay struct {
		Message string `json:"message"`
	}
	dotnetReplay struct {
		Message           string `json:"message"`
		DeliveryAttemptID int64  `json:"delivery_attempt_id"`
	}
	bSent struct {
		Message string `json:"message"`
	}
)

// listPage is the envelope of every list; only events and attempts are
// paged (total, limit, offset), and both families read these one-word keys.
type listPage struct {
	Total  int64 `json:"total"`
	Limit  int32 `json:"limit"`
	Offset int32 `json:"offset"`
}

// The fields the scenario gives a value in every object of a kind, by the
// server's snake_case key. Fields that depend on the object (auth_username
// on a basic source, error_reason on a failed attempt, …) are named by the
// calls that read such an object.
var (
	orgFields         = []string{"id", "name", "slug", "account_id", "role", "created_at"}
	projectFields     = []string{"id", "name", "organization_id", "user_id", "created_at", "updated_at"}
	sourceFields      = []string{"id", "slug", "ingestion_id", "type", "eps", "status", "auth_type", "created_at", "updated_at"}
	destinationFields = []string{"id", "name", "url", "eps", "status", "created_at", "updated_at"}
	connectionFields  = []string{"id", "source_id", "destination_id", "status", "eps", "max_retries", "created_at", "updated_at"}
	eventFields       = []string{"id", "event_id", "source_id", "project_id", "raw_body", "headers", "status", "created_at"}
	attemptFields     = []string{"id", "event_id", "connection_id", "status", "status_code", "duration_ms", "created_at"}
	replayFields      = []string{"status", "status_code", "duration_ms", "attempt_id"}
)

// model is a client's model of one kind of object; required lists the
// fields the scenario gives a value in every such object.
type model interface{ required() []string }

func (javaOrganization) required() []string { return orgFields }
func (javaProject) required() []string      { return projectFields }
func (javaSource) required() []string       { return sourceFields }
func (javaDestination) required() []string  { return destinationFields }
func (javaConnection) required() []string   { return connectionFields }
func (javaEvent) required() []string        { return eventFields }
func (javaAttempt) required() []string      { return append(slices.Clone(attemptFields), "response_code") }
func (javaReplay) required() []string       { return replayFields }
func (bOrganization) required() []string    { return orgFields }
func (bProject) required() []string         { return projectFields }
func (bSource) required() []string          { return sourceFields }
func (bDestination) required() []string     { return destinationFields }
func (bConnection) required() []string      { return connectionFields }
func (bEvent) required() []string           { return eventFields }
func (bAttempt) required() []string         { return attemptFields }
func (rubyPHPReplay) required() []string    { return []string{"message"} }
func (dotnetReplay) required() []string     { return []string{"message", "delivery_attempt_id"} }
func (bSent) required() []string            { return []string{"message"} }

// snakeKey is the server's key for a model's key: "ingestionId" →
// "ingestion_id"; snake_case keys stay as they are.
func snakeKey(key string) string {
	var b strings.Builder
	for _, r := range key {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sent reports whether a raw JSON value holds something: not null, "", 0,
// false or an empty array or object.
func sent(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	case bool:
		return v
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// empty reports whether a decoded field is its zero value (or an empty
// slice or map, or a pointer to a zero value).
func empty(v reflect.Value) bool {
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}

// same reports whether a decoded scalar, time or map equals the server's
// raw value. Slices are compared item by item by gaps.
func same(v reflect.Value, raw any) bool {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if at, ok := v.Interface().(instant); ok {
		s, _ := raw.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && t.Equal(at.Time)
	}
	switch v.Kind() {
	case reflect.Map:
		return reflect.DeepEqual(v.Interface(), raw)
	case reflect.Slice:
		return true
	}
	return fmt.Sprint(v.Interface()) == fmt.Sprint(raw)
}

// gaps compares v, a client's decoded copy of the server's object raw, with
// raw, and describes every field the client is left without: one that is
// empty although the server sent a value under its snake_case key, one
// that is empty although the scenario gives it a value (the model's
// required fields and must), one that differs from the server's value (a
// camelCase twin out of step), and one that only Go's case-insensitive
// matching filled. It walks into lists of nested models.
func gaps(path string, v reflect.Value, raw map[string]any, must []string) []string {
	want := map[string]bool{}
	if m, ok := v.Interface().(model); ok {
		for _, k := range m.required() {
			want[k] = true
		}
	}
	for _, k := range must {
		want[k] = true
	}
	var out []string
	t := v.Type()
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		server := snakeKey(key)
		required := want[server]
		delete(want, server)
		at := key
		if path != "" {
			at = path + "." + key
		}
		fv, rv := v.Field(i), raw[server]
		_, exact := raw[key]
		switch {
		case empty(fv) && sent(rv):
			out = append(out, fmt.Sprintf("%s is empty but the server sent %s", at, server))
		case empty(fv) && required:
			out = append(out, fmt.Sprintf("%s is empty, and the server sent no value under %s although the scenario gives it one", at, server))
		case empty(fv):
		case !exact:
			out = append(out, fmt.Sprintf("%s was filled by Go's case-insensitive matching only: the server sent no %q, which is what the client reads", at, key))
		case !same(fv, rv):
			out = append(out, fmt.Sprintf("%s = %v, but the server sent %s = %v", at, fv.Interface(), server, rv))
		}
		if fv.Kind() != reflect.Slice || fv.Type().Elem().Kind() != reflect.Struct {
			continue
		}
		items, _ := rv.([]any)
		if len(items) != fv.Len() {
			out = append(out, fmt.Sprintf("%s has %d items, but the server sent %d under %s", at, fv.Len(), len(items), server))
			continue
		}
		for j, item := range items {
			obj, _ := item.(map[string]any)
			out = append(out, gaps(fmt.Sprintf("%s[%d]", at, j), fv.Index(j), obj, nil)...)
		}
	}
	for k := range want {
		out = append(out, fmt.Sprintf("%s: the %s model has no field for %s", path, t.Name(), k))
	}
	slices.Sort(out)
	return out
}

// family is a group of clients that decode the API into the same models.
type family struct {
	clients string
	// wrapped lists the kinds of object read from their wrapper key
	// ({"source":{…}}); the others are read from the top level.
	wrapped []string
}

var (
	javaSDK = family{"java", []string{"project", "source", "destination", "connection", "request"}}
	// Family B reads single objects bare, except an event: Ruby, PHP and
	// .NET all take response['request'] of GET …/events/{event_id}.
	familyB = family{"ruby/php/.net", []string{"request"}}
	rubyPHP = family{"ruby/php", nil}
	dotnet  = family{".net", nil}
)

// decodeOne decodes a single object of kind as f's clients do and reports
// its gaps; must names fields this object has a value for.
func decodeOne[M any](t *testing.T, f family, route string, resp *testserver.Response, kind string, must ...string) M {
	t.Helper()
	var m M
	obj := resp.Body
	if slices.Contains(f.wrapped, kind) {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(resp.Body, &top); err != nil || top[kind] == nil {
			t.Errorf("%s: %s: no %q object in %s", f.clients, route, kind, resp.Body)
			return m
		}
		obj = top[kind]
	}
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Errorf("%s: %s: the client cannot decode %s: %v", f.clients, route, obj, err)
		return m
	}
	for _, g := range gaps(kind, reflect.ValueOf(m), decodeObject(t, obj), must) {
		t.Errorf("%s: %s: %s", f.clients, route, g)
	}
	return m
}

// decodeList decodes the list under key and its envelope as f's clients
// do, and reports the gaps of every item (must names fields every item has
// a value for) and of the envelope (paged: total and limit).
func decodeList[M any](t *testing.T, f family, route string, resp *testserver.Response, key string, paged bool, must ...string) []M {
	t.Helper()
	var top map[string]json.RawMessage
	var items []M
	if err := json.Unmarshal(resp.Body, &top); err != nil {
		t.Fatalf("%s: %s: %v", f.clients, route, err)
	}
	if err := json.Unmarshal(top[key], &items); err != nil {
		t.Errorf("%s: %s: the client cannot decode %q of %s: %v", f.clients, route, key, resp.Body, err)
		return nil
	}
	raw := decodeObject(t, resp.Body)
	rawItems, _ := raw[key].([]any)
	if len(rawItems) == 0 || len(rawItems) != len(items) {
		t.Errorf("%s: %s: %d items decoded from %d under %q; the scenario lists some", f.clients, route, len(items), len(rawItems), key)
		return items
	}
	for i := range items {
		obj, _ := rawItems[i].(map[string]any)
		for _, g := range gaps(fmt.Sprintf("%s[%d]", key, i), reflect.ValueOf(items[i]), obj, must) {
			t.Errorf("%s: %s: %s", f.clients, route, g)
		}
	}
	var page listPage
	if err := json.Unmarshal(resp.Body, &page); err != nil {
		t.Errorf("%s: %s: the client cannot decode the envelope %s: %v", f.clients, route, resp.Body, err)
	}
	var pageMust []string
	if paged {
		pageMust = []string{"total", "limit"}
	}
	for _, g := range gaps("", reflect.ValueOf(page), raw, pageMust) {
		t.Errorf("%s: %s: %s", f.clients, route, g)
	}
	return items
}

// receiverLatency is how long the test receivers take to answer, so that
// every attempt has a duration_ms of at least 1 for the clients to decode.
// It is the receivers' own latency, not a wait for the server.
const receiverLatency = 5 * time.Millisecond

// receiver starts a destination that answers every request with status and
// body.
func receiver(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(receiverLatency):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fillRoute fills the {placeholders} of route ("GET /api/sources/{source_id}")
// from vals and returns its method and path.
func fillRoute(t *testing.T, route string, vals map[string]any) (method, p string) {
	t.Helper()
	method, p = splitPattern(route)
	p = placeholderRE.ReplaceAllStringFunc(p, func(m string) string {
		v, ok := vals[m[1:len(m)-1]]
		if !ok {
			t.Fatalf("%s: no value for %s", route, m)
		}
		return fmt.Sprint(v)
	})
	return method, p
}

// TestClientModels: every field of the Java and family B models that the
// server knows decodes non-empty, on every route those clients call, in a
// scenario that gives as many fields as it can a value: rate limits and
// retries everywhere, basic, api_key and signed stripe sources, attempts
// that succeeded and failed with 500, and replays of both kinds.
func TestClientModels(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{Delivery: delivery.Config{
		// Retries come almost at once, so the failing connection settles fast.
		Retry: delivery.RetryPolicy{Schedule: []time.Duration{10 * time.Millisecond}},
	}})
	c := callerOf(srv, testserver.AdminToken)
	call := func(want int, route string, vals map[string]any, body any) *testserver.Response {
		t.Helper()
		method, p := fillRoute(t, route, vals)
		return c.must(t, want, method, p, body)
	}
	ok := receiver(t, http.StatusOK, `{"received":true}`)
	down := receiver(t, http.StatusInternalServerError, `{"error":"boom"}`)

	// Each family creates part of the scenario with its own request shape
	// (Java's camelCase keys, family B's snake_case ones) and reads the answer.
	route := "POST /api/projects"
	r := call(http.StatusCreated, route, nil, map[string]any{"name": "Java Shop", "isDefault": true})
	decodeOne[javaProject](t, javaSDK, route, r, "project", "is_default")
	pid := idOf(t, r, "project")
	r = call(http.StatusCreated, route, nil, map[string]any{"name": "Ruby Shop"})
	decodeOne[bProject](t, familyB, route, r, "project")
	rubyPID := idOf(t, r, "project")
	in := map[string]any{"project_id": pid}

	route = "POST /api/projects/{project_id}/sources"
	r = call(http.StatusCreated, route, in, map[string]any{"slug": "orders", "type": "webhook", "eps": 30,
		"auth_type": "basic", "auth_username": "ruby", "auth_key": "ruby-password"})
	decodeOne[bSource](t, familyB, route, r, "source", "auth_username")
	basicID, basicIngestion := idOf(t, r, "source"), stringOf(t, r, "source", "ingestion_id")
	r = call(http.StatusCreated, route, in, map[string]any{"slug": "stripe", "type": "stripe", "eps": 50,
		"verify_signature": true, "webhook_secret": "whsec_client_models"})
	decodeOne[bSource](t, familyB, route, r, "source", "verify_signature", "webhook_secret_set")
	stripeID := idOf(t, r, "source")
	r = call(http.StatusCreated, route, in, map[string]any{"name": "Java In", "eps": 40, "authType": "api_key"})
	decodeOne[javaSource](t, javaSDK, route, r, "source", "auth_key_name")
	keyID, keyIngestion, apiKey := idOf(t, r, "source"), stringOf(t, r, "source", "ingestion_id"), stringOf(t, r, "source", "auth_key")

	route = "POST /api/projects/{project_id}/destinations"
	r = call(http.StatusCreated, route, in, map[string]any{"name": "Ok", "url": ok.URL, "eps": 20})
	decodeOne[javaDestination](t, javaSDK, route, r, "destination")
	okID := idOf(t, r, "destination")
	r = call(http.StatusCreated, route, in, map[string]any{"name": "Down", "url": down.URL, "eps": 10})
	decodeOne[bDestination](t, familyB, route, r, "destination")
	downID := idOf(t, r, "destination")

	route = "POST /api/projects/{project_id}/connections"
	r = call(http.StatusCreated, route, in, map[string]any{"source_id": basicID, "destination_id": downID, "eps": 5, "max_retries": 2})
	decodeOne[bConnection](t, familyB, route, r, "connection")
	toDown := idOf(t, r, "connection")
	r = call(http.StatusCreated, route, in, map[string]any{"sourceId": basicID, "destinationId": okID, "eps": 8, "maxRetries": 3})
	decodeOne[javaConnection](t, javaSDK, route, r, "connection")
	toOk := idOf(t, r, "connection")
	r = call(http.StatusCreated, route, in, map[string]any{"sourceId": keyID, "destinationId": okID, "eps": 4, "maxRetries": 1})
	decodeOne[javaConnection](t, javaSDK, route, r, "connection")
	r = call(http.StatusCreated, route, in, map[string]any{"source_id": stripeID, "destination_id": okID, "eps": 6, "max_retries": 4})
	decodeOne[bConnection](t, familyB, route, r, "connection")
	stripeConn := idOf(t, r, "connection")

	// Traffic: the first event fails three times at Down (500, two
	// retries) and succeeds at Ok; the others succeed once each.
	e1 := ingest(t, srv, basicIngestion, map[string]string{"Authorization": basicAuth("ruby", "ruby-password")}, `{"order":1}`)
	ingest(t, srv, keyIngestion, map[string]string{"X-API-Key": apiKey}, `{"order":2}`)
	route = "POST /api/webhooks"
	r = call(http.StatusAccepted, route, nil, map[string]any{"source_id": basicID, "destination_id": okID, "body": map[string]any{"order": 3}})
	decodeOne[bSent](t, familyB, route, r, "webhook")
	waitSettled(t, c, pid, 6)

	// Replays are synchronous: one that succeeds, one that fails. Every
	// client reads both answers.
	route = "POST /api/replay-event"
	for _, tc := range []struct {
		body     map[string]any
		javaMust string
	}{
		{map[string]any{"eventId": e1, "connectionId": toOk}, "success"},
		{map[string]any{"event_id": e1, "destination_id": downID}, "error_reason"},
	} {
		r = call(http.StatusOK, route, nil, tc.body)
		decodeOne[javaReplay](t, javaSDK, route, r, "replay", tc.javaMust)
		decodeOne[rubyPHPReplay](t, rubyPHP, route, r, "replay")
		decodeOne[dotnetReplay](t, dotnet, route, r, "replay")
	}
	waitSettled(t, c, pid, 8)
	// The Java SDK finds the first event's numeric id in its event list.
	route = "GET /api/projects/{project_id}/requests"
	var e1ID uint64
	for _, ev := range decodeList[javaEvent](t, javaSDK, route, call(http.StatusOK, route, in, nil), "requests", true) {
		if ev.EventID == e1 {
			e1ID = uint64(ev.ID)
		}
	}
	if e1ID == 0 {
		t.Fatalf("event %s is not listed", e1)
	}

	// The Java SDK's reads and updates.
	for _, tc := range []struct {
		route string
		vals  map[string]any
		body  any
		read  func(string, *testserver.Response)
	}{
		{"GET /api/org/list", nil, nil, func(rt string, r *testserver.Response) {
			decodeList[javaOrganization](t, javaSDK, rt, r, "organizations", false)
		}},
		{"GET /api/org", nil, nil, func(rt string, r *testserver.Response) {
			decodeOne[javaOrganization](t, javaSDK, rt, r, "organization")
		}},
		{"GET /api/projects", nil, nil, func(rt string, r *testserver.Response) {
			decodeList[javaProject](t, javaSDK, rt, r, "projects", false)
		}},
		{"PUT /api/projects/{project_id}", in, map[string]any{"name": "Java Shop"}, func(rt string, r *testserver.Response) {
			decodeOne[javaProject](t, javaSDK, rt, r, "project", "is_default")
		}},
		{"GET /api/projects/{project_id}/sources", in, nil, func(rt string, r *testserver.Response) {
			decodeList[javaSource](t, javaSDK, rt, r, "sources", false, "connection_count")
		}},
		{"GET /api/sources/{source_id}", map[string]any{"source_id": stripeID}, nil, func(rt string, r *testserver.Response) {
			decodeOne[javaSource](t, javaSDK, rt, r, "source", "connection_count", "verify_signature", "webhook_secret_set")
		}},
		{"GET /api/sources/{source_id}", map[string]any{"source_id": basicID}, nil, func(rt string, r *testserver.Response) {
			decodeOne[javaSource](t, javaSDK, rt, r, "source", "connection_count", "auth_username")
		}},
		{"PUT /api/sources/{source_id}", map[string]any{"source_id": keyID}, map[string]any{"name": "Java In", "eps": 41, "authType": "api_key"}, func(rt string, r *testserver.Response) {
			decodeOne[javaSource](t, javaSDK, rt, r, "source", "connection_count", "auth_key_name")
		}},
		{"GET /api/projects/{project_id}/destinations", in, nil, func(rt string, r *testserver.Response) {
			decodeList[javaDestination](t, javaSDK, rt, r, "destinations", false)
		}},
		{"GET /api/destinations/{destination_id}", map[string]any{"destination_id": downID}, nil, func(rt string, r *testserver.Response) {
			decodeOne[javaDestination](t, javaSDK, rt, r, "destination")
		}},
		{"PUT /api/destinations/{destination_id}", map[string]any{"destination_id": okID}, map[string]any{"name": "Ok", "url": ok.URL, "eps": 21}, func(rt string, r *testserver.Response) {
			decodeOne[javaDestination](t, javaSDK, rt, r, "destination")
		}},
		{"GET /api/projects/{project_id}/connections", in, nil, func(rt string, r *testserver.Response) {
			decodeList[javaConnection](t, javaSDK, rt, r, "connections", false)
		}},
		{"GET /api/connections/{connection_id}", map[string]any{"connection_id": toDown}, nil, func(rt string, r *testserver.Response) {
			decodeOne[javaConnection](t, javaSDK, rt, r, "connection")
		}},
		{"PUT /api/connections/{connection_id}", map[string]any{"connection_id": toOk}, map[string]any{"eps": 9, "maxRetries": 3}, func(rt string, r *testserver.Response) {
			decodeOne[javaConnection](t, javaSDK, rt, r, "connection")
		}},
		{"GET /api/requests/{request_id}", map[string]any{"request_id": e1ID}, nil, func(rt string, r *testserver.Response) {
			decodeOne[javaEvent](t, javaSDK, rt, r, "request", "delivery_attempts")
		}},
		{"GET /api/projects/{project_id}/delivery-attempts", in, nil, func(rt string, r *testserver.Response) {
			decodeList[javaAttempt](t, javaSDK, rt, r, "attempts", true)
		}},
		{"GET /api/projects/{project_id}/delivery-attempts?status=failed", in, nil, func(rt string, r *testserver.Response) {
			decodeList[javaAttempt](t, javaSDK, rt, r, "attempts", true, "error_reason")
		}},
		{"POST /api/org", nil, map[string]any{"name": "Java Org"}, func(rt string, r *testserver.Response) {
			decodeOne[javaOrganization](t, javaSDK, rt, r, "organization")
		}},

		// Family B's reads and updates.
		{"GET /api/org/list", nil, nil, func(rt string, r *testserver.Response) {
			decodeList[bOrganization](t, familyB, rt, r, "organizations", false)
		}},
		{"GET /api/org", nil, nil, func(rt string, r *testserver.Response) {
			decodeOne[bOrganization](t, familyB, rt, r, "organization")
		}},
		{"GET /api/projects", nil, nil, func(rt string, r *testserver.Response) {
			decodeList[bProject](t, familyB, rt, r, "projects", false)
		}},
		{"PUT /api/projects/{project_id}", map[string]any{"project_id": rubyPID}, map[string]any{"name": "Ruby Shop"}, func(rt string, r *testserver.Response) {
			decodeOne[bProject](t, familyB, rt, r, "project")
		}},
		{"GET /api/projects/{project_id}/sources", in, nil, func(rt string, r *testserver.Response) {
			decodeList[bSource](t, familyB, rt, r, "sources", false, "connection_count")
		}},
		{"GET /api/projects/{project_id}/sources/{source_id}", map[string]any{"project_id": pid, "source_id": basicID}, nil, func(rt string, r *testserver.Response) {
			decodeOne[bSource](t, familyB, rt, r, "source", "connection_count", "auth_username")
		}},
		{"GET /api/projects/{project_id}/sources/{source_id}", map[string]any{"project_id": pid, "source_id": keyID}, nil, func(rt string, r *testserver.Response) {
			decodeOne[bSource](t, familyB, rt, r, "source", "connection_count", "auth_key_name")
		}},
		{"PUT /api/projects/{project_id}/sources/{source_id}", map[string]any{"project_id": pid, "source_id": stripeID}, map[string]any{"eps": 51}, func(rt string, r *testserver.Response) {
			decodeOne[bSource](t, familyB, rt, r, "source", "connection_count", "verify_signature", "webhook_secret_set")
		}},
		{"GET /api/projects/{project_id}/destinations", in, nil, func(rt string, r *testserver.Response) {
			decodeList[bDestination](t, familyB, rt, r, "destinations", false)
		}},
		{"GET /api/projects/{project_id}/destinations/{destination_id}", map[string]any{"project_id": pid, "destination_id": okID}, nil, func(rt string, r *testserver.Response) {
			decodeOne[bDestination](t, familyB, rt, r, "destination")
		}},
		{"PUT /api/projects/{project_id}/destinations/{destination_id}", map[string]any{"project_id": pid, "destination_id": downID}, map[string]any{"eps": 11}, func(rt string, r *testserver.Response) {
			decodeOne[bDestination](t, familyB, rt, r, "destination")
		}},
		{"GET /api/connections/{connection_id}", map[string]any{"connection_id": stripeConn}, nil, func(rt string, r *testserver.Response) {
			decodeOne[bConnection](t, familyB, rt, r, "connection")
		}},
		{"PUT /api/connections/{connection_id}", map[string]any{"connection_id": toDown}, map[string]any{"eps": 5, "max_retries": 2}, func(rt string, r *testserver.Response) {
			decodeOne[bConnection](t, familyB, rt, r, "connection")
		}},
		{"GET /api/projects/{project_id}/events", in, nil, func(rt string, r *testserver.Response) {
			decodeList[bEvent](t, familyB, rt, r, "requests", true)
		}},
		{"GET /api/projects/{project_id}/events/{event_id}", map[string]any{"project_id": pid, "event_id": e1}, nil, func(rt string, r *testserver.Response) {
			decodeOne[bEvent](t, familyB, rt, r, "request", "delivery_attempts")
		}},
		{"GET /api/delivery-attempts", nil, nil, func(rt string, r *testserver.Response) {
			decodeList[bAttempt](t, familyB, rt, r, "attempts", true)
		}},
		{"GET /api/delivery-attempts?project_id={project_id}&status=failed", in, nil, func(rt string, r *testserver.Response) {
			decodeList[bAttempt](t, familyB, rt, r, "attempts", true, "error_reason")
		}},
		{"POST /api/org", nil, map[string]any{"name": "Ruby Org"}, func(rt string, r *testserver.Response) {
			decodeOne[bOrganization](t, familyB, rt, r, "organization")
		}},
	} {
		want := http.StatusOK
		if tc.route == "POST /api/org" {
			want = http.StatusCreated
		}
		tc.read(tc.route, call(want, tc.route, tc.vals, tc.body))
	}
	// The updates above change no traffic: nothing was attempted again.
	waitSettled(t, c, pid, 8)
}
