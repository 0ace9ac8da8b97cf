// Package signature signs outgoing webhooks with Standard Webhooks v1 and
// verifies the signatures that providers (Stripe, GitHub, Shopify, Slack,
// Standard Webhooks / Svix, generic HMAC) put on incoming ones.
//
// Everything here is pure: time is passed in, randomness is an io.Reader, and
// nothing is logged. Verification errors wrap one of ErrMissing, ErrMalformed,
// ErrExpired or ErrMismatch so the ingest layer can answer 401 while its log
// line still says what was wrong. Messages never contain the secret or the
// signature we expected: echoing a valid MAC for the received body would let
// an attacker forge the request on the next try.
package signature

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Scheme names. They are the source `type` values that carry a signature
// scheme; any other type (such as the generic "webhook") has none.
const (
	Stripe           = "stripe"
	GitHub           = "github"
	Shopify          = "shopify"
	Slack            = "slack"
	StandardWebhooks = "standard_webhooks"
	HMAC             = "hmac"
)

// DefaultTolerance is how far a signed timestamp may be from now, in either
// direction, before the signature is treated as expired. Every reference
// library of the timestamped schemes uses five minutes.
const DefaultTolerance = 5 * time.Minute

// Sentinel errors returned (wrapped) by Verifier.Verify.
var (
	// ErrMissing means a header the scheme requires is absent or empty.
	ErrMissing = errors.New("signature header missing")
	// ErrMalformed means a signature or timestamp header could not be parsed.
	ErrMalformed = errors.New("malformed signature header")
	// ErrExpired means the signed timestamp is outside the tolerance window.
	ErrExpired = errors.New("signature expired")
	// ErrMismatch means the header parsed but no signature in it matched.
	ErrMismatch = errors.New("no signature matched")
)

// Supported reports whether scheme names a signature scheme this package can
// verify.
func Supported(scheme string) bool {
	switch scheme {
	case Stripe, GitHub, Shopify, Slack, StandardWebhooks, HMAC:
		return true
	}
	return false
}

// DedupKey returns the provider's natural delivery id for a scheme, which
// stays the same when the provider retries: X-GitHub-Delivery for github,
// webhook-id (or svix-id) for standard_webhooks, X-Shopify-Webhook-Id for
// shopify. It returns "" when the scheme has no such header (stripe and slack
// put no delivery id in headers; hmac is provider-agnostic) or the request
// lacks it. The value is returned as sent; scoping it to a source is the
// caller's job.
func DedupKey(scheme string, h http.Header) string {
	switch scheme {
	case GitHub:
		return h.Get("X-GitHub-Delivery")
	case Shopify:
		return h.Get("X-Shopify-Webhook-Id")
	case StandardWebhooks:
		if id := h.Get("webhook-id"); id != "" {
			return id
		}
		return h.Get("svix-id")
	}
	return ""
}

// HMACConfig configures the generic "hmac" scheme: a MAC of the raw body
// carried in a single header.
type HMACConfig struct {
	// Header is the request header holding the signature, e.g.
	// "X-Signature". Required.
	Header string
	// Algorithm is "sha256" (default when empty) or "sha512".
	Algorithm string
	// Encoding is "hex" (default when empty) or "base64". Base64 is accepted
	// padded or unpadded, standard or URL alphabet.
	Encoding string
	// Prefix is text that precedes the encoded MAC in the header, e.g.
	// "sha256=", matched without regard to ASCII case. Empty means the
	// header is the bare encoded MAC.
	Prefix string
}

// Verifier checks the signature of an incoming request for one source.
// The zero Tolerance means DefaultTolerance.
type Verifier struct {
	// Scheme is one of the scheme constants (the source type).
	Scheme string
	// Secret is the webhook secret exactly as the user typed it. For
	// standard_webhooks it is a whsec_ HMAC secret or a whpk_ ed25519 public
	// key; for every other scheme its bytes are the HMAC key as-is (Stripe's
	// whsec_ prefix is part of its key and is not stripped).
	Secret []byte
	// HMAC configures the "hmac" scheme and is ignored by the others.
	HMAC HMACConfig
	// Tolerance bounds |now - signed timestamp| for stripe, slack and
	// standard_webhooks, in whole seconds. 0 means DefaultTolerance;
	// negative is invalid.
	Tolerance time.Duration
}

// Validate checks the configuration when a source is saved, so that a bad
// secret or hmac setting is reported to the user rather than turning every
// later delivery into a 401.
func (v Verifier) Validate() error {
	if !Supported(v.Scheme) {
		return fmt.Errorf("unknown signature scheme %q (want one of stripe, github, shopify, slack, standard_webhooks, hmac)", v.Scheme)
	}
	if len(v.Secret) == 0 {
		return fmt.Errorf("%s: webhook secret is empty", v.Scheme)
	}
	if v.Tolerance < 0 {
		return fmt.Errorf("%s: tolerance %s is negative", v.Scheme, v.Tolerance)
	}
	switch v.Scheme {
	case StandardWebhooks:
		if _, err := parseInboundKey(string(v.Secret)); err != nil {
			return fmt.Errorf("%s: %w", v.Scheme, err)
		}
	case HMAC:
		if _, _, err := v.HMAC.resolve(); err != nil {
			return fmt.Errorf("%s: %w", v.Scheme, err)
		}
	}
	return nil
}

// Verify checks the signature that h carries for body, using now for the
// timestamp window. It returns nil when the request is authentic. Failures
// caused by the request wrap ErrMissing, ErrMalformed, ErrExpired or
// ErrMismatch; an error wrapping none of them means the Verifier itself is
// misconfigured (see Validate).
func (v Verifier) Verify(h http.Header, body []byte, now time.Time) error {
	if len(v.Secret) == 0 {
		return fmt.Errorf("%s: webhook secret is empty", v.Scheme)
	}
	switch v.Scheme {
	case Stripe:
		return v.verifyStripe(h, body, now)
	case GitHub:
		return v.verifyGitHub(h, body)
	case Shopify:
		return v.verifyShopify(h, body)
	case Slack:
		return v.verifySlack(h, body, now)
	case StandardWebhooks:
		return v.verifyStandardWebhooks(h, body, now)
	case HMAC:
		return v.verifyHMAC(h, body)
	}
	return fmt.Errorf("unknown signature scheme %q", v.Scheme)
}

func (v Verifier) tolerance() time.Duration {
	if v.Tolerance <= 0 {
		return DefaultTolerance
	}
	return v.Tolerance
}

// checkTimestamp parses raw as Unix seconds and rejects it when it is more
// than tol away from now in either direction. Stripe's own library only
// rejects old timestamps; we also reject future ones, because a sender whose
// clock runs ahead can otherwise mint signatures that stay valid for as long
// as it likes. The arithmetic is done in unsigned whole seconds so that
// hostile values near the int64 limits cannot overflow.
func checkTimestamp(scheme, raw string, now time.Time, tol time.Duration) error {
	ts, err := parseUnix(raw)
	if err != nil {
		return fmt.Errorf("%s: timestamp %q is not Unix seconds: %w", scheme, clip(raw), ErrMalformed)
	}
	nowSec := now.Unix()
	var gap uint64
	if ts > nowSec {
		gap = uint64(ts) - uint64(nowSec)
	} else {
		gap = uint64(nowSec) - uint64(ts)
	}
	if gap <= uint64(tol/time.Second) {
		return nil
	}
	dir := "ago"
	if ts > nowSec {
		dir = "in the future"
	}
	return fmt.Errorf("%s: timestamp %d is %s %s (tolerance %s): %w",
		scheme, ts, formatGap(gap), dir, tol, ErrExpired)
}

// parseUnix accepts only decimal digits. strconv.ParseInt alone would also
// take a sign; the headers are defined as integer Unix seconds and anything
// else is better reported as malformed than silently reinterpreted.
func parseUnix(raw string) (int64, error) {
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return 0, errors.New("not decimal digits")
		}
	}
	return strconv.ParseInt(raw, 10, 64)
}

// formatGap renders a gap in seconds as a duration, saturating instead of
// overflowing time.Duration for absurd timestamps.
func formatGap(sec uint64) string {
	const maxSec = uint64(1<<63-1) / uint64(time.Second)
	if sec > maxSec {
		return "more than " + (time.Duration(maxSec) * time.Second).String()
	}
	return (time.Duration(sec) * time.Second).String()
}

// clip shortens attacker-controlled header text before it goes into an error
// message, so a megabyte header cannot become a megabyte log line.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case; providers and users
// are inconsistent about "sha256=" versus "SHA256=".
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
