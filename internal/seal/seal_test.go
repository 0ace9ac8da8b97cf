package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func newBox(t *testing.T, key byte) *Box {
	t.Helper()
	b, err := NewBox(bytes.Repeat([]byte{key}, KeySize), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	b := newBox(t, 1)
	for _, p := range []string{"x", "vk_abc", string(bytes.Repeat([]byte("z"), 4096))} {
		s, err := b.SealString(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) >= 6 && bytes.Contains(s, []byte(p)) {
			t.Fatalf("sealed value contains the plaintext")
		}
		got, err := b.OpenString(s)
		if err != nil || got != p {
			t.Fatalf("Open = %q, %v; want %q", got, err, p)
		}
	}
}

func TestSealEmptyIsNil(t *testing.T) {
	t.Parallel()
	b := newBox(t, 1)
	s, err := b.Seal(nil)
	if err != nil || s != nil {
		t.Fatalf("Seal(nil) = %v, %v", s, err)
	}
	p, err := b.Open(nil)
	if err != nil || p != nil {
		t.Fatalf("Open(nil) = %v, %v", p, err)
	}
}

func TestOpenRejectsOtherKeyAndTampering(t *testing.T) {
	t.Parallel()
	a, other := newBox(t, 1), newBox(t, 2)
	s, _ := a.SealString("secret")
	if _, err := other.Open(s); !errors.Is(err, ErrOpen) {
		t.Fatalf("other key: err = %v, want ErrOpen", err)
	}
	s[len(s)-1] ^= 1
	if _, err := a.Open(s); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered: err = %v, want ErrOpen", err)
	}
	if _, err := a.Open([]byte{9, 1, 2}); !errors.Is(err, ErrOpen) {
		t.Fatalf("garbage: err = %v, want ErrOpen", err)
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	hexKey := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{hexKey, true},
		{" " + hexKey + "\n", true},
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", true},
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", true},
		{"too-short", false},
		{hexKey[:62], false},
	} {
		k, err := ParseKey(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseKey(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if tc.ok && (k[0] != 0 || k[31] != 31) {
			t.Errorf("ParseKey(%q) = %x", tc.in, k)
		}
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, prev, err := LoadOrCreateKeyFile(path, rand.Reader)
	if err != nil || prev != nil {
		t.Fatal(prev, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", st.Mode().Perm())
	}
	k2, _, err := LoadOrCreateKeyFile(path, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("second load returned another key")
	}
	os.WriteFile(path, []byte("nonsense"), 0o600)
	if _, _, err := LoadOrCreateKeyFile(path, rand.Reader); err == nil {
		t.Fatal("corrupt key file accepted")
	}
	// During a rotation the file holds the new key first, then the old.
	newKey := bytes.Repeat([]byte{9}, KeySize)
	os.WriteFile(path, []byte("# rotated 2026-12-03\n"+hex.EncodeToString(newKey)+"\n\n"+hex.EncodeToString(k1)+"\n"), 0o600)
	cur, prev, err := LoadOrCreateKeyFile(path, rand.Reader)
	if err != nil || !bytes.Equal(cur, newKey) || len(prev) != 1 || !bytes.Equal(prev[0], k1) {
		t.Fatalf("two-key file = %x, %x, %v; want the new key, then the old", cur, prev, err)
	}
	os.WriteFile(path, []byte("# only a comment\n"), 0o600)
	if _, _, err := LoadOrCreateKeyFile(path, rand.Reader); err == nil {
		t.Fatal("key file without a key accepted")
	}
}

// TestRotation: values sealed under the old key (with and without a key
// id) open with a box that has it as a previous key, are not current
// there, and re-seal to current values that a box without the old key
// opens.
func TestRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	old := newBox(t, 1)
	sealed, err := old.SealString("whsec_old")
	if err != nil {
		t.Fatal(err)
	}
	legacy := legacySeal(t, oldKey, "vk_legacy")
	if got, err := old.OpenString(legacy); err != nil || got != "vk_legacy" {
		t.Fatalf("a value of the format without key ids = %q, %v", got, err)
	}
	both, err := NewBox(newKey, rand.Reader, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew := newBox(t, 2)
	for _, v := range [][]byte{sealed, legacy} {
		if both.Current(v) {
			t.Fatalf("an old-key value reads as current")
		}
		if _, err := onlyNew.Open(v); !errors.Is(err, ErrOpen) {
			t.Fatalf("the new key alone opened an old-key value: %v", err)
		}
		p, err := both.Open(v)
		if err != nil {
			t.Fatalf("old-key value with the old key as previous: %v", err)
		}
		again, err := both.Reseal(v)
		if err != nil || !both.Current(again) || !onlyNew.Current(again) {
			t.Fatalf("Reseal = %v, current %v", err, both.Current(again))
		}
		if got, err := onlyNew.Open(again); err != nil || !bytes.Equal(got, p) {
			t.Fatalf("re-sealed value with the new key alone = %q, %v; want %q", got, err, p)
		}
	}
	if _, err := onlyNew.Open(sealed); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("value of an unknown key id: err = %v, want ErrUnknownKey", err)
	}
	if !both.Current(nil) {
		t.Fatal("an unset value needs re-sealing")
	}
	if _, err := NewBox(newKey, rand.Reader, oldKey, newKey); err == nil {
		t.Fatal("the current key given again as previous was accepted")
	}
	if _, err := NewBox(newKey, rand.Reader, []byte("short")); err == nil {
		t.Fatal("a short previous key was accepted")
	}
}

// TestKeyIDIsBound: a value whose key id is changed to another key's does
// not open with that key.
func TestKeyIDIsBound(t *testing.T) {
	t.Parallel()
	a, b := newBox(t, 1), newBox(t, 2)
	s, _ := a.SealString("secret")
	copy(s[1:1+keyIDSize], b.keys[0].id[:])
	if _, err := b.Open(s); !errors.Is(err, ErrOpen) {
		t.Fatalf("forged key id: err = %v, want ErrOpen", err)
	}
}

// legacySeal seals as the format without key ids did.
func legacySeal(t *testing.T, k []byte, plaintext string) []byte {
	t.Helper()
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 1+aead.NonceSize())
	out[0] = versionNoKeyID
	if _, err := rand.Read(out[1:]); err != nil {
		t.Fatal(err)
	}
	return aead.Seal(out, out[1:], []byte(plaintext), nil)
}
