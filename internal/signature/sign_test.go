package signature

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
)

// Published Standard Webhooks vectors (spec/signatures.md §2).
const (
	vecAID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecATS     = 1614265330
	vecABody   = `{"test": 2432232314}`
	vecASecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecASig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

	vecBID     = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"
	vecBTS     = 1649367553
	vecBBody   = `{"email":"test@example.com","username":"test_user"}`
	vecBSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	vecBSig    = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="

	vecCKeypair = "6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="
	vecCPublic  = "1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
	vecCSig     = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="
)

// mustKey parses a secret the test knows to be good.
func mustKey(t testing.TB, secret string) []byte {
	t.Helper()
	key, err := ParseSecret(secret)
	if err != nil {
		t.Fatalf("ParseSecret(%q): %v", secret, err)
	}
	return key
}

func TestSignVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		id     string
		ts     int64
		body   string
		want   string
	}{
		{"A", vecASecret, vecAID, vecATS, vecABody, vecASig},
		{"B", vecBSecret, vecBID, vecBTS, vecBBody, vecBSig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Sign([][]byte{mustKey(t, tt.secret)}, tt.id, tt.ts, []byte(tt.body))
			if got != tt.want {
				t.Errorf("Sign = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSignRotation(t *testing.T) {
	t.Parallel()
	keys := [][]byte{mustKey(t, vecBSecret), mustKey(t, vecASecret)}
	got := Sign(keys, vecAID, vecATS, []byte(vecABody))
	newSig := Sign(keys[:1], vecAID, vecATS, []byte(vecABody))
	if want := newSig + " " + vecASig; got != want {
		t.Fatalf("Sign with two keys = %q, want new key first then old: %q", got, want)
	}
}

func TestSignNoKeys(t *testing.T) {
	t.Parallel()
	if got := Sign(nil, vecAID, vecATS, []byte(vecABody)); got != "" {
		t.Fatalf("Sign(nil keys) = %q, want empty", got)
	}
}

// TestEd25519VectorC checks that vector C's keypair, public key and v1a
// signature agree with crypto/ed25519, so the inbound v1a test below is
// exercising a real signature rather than one we made up.
func TestEd25519VectorC(t *testing.T) {
	t.Parallel()
	kp, err := base64.StdEncoding.DecodeString(vecCKeypair)
	if err != nil || len(kp) != ed25519.PrivateKeySize {
		t.Fatalf("vector C keypair: %d bytes, %v", len(kp), err)
	}
	priv := ed25519.PrivateKey(kp)
	pub := priv.Public().(ed25519.PublicKey)
	if got := base64.StdEncoding.EncodeToString(pub); got != vecCPublic {
		t.Fatalf("derived public key = %s, want %s", got, vecCPublic)
	}
	msg := []byte(vecAID + "." + "1614265330" + "." + vecABody)
	if got := "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg)); got != vecCSig {
		t.Fatalf("ed25519 signature = %s, want %s", got, vecCSig)
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	r := bytes.NewReader(bytes.Repeat([]byte{0xAB}, 24))
	got, err := NewSecret(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "whsec_q6urq6urq6urq6urq6urq6urq6urq6ur"; got != want {
		t.Fatalf("NewSecret = %q, want %q", got, want)
	}
	key := mustKey(t, got)
	if len(key) != 24 {
		t.Fatalf("round-tripped key is %d bytes, want 24", len(key))
	}

	if _, err := NewSecret(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Fatal("NewSecret with a short reader: got nil error")
	}
}

func TestParseSecret(t *testing.T) {
	t.Parallel()
	vecAKey, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(vecASecret, "whsec_"))
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr string
	}{
		{"prefixed", vecASecret, vecAKey, ""},
		{"bare base64", strings.TrimPrefix(vecASecret, "whsec_"), vecAKey, ""},
		{"surrounding whitespace", " " + vecASecret + "\n", vecAKey, ""},
		{"16 bytes is the minimum", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 16)), make([]byte, 16), ""},
		{"empty", "", nil, "empty"},
		{"prefix only", "whsec_", nil, "empty"},
		{"bad base64", "whsec_not*base64", nil, "not standard base64"},
		{"short key", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 15)), nil, "15 bytes"},
		{"public key", "whpk_" + vecCPublic, nil, "public key"},
		{"signing key", "whsk_" + vecCKeypair, nil, "signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSecret(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSecret(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSecret(%q): %v", tt.in, err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("ParseSecret(%q) = %x, want %x", tt.in, got, tt.want)
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	key, err := ParseSecret(vecASecret)
	if err != nil {
		b.Fatal(err)
	}
	keys := [][]byte{key}
	body := bytes.Repeat([]byte("x"), 1024)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		Sign(keys, vecAID, vecATS, body)
	}
}
