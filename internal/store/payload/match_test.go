package payload

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// matchesCopying is Matches as it was before Matcher, lower-casing a copy
// of every body: Matcher must answer the same.
func matchesCopying(body, search []byte) bool {
	text := strings.ToLower(SearchText(body))
	for _, t := range Terms(string(search)) {
		if !hasWord(text, t) {
			return false
		}
	}
	return Contains(body, search)
}

// TestMatcherMatchesCopying compares Matcher with matchesCopying over
// random bodies and searches made of a few words in any case, separators
// (punctuation, NUL, spaces), non-ASCII letters (some whose lower case is
// ASCII or longer) and invalid UTF-8, and at the search limit's edge.
func TestMatcherMatchesCopying(t *testing.T) {
	pieces := []string{"cus", "CUS", "Cus", "000500", "cus_000500", "acct", "ab", "a", "B", "r42", "pro", "PRO",
		"_", "-", " ", ".", "\"", ":", "\x00", "é", "É", "\u212a", "k", "K", "İ", "i", "ß", "\xff", "\xc3", "日本", "42", "0"}
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int) []byte {
		var b bytes.Buffer
		for range n {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.Bytes()
	}
	var differ int
	for i := range 200_000 {
		body, search := text(1+rng.IntN(12)), text(1+rng.IntN(3))
		if i%2 == 0 { // a search the body holds, as most checked candidates do
			if start := rng.IntN(len(body)); start < len(body) {
				search = body[start : start+rng.IntN(len(body)-start)+1]
			}
		}
		if got, want := NewMatcher(search).Match(body), matchesCopying(body, search); got != want {
			if differ++; differ <= 10 {
				t.Errorf("Match(%q, %q) = %v, want %v", body, search, got, want)
			}
		}
	}
	// A word that the search limit cuts ends there.
	body := append(bytes.Repeat([]byte(" "), SearchTextLimit-3), "cusX"...)
	for _, search := range []string{"cus", "cusx", "cusX"} {
		if got, want := Matches(body, []byte(search)), matchesCopying(body, []byte(search)); got != want {
			t.Errorf("at the limit: Matches(…%q, %q) = %v, want %v", body[len(body)-6:], search, got, want)
		}
	}
}

func BenchmarkMatcher(b *testing.B) {
	body := []byte(`{"id":"evt_HBig2EcEZFdpkg5cX6vJumsI","object":"event","type":"invoice.paid","data":{"object":` +
		`{"id":"in_00000500","customer":"cus_000500","customer_email":"user500@example.com","currency":"usd",` +
		`"amount_due":53690,"status":"paid","billing_reason":"subscription_cycle","lines":{"data":[{"id":` +
		`"il_jNnDE1Wa2nK67Zw6ET4O2hAg","description":"9 x Starter plan","quantity":7}]}}}}`)
	m := NewMatcher([]byte("cus_000500"))
	for b.Loop() {
		if !m.Match(body) {
			b.Fatal("no match")
		}
	}
}
