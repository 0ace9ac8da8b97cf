package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// funcs are the template helpers every page may use.
//
//   - when t: "2026-01-02 15:04 UTC" text ("never" for the zero time);
//   - timeTag t: a <time> element with the UTC time as text and title, which
//     the script rewrites into the viewer's time zone (UTC stays on hover);
//   - asset name: the versioned URL of an embedded asset;
//   - path scope elems…: a URL path inside the scope's project;
//   - count n: a number with thousands separators;
//   - chart c: an inline SVG bar chart (see chart.go);
//   - errFor problem field: the API's message when it is about field;
//   - field name label type value hint problem: an input for the "field"
//     template (layout.html), with its label, hint and error in place;
//   - statusForm view connection back: the pause, resume and disable
//     buttons of a connection ("connection-status" in layout.html);
//   - roles, settingsTabs: the role names a form offers, the tabs of
//     Settings;
//   - filterSections: the parts of a connection's filter, in form order.
func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"when":    when,
		"timeTag": timeTag,
		"asset":   c.assets.url,
		"count":   count,
		"chart":   renderChart,
		"errFor":  errFor,
		"field":   newField,
		"roles":   func() []string { return []string{"member", "admin", "owner"} },
		// filterSections are the parts of a connection's filter.
		"filterSections": func() []string { return filterSections },
		"settingsTabs": func() []struct{ Path, Label string } {
			return []struct{ Path, Label string }{{"/account", "Account"}, {"/account/tokens", "API tokens"},
				{"/account/password", "Password"}, {"/account/sessions", "Sessions"}, {"/cli/approve", "CLI login"}}
		},
		"statusForm": func(v view, conn apiConnection, back string) statusForm {
			return statusForm{Scope: v.Scope, CSRF: v.CSRF, Connection: conn, Back: back}
		},
	}
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// timeTag renders t as <time datetime="…Z" title="… UTC">… UTC</time>. The
// text is only formatted numbers, so it is safe as HTML; the script shows
// it in the viewer's time zone.
func timeTag(t time.Time) template.HTML {
	if t.IsZero() {
		return "never"
	}
	u := t.UTC()
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s</time>`,
		u.Format(time.RFC3339), u.Format("2006-01-02 15:04:05 UTC"), u.Format("2006-01-02 15:04 UTC")))
}

// count formats n with thousands separators: 1234567 → "1,234,567".
func count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formField is one labelled input of a form, for the "field" template.
type formField struct {
	Name, Label, Type, Value, Hint, Err string
}

func newField(name, label, typ, value, hint string, p *problem) formField {
	return formField{Name: name, Label: label, Type: typ, Value: value, Hint: hint, Err: errFor(p, name)}
}

// statusForm is what the "connection-status" template needs.
type statusForm struct {
	Scope      *scope
	CSRF       string
	Connection apiConnection
	Back       string // "list" to come back to the list
}
