package console

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"html"
	"html/template"
	"mime"
	"strings"
	"unicode/utf8"
)

// Body kinds, as shown on the event page.
const (
	bodyEmpty  = "empty"
	bodyJSON   = "json"
	bodyText   = "text"
	bodyBinary = "binary"
)

// maxShownBody bounds how much of a body a page shows (highlighted JSON,
// text): webhook bodies may be megabytes, and a page must stay fast. The
// whole body stays available through the API.
const maxShownBody = 256 << 10

// maxHexBytes bounds the hex summary of a binary body.
const maxHexBytes = 256

// bodyView is a request or response body made safe to show. Every
// byte of the body is attacker-controlled: JSON is highlighted here, on
// the server, from escaped text only, and everything else is handed to
// html/template as a plain string, which escapes it.
type bodyView struct {
	Kind string // bodyEmpty, bodyJSON, bodyText or bodyBinary
	Size int    // bytes
	// HTML is the pretty-printed JSON with its tokens in <span class="j-…">
	// (bodyJSON only); every piece of the body in it is escaped.
	HTML template.HTML
	// Text is the body as text (bodyText) or its hex summary (bodyBinary).
	Text string
	// Truncated says that only the first maxShownBody bytes (text) or
	// maxHexBytes bytes (binary) are shown.
	Truncated bool
}

// SizeText is the body's size in bytes with thousands separators.
func (v bodyView) SizeText() string { return count(int64(v.Size)) }

// renderBody decides how to show a body from its content type and bytes:
// JSON when the type says JSON (or says nothing and the bytes are a JSON
// object or array), text when the bytes are UTF-8 without control
// characters other than tabs and line breaks, else a hex summary.
func renderBody(contentType string, body []byte) bodyView {
	v := bodyView{Size: len(body)}
	if len(body) == 0 {
		v.Kind = bodyEmpty
		return v
	}
	if len(body) <= maxShownBody && isJSON(contentType, body) {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, body, "", "  "); err == nil {
			v.Kind, v.HTML = bodyJSON, highlightJSON(pretty.Bytes())
			return v
		}
	}
	shown := body
	if len(shown) > maxShownBody {
		shown, v.Truncated = shown[:maxShownBody], true
		// Do not cut a character in half.
		for k := 0; k < utf8.UTFMax-1 && len(shown) > 0; k++ {
			if r, _ := utf8.DecodeLastRune(shown); r != utf8.RuneError {
				break
			}
			shown = shown[:len(shown)-1]
		}
	}
	if isText(shown) {
		v.Kind, v.Text = bodyText, string(shown)
		return v
	}
	v.Kind, v.Truncated = bodyBinary, len(body) > maxHexBytes
	v.Text = hex.Dump(body[:min(len(body), maxHexBytes)])
	return v
}

// isJSON reports whether a body should be read as JSON.
func isJSON(contentType string, body []byte) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return true
	}
	if contentType != "" {
		return false
	}
	t := bytes.TrimSpace(body)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t)
}

// isText reports whether b reads as text: valid UTF-8 without control
// characters other than tab, line feed and carriage return.
func isText(b []byte) bool {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return false
		}
		b = b[size:]
	}
	return true
}

// highlightJSON wraps the tokens of valid, indented JSON in spans: j-key
// (object keys), j-str, j-num, j-lit (true, false, null) and j-punct.
// Whitespace is copied; every token is HTML-escaped.
func highlightJSON(src []byte) template.HTML {
	var b strings.Builder
	b.Grow(len(src) * 2)
	span := func(class string, tok []byte) {
		b.WriteString(`<span class="`)
		b.WriteString(class)
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(string(tok)))
		b.WriteString(`</span>`)
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"':
			j := stringEnd(src, i)
			class := "j-str"
			if k := skipSpace(src, j); k < len(src) && src[k] == ':' {
				class = "j-key"
			}
			span(class, src[i:j])
			i = j
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',':
			span("j-punct", src[i:i+1])
			i++
		case c == ' ' || c == '\n' || c == '\t' || c == '\r':
			b.WriteByte(c)
			i++
		default: // a number or a literal, up to the next delimiter
			j := i
			for j < len(src) && !strings.ContainsRune(" \n\t\r,]}:", rune(src[j])) {
				j++
			}
			class := "j-num"
			if c == 't' || c == 'f' || c == 'n' {
				class = "j-lit"
			}
			span(class, src[i:j])
			i = j
		}
	}
	// Safe as HTML: the only markup is the spans above; every token is escaped.
	return template.HTML(b.String())
}

// stringEnd returns the index just past the JSON string starting at i.
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(src)
}

func skipSpace(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\n' || src[i] == '\t' || src[i] == '\r') {
		i++
	}
	return i
}
