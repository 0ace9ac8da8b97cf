package signature

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Signature versions of the Standard Webhooks header.
const (
	versionHMAC    = "v1"  // HMAC-SHA256, whsec_ secret
	versionEd25519 = "v1a" // ed25519, whpk_ public key
)

// inboundKey is the parsed secret of a standard_webhooks source: exactly one
// of hmacKey and publicKey is set, and it decides which signature version
// the verifier looks at.
type inboundKey struct {
	hmacKey   []byte
	publicKey ed25519.PublicKey
}

// version returns the signature version this key can check.
func (k inboundKey) version() string {
	if k.publicKey != nil {
		return versionEd25519
	}
	return versionHMAC
}

// parseInboundKey accepts a whsec_ (or bare base64) HMAC secret or a whpk_
// ed25519 public key. A whsk_ signing key is refused rather than converted:
// a receiver has no business holding the sender's private key, and saying so
// is kinder than a mismatch on every delivery.
func parseInboundKey(s string) (inboundKey, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, publicKeyPrefix)
	if !ok {
		if strings.HasPrefix(s, signingKeyPrefix) {
			return inboundKey{}, errors.New("parse secret: whsk_ is the sender's private key; use its whpk_ public key")
		}
		key, err := ParseSecret(s)
		if err != nil {
			return inboundKey{}, err
		}
		return inboundKey{hmacKey: key}, nil
	}
	pub, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return inboundKey{}, fmt.Errorf("parse public key: not standard base64 after %q: %w", publicKeyPrefix, err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return inboundKey{}, fmt.Errorf("parse public key: key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	return inboundKey{publicKey: ed25519.PublicKey(pub)}, nil
}

// versionedSignature is one "version,signature" entry of a Standard Webhooks
// signature header, still encoded.
type versionedSignature struct {
	Version   string
	Signature string
}

// parseSignatureList splits a Standard Webhooks signature header into its
// space-separated "version,signature" entries. Entries without a comma or
// with an empty part are skipped, as the reference libraries do, so one odd
// entry from a future sender does not hide a good one; a header with no
// usable entry at all is malformed.
func parseSignatureList(s string) ([]versionedSignature, error) {
	var out []versionedSignature
	for _, entry := range strings.Fields(s) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version == "" || sig == "" {
			continue
		}
		out = append(out, versionedSignature{Version: version, Signature: sig})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no \"version,signature\" entry in %q: %w", clip(s), ErrMalformed)
	}
	return out, nil
}

// verifyStandardWebhooks checks webhook-* (or svix-*) headers. Unlike the
// Go reference verifier, which looks only at v1 and so fails a v1a-only
// header with a confusing mismatch, both versions are handled explicitly:
// the secret's kind picks the version, other versions are ignored, and the
// error says when the header carried only the other kind.
func (v Verifier) verifyStandardWebhooks(h http.Header, body []byte, now time.Time) error {
	const scheme = StandardWebhooks
	key, err := parseInboundKey(string(v.Secret))
	if err != nil {
		return fmt.Errorf("%s: %w", scheme, err)
	}

	// Take all three headers from one spelling, chosen by which signature
	// header is present, so a request cannot mix an id from one family
	// with a signature from the other.
	family := "webhook-"
	if h.Get("webhook-signature") == "" && h.Get("svix-signature") != "" {
		family = "svix-"
	}
	sigHeader := h.Get(family + "signature")
	if sigHeader == "" {
		return fmt.Errorf("%s: no webhook-signature or svix-signature header: %w", scheme, ErrMissing)
	}
	id := h.Get(family + "id")
	if id == "" {
		return fmt.Errorf("%s: no %sid header: %w", scheme, family, ErrMissing)
	}
	ts := h.Get(family + "timestamp")
	if ts == "" {
		return fmt.Errorf("%s: no %stimestamp header: %w", scheme, family, ErrMissing)
	}
	if err := checkTimestamp(scheme, ts, now, v.tolerance()); err != nil {
		return err
	}
	sigs, err := parseSignatureList(sigHeader)
	if err != nil {
		return fmt.Errorf("%s: %ssignature header: %w", scheme, family, err)
	}

	want := key.version()
	var matchFn func(sig []byte) bool
	if key.publicKey != nil {
		// ed25519 needs the whole message in one slice.
		msg := make([]byte, 0, len(id)+len(ts)+2+len(body))
		msg = append(append(append(append(append(msg, id...), '.'), ts...), '.'), body...)
		matchFn = func(sig []byte) bool {
			return len(sig) == ed25519.SignatureSize && ed25519.Verify(key.publicKey, msg, sig)
		}
	} else {
		mac := hmac.New(sha256.New, key.hmacKey)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		expected := mac.Sum(nil)
		matchFn = func(sig []byte) bool { return hmac.Equal(sig, expected) }
	}

	var candidates, undecodable int
	var others []string
	for _, s := range sigs {
		if s.Version != want {
			// Unknown and other-kind versions are skipped, not errors:
			// the spec lets senders add versions receivers don't know.
			others = append(others, s.Version)
			continue
		}
		candidates++
		sig, err := base64.StdEncoding.DecodeString(s.Signature)
		if err != nil {
			undecodable++
			continue
		}
		if matchFn(sig) {
			return nil
		}
	}
	switch {
	case candidates == 0:
		return fmt.Errorf("%s: header has no %s signature (found %s) and the secret is %s: %w",
			scheme, want, clip(strings.Join(others, " ")), keyKind(want), ErrMismatch)
	case undecodable == candidates:
		return fmt.Errorf("%s: %s signature is not standard base64: %w", scheme, want, ErrMalformed)
	}
	return fmt.Errorf("%s: none of %d %s signatures matched: %w", scheme, candidates, want, ErrMismatch)
}

// keyKind names the secret kind that checks a version, for error messages.
func keyKind(version string) string {
	if version == versionEd25519 {
		return "a whpk_ ed25519 public key"
	}
	return "a whsec_ HMAC secret"
}
