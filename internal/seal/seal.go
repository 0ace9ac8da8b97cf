// Package seal encrypts secrets at rest (API tokens, source auth keys,
// webhook and signing secrets, invitation links) with AES-256-GCM under the
// server's secret key, so a copy of the database alone reveals none of
// them.
//
// A sealed value is [2][key id: 4][nonce: 12][ciphertext and tag], the key
// id being the first 4 bytes of SHA-256 of the key (and also the GCM
// additional data, binding the value to it). Values sealed before key ids
// existed are [1][nonce][ciphertext and tag]; they are opened by trying
// each key. A Box seals with its current key and opens with it or with any
// of its previous keys, which is what rotating the master key needs: nodes
// are given the new key and the old one as previous, every value is
// re-sealed (`volley secrets rotate-key`), and then the old key is dropped.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a secret key in bytes (AES-256).
const KeySize = 32

// Formats of sealed values, their first byte.
const (
	versionNoKeyID = 1 // [1][nonce][ciphertext]
	versionKeyID   = 2 // [2][key id][nonce][ciphertext]
)

// keyIDSize is the length of a key id.
const keyIDSize = 4

// key is one AES-256-GCM key and its id.
type key struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

func newKey(k []byte) (key, error) {
	if len(k) != KeySize {
		return key{}, fmt.Errorf("secret key must be %d bytes, got %d", KeySize, len(k))
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return key{}, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, fmt.Errorf("secret key: %w", err)
	}
	sum := sha256.Sum256(k)
	out := key{aead: aead}
	copy(out.id[:], sum[:keyIDSize])
	return out, nil
}

// Box seals with one key and opens with it or with previous keys. It is
// safe for concurrent use.
type Box struct {
	keys []key // keys[0] seals; all open
	rand io.Reader
}

// NewBox returns a Box sealing with current and opening with current and
// any of previous (older keys still needed to read values sealed before a
// rotation finished). rand supplies nonces.
func NewBox(current []byte, rand io.Reader, previous ...[]byte) (*Box, error) {
	b := &Box{rand: rand}
	for i, k := range append([][]byte{current}, previous...) {
		kk, err := newKey(k)
		if err != nil {
			if i > 0 {
				return nil, fmt.Errorf("previous key %d: %w", i, err)
			}
			return nil, err
		}
		for _, have := range b.keys {
			if have.id == kk.id {
				return nil, fmt.Errorf("previous key %d is given twice (or is the current key)", i)
			}
		}
		b.keys = append(b.keys, kk)
	}
	return b, nil
}

// KeyID returns the id of the current key, in hex, for messages.
func (b *Box) KeyID() string { return hex.EncodeToString(b.keys[0].id[:]) }

// Seal encrypts plaintext under the current key. An empty plaintext seals
// to nil, so "unset" stays distinguishable without decrypting.
func (b *Box) Seal(plaintext []byte) ([]byte, error) {
	if len(plaintext) == 0 {
		return nil, nil
	}
	k := &b.keys[0]
	head := 1 + keyIDSize + k.aead.NonceSize()
	out := make([]byte, head, head+len(plaintext)+k.aead.Overhead())
	out[0] = versionKeyID
	copy(out[1:], k.id[:])
	if _, err := io.ReadFull(b.rand, out[1+keyIDSize:]); err != nil {
		return nil, fmt.Errorf("seal: read nonce: %w", err)
	}
	return k.aead.Seal(out, out[1+keyIDSize:], plaintext, k.id[:]), nil
}

// SealString is Seal for strings.
func (b *Box) SealString(s string) ([]byte, error) { return b.Seal([]byte(s)) }

// ErrOpen means a sealed value could not be decrypted: it was sealed under
// another key or has been tampered with.
var ErrOpen = errors.New("cannot decrypt secret: wrong secret key or corrupted value")

// ErrUnknownKey means a value was sealed under a key the Box does not hold
// (a key rotated away before every value was re-sealed, or another
// server's key). It wraps ErrOpen.
var ErrUnknownKey = fmt.Errorf("%w: sealed under a key this server is not given (set it as a previous key)", ErrOpen)

// Open decrypts a sealed value; nil opens to nil.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	switch sealed[0] {
	case versionKeyID:
		if len(sealed) < 1+keyIDSize {
			return nil, ErrOpen
		}
		for i := range b.keys {
			k := &b.keys[i]
			if !bytes.Equal(k.id[:], sealed[1:1+keyIDSize]) {
				continue
			}
			return open(k, sealed[1+keyIDSize:], k.id[:])
		}
		return nil, ErrUnknownKey
	case versionNoKeyID:
		for i := range b.keys {
			if out, err := open(&b.keys[i], sealed[1:], nil); err == nil {
				return out, nil
			}
		}
	}
	return nil, ErrOpen
}

// open decrypts nonce+ciphertext with k.
func open(k *key, rest, ad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(rest) < n+k.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := k.aead.Open(nil, rest[:n], rest[n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// OpenString is Open for strings.
func (b *Box) OpenString(sealed []byte) (string, error) {
	p, err := b.Open(sealed)
	return string(p), err
}

// Current reports whether sealed is unset or sealed under the current key
// in the current format, i.e. needs no re-sealing. It does not decrypt.
func (b *Box) Current(sealed []byte) bool {
	return len(sealed) == 0 || (len(sealed) > 1+keyIDSize && sealed[0] == versionKeyID &&
		bytes.Equal(sealed[1:1+keyIDSize], b.keys[0].id[:]))
}

// Reseal opens sealed with whichever key it was sealed under and seals it
// again under the current key.
func (b *Box) Reseal(sealed []byte) ([]byte, error) {
	p, err := b.Open(sealed)
	if err != nil {
		return nil, err
	}
	return b.Seal(p)
}

// ParseKey decodes a key given as 64 hex characters or as standard or URL
// base64 of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("secret key must be %d bytes as 64 hex characters or base64", KeySize)
}

// LoadOrCreateKeyFile reads the keys stored at path, or creates the file
// (mode 0600) with a fresh random key when it does not exist. The file
// holds one key per line (64 hex characters or base64): the first is the
// current key, the others previous keys still read during a rotation;
// blank lines and lines starting with # are ignored.
func LoadOrCreateKeyFile(path string, rand io.Reader) (current []byte, previous [][]byte, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		keys, err := ParseKeys(string(b), "\n")
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		if len(keys) == 0 {
			return nil, nil, fmt.Errorf("read %s: no key in the file", path)
		}
		return keys[0], keys[1:], nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("read secret key: %w", err)
	}
	k, err := createKeyFile(path, rand)
	return k, nil, err
}

// ParseKeys parses a list of keys separated by sep (a key file's lines,
// VOLLEY_SECRET_KEY_PREVIOUS's commas), ignoring blank entries and
// comments (#). The error names the entry at fault by its position.
func ParseKeys(s, sep string) ([][]byte, error) {
	var out [][]byte
	for i, v := range strings.Split(s, sep) {
		v = strings.TrimSpace(v)
		if v == "" || strings.HasPrefix(v, "#") {
			continue
		}
		k, err := ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// createKeyFile writes a fresh random key to a new file at path.
func createKeyFile(path string, rand io.Reader) ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := io.ReadFull(rand, k); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// O_EXCL: if another process raced us, fail instead of overwriting the
	// key it may already have used to seal secrets.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync secret key file: %w", err)
	}
	return k, f.Close()
}
