package volley

import (
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"time"
)

// APIToken is a long-lived bearer token of an account. Only its SHA-256 hash
// is looked up; the token itself is also kept sealed (encrypted) so that the
// console can show it again after the owner re-enters a password.
type APIToken struct {
	ID         uint64
	AccountID  uint64
	Kind       string // TokenKindAPI or TokenKindCLI
	Name       string // "API token" or the CLI device's name
	Hash       []byte // SHA-256 of the token
	Sealed     []byte // the token, encrypted at rest
	Prefix     string // first characters, safe to show in listings
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when never used
	// ExpiresAt is when the token stops working, as if revoked; zero means
	// never (the first admin token, and tokens created without an expiry).
	ExpiresAt time.Time
}

// Expired reports whether the token no longer authenticates at now.
func (t *APIToken) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Token kinds. An account may hold several named API tokens; each CLI login
// gets its own token (named after the device), revocable on its own.
const (
	TokenKindAPI = "api"
	TokenKindCLI = "cli"
)

// TokenPrefix starts every API token, so leaked tokens are easy to recognise
// by secret scanners.
const TokenPrefix = "vk_"

// tokenRandomLen is the number of random base62 characters in a token
// (~238 bits).
const tokenRandomLen = 40

// NewToken returns a fresh API token: "vk_" and 40 base62 characters.
func NewToken(r io.Reader) (string, error) {
	s, err := RandomToken(r, tokenRandomLen)
	if err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return TokenPrefix + s, nil
}

// HashToken returns the lookup hash of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// MinAdminTokenLen is the shortest token accepted from VOLLEY_ADMIN_TOKEN.
const MinAdminTokenLen = 32

// ValidateGivenToken checks a token chosen by an operator rather than
// generated: "vk_" and letters and digits, at least MinAdminTokenLen in all,
// so that it is recognised wherever a generated one is (ContainsToken).
func ValidateGivenToken(token string) error {
	if len(token) < MinAdminTokenLen {
		return fmt.Errorf("token must be at least %d characters, got %d", MinAdminTokenLen, len(token))
	}
	if !strings.HasPrefix(token, TokenPrefix) {
		return fmt.Errorf("token must start with %q (e.g. vk_$(openssl rand -hex 24))", TokenPrefix)
	}
	if tokenRunLen(token[len(TokenPrefix):]) != len(token)-len(TokenPrefix) {
		return fmt.Errorf("token must be %q followed by letters and digits only", TokenPrefix)
	}
	return nil
}

// ContainsToken reports whether s holds something shaped like a Volley API
// token: "vk_" followed by at least MinAdminTokenLen-3 letters and digits.
// Every token, generated or given, has that shape.
func ContainsToken(s string) bool {
	for {
		i := strings.Index(s, TokenPrefix)
		if i < 0 {
			return false
		}
		s = s[i+len(TokenPrefix):]
		if tokenRunLen(s) >= MinAdminTokenLen-len(TokenPrefix) {
			return true
		}
	}
}

// tokenRunLen is the length of the run of ASCII letters and digits that s
// starts with.
func tokenRunLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return i
		}
	}
	return len(s)
}

// DisplayPrefix is the part of a token that listings may show.
func DisplayPrefix(token string) string { return token[:min(len(token), 10)] }
