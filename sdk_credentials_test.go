package volley_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/volleyhq/volley"
)

// TestSDKSourceGeneratedCredentials: the SDK has no field to send a
// source's credentials, so a basic source it creates gets a generated
// password, returned once in Source.AuthKey, that ingestion accepts.
func TestSDKSourceGeneratedCredentials(t *testing.T) {
	t.Parallel()
	acct := newAccount("Credentials")
	c := volley.NewClient(acct.Token, volley.WithBaseURL(baseURL()))
	src, err := c.CreateSource(acct.Project.ID, volley.CreateSourceRequest{Name: "Protected", AuthType: "basic"})
	if err != nil {
		t.Fatal(err)
	}
	if len(src.AuthKey) < 32 || src.AuthUsername != "volley" {
		t.Fatalf("created source: user %q, key %q; want volley and a generated key", src.AuthUsername, src.AuthKey)
	}
	again, err := c.GetSource(src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.AuthKey != "" {
		t.Errorf("GetSource shows the key again: %q", again.AuthKey)
	}
	post := func(auth string) int {
		t.Helper()
		req, err := http.NewRequest("POST", baseURL()+"/hook/"+src.IngestionID, strings.NewReader(`{"a":1}`))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("Basic " + base64.StdEncoding.EncodeToString([]byte("volley:"+src.AuthKey))); got != http.StatusAccepted {
		t.Errorf("ingest with the generated password = %d, want 202", got)
	}
	if _, err := c.SendWebhook(src.IngestionID, map[string]any{"a": 1}); err == nil {
		t.Error("SendWebhook without credentials to a basic source succeeded")
	}
}
