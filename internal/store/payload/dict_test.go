package payload

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// sampleBody is a JSON webhook of about 1 KiB, like one source sends: the
// same keys every time, values that vary.
func sampleBody(r *rand.Rand, i int) []byte {
	return fmt.Appendf(nil, `{"id":"evt_%016x","type":"order.%s","created":%d,"data":{"object":{"id":"ord_%d",`+
		`"customer":{"email":"user%d@example.com","name":"Customer %d","address":{"line1":"%d Main Street",`+
		`"city":"Springfield","postal_code":"%05d","country":"US"}},"items":[{"sku":"SKU-%d","quantity":%d,`+
		`"price":%d,"currency":"usd"},{"sku":"SKU-%d","quantity":%d,"price":%d,"currency":"usd"}],`+
		`"shipping":{"method":"ground","carrier":"ups","tracking":"1Z%012d"},"metadata":{"note":"%s"}}},`+
		`"livemode":false,"pending_webhooks":1,"request":{"id":"req_%x","idempotency_key":"%x"}}`,
		r.Uint64(), []string{"created", "paid", "shipped", "refunded"}[i%4], 1700000000+i, r.IntN(1e6),
		r.IntN(1e5), r.IntN(1e5), r.IntN(999), r.IntN(99999), r.IntN(1000), 1+r.IntN(5), r.IntN(10000),
		r.IntN(1000), 1+r.IntN(5), r.IntN(10000), r.Int64N(1e12), strings.Repeat("x", r.IntN(40)), r.Uint64(), r.Uint64())
}

// testHeaders are the headers of every sample: a source's sender sends the
// same ones each time.
const testHeaders = `{"Content-Type":["application/json"],"User-Agent":["Stripe/1.0 (+https://stripe.com/docs/webhooks)"]}`

func samples(seed uint64, n int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]byte, n)
	for i := range out {
		out[i] = sampleBody(r, i)
	}
	return out
}

// trained trains and registers a dictionary on n samples.
func trained(t *testing.T, seed uint64, n int) uint32 {
	t.Helper()
	s := samples(seed, n)
	for range n / 10 {
		s = append(s, []byte(testHeaders))
	}
	raw, err := TrainDict(s, 0)
	if err != nil {
		t.Fatal(err)
	}
	id, err := RegisterDict(raw)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEncodeDictRoundTrip(t *testing.T) {
	t.Parallel()
	id := trained(t, 1, 500)
	headers := testHeaders
	for i, body := range append(samples(2, 50), []byte{}, []byte(`{}`), bytes.Repeat([]byte{0xff, 0}, 300)) {
		h, b, flags, err := EncodeDict(id, headers, body)
		if err != nil {
			t.Fatal(err)
		}
		if len(body) > 500 && flags&BodyZstd == 0 {
			t.Errorf("body %d: not compressed", i)
		}
		if flags&HeadersZstd == 0 {
			t.Errorf("body %d: headers not compressed with the dictionary", i)
		}
		hd, bd := FrameDicts(flags, h, b)
		if hd != id || (flags&BodyZstd != 0 && bd != id) {
			t.Errorf("body %d: frames name dictionaries %d and %d, want %d", i, hd, bd, id)
		}
		gotH, gotB, err := Decode(flags, h, b)
		if err != nil || gotH != headers || !bytes.Equal(gotB, body) {
			t.Fatalf("body %d: Decode = %q, %q, %v; want the input back", i, gotH, gotB, err)
		}
		if gotB, err := DecodeBody(flags, b); err != nil || !bytes.Equal(gotB, body) {
			t.Fatalf("body %d: DecodeBody = %q, %v", i, gotB, err)
		}
	}
}

// TestDictShrinks pins the point of dictionaries: a source's 1 KiB bodies
// keep well under what they keep without one.
func TestDictShrinks(t *testing.T) {
	t.Parallel()
	id := trained(t, 3, 1000)
	test := samples(4, 200)
	plain, err := DictRatio(0, test)
	if err != nil {
		t.Fatal(err)
	}
	with, err := DictRatio(id, test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ratio without a dictionary %.3f, with %.3f", plain, with)
	if with > plain*0.8 {
		t.Errorf("ratio with a dictionary %.3f, want at most 80%% of %.3f", with, plain)
	}
}

func TestDictSeveral(t *testing.T) {
	t.Parallel()
	a, b := trained(t, 5, 300), trained(t, 6, 300)
	if a == b {
		t.Fatalf("two dictionaries got id %d", a)
	}
	body := samples(7, 1)[0]
	_, za, _, err := EncodeDict(a, "{}", body)
	if err != nil {
		t.Fatal(err)
	}
	_, zb, _, err := EncodeDict(b, "{}", body)
	if err != nil {
		t.Fatal(err)
	}
	_, plainFrame, _ := Encode("{}", body)
	for _, z := range [][]byte{za, zb, plainFrame} {
		got, err := DecodeBody(BodyZstd, z)
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("DecodeBody = %q, %v", got, err)
		}
	}
}

func TestDictUnknownAndConflict(t *testing.T) {
	t.Parallel()
	raw, err := TrainDict(samples(8, 300), 0)
	if err != nil {
		t.Fatal(err)
	}
	id, err := DictID(raw)
	if err != nil {
		t.Fatal(err)
	}
	var unknown *UnknownDictError
	if _, _, _, err := EncodeDict(id, "{}", samples(9, 1)[0]); !errors.As(err, &unknown) || unknown.ID != id {
		t.Fatalf("EncodeDict with an unregistered dictionary: %v", err)
	}
	// A frame written by another process with the dictionary: read once
	// it is registered, not before.
	other, err := TrainDict(samples(8, 300), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RegisterDict(other); err != nil {
		t.Fatal(err)
	}
	_, z, _, err := EncodeDict(id, "{}", samples(9, 1)[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RegisterDict(raw); err == nil && !bytes.Equal(raw, other) {
		t.Error("RegisterDict took another dictionary under a registered id")
	}
	if _, err := RegisterDict(other); err != nil {
		t.Errorf("RegisterDict of the same dictionary again: %v", err)
	}
	if got, err := DecodeBody(BodyZstd, z); err != nil || !bytes.Equal(got, samples(9, 1)[0]) {
		t.Errorf("DecodeBody = %q, %v", got, err)
	}

	// A frame naming a dictionary never registered (written by another
	// process).
	never, err := TrainDict(samples(11, 300), 0)
	if err != nil {
		t.Fatal(err)
	}
	neverID, _ := DictID(never)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDict(never))
	if err != nil {
		t.Fatal(err)
	}
	foreign := enc.EncodeAll(samples(9, 1)[0], nil)
	if _, err := DecodeBody(BodyZstd, foreign); !errors.As(err, &unknown) || unknown.ID != neverID {
		t.Errorf("DecodeBody of a frame with an unknown dictionary: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("nope"), []byte("\x37\xa4\x30\xec\x00\x00\x00\x00")} {
		if _, err := RegisterDict(bad); err == nil {
			t.Errorf("RegisterDict(%q) took it", bad)
		}
	}
	if _, err := TrainDict(samples(10, 10), 0); err == nil {
		t.Error("TrainDict took 10 samples")
	}
}
