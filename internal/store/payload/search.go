package payload

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SearchTextLimit is how much of a body a search reads: words past its
// first 128 KiB are not found (PostgreSQL's index takes the same prefix,
// left(…, 131072), which keeps its tsvector of any body under 1 MB).
const SearchTextLimit = 128 << 10

// SearchText is the text of body a search matches words in: its
// first SearchTextLimit bytes, invalid UTF-8 and NUL bytes (which
// PostgreSQL's text rejects) turned into spaces.
func SearchText(body []byte) string {
	b := body[:min(len(body), SearchTextLimit)]
	s := strings.ToValidUTF8(string(b), " ")
	return strings.ReplaceAll(s, "\x00", " ")
}

// IndexWordMax is how many characters of a word a body index keeps: a
// longer word (a provider's random id: 24 characters in Stripe's) is
// indexed by its first IndexWordMax, which still tells it from the other
// words of a store of millions, at about half the index's bytes for
// realistic webhooks (docs/benchmarks.md). A search for a longer word
// looks for its prefix and checks the bodies found (Matches), so it finds
// the same events.
const IndexWordMax = 12

// IndexText is the text an index of body's words (SQLite's search index parts)
// is fed: the words of SearchText(body), each cut by IndexWord, separated
// by single spaces. The index keeps which bodies hold a word, not where,
// so JSON punctuation and the ends of long words would cost it time and
// bytes for no result. Words are split as the index's tokenizer splits
// them (wordRune: the same categories; invalid UTF-8 and NUL separate
// words, as SearchText's spaces do); case is left for it to fold. It reads
// body in place, without SearchText's copies: the indexer's CPU per event
// is mostly this and the index's own work.
func IndexText(body []byte) string {
	b := body[:min(len(body), SearchTextLimit)]
	out := make([]byte, 0, len(b)/2)
	for i := 0; i < len(b); {
		start, end, n := i, i, 0
		for i < len(b) {
			c, size := rune(b[i]), 1
			if c >= utf8.RuneSelf {
				c, size = utf8.DecodeRune(b[i:])
				if !wordRune(c) {
					break
				}
			} else if !('0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z') {
				break
			}
			i += size
			if n < IndexWordMax {
				n, end = n+1, i
			}
		}
		if end == start { // a separator
			_, size := utf8.DecodeRune(b[i:])
			i += size
			continue
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		out = append(out, b[start:end]...)
	}
	return string(out)
}

// IndexWord is word as IndexText feeds it to the index: its first
// IndexWordMax characters.
func IndexWord(word string) string {
	n := 0
	for i := range word {
		if n == IndexWordMax {
			return word[:i]
		}
		n++
	}
	return word
}

// maxTerms bounds the words of a search checked as whole words: the
// longest ones narrow the matches most, and Contains applies the whole
// text anyway.
const maxTerms = 4

// Terms returns the words of a search that Matches checks as whole words:
// runs of letters and digits (wordRune), lower case, at most maxTerms of
// them, longest first. A search without any has none.
func Terms(search string) []string {
	words := strings.FieldsFunc(search, func(r rune) bool { return !wordRune(r) })
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	slices.SortStableFunc(words, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	words = slices.Compact(words)
	if len(words) > maxTerms {
		words = words[:maxTerms]
	}
	return words
}

// IsWord reports whether search is a single word and nothing else: then a
// body holds it, ignoring case, as a whole word exactly when an index of
// the body's words (Terms of the body) holds it.
func IsWord(search string) bool {
	if search == "" || len(search) > SearchTextLimit {
		return false
	}
	for _, r := range search {
		if !wordRune(r) {
			return false
		}
	}
	return true
}

// Matches reports whether body matches a search as the indexes find it:
// within the first SearchTextLimit bytes every word of the search (Terms)
// is a whole word of the body, and the body holds the whole search text,
// ignoring case. SQLite's search applies it to every event it reads.
func Matches(body, search []byte) bool {
	return NewMatcher(search).Match(body)
}

// A Matcher is Matches for one search, its words worked out once: a list
// checks thousands of bodies against the same text.
type Matcher struct {
	search []byte
	terms  []string
}

// NewMatcher returns the Matcher of search.
func NewMatcher(search []byte) *Matcher {
	return &Matcher{search: search, terms: Terms(string(search))}
}

// Match reports whether body matches the search (Matches). An ASCII body
// is read in place, folding case byte by byte: lower-casing a copy of it
// cost most of the check (about 7 µs for a 1 KiB body). Any other body is
// lower-cased as SearchText says, where a character's lower case may be
// ASCII ('K', the Kelvin sign) or longer.
func (m *Matcher) Match(body []byte) bool {
	if !Contains(body, m.search) {
		return false
	}
	text := body[:min(len(body), SearchTextLimit)]
	if !isASCII(text) {
		lower := strings.ToLower(SearchText(body))
		for _, t := range m.terms {
			if !hasWord(lower, t) {
				return false
			}
		}
		return true
	}
	for _, t := range m.terms {
		if !hasWordFoldASCII(text, t) {
			return false
		}
	}
	return true
}

// hasWordFoldASCII is hasWord over an ASCII text as it is, its letters
// folded to lower case as they are compared: term (lower case) occurs in
// text with no letter or digit right before or after it. A NUL byte,
// which SearchText makes a space, separates words either way.
func hasWordFoldASCII(text []byte, term string) bool {
	if term == "" {
		return true
	}
	for i := 0; i+len(term) <= len(text); i++ {
		if lowerASCII(text[i]) != term[0] {
			continue
		}
		j := 1
		for j < len(term) && lowerASCII(text[i+j]) == term[j] {
			j++
		}
		if j < len(term) {
			continue
		}
		end := i + len(term)
		if (i == 0 || !asciiWordByte(text[i-1])) && (end == len(text) || !asciiWordByte(text[end])) {
			return true
		}
	}
	return false
}

// asciiWordByte reports whether the ASCII byte c is a word character
// (wordRune): a letter or a digit.
func asciiWordByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z'
}

// hasWord reports whether term (lower case, letters and digits) occurs in
// text (lower case) with no letter or digit right before or after it.
func hasWord(text, term string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], term)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(term)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if (start == 0 || !wordRune(before)) && (end == len(text) || !wordRune(after)) {
			return true
		}
		i = start + 1
	}
}

// wordRune is a character the search's words are made of (see Terms).
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// Contains reports whether body holds search, ignoring case.
func Contains(body, search []byte) bool {
	if isASCII(search) {
		return containsFoldASCII(body, search)
	}
	return bytes.Contains(bytes.ToLower(body), bytes.ToLower(search))
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// containsFoldASCII is Contains for an ASCII search without allocating:
// only ASCII letters fold, so any other byte of body must match exactly.
func containsFoldASCII(body, search []byte) bool {
	if len(search) == 0 {
		return true
	}
	first := lowerASCII(search[0])
	for i := 0; i+len(search) <= len(body); i++ {
		if lowerASCII(body[i]) != first {
			continue
		}
		j := 1
		for j < len(search) && lowerASCII(body[i+j]) == lowerASCII(search[j]) {
			j++
		}
		if j == len(search) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// ProviderHeaders are the request headers that carry a provider's own id
// of a webhook delivery, in the order they are looked for. The first one
// present becomes the event's external id, searchable exactly.
var ProviderHeaders = []string{
	"X-Github-Delivery",    // GitHub
	"Webhook-Id",           // Standard Webhooks
	"Svix-Id",              // Svix (Clerk, Resend, …)
	"X-Shopify-Webhook-Id", // Shopify
	"X-Gitlab-Event-Uuid",  // GitLab
}

// maxExternalID bounds an external id: longer values are not ids.
const maxExternalID = 200

// ExternalID returns the provider's id of a webhook: the first of
// ProviderHeaders present, else the body's top-level "id" when the body is
// a JSON object and it is a string (Stripe's "evt_…", and most JSON
// webhooks), else "". An id longer than 200 bytes or with control
// characters is not one.
func ExternalID(h http.Header, body []byte) string {
	for _, name := range ProviderHeaders {
		if v := h[name]; len(v) > 0 && validID(v[0]) {
			return v[0]
		}
	}
	if id := bodyID(body); validID(id) {
		return id
	}
	return ""
}

func validID(s string) bool {
	if s == "" || len(s) > maxExternalID || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// bodyID reads a JSON object's top-level "id" string. It stops at the
// key: providers put the id first, so a big body is not read through.
func bodyID(body []byte) string {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(trimmed))
	if _, err := d.Token(); err != nil { // the '{'
		return ""
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return ""
		}
		if k == "id" {
			var id string
			if err := d.Decode(&id); err != nil {
				return ""
			}
			return id
		}
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}
