package signature

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"
)

// Header parsers read attacker-controlled text before anything is
// authenticated, so they must never panic and must fail only with
// ErrMalformed. Run longer with, for example:
//
//	go test -run '^$' -fuzz FuzzParseStripeHeader -fuzztime 30s ./internal/signature

func FuzzParseStripeHeader(f *testing.F) {
	for _, s := range []string{
		"t=1614265330,v1=" + stripeV1,
		"t=1614265330,v1=aa,v1=bb,v0=cc",
		"t=1,t=2",
		"v1=aa",
		"t=,v1=",
		",,,",
		"=",
		"t=1614265330, v1=x ,garbage",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := parseStripeHeader(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parseStripeHeader(%q) error %v does not wrap ErrMalformed", s, err)
			}
			return
		}
		if !strings.Contains(s, "t="+sh.timestamp) {
			t.Fatalf("parseStripeHeader(%q) timestamp %q is not from the input", s, sh.timestamp)
		}
		for _, v1 := range sh.v1 {
			if strings.Contains(v1, ",") {
				t.Fatalf("parseStripeHeader(%q) v1 %q spans an element boundary", s, v1)
			}
		}
	})
}

func FuzzParseSignatureList(f *testing.F) {
	for _, s := range []string{
		vecASig,
		vecCSig + " " + vecASig,
		"v1,a v2,b junk v1a,",
		"v1",
		",",
		" \t\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sigs, err := parseSignatureList(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parseSignatureList(%q) error %v does not wrap ErrMalformed", s, err)
			}
			return
		}
		if len(sigs) == 0 {
			t.Fatalf("parseSignatureList(%q) returned no entries and no error", s)
		}
		for _, vs := range sigs {
			if vs.Version == "" || vs.Signature == "" || strings.Contains(vs.Version, ",") ||
				strings.ContainsAny(vs.Version+vs.Signature, " \t\n") {
				t.Fatalf("parseSignatureList(%q) returned bad entry %+v", s, vs)
			}
		}
	})
}

// FuzzVerify drives every scheme with arbitrary header values and bodies.
// With a valid configuration, every failure must be one of the request
// sentinels: anything else would be turned into a 500 instead of a 401.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), "t=1614265330,v1="+stripeV1, "", "", providerBody)
	f.Add(uint8(4), vecASig, vecAID, "1614265330", vecABody)
	f.Add(uint8(5), vecCSig+" v1,"+stripeV1, vecAID, "1614265330", vecABody)
	f.Add(uint8(3), slackSig, "", slackTS, slackBody)
	f.Add(uint8(1), githubSig256, "", "", githubBody)
	f.Add(uint8(6), "sha256=00", "", "99999999999999999999", "")
	verifiers := []Verifier{
		{Scheme: Stripe, Secret: []byte(stripeSecret)},
		{Scheme: GitHub, Secret: []byte(githubSecret)},
		{Scheme: Shopify, Secret: []byte(shopifySecret)},
		{Scheme: Slack, Secret: []byte(slackSecret)},
		{Scheme: StandardWebhooks, Secret: []byte(vecASecret)},
		{Scheme: StandardWebhooks, Secret: []byte("whpk_" + vecCPublic)},
		{Scheme: HMAC, Secret: []byte("k"), HMAC: HMACConfig{Header: "X-Sig", Prefix: "sha256=", Encoding: "base64"}},
	}
	now := time.Unix(1614265330, 0)
	f.Fuzz(func(t *testing.T, which uint8, sig, id, ts, body string) {
		v := verifiers[int(which)%len(verifiers)]
		h := header(
			"Stripe-Signature", sig,
			"X-Hub-Signature-256", sig,
			"X-Hub-Signature", sig,
			"X-Shopify-Hmac-Sha256", sig,
			"X-Slack-Signature", sig,
			"X-Slack-Request-Timestamp", ts,
			"webhook-signature", sig,
			"webhook-id", id,
			"webhook-timestamp", ts,
			"svix-signature", sig,
			"svix-id", id,
			"svix-timestamp", ts,
			"X-Sig", sig,
		)
		err := v.Verify(h, []byte(body), now)
		if err == nil {
			return
		}
		for _, s := range []error{ErrMissing, ErrMalformed, ErrExpired, ErrMismatch} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("Verify(%s) error %v wraps no sentinel", v.Scheme, err)
	})
}

// FuzzCheckTimestamp drives the timestamp headers of Stripe, Slack and
// Standard Webhooks: any text is accepted only when it is decimal Unix
// seconds within the tolerance, and fails only with ErrMalformed or
// ErrExpired (no overflow near the int64 limits).
func FuzzCheckTimestamp(f *testing.F) {
	for _, s := range []string{"1614265330", "1614265031", "99999999999999999999", "9223372036854775807",
		"-1", "+1614265330", " 1614265330", "0x10", "", "0"} {
		f.Add(s)
	}
	now := time.Unix(1614265330, 0)
	f.Fuzz(func(t *testing.T, raw string) {
		err := checkTimestamp("fuzz", raw, now, 5*time.Minute)
		if err == nil {
			ts, perr := parseUnix(raw)
			if perr != nil || ts < now.Unix()-300 || ts > now.Unix()+300 {
				t.Fatalf("checkTimestamp accepted %q (parsed %d, %v)", raw, ts, perr)
			}
			return
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrExpired) {
			t.Fatalf("checkTimestamp(%q) error %v wraps no sentinel", raw, err)
		}
		if len(err.Error()) > 300 {
			t.Fatalf("checkTimestamp(%q) error is %d bytes long: hostile input must be clipped", raw, len(err.Error()))
		}
	})
}

// FuzzCheckMAC drives the single-MAC headers (GitHub, Shopify, Slack, the
// generic HMAC scheme) with every encoding: only the right MAC verifies,
// and every failure wraps ErrMalformed or ErrMismatch.
func FuzzCheckMAC(f *testing.F) {
	f.Add("sha256=", "sha256=00ff", uint8(0))
	f.Add("", "AAAA", uint8(1))
	f.Add("v0=", "V0=zz", uint8(0))
	f.Add("sha256=", "sha256=", uint8(1))
	f.Add("", "  \t", uint8(2))
	codecs := []codec{hexCodec, base64Codec, lenientBase64}
	key := []byte("k")
	f.Fuzz(func(t *testing.T, prefix, value string, which uint8) {
		c := codecs[int(which)%len(codecs)]
		err := checkMAC("fuzz", "X-Sig", value, prefix, c, sha256.New, key, []byte("body"))
		if err == nil {
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte("body"))
			enc, _ := cutPrefixFold(strings.TrimSpace(value), prefix)
			got, _ := c.decode(enc)
			if !hmac.Equal(got, mac.Sum(nil)) {
				t.Fatalf("checkMAC accepted %q with prefix %q", value, prefix)
			}
			return
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMismatch) {
			t.Fatalf("checkMAC(%q, %q) error %v wraps no sentinel", prefix, value, err)
		}
	})
}

// FuzzParseInboundKey parses the secrets people paste into a source's
// webhook_secret: never a panic, and a key only of a usable size.
func FuzzParseInboundKey(f *testing.F) {
	for _, s := range []string{vecASecret, "whpk_" + vecCPublic, "whsk_abc", "whsec_", "whsec_!!!", " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", "whpk_AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parseInboundKey(s)
		if err != nil {
			return
		}
		if k.publicKey == nil && len(k.hmacKey) < minKeyLen {
			t.Fatalf("parseInboundKey(%q) gave a %d-byte HMAC key", s, len(k.hmacKey))
		}
		if k.publicKey != nil && len(k.publicKey) != ed25519.PublicKeySize {
			t.Fatalf("parseInboundKey(%q) gave a %d-byte public key", s, len(k.publicKey))
		}
	})
}
