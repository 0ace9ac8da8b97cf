package ingest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/testserver"
)

func mac(newHash func() hash.Hash, key string, parts ...string) []byte {
	m := hmac.New(newHash, []byte(key))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// swKey is the HMAC key of a Standard Webhooks whsec_ secret.
func swKey(t testing.TB, secret string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	githubSecret = "It's a Secret to Everybody"
	stripeSecret = "whsec_test_secret"
	swSecret     = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	slackSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
)

func TestIngestVerifiesSignatures(t *testing.T) {
	t.Parallel()
	n := setup(t)
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	old := strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10)
	const body = `{"id":"evt_test","object":"event"}`
	stripeSig := func(t string, payload string) string {
		return "t=" + t + ",v1=" + hex.EncodeToString(mac(sha256.New, stripeSecret, t, ".", payload))
	}
	swSig := func(t testing.TB, id, ts, payload string) string {
		return "v1," + base64.StdEncoding.EncodeToString(mac(sha256.New, swKey(t, swSecret), id, ".", ts, ".", payload))
	}

	for _, tc := range []struct {
		name   string
		source map[string]any
		body   string
		header func(t testing.TB) []string
		want   int
		msg    string // part of the 401 message
	}{
		{"github vector", map[string]any{"type": "github", "webhook_secret": githubSecret}, "Hello, World!",
			func(testing.TB) []string {
				return []string{"X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}
			}, 202, ""},
		{"github tampered body", map[string]any{"type": "github", "webhook_secret": githubSecret}, "Hello, World?",
			func(testing.TB) []string {
				return []string{"X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}
			}, 401, "does not match"},
		{"github unsigned", map[string]any{"type": "github", "webhook_secret": githubSecret}, "Hello, World!",
			func(testing.TB) []string { return nil }, 401, "X-Hub-Signature-256"},
		{"stripe fresh", map[string]any{"type": "stripe", "webhook_secret": stripeSecret}, body,
			func(testing.TB) []string { return []string{"Stripe-Signature", stripeSig(ts, body)} }, 202, ""},
		{"stripe old timestamp", map[string]any{"type": "stripe", "webhook_secret": stripeSecret}, body,
			func(testing.TB) []string { return []string{"Stripe-Signature", stripeSig(old, body)} }, 401, "expired"},
		{"stripe other secret", map[string]any{"type": "stripe", "webhook_secret": "whsec_other"}, body,
			func(testing.TB) []string { return []string{"Stripe-Signature", stripeSig(ts, body)} }, 401, "signature"},
		{"standard webhooks", map[string]any{"type": "standard_webhooks", "webhook_secret": swSecret}, body,
			func(t testing.TB) []string {
				return []string{"webhook-id", "msg_1", "webhook-timestamp", ts, "webhook-signature", swSig(t, "msg_1", ts, body)}
			}, 202, ""},
		{"svix headers", map[string]any{"type": "standard_webhooks", "webhook_secret": swSecret}, body,
			func(t testing.TB) []string {
				return []string{"svix-id", "msg_2", "svix-timestamp", ts, "svix-signature", "v1,bm90IGl0 " + swSig(t, "msg_2", ts, body)}
			}, 202, ""},
		{"standard webhooks tampered", map[string]any{"type": "standard_webhooks", "webhook_secret": swSecret}, body + " ",
			func(t testing.TB) []string {
				return []string{"webhook-id", "msg_3", "webhook-timestamp", ts, "webhook-signature", swSig(t, "msg_3", ts, body)}
			}, 401, "signature"},
		{"standard webhooks old", map[string]any{"type": "standard_webhooks", "webhook_secret": swSecret}, body,
			func(t testing.TB) []string {
				return []string{"webhook-id", "msg_4", "webhook-timestamp", old, "webhook-signature", swSig(t, "msg_4", old, body)}
			}, 401, "expired"},
		{"shopify", map[string]any{"type": "shopify", "webhook_secret": "shpss_test_secret"}, body,
			func(testing.TB) []string {
				return []string{"X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac(sha256.New, "shpss_test_secret", body))}
			}, 202, ""},
		{"slack", map[string]any{"type": "slack", "webhook_secret": slackSecret}, body,
			func(testing.TB) []string {
				return []string{"X-Slack-Request-Timestamp", ts, "X-Slack-Signature", "v0=" + hex.EncodeToString(mac(sha256.New, slackSecret, "v0:", ts, ":", body))}
			}, 202, ""},
		{"generic hmac", map[string]any{"type": "hmac", "webhook_secret": "generic", "signature_header": "X-Signature",
			"signature_algorithm": "sha512", "signature_encoding": "base64", "signature_prefix": "sha512="}, body,
			func(testing.TB) []string {
				return []string{"X-Signature", "sha512=" + base64.StdEncoding.EncodeToString(mac(sha512.New, "generic", body))}
			}, 202, ""},
		{"generic hmac wrong algorithm", map[string]any{"type": "hmac", "webhook_secret": "generic", "signature_header": "X-Signature",
			"signature_algorithm": "sha512", "signature_encoding": "base64", "signature_prefix": "sha512="}, body,
			func(testing.TB) []string {
				return []string{"X-Signature", "sha512=" + base64.StdEncoding.EncodeToString(mac(sha256.New, "generic", body))}
			}, 401, "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.source["verify_signature"] = true
			src := n.newSource(t, tc.source)
			header := tc.header(t)
			r := n.post(t, src.IngestionID, []byte(tc.body), header...)
			if tc.want != 202 {
				msg := refused(t, r, tc.want)
				if !strings.Contains(msg, "signature verification failed") || !strings.Contains(msg, tc.msg) {
					t.Errorf("401 message %q, want it to explain the failure (%q)", msg, tc.msg)
				}
				if got := n.total(t, src.ID); got != 0 {
					t.Errorf("%d events stored after a bad signature", got)
				}
				return
			}
			e := n.event(t, accepted(t, r).EventID)
			// The provider's signature headers are kept with the event.
			for i := 0; i+1 < len(header); i += 2 {
				if got := e.header(header[i]); len(got) != 1 || got[0] != header[i+1] {
					t.Errorf("stored %s = %q, want %q", header[i], got, header[i+1])
				}
			}
		})
	}
}

// TestIngestPublishedVectors replays the published signature vectors (with
// their own timestamps) through ingestion, on a node whose clock is set to
// each vector's time.
func TestIngestPublishedVectors(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1614265330, 0)}
	n := setupWith(t, testserver.Options{NowFunc: clk.Now})
	slackBody := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"

	for _, tc := range []struct {
		name   string
		at     int64 // Unix seconds of the node's clock
		source map[string]any
		body   string
		header []string
		want   int
	}{
		{"standard webhooks A", 1614265330, map[string]any{"type": "standard_webhooks", "webhook_secret": swSecret},
			`{"test": 2432232314}`, []string{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}, 202},
		{"standard webhooks A, 5 minutes later", 1614265330 + 300, map[string]any{"type": "standard_webhooks", "webhook_secret": swSecret},
			`{"test": 2432232314}`, []string{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}, 202},
		{"standard webhooks A, 5 minutes and 1 second later", 1614265330 + 301, map[string]any{"type": "standard_webhooks", "webhook_secret": swSecret},
			`{"test": 2432232314}`, []string{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp", "1614265330",
				"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}, 401},
		{"standard webhooks B", 1649367553, map[string]any{"type": "standard_webhooks", "webhook_secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"},
			`{"email":"test@example.com","username":"test_user"}`, []string{"webhook-id", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
				"webhook-timestamp", "1649367553", "webhook-signature", "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="}, 202},
		{"slack E", 1531420618, map[string]any{"type": "slack", "webhook_secret": slackSecret}, slackBody,
			[]string{"X-Slack-Request-Timestamp", "1531420618", "X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"}, 202},
		{"stripe", 1614265330, map[string]any{"type": "stripe", "webhook_secret": stripeSecret}, `{"id":"evt_test","object":"event"}`,
			[]string{"Stripe-Signature", "t=1614265330,v1=fbd6bf5496b9d6310e422a2c072578f95f5eb492111ab57a5510e9cd79c1b304"}, 202},
		{"stripe, 10 minutes later", 1614265330 + 600, map[string]any{"type": "stripe", "webhook_secret": stripeSecret}, `{"id":"evt_test","object":"event"}`,
			[]string{"Stripe-Signature", "t=1614265330,v1=fbd6bf5496b9d6310e422a2c072578f95f5eb492111ab57a5510e9cd79c1b304"}, 401},
		{"shopify", 1614265330, map[string]any{"type": "shopify", "webhook_secret": "shpss_test_secret"}, `{"id":"evt_test","object":"event"}`,
			[]string{"X-Shopify-Hmac-Sha256", "Ur4J5LuO1UwC00cDlmwtg7M7zByxWcu7p7PKEJ7AE+U="}, 202},
	} {
		// Sequential: the subtests share the node's clock.
		t.Run(tc.name, func(t *testing.T) {
			clk.Set(time.Unix(tc.at, 0))
			tc.source["verify_signature"] = true
			src := n.newSource(t, tc.source)
			r := n.post(t, src.IngestionID, []byte(tc.body), tc.header...)
			if tc.want == 202 {
				accepted(t, r)
				return
			}
			refused(t, r, tc.want)
		})
	}
}

func TestIngestSlackURLVerification(t *testing.T) {
	t.Parallel()
	n := setup(t)
	src := n.newSource(t, map[string]any{"type": "slack", "verify_signature": true, "webhook_secret": slackSecret})
	const challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
	handshake := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"` + challenge + `","type":"url_verification"}`
	sign := func(body string) []string {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		return []string{"Content-Type", "application/json", "X-Slack-Request-Timestamp", ts,
			"X-Slack-Signature", "v0=" + hex.EncodeToString(mac(sha256.New, slackSecret, "v0:", ts, ":", body))}
	}

	r := n.post(t, src.IngestionID, []byte(handshake), sign(handshake)...)
	if r.Status != http.StatusOK {
		t.Fatalf("handshake: status %d %s, want 200", r.Status, r.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil || got["challenge"] != challenge {
		t.Fatalf("handshake answer %s (%v), want the challenge echoed", r.Body, err)
	}
	// An unsigned handshake is not answered: it would let anyone prove
	// control of the URL.
	refused(t, n.post(t, src.IngestionID, []byte(handshake)), http.StatusUnauthorized)
	if got := n.total(t, src.ID); got != 0 {
		t.Fatalf("the handshake was stored as %d event(s)", got)
	}

	callback := `{"type":"event_callback","event":{"type":"app_mention"}}`
	accepted(t, n.post(t, src.IngestionID, []byte(callback), sign(callback)...))
	if got := n.total(t, src.ID); got != 1 {
		t.Fatalf("%d events after a real callback, want 1", got)
	}
}
