package volley

import (
	"bytes"
	cryptorand "crypto/rand"
	"errors"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestSlugify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Stripe Webhooks", "stripe-webhooks"},
		{"  GitHub -- Events!! ", "github-events"},
		{"Admin's organization", "admins-organization"},
		{"New Organization", "new-organization"},
		{"café 2", "caf-2"},
		{"日本", ""},
		{"---", ""},
		{strings.Repeat("ab ", 40), strings.TrimRight(strings.Repeat("ab-", 22)[:64], "-")},
	} {
		if got := Slugify(tc.in); got != tc.want {
			t.Errorf("Slugify(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := Slugify(tc.in); got != "" {
			if err := ValidateSlug("slug", got); err != nil {
				t.Errorf("Slugify(%q) = %q is not a valid slug: %v", tc.in, got, err)
			}
		}
	}
}

func TestValidateSlug(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"stripe", true}, {"a-b-1", true}, {"", false}, {"-a", false}, {"a-", false},
		{"A", false}, {"a_b", false}, {"a b", false}, {strings.Repeat("a", 65), false},
	} {
		err := ValidateSlug("slug", tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateSlug(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		var fe *FieldError
		if err != nil && (!errors.As(err, &fe) || fe.Field != "slug") {
			t.Errorf("ValidateSlug(%q) error %v does not name the field", tc.in, err)
		}
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	r := rand.NewChaCha8([32]byte{1})
	seen := map[string]bool{}
	for range 1000 {
		id, err := NewIngestionID(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 26 || !strings.HasPrefix(id, "src_") || seen[id] {
			t.Fatalf("bad or repeated ingestion id %q", id)
		}
		seen[id] = true
	}
	// Event ids sort by time, whatever their random part.
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i := range 500 {
		id, err := NewEventID(r, base.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 26 || !strings.HasPrefix(id, "evt_") {
			t.Fatalf("bad event id %q", id)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("event ids do not sort by creation time")
	}
}

func TestEncode128(t *testing.T) {
	t.Parallel()
	var zero, one, max [16]byte
	one[15] = 1
	for i := range max {
		max[i] = 0xff
	}
	for _, tc := range []struct {
		in   [16]byte
		want string
	}{
		{zero, strings.Repeat("0", 22)},
		{one, strings.Repeat("0", 21) + "1"},
		{max, "7n42DGM5Tflk9n8mt7Fhc7"}, // 2^128-1 in base62
	} {
		if got := encode128(tc.in); got != tc.want {
			t.Errorf("encode128(%x) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestRandomTokenAlphabetAndLength(t *testing.T) {
	t.Parallel()
	tok, err := NewToken(rand.NewChaCha8([32]byte{2}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+tokenRandomLen {
		t.Fatalf("token %q has the wrong shape", tok)
	}
	for _, c := range tok[len(TokenPrefix):] {
		if !strings.ContainsRune(base62, c) {
			t.Fatalf("token %q has a non-base62 character %q", tok, c)
		}
	}
	if _, err := RandomToken(bytes.NewReader(nil), 4); err == nil {
		t.Fatal("RandomToken with an empty reader did not fail")
	}
}

func TestParseStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		parse func(string) (string, error)
		in    string
		want  string
	}{
		{ParseSourceStatus, "active", SourceActive},
		{ParseSourceStatus, "Enabled", SourceActive},
		{ParseSourceStatus, "disabled", SourceDisabled},
		{ParseSourceStatus, "paused", ""},
		{ParseDestinationStatus, "active", DestinationActive},
		{ParseDestinationStatus, "paused", DestinationDisabled},
		{ParseDestinationStatus, "gone", ""},
		{ParseConnectionStatus, "active", ConnectionEnabled},
		{ParseConnectionStatus, "paused", ConnectionPaused},
		{ParseConnectionStatus, "disabled", ConnectionDisabled},
		{ParseConnectionStatus, "", ""},
		{ParseAuthType, "", AuthNone},
		{ParseAuthType, "api_key", AuthAPIKey},
		{ParseAuthType, "oauth", ""},
		{ParseSourceType, "", SourceTypeWebhook},
		{ParseSourceType, "svix", SourceTypeStandardWebhooks},
		{ParseSourceType, "GitHub", SourceTypeGitHub},
		{ParseSourceType, "zoom", ""},
	} {
		got, err := tc.parse(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func validSource() Source {
	return Source{Name: "s", Slug: "s", Type: SourceTypeWebhook, Status: SourceActive, AuthType: AuthNone, AuthKeyName: DefaultAuthKeyName}
}

func TestSourceValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edit  func(*Source)
		field string // "" = valid
	}{
		{"valid", func(*Source) {}, ""},
		{"negative eps", func(s *Source) { s.EPS = -1 }, "eps"},
		{"huge eps", func(s *Source) { s.EPS = MaxEPS + 1 }, "eps"},
		{"basic without user", func(s *Source) { s.AuthType = AuthBasic; s.AuthKey = []byte{1} }, "auth_username"},
		{"basic without key", func(s *Source) { s.AuthType = AuthBasic; s.AuthUsername = "u" }, "auth_key"},
		{"basic ok", func(s *Source) { s.AuthType = AuthBasic; s.AuthUsername = "u"; s.AuthKey = []byte{1} }, ""},
		{"api key without key", func(s *Source) { s.AuthType = AuthAPIKey }, "auth_key"},
		{"api key bad header", func(s *Source) { s.AuthType = AuthAPIKey; s.AuthKey = []byte{1}; s.AuthKeyName = "X Key" }, "auth_key_name"},
		{"verify on generic", func(s *Source) { s.VerifySignature = true; s.WebhookSecret = []byte{1} }, "verify_signature"},
		{"verify without secret", func(s *Source) { s.Type = SourceTypeGitHub; s.VerifySignature = true }, "webhook_secret"},
		{"hmac without header", func(s *Source) { s.Type = SourceTypeHMAC; s.VerifySignature = true; s.WebhookSecret = []byte{1} }, "signature_header"},
		{"hmac bad algorithm", func(s *Source) {
			s.Type = SourceTypeHMAC
			s.VerifySignature = true
			s.WebhookSecret = []byte{1}
			s.HMAC = HMACConfig{Header: "X-Sig", Algorithm: "md5"}
		}, "signature_algorithm"},
	} {
		s := validSource()
		tc.edit(&s)
		err := s.Validate()
		var fe *FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.field)
		}
	}
}

func TestDestinationValidate(t *testing.T) {
	t.Parallel()
	valid := func() Destination {
		return Destination{Name: "d", URL: "https://example.com/hook", Status: DestinationActive}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Destination)
		field string
	}{
		{"valid", func(*Destination) {}, ""},
		{"ftp", func(d *Destination) { d.URL = "ftp://example.com" }, "url"},
		{"no host", func(d *Destination) { d.URL = "http:///x" }, "url"},
		{"garbage", func(d *Destination) { d.URL = "not a url" }, "url"},
		{"timeout too small", func(d *Destination) { d.TimeoutMS = 10 }, "timeout_ms"},
		{"timeout ok", func(d *Destination) { d.TimeoutMS = 5000 }, ""},
		{"reserved header", func(d *Destination) { d.Headers = map[string]string{"Webhook-Signature": "x"} }, "headers"},
		{"volley header", func(d *Destination) { d.Headers = map[string]string{"X-Volley-Attempt": "x"} }, "headers"},
		{"bad header value", func(d *Destination) { d.Headers = map[string]string{"X-A": "a\r\nb"} }, "headers"},
		{"custom header", func(d *Destination) { d.Headers = map[string]string{"X-Env": "prod"} }, ""},
	} {
		d := valid()
		tc.edit(&d)
		err := d.Validate()
		var fe *FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.field)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	if got, err := NormalizeEmail(" Ada@Example.COM "); err != nil || got != "ada@example.com" {
		t.Fatalf("NormalizeEmail = %q, %v", got, err)
	}
	for _, bad := range []string{"", "ada", "Ada <ada@example.com>", "a@b@c"} {
		if _, err := NormalizeEmail(bad); err == nil {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

func TestContainsToken(t *testing.T) {
	t.Parallel()
	tok, err := NewToken(strings.NewReader(strings.Repeat("abcdefghij", 20)))
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateGivenToken(tok); err != nil {
		t.Errorf("a generated token is not a valid given one: %v", err)
	}
	for s, want := range map[string]bool{
		tok:                                         true,
		"Bearer " + tok:                             true,
		"token=" + tok + "; x=1":                    true,
		"vk_" + strings.Repeat("a", 29):             true,  // the shortest given token
		"vk_" + strings.Repeat("a", 28):             false, // one short
		"vk_short vk_" + strings.Repeat("9", 40):    true,
		"VK_" + strings.Repeat("a", 40):             false,
		"Bearer sk_live_" + strings.Repeat("a", 40): false,
		"":    false,
		"vk_": false,
		"vk_" + strings.Repeat("a", 20) + "-" + strings.Repeat("a", 20): false,
	} {
		if got := ContainsToken(s); got != want {
			t.Errorf("ContainsToken(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestPairingCode(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		code, err := NewPairingCode(cryptorand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if NormalizePairingCode(code) != code || len(code) != 9 || code[4] != '-' {
			t.Fatalf("NewPairingCode = %q, not in its normal form ABCD-1234", code)
		}
		seen[code] = true
	}
	if len(seen) < 190 {
		t.Fatalf("200 pairing codes hold only %d distinct ones", len(seen))
	}
	for in, want := range map[string]string{
		"abcd-1234": "ABCD-1234", "ABCD1234": "ABCD-1234", " ab cd 12 34 ": "ABCD-1234",
		"ABCD-123": "", "ABCI-1234": "", "ABCD-12A4": "", "": "",
	} {
		if got := NormalizePairingCode(in); got != want {
			t.Errorf("NormalizePairingCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOrderingKey(t *testing.T) {
	t.Parallel()
	body := []byte(`{"customer":{"id":"c_1","n":42,"vip":true,"tags":["a","b"],"o":{}},"items":[{"sku":"s9"}]}`)
	headers := http.Header{"X-Key": {" k1 "}}
	for _, tc := range []struct{ expr, body, want string }{
		{"$.customer.id", string(body), "c_1"},
		{"$.customer.n", string(body), "42"},
		{"$.customer.vip", string(body), "true"},
		{"$.customer.tags[1]", string(body), "b"},
		{"$.items[0].sku", string(body), "s9"},
		{"$.items[1].sku", string(body), ""},     // no such index: unordered
		{"$.customer.o", string(body), ""},       // an object is no key
		{"$.customer.missing", string(body), ""}, // missing: unordered
		{"$.customer.id", "not json", ""},
		{"header:x-key", "", "k1"},
		{"header:X-Other", "", ""},
	} {
		k, err := ParseOrderingKey(tc.expr)
		if err != nil {
			t.Fatalf("ParseOrderingKey(%q): %v", tc.expr, err)
		}
		if got := k.Key([]byte(tc.body), headers); got != tc.want {
			t.Errorf("key %q of %s = %q, want %q", tc.expr, tc.body, got, tc.want)
		}
	}
	for _, bad := range []string{"", "$", "customer.id", "$.", "$..a", "$.a[", "$.a[-1]", "$.a[x]", "$.a b", "header:", "header:a b",
		"$." + strings.Repeat("a", MaxOrderingKey)} {
		if _, err := ParseOrderingKey(bad); err == nil {
			t.Errorf("ParseOrderingKey(%q) accepted it", bad)
		}
	}
}

func TestConnectionDelayOrderingValidate(t *testing.T) {
	t.Parallel()
	base := Connection{Name: "c", SourceID: 1, DestinationID: 2, Status: ConnectionEnabled}
	for _, tc := range []struct {
		name  string
		edit  func(*Connection)
		field string // "" when valid
	}{
		{"defaults", func(*Connection) {}, ""},
		{"longest delay", func(c *Connection) { c.DelayMS = MaxDelayMS }, ""},
		{"delay too long", func(c *Connection) { c.DelayMS = MaxDelayMS + 1 }, "delay_ms"},
		{"negative delay", func(c *Connection) { c.DelayMS = -1 }, "delay_ms"},
		{"fifo", func(c *Connection) { c.Ordering, c.OrderingKey = OrderingFIFO, "header:X-Key" }, ""},
		{"fifo without key", func(c *Connection) { c.Ordering = OrderingFIFO }, "ordering_key"},
		{"fifo with bad key", func(c *Connection) { c.Ordering, c.OrderingKey = OrderingFIFO, "id" }, "ordering_key"},
		{"unknown ordering", func(c *Connection) { c.Ordering = "lifo" }, "ordering"},
	} {
		c := base
		tc.edit(&c)
		err := c.Validate()
		var fe *FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: error %v, want one on %s", tc.name, err, tc.field)
		}
		if tc.field == "" && c.Ordering == "" {
			t.Errorf("%s: Validate left the ordering unset", tc.name)
		}
	}
}
