package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Provider vectors (spec/signatures.md §2). Stripe and Shopify are
// self-computed and cross-checked with Python's hmac module.
const (
	providerBody = `{"id":"evt_test","object":"event"}`

	stripeSecret = "whsec_test_secret"
	stripeTS     = 1614265330
	stripeV1     = "fbd6bf5496b9d6310e422a2c072578f95f5eb492111ab57a5510e9cd79c1b304"

	shopifySecret = "shpss_test_secret"
	shopifySig    = "Ur4J5LuO1UwC00cDlmwtg7M7zByxWcu7p7PKEJ7AE+U="

	githubSecret = "It's a Secret to Everybody"
	githubBody   = "Hello, World!"
	githubSig256 = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	githubSig1   = "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"

	slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slackTS     = "1531420618"
	slackBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

// macOf computes a MAC for tests of configurations that have no published
// vector (generic hmac); the vectors above pin the algorithm itself.
func macOf(newHash func() hash.Hash, key, msg string) []byte {
	m := hmac.New(newHash, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func TestVerifyStripe(t *testing.T) {
	t.Parallel()
	v := Verifier{Scheme: Stripe, Secret: []byte(stripeSecret)}
	now := time.Unix(stripeTS, 0)
	old := hex.EncodeToString(macOf(sha256.New, "whsec_old_secret", "1614265330."+providerBody))
	sig := func(s string) http.Header { return header("Stripe-Signature", s) }
	runVerifyCases(t, []verifyCase{
		{"vector", v, sig("t=1614265330,v1=" + stripeV1), providerBody, now, nil, ""},
		{"rotation second v1 matches", v, sig("t=1614265330,v1=" + old + ",v1=" + stripeV1), providerBody, now, nil, ""},
		{"v0 ignored", v, sig("t=1614265330,v1=" + stripeV1 + ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"), providerBody, now, nil, ""},
		{"spaces after commas", v, sig("t=1614265330, v1=" + stripeV1), providerBody, now, nil, ""},
		{"uppercase hex", v, sig("t=1614265330,v1=" + strings.ToUpper(stripeV1)), providerBody, now, nil, ""},
		{"one bad hex among good", v, sig("t=1614265330,v1=zz,v1=" + stripeV1), providerBody, now, nil, ""},

		{"wrong secret", Verifier{Scheme: Stripe, Secret: []byte("whsec_other")}, sig("t=1614265330,v1=" + stripeV1), providerBody, now,
			ErrMismatch, "none of 1 v1 signatures matched"},
		// The whsec_ prefix is part of Stripe's key; stripping it must fail.
		{"prefix stripped from key", Verifier{Scheme: Stripe, Secret: []byte("test_secret")}, sig("t=1614265330,v1=" + stripeV1), providerBody, now,
			ErrMismatch, ""},
		{"tampered body", v, sig("t=1614265330,v1=" + stripeV1), providerBody + "\n", now, ErrMismatch, ""},
		{"tampered timestamp", v, sig("t=1614265331,v1=" + stripeV1), providerBody, now, ErrMismatch, ""},
		{"missing header", v, header(), providerBody, now, ErrMissing, "no Stripe-Signature header"},
		{"no t", v, sig("v1=" + stripeV1), providerBody, now, ErrMalformed, "no t= element"},
		{"not key=value", v, sig("garbage"), providerBody, now, ErrMalformed, `element "garbage" is not key=value`},
		{"two t", v, sig("t=1614265330,t=1614265330,v1=" + stripeV1), providerBody, now, ErrMalformed, "more than one t="},
		{"t not a number", v, sig("t=now,v1=" + stripeV1), providerBody, now, ErrMalformed, "not Unix seconds"},
		{"v1 not hex", v, sig("t=1614265330,v1=xyz"), providerBody, now, ErrMalformed, "not hex"},
		{"v0 only", v, sig("t=1614265330,v0=" + stripeV1), providerBody, now, ErrMismatch, "no v1 signature"},
		{"expired", v, sig("t=1614265330,v1=" + stripeV1), providerBody, now.Add(3 * time.Hour), ErrExpired,
			"stripe: timestamp 1614265330 is 3h0m0s ago (tolerance 5m0s): signature expired"},
		{"future", v, sig("t=1614265330,v1=" + stripeV1), providerBody, now.Add(-301 * time.Second), ErrExpired, "in the future"},
	})
}

func TestVerifyGitHub(t *testing.T) {
	t.Parallel()
	v := Verifier{Scheme: GitHub, Secret: []byte(githubSecret)}
	now := time.Unix(0, 0) // GitHub signs no timestamp; now must not matter.
	runVerifyCases(t, []verifyCase{
		{"vector D", v, header("X-Hub-Signature-256", githubSig256), githubBody, now, nil, ""},
		{"legacy sha1 only", v, header("X-Hub-Signature", githubSig1), githubBody, now, nil, ""},
		{"both headers", v, header("X-Hub-Signature-256", githubSig256, "X-Hub-Signature", githubSig1), githubBody, now, nil, ""},
		{"uppercase", v, header("X-Hub-Signature-256", strings.ToUpper(githubSig256)), githubBody, now, nil, ""},

		{"wrong secret", Verifier{Scheme: GitHub, Secret: []byte("nope")}, header("X-Hub-Signature-256", githubSig256), githubBody, now,
			ErrMismatch, "X-Hub-Signature-256 header does not match the body"},
		{"tampered body", v, header("X-Hub-Signature-256", githubSig256), githubBody + "!", now, ErrMismatch, ""},
		// A bad SHA-256 must not be rescued by a good SHA-1 (downgrade).
		{"no downgrade to sha1", v, header("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64), "X-Hub-Signature", githubSig1),
			githubBody, now, ErrMismatch, "X-Hub-Signature-256"},
		{"legacy wrong", v, header("X-Hub-Signature", "sha1="+strings.Repeat("0", 40)), githubBody, now, ErrMismatch, "X-Hub-Signature header"},
		{"missing header", v, header("X-GitHub-Delivery", "1"), githubBody, now, ErrMissing, "no X-Hub-Signature-256 header"},
		{"no prefix", v, header("X-Hub-Signature-256", strings.TrimPrefix(githubSig256, "sha256=")), githubBody, now,
			ErrMalformed, `does not start with "sha256="`},
		{"sha1 prefix in 256 header", v, header("X-Hub-Signature-256", githubSig1), githubBody, now, ErrMalformed, ""},
		{"not hex", v, header("X-Hub-Signature-256", "sha256=xyz"), githubBody, now, ErrMalformed, "is not hex"},
		{"empty mac", v, header("X-Hub-Signature-256", "sha256="), githubBody, now, ErrMalformed, "is not hex"},
	})
}

func TestVerifyShopify(t *testing.T) {
	t.Parallel()
	v := Verifier{Scheme: Shopify, Secret: []byte(shopifySecret)}
	now := time.Unix(0, 0)
	runVerifyCases(t, []verifyCase{
		{"vector", v, header("X-Shopify-Hmac-Sha256", shopifySig), providerBody, now, nil, ""},
		{"lowercase header name", v, header("x-shopify-hmac-sha256", shopifySig), providerBody, now, nil, ""},

		{"wrong secret", Verifier{Scheme: Shopify, Secret: []byte("shpss_other")}, header("X-Shopify-Hmac-Sha256", shopifySig), providerBody, now,
			ErrMismatch, "does not match the body"},
		{"tampered body", v, header("X-Shopify-Hmac-Sha256", shopifySig), `{"id":"evt_test","object":"Event"}`, now, ErrMismatch, ""},
		{"missing header", v, header(), providerBody, now, ErrMissing, "no X-Shopify-Hmac-Sha256 header"},
		{"not base64", v, header("X-Shopify-Hmac-Sha256", "!!not base64!!"), providerBody, now, ErrMalformed, "is not base64"},
		{"hex instead of base64", v, header("X-Shopify-Hmac-Sha256", stripeV1), providerBody, now, ErrMismatch, ""},
	})
}

func TestVerifySlack(t *testing.T) {
	t.Parallel()
	v := Verifier{Scheme: Slack, Secret: []byte(slackSecret)}
	now := time.Unix(1531420618, 0)
	h := func(sig, ts string) http.Header {
		return header("X-Slack-Signature", sig, "X-Slack-Request-Timestamp", ts)
	}
	runVerifyCases(t, []verifyCase{
		{"vector E", v, h(slackSig, slackTS), slackBody, now, nil, ""},
		{"within tolerance", v, h(slackSig, slackTS), slackBody, now.Add(4 * time.Minute), nil, ""},

		{"wrong secret", Verifier{Scheme: Slack, Secret: []byte("other")}, h(slackSig, slackTS), slackBody, now,
			ErrMismatch, "X-Slack-Signature header does not match"},
		{"tampered body", v, h(slackSig, slackTS), slackBody + "&x=1", now, ErrMismatch, ""},
		{"tampered timestamp", v, h(slackSig, "1531420619"), slackBody, now, ErrMismatch, ""},
		{"missing signature", v, header("X-Slack-Request-Timestamp", slackTS), slackBody, now, ErrMissing, "no X-Slack-Signature header"},
		{"missing timestamp", v, header("X-Slack-Signature", slackSig), slackBody, now, ErrMissing, "no X-Slack-Request-Timestamp header"},
		{"malformed timestamp", v, h(slackSig, "1531420618.0"), slackBody, now, ErrMalformed, "not Unix seconds"},
		{"malformed signature", v, h(strings.TrimPrefix(slackSig, "v0="), slackTS), slackBody, now, ErrMalformed, `does not start with "v0="`},
		{"expired", v, h(slackSig, slackTS), slackBody, now.Add(5*time.Minute + time.Second), ErrExpired, "is 5m1s ago"},
		{"future", v, h(slackSig, slackTS), slackBody, now.Add(-10 * time.Minute), ErrExpired, "is 10m0s in the future"},
	})
}

func TestVerifyHMAC(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	const key, body = "generic_secret", `{"ok":true}`
	sha256Hex := hex.EncodeToString(macOf(sha256.New, key, body))
	sha512B64 := base64.StdEncoding.EncodeToString(macOf(sha512.New, key, body))
	sha512URL := base64.RawURLEncoding.EncodeToString(macOf(sha512.New, key, body))
	defaults := Verifier{Scheme: HMAC, Secret: []byte(key), HMAC: HMACConfig{Header: "X-Signature"}}
	prefixed := Verifier{Scheme: HMAC, Secret: []byte(key), HMAC: HMACConfig{Header: "X-Signature", Prefix: "sha256="}}
	b64 := Verifier{Scheme: HMAC, Secret: []byte(key), HMAC: HMACConfig{Header: "X-Sig", Algorithm: "sha512", Encoding: "base64"}}
	runVerifyCases(t, []verifyCase{
		{"defaults sha256 hex", defaults, header("X-Signature", sha256Hex), body, now, nil, ""},
		{"prefix", prefixed, header("X-Signature", "sha256="+sha256Hex), body, now, nil, ""},
		{"prefix case-insensitive", prefixed, header("X-Signature", "SHA256="+sha256Hex), body, now, nil, ""},
		{"sha512 base64", b64, header("X-Sig", sha512B64), body, now, nil, ""},
		{"sha512 unpadded url base64", b64, header("X-Sig", sha512URL), body, now, nil, ""},

		{"wrong secret", Verifier{Scheme: HMAC, Secret: []byte("x"), HMAC: defaults.HMAC}, header("X-Signature", sha256Hex), body, now,
			ErrMismatch, "hmac: X-Signature header does not match"},
		{"tampered body", defaults, header("X-Signature", sha256Hex), body + " ", now, ErrMismatch, ""},
		{"wrong algorithm", b64, header("X-Sig", base64.StdEncoding.EncodeToString(macOf(sha256.New, key, body))), body, now, ErrMismatch, ""},
		{"missing header", defaults, header("X-Other", sha256Hex), body, now, ErrMissing, "no X-Signature header"},
		{"missing prefix", prefixed, header("X-Signature", sha256Hex), body, now, ErrMalformed, `does not start with "sha256="`},
		{"not hex", defaults, header("X-Signature", "nothex"), body, now, ErrMalformed, "is not hex"},
		{"not base64", b64, header("X-Sig", "***"), body, now, ErrMalformed, "is not base64"},
	})
}
