package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

func TestCamelCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"id": "id", "created_at": "createdAt", "ingestion_id": "ingestionId", "latency_p50_ms": "latencyP50Ms",
		"raw_body_base64": "rawBodyBase64", "delivery_attempts": "deliveryAttempts", "_x": "x", "a__b": "aB",
	} {
		if got := camelCase(in); got != want {
			t.Errorf("camelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// twinSamples are response values of every shape the API writes.
func twinSamples() map[string]any {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	body := "{\"user_id\":1,\"a<b\":\"\u2028\"}"
	att := attemptOut(&volley.Attempt{ID: 7, EventUID: "evt_x", DeliveryID: 3, SourceID: 1, ConnectionID: 2, DestinationID: 4,
		Status: "failed", StatusCode: 500, ErrorReason: "http_500", DurationMS: 12, Number: 1, Trigger: "auto",
		ResponseHeaders: http.Header{"X_Reply_Id": {"1"}, "Set-Cookie": {"a", "b"}}, ResponseBody: []byte(`{"error_code":1}`), CreatedAt: now})
	ev := eventOut(&volley.Event{ID: 9, UID: "evt_x", ProjectID: 1, SourceID: 2, SourceSlug: "s", Method: "POST",
		Headers: http.Header{"X_Custom_Key": {"v"}, "Content-Type": {"application/json"}}, Body: []byte(body), Status: "failed", CreatedAt: now})
	ev.DeliveryAttempts = &[]attemptJSON{att}
	last := now.Add(time.Minute)
	conn := connectionOut(&volley.Connection{ID: 1, ProjectID: 2, SourceID: 3, DestinationID: 4, Status: "enabled", MaxRetries: 5, CreatedAt: now, UpdatedAt: now})
	conn.Metrics = &metricsJSON{Since: now, EventsRouted: 3, SuccessRate: 0.5, LatencyP50MS: 4, LastDeliveryAt: &last}
	return map[string]any{
		"event":      ev,
		"connection": conn,
		"list":       map[string]any{"requests": []eventJSON{ev}, "total": int64(1), "limit": 50, "offset": 0},
		"empty":      map[string]any{"attempts": []attemptJSON{}, "nil_list": []attemptJSON(nil)},
		"replay":     replayJSON{Success: true, Attempts: []attemptJSON{att}},
		"binary":     eventOut(&volley.Event{Body: []byte{0xff, 0x00}, CreatedAt: now}),
	}
}

// TestMarshalTwinned checks that a twinned encoding is json.Marshal's plus,
// for every multi-word key of a struct, its camelCase twin holding the same
// value, and that map keys (user data) get no twins.
func TestMarshalTwinned(t *testing.T) {
	t.Parallel()
	for name, v := range twinSamples() {
		plain, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		twinned, err := marshalTwinned(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var a, b any
		if err := json.Unmarshal(plain, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(twinned, &b); err != nil {
			t.Fatalf("%s: twinned JSON does not parse: %v\n%s", name, err, twinned)
		}
		checkTwins(t, name, a, b)
	}
}

func checkTwins(t *testing.T, path string, plain, twinned any) {
	t.Helper()
	switch p := plain.(type) {
	case map[string]any:
		tw, ok := twinned.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, want an object", path, twinned)
			return
		}
		for k, v := range p {
			checkTwins(t, path+"."+k, v, tw[k])
		}
		for k, v := range tw {
			if _, own := p[k]; own {
				continue
			}
			src := ""
			for pk := range p {
				if camelCase(pk) == k {
					src = pk
				}
			}
			if src == "" {
				t.Errorf("%s: extra key %q is no key's twin", path, k)
				continue
			}
			if !reflect.DeepEqual(v, tw[src]) {
				t.Errorf("%s.%s = %v, want the value of %s, %v", path, k, v, src, tw[src])
			}
		}
	case []any:
		tw, ok := twinned.([]any)
		if !ok || len(tw) != len(p) {
			t.Errorf("%s: got %v, want %d items", path, twinned, len(p))
			return
		}
		for i := range p {
			checkTwins(t, path+"[]", p[i], tw[i])
		}
	default:
		if !reflect.DeepEqual(plain, twinned) {
			t.Errorf("%s = %v, want %v", path, twinned, plain)
		}
	}
}

func TestMarshalTwinnedLeavesDataAlone(t *testing.T) {
	t.Parallel()
	out, err := marshalTwinned(twinSamples()["event"])
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{`"createdAt":"2026-01-02T03:04:05.000006Z"`, `"rawBody":`, `"deliveryAttempts":[{`, `"statusCode":500`, `"responseCode":500`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in %s", want, s)
		}
	}
	for _, never := range []string{`"xCustomKey"`, `"XCustomKey"`, `"xReplyId"`, `"userId"`, `"errorCode"`} {
		if strings.Contains(s, never) {
			t.Errorf("user data was rewritten: %s in %s", never, s)
		}
	}
}
