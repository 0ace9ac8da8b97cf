package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Secret prefixes defined by Standard Webhooks.
const (
	secretPrefix     = "whsec_" // symmetric HMAC secret
	publicKeyPrefix  = "whpk_"  // ed25519 public key
	signingKeyPrefix = "whsk_"  // ed25519 private key (sender side only)
)

// secretLen is how many random bytes NewSecret draws: what Svix generates and
// inside the 24–64 bytes the Standard Webhooks spec asks for.
const secretLen = 24

// minKeyLen is the shortest HMAC key ParseSecret accepts. The spec asks
// senders for at least 24 bytes, but we also parse secrets that other
// senders generated, so we only insist on 128 bits, below which a key is
// guessable rather than merely unconventional.
const minKeyLen = 16

// NewSecret returns a fresh Standard Webhooks secret: "whsec_" followed by
// the standard base64 encoding of 24 bytes read from r (crypto/rand.Reader in
// production, a fixed reader in tests).
func NewSecret(r io.Reader) (string, error) {
	var key [secretLen]byte
	if _, err := io.ReadFull(r, key[:]); err != nil {
		return "", fmt.Errorf("new secret: read random bytes: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(key[:]), nil
}

// ParseSecret returns the HMAC key of a Standard Webhooks secret: the
// standard base64 decoding of the text after "whsec_". A bare base64 string
// without the prefix is accepted too, since users paste secrets from senders
// that display them that way. Surrounding whitespace is ignored. The key must
// decode to at least 16 bytes; there is no upper bound because HMAC hashes
// long keys itself.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, publicKeyPrefix):
		return nil, errors.New("parse secret: whpk_ is an ed25519 public key, not an HMAC secret")
	case strings.HasPrefix(s, signingKeyPrefix):
		return nil, errors.New("parse secret: whsk_ is an ed25519 signing key, not an HMAC secret")
	}
	s = strings.TrimPrefix(s, secretPrefix)
	if s == "" {
		return nil, errors.New("parse secret: secret is empty")
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("parse secret: not standard base64 after %q: %w", secretPrefix, err)
	}
	if len(key) < minKeyLen {
		return nil, fmt.Errorf("parse secret: key is %d bytes, want at least %d", len(key), minKeyLen)
	}
	return key, nil
}

// sigLen is the length of one "v1,<base64 HMAC-SHA256>" entry.
const sigLen = len("v1,") + (sha256.Size+2)/3*4

// Sign returns the webhook-signature header value for one delivery attempt:
// "v1,<base64 HMAC-SHA256(key, msgID.timestamp.body)>" for each key, joined by
// single spaces, in the order given. During rotation pass the new key first
// and then the old ones still in their grace period; receivers accept the
// request if any entry verifies. Sign returns "" when keys is empty.
//
// msgID must not contain "." (Standard Webhooks requires ids that cannot
// shift the boundary between id and timestamp); the delivery engine
// generates it, so this is not checked here.
func Sign(keys [][]byte, msgID string, timestamp int64, body []byte) string {
	if len(keys) == 0 {
		return ""
	}
	// This runs for every attempt, so the body (up to megabytes) is never
	// copied: the short "id.ts." prefix is built once and the body is fed to
	// each MAC with a second Write.
	var tsBuf [20]byte
	ts := strconv.AppendInt(tsBuf[:0], timestamp, 10)
	prefix := make([]byte, 0, len(msgID)+len(ts)+2)
	prefix = append(prefix, msgID...)
	prefix = append(prefix, '.')
	prefix = append(prefix, ts...)
	prefix = append(prefix, '.')

	var b strings.Builder
	b.Grow(len(keys)*(sigLen+1) - 1)
	var sum [sha256.Size]byte
	var enc [sigLen - len("v1,")]byte
	for i, key := range keys {
		mac := hmac.New(sha256.New, key)
		mac.Write(prefix)
		mac.Write(body)
		base64.StdEncoding.Encode(enc[:], mac.Sum(sum[:0]))
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.Write(enc[:])
	}
	return b.String()
}
