package signature

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// header builds an http.Header from name/value pairs through Set, so names
// are canonicalised exactly as they are on a real request.
func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// verifyCase is one row of the per-scheme verification tables.
type verifyCase struct {
	name    string
	v       Verifier
	h       http.Header
	body    string
	now     time.Time
	wantErr error // nil for success
	wantMsg string
}

// runVerifyCases runs a verification table: each row must succeed, or fail
// with its sentinel and, when given, a message a person can act on.
func runVerifyCases(t *testing.T, tests []verifyCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.v.Verify(tt.h, []byte(tt.body), tt.now)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Verify error = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestSupported(t *testing.T) {
	t.Parallel()
	for _, s := range []string{Stripe, GitHub, Shopify, Slack, StandardWebhooks, HMAC} {
		if !Supported(s) {
			t.Errorf("Supported(%q) = false", s)
		}
	}
	for _, s := range []string{"", "webhook", "svix", "Stripe"} {
		if Supported(s) {
			t.Errorf("Supported(%q) = true", s)
		}
	}
}

func TestDedupKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scheme string
		h      http.Header
		want   string
	}{
		{GitHub, header("X-GitHub-Delivery", "72d3162e-cc78"), "72d3162e-cc78"},
		{Shopify, header("X-Shopify-Webhook-Id", "b54557e4"), "b54557e4"},
		{StandardWebhooks, header("webhook-id", "msg_1", "svix-id", "msg_2"), "msg_1"},
		{StandardWebhooks, header("svix-id", "msg_2"), "msg_2"},
		{Stripe, header("Stripe-Signature", "t=1,v1=00"), ""},
		{Slack, header("X-Slack-Request-Timestamp", "1"), ""},
		{HMAC, header("X-GitHub-Delivery", "x"), ""},
		{GitHub, header(), ""},
		{"webhook", header("webhook-id", "msg_1"), ""},
	}
	for _, tt := range tests {
		if got := DedupKey(tt.scheme, tt.h); got != tt.want {
			t.Errorf("DedupKey(%q, %v) = %q, want %q", tt.scheme, tt.h, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       Verifier
		wantErr string // "" for valid
	}{
		{"stripe", Verifier{Scheme: Stripe, Secret: []byte("whsec_x")}, ""},
		{"github", Verifier{Scheme: GitHub, Secret: []byte("s")}, ""},
		{"shopify", Verifier{Scheme: Shopify, Secret: []byte("s")}, ""},
		{"slack with tolerance", Verifier{Scheme: Slack, Secret: []byte("s"), Tolerance: time.Minute}, ""},
		{"standard webhooks whsec", Verifier{Scheme: StandardWebhooks, Secret: []byte(vecASecret)}, ""},
		{"standard webhooks whpk", Verifier{Scheme: StandardWebhooks, Secret: []byte("whpk_" + vecCPublic)}, ""},
		{"hmac defaults", Verifier{Scheme: HMAC, Secret: []byte("s"), HMAC: HMACConfig{Header: "X-Sig"}}, ""},
		{"hmac sha512 base64", Verifier{Scheme: HMAC, Secret: []byte("s"), HMAC: HMACConfig{Header: "X-Sig", Algorithm: "SHA512", Encoding: "base64"}}, ""},

		{"unknown scheme", Verifier{Scheme: "webhook", Secret: []byte("s")}, `unknown signature scheme "webhook"`},
		{"empty secret", Verifier{Scheme: GitHub}, "github: webhook secret is empty"},
		{"negative tolerance", Verifier{Scheme: Slack, Secret: []byte("s"), Tolerance: -time.Second}, "negative"},
		{"standard webhooks bad base64", Verifier{Scheme: StandardWebhooks, Secret: []byte("whsec_***")}, "not standard base64"},
		{"standard webhooks short key", Verifier{Scheme: StandardWebhooks, Secret: []byte("whsec_c2hvcnQ=")}, "at least 16"},
		{"standard webhooks short public key", Verifier{Scheme: StandardWebhooks, Secret: []byte("whpk_c2hvcnQ=")}, "want 32"},
		{"standard webhooks private key", Verifier{Scheme: StandardWebhooks, Secret: []byte("whsk_" + vecCKeypair)}, "whpk_ public key"},
		{"hmac header with space", Verifier{Scheme: HMAC, Secret: []byte("s"), HMAC: HMACConfig{Header: "X Sig"}}, "contains ' '"},
		{"hmac header with colon", Verifier{Scheme: HMAC, Secret: []byte("s"), HMAC: HMACConfig{Header: "X-Sig:"}}, "contains ':'"},
		{"hmac no header", Verifier{Scheme: HMAC, Secret: []byte("s")}, "header name is empty"},
		{"hmac bad algorithm", Verifier{Scheme: HMAC, Secret: []byte("s"), HMAC: HMACConfig{Header: "X", Algorithm: "md5"}}, `"md5" is not sha256 or sha512`},
		{"hmac bad encoding", Verifier{Scheme: HMAC, Secret: []byte("s"), HMAC: HMACConfig{Header: "X", Encoding: "base32"}}, `"base32" is not hex or base64`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.v.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestVerifyMisconfigured checks that configuration problems are not
// reported as request problems: the ingest layer answers 401 for the
// sentinels, and a broken source is the operator's fault, not the sender's.
func TestVerifyMisconfigured(t *testing.T) {
	t.Parallel()
	for _, v := range []Verifier{
		{Scheme: "webhook", Secret: []byte("s")},
		{Scheme: GitHub},
		{Scheme: HMAC, Secret: []byte("s")},
		{Scheme: StandardWebhooks, Secret: []byte("whsec_***")},
	} {
		err := v.Verify(header(), nil, time.Unix(0, 0))
		if err == nil {
			t.Errorf("Verify(%+v) = nil, want a configuration error", v)
			continue
		}
		for _, s := range []error{ErrMissing, ErrMalformed, ErrExpired, ErrMismatch} {
			if errors.Is(err, s) {
				t.Errorf("Verify(%+v) = %v, wraps request sentinel %v", v, err, s)
			}
		}
	}
}

func TestCheckTimestamp(t *testing.T) {
	t.Parallel()
	now := time.Unix(1614265330, 500_000_000)
	tests := []struct {
		name    string
		raw     string
		tol     time.Duration
		wantErr error
		wantMsg string
	}{
		{"now", "1614265330", DefaultTolerance, nil, ""},
		{"edge past", "1614265030", DefaultTolerance, nil, ""},
		{"edge future", "1614265630", DefaultTolerance, nil, ""},
		{"just past", "1614265029", DefaultTolerance, ErrExpired, "stripe: timestamp 1614265029 is 5m1s ago (tolerance 5m0s): signature expired"},
		{"just future", "1614265631", DefaultTolerance, ErrExpired, "stripe: timestamp 1614265631 is 5m1s in the future (tolerance 5m0s): signature expired"},
		{"three hours", "1614254530", DefaultTolerance, ErrExpired, "is 3h0m0s ago"},
		{"wider tolerance", "1614254530", 4 * time.Hour, nil, ""},
		{"zero", "0", DefaultTolerance, ErrExpired, "ago"},
		{"max int64", "9223372036854775807", DefaultTolerance, ErrExpired, "in the future"},
		{"overflow", "9223372036854775808", DefaultTolerance, ErrMalformed, "not Unix seconds"},
		{"sign", "+1614265330", DefaultTolerance, ErrMalformed, "not Unix seconds"},
		{"negative", "-1", DefaultTolerance, ErrMalformed, "not Unix seconds"},
		{"milliseconds text", "1614265330.5", DefaultTolerance, ErrMalformed, "not Unix seconds"},
		{"empty", "", DefaultTolerance, ErrMalformed, "not Unix seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkTimestamp(Stripe, tt.raw, now, tt.tol)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("checkTimestamp(%q) = %v, want %v", tt.raw, err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("checkTimestamp(%q) = %q, want it to contain %q", tt.raw, err, tt.wantMsg)
			}
		})
	}
}
