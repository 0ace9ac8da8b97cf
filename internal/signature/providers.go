package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"time"
)

// codec decodes the text form of a MAC; name appears in error messages.
type codec struct {
	name   string
	decode func(string) ([]byte, error)
}

var (
	hexCodec    = codec{"hex", hex.DecodeString}
	base64Codec = codec{"base64", base64.StdEncoding.DecodeString}
	// lenientBase64 serves the generic hmac scheme, whose senders we do not
	// know: padding and alphabet vary between them and neither weakens the
	// MAC comparison that follows.
	lenientBase64 = codec{"base64", func(s string) ([]byte, error) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				return b, nil
			}
		}
		return nil, errors.New("not base64")
	}}
)

// checkMAC verifies a header that carries exactly one MAC: value is the
// header text, prefix the fixed text before the encoded MAC (compared
// without regard to case), and msg the signed bytes in order.
func checkMAC(scheme, header, value, prefix string, c codec, newHash func() hash.Hash, key []byte, msg ...[]byte) error {
	enc, ok := cutPrefixFold(strings.TrimSpace(value), prefix)
	if !ok {
		return fmt.Errorf("%s: %s header does not start with %q: %w", scheme, header, prefix, ErrMalformed)
	}
	sig, err := c.decode(enc)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%s: %s header is not %s: %w", scheme, header, c.name, ErrMalformed)
	}
	mac := hmac.New(newHash, key)
	for _, m := range msg {
		mac.Write(m)
	}
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return fmt.Errorf("%s: %s header does not match the body (wrong secret or modified body): %w", scheme, header, ErrMismatch)
	}
	return nil
}

// verifyGitHub checks X-Hub-Signature-256, falling back to the legacy SHA-1
// X-Hub-Signature only when the SHA-256 header is absent, so that an
// attacker cannot downgrade a request that carries both.
func (v Verifier) verifyGitHub(h http.Header, body []byte) error {
	header, prefix, newHash := "X-Hub-Signature-256", "sha256=", sha256.New
	value := h.Get(header)
	if value == "" {
		if legacy := h.Get("X-Hub-Signature"); legacy != "" {
			header, prefix, newHash, value = "X-Hub-Signature", "sha1=", sha1.New, legacy
		}
	}
	if value == "" {
		return fmt.Errorf("%s: no X-Hub-Signature-256 header: %w", GitHub, ErrMissing)
	}
	return checkMAC(GitHub, header, value, prefix, hexCodec, newHash, v.Secret, body)
}

// verifyShopify checks X-Shopify-Hmac-Sha256, a base64 HMAC-SHA256 of the
// raw body keyed with the app's client secret.
func (v Verifier) verifyShopify(h http.Header, body []byte) error {
	const header = "X-Shopify-Hmac-Sha256"
	value := h.Get(header)
	if value == "" {
		return fmt.Errorf("%s: no %s header: %w", Shopify, header, ErrMissing)
	}
	return checkMAC(Shopify, header, value, "", base64Codec, sha256.New, v.Secret, body)
}

// verifySlack checks X-Slack-Signature ("v0=<hex>") over
// "v0:<timestamp>:<body>" after the replay window on
// X-Slack-Request-Timestamp.
func (v Verifier) verifySlack(h http.Header, body []byte, now time.Time) error {
	const header = "X-Slack-Signature"
	value := h.Get(header)
	if value == "" {
		return fmt.Errorf("%s: no %s header: %w", Slack, header, ErrMissing)
	}
	ts := h.Get("X-Slack-Request-Timestamp")
	if ts == "" {
		return fmt.Errorf("%s: no X-Slack-Request-Timestamp header: %w", Slack, ErrMissing)
	}
	if err := checkTimestamp(Slack, ts, now, v.tolerance()); err != nil {
		return err
	}
	return checkMAC(Slack, header, value, "v0=", hexCodec, sha256.New, v.Secret,
		[]byte("v0:"+ts+":"), body)
}

// resolve turns the configured names into a hash and a codec, applying the
// documented defaults.
func (c HMACConfig) resolve() (func() hash.Hash, codec, error) {
	name := strings.TrimSpace(c.Header)
	if name == "" {
		return nil, codec{}, errors.New("hmac header name is empty")
	}
	for _, r := range name {
		if !isTokenChar(r) {
			// Such a header can never arrive, so every request would fail
			// as "missing"; better to say so when the source is saved.
			return nil, codec{}, fmt.Errorf("hmac header name %q contains %q, which is not allowed in a header name", clip(name), r)
		}
	}
	var newHash func() hash.Hash
	switch strings.ToLower(strings.TrimSpace(c.Algorithm)) {
	case "", "sha256":
		newHash = sha256.New
	case "sha512":
		newHash = sha512.New
	default:
		return nil, codec{}, fmt.Errorf("hmac algorithm %q is not sha256 or sha512", c.Algorithm)
	}
	switch strings.ToLower(strings.TrimSpace(c.Encoding)) {
	case "", "hex":
		return newHash, hexCodec, nil
	case "base64":
		return newHash, lenientBase64, nil
	}
	return nil, codec{}, fmt.Errorf("hmac encoding %q is not hex or base64", c.Encoding)
}

// isTokenChar reports whether r may appear in an HTTP header name (RFC 9110
// tchar).
func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r < 0x80 && strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// verifyHMAC checks the generic scheme: one header, a MAC of the raw body.
func (v Verifier) verifyHMAC(h http.Header, body []byte) error {
	newHash, c, err := v.HMAC.resolve()
	if err != nil {
		return fmt.Errorf("%s: %w", HMAC, err)
	}
	header := strings.TrimSpace(v.HMAC.Header)
	value := h.Get(header)
	if value == "" {
		return fmt.Errorf("%s: no %s header: %w", HMAC, header, ErrMissing)
	}
	return checkMAC(HMAC, header, value, v.HMAC.Prefix, c, newHash, v.Secret, body)
}

// stripeHeader is a parsed Stripe-Signature header.
type stripeHeader struct {
	timestamp string   // the t= value exactly as sent, since that is what was signed
	v1        []string // hex HMACs, one per active endpoint secret during a roll
}

// parseStripeHeader parses "t=<unix>,v1=<hex>[,v1=<hex>][,v0=...]". Keys
// other than t and v1 (v0 is Stripe's legacy test-mode scheme) are ignored
// so that new schemes do not break verification; a repeated t is refused
// because it would make the signed timestamp ambiguous.
func parseStripeHeader(s string) (stripeHeader, error) {
	var out stripeHeader
	seenT := false
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, val, ok := strings.Cut(pair, "=")
		if !ok {
			return stripeHeader{}, fmt.Errorf("element %q is not key=value: %w", clip(pair), ErrMalformed)
		}
		switch k {
		case "t":
			if seenT {
				return stripeHeader{}, fmt.Errorf("more than one t= element: %w", ErrMalformed)
			}
			seenT = true
			out.timestamp = val
		case "v1":
			out.v1 = append(out.v1, val)
		}
	}
	if !seenT {
		return stripeHeader{}, fmt.Errorf("no t= element: %w", ErrMalformed)
	}
	return out, nil
}

// verifyStripe checks Stripe-Signature. The HMAC key is the whole secret
// string, whsec_ prefix included, exactly as stripe-go uses it; any one v1
// entry matching is enough, which is how Stripe rolls endpoint secrets.
func (v Verifier) verifyStripe(h http.Header, body []byte, now time.Time) error {
	value := h.Get("Stripe-Signature")
	if value == "" {
		return fmt.Errorf("%s: no Stripe-Signature header: %w", Stripe, ErrMissing)
	}
	sh, err := parseStripeHeader(value)
	if err != nil {
		return fmt.Errorf("%s: Stripe-Signature: %w", Stripe, err)
	}
	if err := checkTimestamp(Stripe, sh.timestamp, now, v.tolerance()); err != nil {
		return err
	}
	if len(sh.v1) == 0 {
		return fmt.Errorf("%s: Stripe-Signature has no v1 signature: %w", Stripe, ErrMismatch)
	}
	mac := hmac.New(sha256.New, v.Secret)
	mac.Write([]byte(sh.timestamp + "."))
	mac.Write(body)
	expected := mac.Sum(nil)
	undecodable := 0
	for _, enc := range sh.v1 {
		sig, err := hex.DecodeString(enc)
		if err != nil {
			undecodable++
			continue
		}
		if hmac.Equal(sig, expected) {
			return nil
		}
	}
	if undecodable == len(sh.v1) {
		return fmt.Errorf("%s: v1 signature is not hex: %w", Stripe, ErrMalformed)
	}
	return fmt.Errorf("%s: none of %d v1 signatures matched (wrong secret or modified body): %w",
		Stripe, len(sh.v1), ErrMismatch)
}
