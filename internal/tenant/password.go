package tenant

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// PasswordParams are the argon2id parameters of new password hashes. The
// zero value means DefaultPasswordParams.
type PasswordParams struct {
	MemoryKiB uint32 // memory per hash, in KiB
	Time      uint32 // passes over the memory
	Threads   uint8
}

// DefaultPasswordParams is OWASP's recommended argon2id setting (19 MiB, two
// passes, one thread): memory-hard against GPU guessing, yet cheap enough
// that a few sign-ins at once do not strain a small node.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// TestPasswordParams hash in microseconds; for tests only, which create
// many accounts under the race detector.
var TestPasswordParams = PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

const (
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hasher hashes and checks passwords. At most cap(slots) hashes run at once,
// so a burst of sign-ins costs bounded memory (MemoryKiB each) instead of
// growing with the number of requests.
type hasher struct {
	params PasswordParams
	slots  chan struct{}
}

func newHasher(p PasswordParams, concurrency int) *hasher {
	if p == (PasswordParams{}) {
		p = DefaultPasswordParams
	}
	return &hasher{params: p, slots: make(chan struct{}, max(1, concurrency))}
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.slots }

// hash returns the PHC string of password:
// $argon2id$v=19$m=…,t=…,p=…$salt$key (unpadded base64).
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	// Salts come from the system's generator, not the service's injected
	// one: nothing about them needs to be reproducible, and drawing them
	// from it would shift every id a test derives from a seeded source.
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errBadHash means a stored hash is in no format this version reads.
var errBadHash = errors.New("unrecognised password hash")

// check reports whether password matches encoded, and whether encoded
// should be replaced by a fresh hash (an older format or other parameters).
func (h *hasher) check(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	if strings.HasPrefix(encoded, "$2") {
		// bcrypt, as Volley stored passwords before argon2id.
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		defer h.release()
		return bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) == nil, true, nil
	}
	var version int
	var p PasswordParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil || p.Threads == 0 || p.Time == 0 {
		return false, false, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false, false, errBadHash
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, p != h.params, nil
}
