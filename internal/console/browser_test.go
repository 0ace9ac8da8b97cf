package console_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each answer.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newBrowser(t testing.TB, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer with its body read.
type page struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return &page{Status: resp.StatusCode, Body: string(body), Location: resp.Header.Get("Location"), Header: resp.Header}
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form as a browser on the same site would (Sec-Fetch-Site
// same-origin).
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	return b.postWith(path, form, http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {b.base}})
}

func (b *browser) postWith(path string, form url.Values, h http.Header) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range h {
		req.Header[k] = v
	}
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of a page's forms.
func (p *page) csrf(t testing.TB) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", p.Body)
	}
	return m[1]
}

// cookie returns the browser's cookie of name ("" when it has none).
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// want fails the test unless the page has status and contains every text.
func (p *page) want(t testing.TB, what string, status int, texts ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("%s: status %d, want %d:\n%s", what, p.Status, status, p.Body)
	}
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("%s: the page lacks %q:\n%s", what, s, p.Body)
		}
	}
}

// wantRedirect fails the test unless the page redirects to location.
func (p *page) wantRedirect(t testing.TB, what, location string) {
	t.Helper()
	if p.Status != http.StatusSeeOther || p.Location != location {
		t.Fatalf("%s: status %d to %q, want 303 to %q:\n%s", what, p.Status, p.Location, location, p.Body)
	}
}

// signIn signs the browser in.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	tok := b.get("/signin").csrf(b.t)
	b.post("/signin", url.Values{"csrf": {tok}, "email": {email}, "password": {password}, "next": {"/account"}}).
		wantRedirect(b.t, "sign in as "+email, "/account")
}

// regexpAll returns the first group of every match of expr in s.
func regexpAll(expr, s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(expr).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// regexpCompile compiles expr, for helpers of other files.
func regexpCompile(expr string) *regexp.Regexp { return regexp.MustCompile(expr) }
