package volley

import (
	"net/http"
	"testing"
)

// The HTTP client is not exported, so its defaults are checked from inside.

func TestDefaultHTTPClient(t *testing.T) {
	t.Parallel()
	c := NewClient("token")
	if c.httpClient == nil || c.httpClient == http.DefaultClient {
		t.Fatalf("httpClient = %p, want a client of its own", c.httpClient)
	}
	if got := c.httpClient.Timeout; got != DefaultTimeout {
		t.Errorf("Timeout = %v, want DefaultTimeout (%v)", got, DefaultTimeout)
	}
}

func TestWithHTTPClientReplaces(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	if got := NewClient("token", WithHTTPClient(hc)).httpClient; got != hc {
		t.Errorf("httpClient = %p, want the given %p", got, hc)
	}
	if got := NewClient("token", WithHTTPClient(nil)).httpClient; got == nil || got.Timeout != DefaultTimeout {
		t.Errorf("WithHTTPClient(nil): httpClient = %v, want the default", got)
	}
}
