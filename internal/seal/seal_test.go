package seal

import (
	"bytes"
	"crypto/rand"
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
	k1, err := LoadOrCreateKeyFile(path, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKeyFile(path, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("second load returned another key")
	}
	os.WriteFile(path, []byte("nonsense"), 0o600)
	if _, err := LoadOrCreateKeyFile(path, rand.Reader); err == nil {
		t.Fatal("corrupt key file accepted")
	}
}
