package payload

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestEncodeDecode(t *testing.T) {
	t.Parallel()
	json := []byte(`{"items":[` + strings.Repeat(`{"sku":"A-1","qty":2},`, 40) + `{}]}`)
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*2654435761>>13) ^ byte(i>>3)
	}
	for _, tc := range []struct {
		name    string
		headers string
		body    []byte
		flags   int
	}{
		{"Small", `{}`, []byte(`{"a":1}`), 0},
		{"Empty", `{}`, []byte{}, 0},
		{"JSON", `{"X-Long":["` + strings.Repeat("abc-", 60) + `"]}`, json, BodyZstd | HeadersZstd},
		{"NonUTF8", `{}`, bytes.Repeat([]byte{0xff, 0x00, 'a', 0xc3, 0x28}, 100), BodyZstd},
		{"Incompressible", `{}`, random, 0},
	} {
		h, b, flags := Encode(tc.headers, tc.body)
		if flags != tc.flags {
			t.Errorf("%s: flags = %d, want %d", tc.name, flags, tc.flags)
		}
		gotH, gotB, err := Decode(flags, h, b)
		if err != nil || gotH != tc.headers || !bytes.Equal(gotB, tc.body) {
			t.Errorf("%s: Decode = %q, %q, %v; want the input back", tc.name, gotH, gotB, err)
		}
	}
}

func TestTerms(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		`"event":"evt_list_a1"`: {"event", "list", "evt", "a1"},
		"50%":                   {"50"},
		"%":                     nil,
		"Café Crème":            {"crème", "café"}, // longest (in bytes) first
		"a b c d e f":           {"a", "b", "c", "d"},
		"x x X":                 {"x"},
	} {
		if got := Terms(in); !slices.Equal(got, want) {
			t.Errorf("Terms(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContains(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body, search string
		want         bool
	}{
		{"The Quick brown fox", "quick BROWN", true},
		{"The Quick brown fox", "brown quick", false},
		{"Café Crème", "café crème", true},
		{"\xff\x00needle", "NEEDLE", true},
		{"50 percent", "50%", false},
		{"", "", true},
	} {
		if got := Contains([]byte(tc.body), []byte(tc.search)); got != tc.want {
			t.Errorf("Contains(%q, %q) = %v", tc.body, tc.search, got)
		}
	}
}

func TestExternalID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    http.Header
		body string
		want string
	}{
		{"GitHub", http.Header{"X-Github-Delivery": {"72d3"}}, `{"id":"x"}`, "72d3"},
		{"HeaderOrder", http.Header{"Svix-Id": {"msg_1"}, "Webhook-Id": {"msg_2"}}, ``, "msg_2"},
		{"Stripe", nil, `  {"object":{"id":"in_1"},"id":"evt_1"}`, "evt_1"},
		{"NumberID", nil, `{"id":12}`, ""},
		{"NotObject", nil, `["id"]`, ""},
		{"Broken", nil, `{"a":`, ""},
		{"TooLong", nil, `{"id":"` + strings.Repeat("x", 201) + `"}`, ""},
		{"Control", http.Header{"Webhook-Id": {"a\x00b"}}, ``, ""},
	} {
		if got := ExternalID(tc.h, []byte(tc.body)); got != tc.want {
			t.Errorf("%s: ExternalID = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	body := []byte(`{"customer":"cus_000123","note":"Café crème, 50% off; needle-in-haystack"}`)
	for search, want := range map[string]bool{
		"cus_000123":   true,
		"CUS_000123":   true,
		"000123":       true, // a whole word: "_" separates words
		"00012":        false,
		"needle":       true,
		"needl":        false,
		"haystack":     true,
		"café crème":   true,
		"crème café":   false, // every word, and the whole text too
		"50% off":      true,
		"off; needle":  true,
		"absent":       false,
		`"customer"`:   true,
		"customer cus": false, // both words, but not that text
	} {
		if got := Matches(body, []byte(search)); got != want {
			t.Errorf("Matches(%q) = %v, want %v", search, got, want)
		}
	}
}

// indexTextReference is IndexText as its doc comment defines it.
func indexTextReference(body []byte) string {
	words := strings.FieldsFunc(SearchText(body), func(r rune) bool { return !wordRune(r) })
	for i, w := range words {
		words[i] = IndexWord(w)
	}
	return strings.Join(words, " ")
}

func TestIndexText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"id":"evt_Z9wulCd5gmjC69zGxn4gFsxP","n":42}`: "id evt Z9wulCd5gmjC n 42",
		"Café Crème naïve—ok":                          "Café Crème naïve ok",
		"ünïcödéwörds_löngér_thän_twelve":              "ünïcödéwörds löngér thän twelve",
		"a\x00b\xffc  \n":                              "a b c",
		"":                                             "",
		"%":                                            "",
	} {
		if got := IndexText([]byte(in)); got != want {
			t.Errorf("IndexText(%q) = %q, want %q", in, got, want)
		}
		if ref := indexTextReference([]byte(in)); ref != want {
			t.Errorf("reference(%q) = %q, want %q", in, ref, want)
		}
	}
	long := []byte(strings.Repeat("x", SearchTextLimit-3) + " abcdef")
	if got := IndexText(long); got != "xxxxxxxxxxxx ab" {
		t.Errorf("IndexText of a body past SearchTextLimit = %q", got)
	}
}

func FuzzIndexText(f *testing.F) {
	f.Add([]byte(`{"id":"evt_Z9wulCd5gmjC69zGxn4gFsxP"}`))
	f.Add([]byte("Café\x00Crème\xff\xfe ǅungla ⅫⅩ \uE000\uE001"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, want := IndexText(body), indexTextReference(body); got != want {
			t.Errorf("IndexText(%q) = %q, want %q", body, got, want)
		}
	})
}

// BenchmarkIndexText compares the text the body index is fed (IndexText)
// with the text it was fed before (SearchText), for a 1 KiB webhook body.
func BenchmarkIndexText(b *testing.B) {
	body := []byte(`{"id":"evt_Z9wulCd5gmjC69zGxn4gFsxP","object":"event","api_version":"2024-06-20","created":1700000000,` +
		`"type":"invoice.paid","livemode":true,"request":{"id":"req_rgGCXLRcNf7yFG"},"data":{"object":{"id":"in_CMlUdnlXefzhiUpt0WUxVC6T",` +
		`"object":"invoice","customer":"cus_000000","customer_email":"user522385@example50.com","customer_name":"Customer 0",` +
		`"customer_address":{"line1":"817 Market Street","city":"Denver","postal_code":"79888","country":"US"},"currency":"eur",` +
		`"amount_due":78725,"amount_paid":78725,"amount_remaining":0,"attempt_count":1,"paid":true,"status":"paid",` +
		`"subscription":"sub_FGiYgspLrwYR6nWbdBvrCHZG","billing_reason":"subscription_cycle","lines":{"object":"list","data":[{` +
		`"id":"il_aG9Phq4fHdS6jfCOeJKIyhmo","amount":78725,"quantity":8,"price":{"id":"price_ag5VP8QmHS0pCK4SfgRiFHLy",` +
		`"product":"prod_gjBFKcJnl9ohu3","nickname":"enterprise monthly"}}]},"description":"download enterprise storage usage ` +
		`account pro period city ending seats invoice support receipt city postal america full for line renewal t"}}}`)
	b.Run("SearchText", func(b *testing.B) {
		for b.Loop() {
			_ = SearchText(body)
		}
	})
	b.Run("IndexText", func(b *testing.B) {
		for b.Loop() {
			_ = IndexText(body)
		}
	})
	b.Logf("%d bytes fed before, %d now", len(SearchText(body)), len(IndexText(body)))
}
