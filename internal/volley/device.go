package volley

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// DeviceCode is one run of the CLI's device login: the CLI polls with the
// long device code while a signed-in person approves the short pairing code.
// Only hashes of both codes are stored.
type DeviceCode struct {
	ID          uint64
	DeviceHash  []byte // SHA-256 of the device code the CLI polls with
	PairingHash []byte // SHA-256 of the normalised pairing code
	Status      string // DevicePending, DeviceApproved, DeviceDenied or DeviceConsumed
	AccountID   uint64 // who approved or denied; 0 while pending
	DeviceName  string // the CLI token's name, set on approval
	TokenID     uint64 // the CLI token created on approval
	// TokenSealed is the approved token, encrypted, as read by the claim
	// that hands it out; it is never returned again.
	TokenSealed []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Device code statuses. A code moves from pending to approved or denied
// once, and from approved to consumed when the CLI collects its token.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	DeviceConsumed = "consumed"
)

// DeviceCodeTTL is how long a device login may wait for approval.
const DeviceCodeTTL = 600 * time.Second

// deviceCodeLen is the number of random base62 characters of a device code
// (~238 bits): it is the only secret the unauthenticated poll needs.
const deviceCodeLen = 40

// NewDeviceCode returns a fresh device code: URL-safe (base62), so the CLI
// may put it in a query string unescaped.
func NewDeviceCode(r io.Reader) (string, error) {
	s, err := RandomToken(r, deviceCodeLen)
	if err != nil {
		return "", fmt.Errorf("new device code: %w", err)
	}
	return "dc_" + s, nil
}

// pairingLetters and pairingDigits leave out characters people confuse
// (I and O read as 1 and 0).
const (
	pairingLetters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	pairingDigits  = "0123456789"
)

// NewPairingCode returns a pairing code to read aloud or type: four letters,
// a dash and four digits ("ABCD-1234"), ~3.3e9 possibilities. Guessing one
// needs a signed-in account and beats a 600 s window only by luck.
func NewPairingCode(r io.Reader) (string, error) {
	// 240 is a multiple of both 24 and 10: rejecting bytes above it keeps
	// the draw uniform.
	var b []byte
	var buf [16]byte
	for len(b) < 8 {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("new pairing code: %w", err)
		}
		for _, c := range buf {
			if c < 240 && len(b) < 8 {
				b = append(b, c)
			}
		}
	}
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i < 4 {
			out = append(out, pairingLetters[int(c)%len(pairingLetters)])
			continue
		}
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, pairingDigits[int(c)%len(pairingDigits)])
	}
	return string(out), nil
}

// NormalizePairingCode returns the canonical form of a pairing code as a
// person may type it: case, spaces and the dash do not matter
// ("abcd 1234" is "ABCD-1234"). It returns "" for anything that cannot be
// a pairing code.
func NormalizePairingCode(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	if len(b) != 8 {
		return ""
	}
	for i, c := range b {
		set := pairingLetters
		if i >= 4 {
			set = pairingDigits
		}
		if !strings.ContainsRune(set, rune(c)) {
			return ""
		}
	}
	return string(b[:4]) + "-" + string(b[4:])
}
