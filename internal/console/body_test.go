package console

import (
	"bytes"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
)

func TestRenderBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, contentType, body string
		kind                    string
		want                    []string // substrings of HTML (json) or Text
	}{
		{"empty", "application/json", "", bodyEmpty, nil},
		{"json object", "application/json", `{"a":1,"b":[true,null,"x"]}`, bodyJSON,
			[]string{`<span class="j-key">&#34;a&#34;</span><span class="j-punct">:</span> <span class="j-num">1</span>`,
				`<span class="j-lit">true</span>`, `<span class="j-lit">null</span>`, `<span class="j-str">&#34;x&#34;</span>`}},
		{"json with charset", "application/json; charset=utf-8", `[1]`, bodyJSON, []string{`<span class="j-num">1</span>`}},
		{"vendor json", "application/vnd.github+json", `{}`, bodyJSON, []string{`<span class="j-punct">{</span>`}},
		{"sniffed json", "", ` {"k":"v"}`, bodyJSON, []string{`<span class="j-key">&#34;k&#34;</span>`}},
		{"script in json", "application/json", `{"<script>x</script>":"<img src=x onerror=alert(1)>"}`, bodyJSON,
			[]string{`&lt;script&gt;x&lt;/script&gt;`, `&lt;img src=x onerror=alert(1)&gt;`}},
		{"escaped quote in key", "application/json", `{"a\"b":"c\\"}`, bodyJSON, []string{`<span class="j-key">&#34;a\&#34;b&#34;</span>`, `<span class="j-str">&#34;c\\&#34;</span>`}},
		{"invalid json as text", "application/json", `{"a":`, bodyText, []string{`{"a":`}},
		{"form as text", "application/x-www-form-urlencoded", `a=1&b=<b>`, bodyText, []string{`a=1&b=<b>`}},
		{"plain text not sniffed as json", "text/plain", `{"a":1}`, bodyText, []string{`{"a":1}`}},
		{"binary", "application/octet-stream", "\x00\x01\x02abc", bodyBinary, []string{"00 01 02 61 62 63", "|...abc|"}},
		{"invalid utf-8", "text/plain", "caf\xe9", bodyBinary, []string{"63 61 66 e9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := renderBody(tc.contentType, []byte(tc.body))
			if v.Kind != tc.kind || v.Size != len(tc.body) {
				t.Fatalf("kind %q size %d, want %q %d", v.Kind, v.Size, tc.kind, len(tc.body))
			}
			got := string(v.HTML) + v.Text
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
		})
	}
}

func TestRenderBodyTruncates(t *testing.T) {
	t.Parallel()
	// A big JSON body is shown as text, cut at a character boundary.
	big := `{"k":"` + strings.Repeat("é", maxShownBody) + `"}`
	v := renderBody("application/json", []byte(big))
	if v.Kind != bodyText || !v.Truncated || len(v.Text) > maxShownBody || !strings.HasPrefix(big, v.Text) {
		t.Fatalf("kind %q truncated %v len %d", v.Kind, v.Truncated, len(v.Text))
	}
	bin := bytes.Repeat([]byte{0, 1}, maxHexBytes)
	v = renderBody("", bin)
	if v.Kind != bodyBinary || !v.Truncated || v.Size != len(bin) || strings.Count(v.Text, "\n") != maxHexBytes/16 {
		t.Fatalf("binary: kind %q truncated %v size %d lines %d", v.Kind, v.Truncated, v.Size, strings.Count(v.Text, "\n"))
	}
}

var spanTag = regexp.MustCompile(`<span class="j-(key|str|num|lit|punct)">|</span>`)

// FuzzHighlightJSON checks that highlighting only ever adds its own spans:
// without them, the output unescapes to the pretty-printed JSON.
func FuzzHighlightJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,true,null]}`, `"<script>"`, `{"\"":"\\"}`, `[{"x":{"y":"</span>"}}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var pretty bytes.Buffer
		if json.Indent(&pretty, body, "", "  ") != nil {
			return
		}
		out := spanTag.ReplaceAllString(string(highlightJSON(pretty.Bytes())), "")
		if strings.ContainsAny(out, "<>\"") {
			t.Fatalf("markup left in %q", out)
		}
		if html.UnescapeString(out) != pretty.String() {
			t.Fatalf("got %q, want %q", html.UnescapeString(out), pretty.String())
		}
	})
}

func TestFormTimeToAPI(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2026-12-03T12:30":    "2026-12-03T12:30:00Z",
		"2026-12-03T12:30:15": "2026-12-03T12:30:15Z",
		// Anything else goes to the API, which says what it expects.
		"yesterday":            "yesterday",
		"2026-12-03T12:30:00Z": "2026-12-03T12:30:00Z",
	} {
		if got := formTimeToAPI(in); got != want {
			t.Errorf("formTimeToAPI(%q) = %q, want %q", in, got, want)
		}
	}
}
