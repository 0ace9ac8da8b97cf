package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ReferencePath is where the rendered reference lives, relative to the
// repository's root.
const ReferencePath = "docs/api-reference.md"

// Markdown renders doc as the API reference: operations grouped by tag
// (in the document's tag order, then by path and method), each with its
// parameters, request body and answers, then every component schema as a
// table of properties. camelCase twins share their original's row.
func Markdown(doc *openapi3.T) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Volley API reference\n\n")
	p("<!-- Generated from internal/httpapi/openapi/openapi.yaml by `go generate ./internal/httpapi/openapi`. Do not edit. -->\n\n")
	p("Every operation of the OpenAPI %s document a node serves at `GET /api/openapi.json`; "+
		"[api.md](api.md) explains the behaviour behind them.\n\n", doc.OpenAPI)
	p("%s\n", strings.TrimSpace(doc.Info.Description))

	byTag := map[string][]string{}
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if op := item.GetOperation(m); op != nil {
				tag := "Other"
				if len(op.Tags) > 0 {
					tag = op.Tags[0]
				}
				byTag[tag] = append(byTag[tag], m+" "+path)
			}
		}
	}
	p("\n## Contents\n\n")
	for _, tag := range doc.Tags {
		p("- [%s](#%s) (%d)\n", tag.Name, anchor(tag.Name), len(byTag[tag.Name]))
	}
	p("- [Answers](#answers)\n- [Schemas](#schemas)\n")

	for _, tag := range doc.Tags {
		p("\n## %s\n", tag.Name)
		if tag.Description != "" {
			p("\n%s\n", tag.Description)
		}
		for _, key := range byTag[tag.Name] {
			method, path, _ := strings.Cut(key, " ")
			item := doc.Paths.Value(path)
			operation(&b, method, path, item, item.GetOperation(method))
		}
	}

	p("\n## Answers\n\nThe answers several operations share.\n")
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Responses)) {
		r := doc.Components.Responses[name].Value
		p("\n<a id=\"answer-%s\"></a>\n\n### %s answer\n", strings.ToLower(name), name)
		if r.Description != nil {
			p("\n%s\n", oneLine(*r.Description))
		}
		for _, ct := range slices.Sorted(maps.Keys(r.Content)) {
			p("\n`%s` %s\n", ct, typeOf(r.Content[ct].Schema, true))
		}
		example(&b, "Example", r)
	}

	p("\n## Schemas\n")
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
		s := doc.Components.Schemas[name].Value
		p("\n<a id=\"schema-%s\"></a>\n\n### %s\n", strings.ToLower(name), name)
		if s.Description != "" {
			p("\n%s\n", oneLine(s.Description))
		}
		if len(s.Properties) == 0 {
			p("\n%s\n", typeOf(doc.Components.Schemas[name], false))
			continue
		}
		if key, of, ok := mergedOf(s); ok {
			p("\nProperties: those of %s, and `%s`: the same %s.\n", typeOf(of, false), key, typeOf(of, false))
			continue
		}
		properties(&b, s, "always")
	}
	return b.Bytes()
}

func operation(b *bytes.Buffer, method, path string, item *openapi3.PathItem, op *openapi3.Operation) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("\n### %s\n\n`%s %s`", op.Summary, method, path)
	if op.Security != nil && len(*op.Security) == 0 {
		p(" · no token")
	}
	p(" · `%s`\n", op.OperationID)
	if op.Description != "" {
		p("\n%s\n", strings.TrimSpace(op.Description))
	}
	params := slices.Concat(item.Parameters, op.Parameters)
	if len(params) > 0 {
		p("\n| Parameter | In | Type | Description |\n|---|---|---|---|\n")
		for _, pr := range params {
			v := pr.Value
			name := "`" + v.Name + "`"
			if v.Required {
				name += " (required)"
			}
			p("| %s | %s | %s | %s |\n", name, v.In, typeOf(v.Schema, false), cell(v.Description))
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		for _, ct := range slices.Sorted(maps.Keys(rb.Value.Content)) {
			mt := rb.Value.Content[ct]
			p("\nRequest body (`%s`", ct)
			if !rb.Value.Required {
				p(", optional")
			}
			if mt.Schema != nil && mt.Schema.Ref == "" && len(mt.Schema.Value.Properties) > 0 {
				p("):\n")
				properties(b, mt.Schema.Value, "required")
				continue
			}
			p("): %s\n", typeOf(mt.Schema, true))
		}
	}
	// Shared error answers go on one line; the table has the others.
	var shared []string
	p("\n| Answer | Body | Description |\n|---|---|---|\n")
	for _, status := range slices.Sorted(maps.Keys(op.Responses.Map())) {
		ref := op.Responses.Value(status)
		if ref.Ref != "" && status >= "400" {
			name := ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
			shared = append(shared, fmt.Sprintf("[%s](#answer-%s)", status, strings.ToLower(name)))
			continue
		}
		r := ref.Value
		body := "empty"
		for _, ct := range slices.Sorted(maps.Keys(r.Content)) {
			body = fmt.Sprintf("`%s` %s", ct, typeOf(r.Content[ct].Schema, true))
		}
		desc := ""
		if r.Description != nil {
			desc = *r.Description
		}
		p("| %s | %s | %s |\n", status, body, cell(desc))
	}
	if len(shared) > 0 {
		p("\nErrors: %s.\n", strings.Join(shared, ", "))
	}
	for _, status := range slices.Sorted(maps.Keys(op.Responses.Map())) {
		ref := op.Responses.Value(status)
		if !strings.HasPrefix(status, "2") {
			continue
		}
		if ref.Ref != "" {
			// Shared answers show their example once, under Answers.
			name := ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
			p("\nExample %s answer: see [%s](#answer-%s).\n", status, name, strings.ToLower(name))
			continue
		}
		example(b, "Example "+status+" answer", ref.Value)
	}
}

// example writes the examples of an answer, folded, with the camelCase
// twins left out (the tables above list them).
func example(b *bytes.Buffer, summary string, r *openapi3.Response) {
	for _, ct := range slices.Sorted(maps.Keys(r.Content)) {
		if ex := r.Content[ct].Example; ex != nil {
			fmt.Fprintf(b, "\n<details><summary>%s (camelCase twins left out)</summary>\n\n```json\n%s\n```\n\n</details>\n",
				summary, indentJSON(withoutTwins(ex)))
		}
	}
}

// withoutTwins copies an example without the keys that are the camelCase
// twin of another key of the same object.
func withoutTwins(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, val := range v {
			out[k] = withoutTwins(val)
		}
		for k := range v {
			if t := CamelCase(k); t != k {
				delete(out, t)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = withoutTwins(v[i])
		}
		return out
	}
	return v
}

// properties writes the property table of an object schema, marking the
// required ones with mark; a camelCase twin shares the row of its original.
func properties(b *bytes.Buffer, s *openapi3.Schema, mark string) {
	fmt.Fprintf(b, "\n| Property | Type | Description |\n|---|---|---|\n")
	twins := map[string]bool{}
	for name := range s.Properties {
		if t := CamelCase(name); t != name && s.Properties[t] != nil {
			twins[t] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		if twins[name] {
			continue
		}
		key := "`" + name + "`"
		if t := CamelCase(name); t != name && s.Properties[t] != nil {
			key += " / `" + t + "`"
		}
		if slices.Contains(s.Required, name) {
			key += " (" + mark + ")"
		}
		prop := s.Properties[name]
		desc := ""
		if prop.Value != nil {
			desc = prop.Value.Description
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", key, typeOf(prop, false), cell(desc))
	}
	if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
		fmt.Fprintf(b, "\nNo other properties.\n")
	}
}

// typeOf describes a schema in a few words, linking components; brief
// objects are spelled out as {key: type, …} when inline is set.
func typeOf(s *openapi3.SchemaRef, inline bool) string {
	if s == nil || s.Value == nil {
		return "any"
	}
	if s.Ref != "" {
		name := s.Ref[strings.LastIndex(s.Ref, "/")+1:]
		return fmt.Sprintf("[%s](#schema-%s)", name, strings.ToLower(name))
	}
	v := s.Value
	var alts []string
	for _, sub := range slices.Concat(v.OneOf, v.AnyOf) {
		alts = append(alts, typeOf(sub, inline))
	}
	if len(alts) > 0 {
		return strings.Join(alts, " or ")
	}
	if v.Const != nil {
		return fmt.Sprintf("`%v`", v.Const)
	}
	var types []string
	if v.Type != nil {
		types = v.Type.Slice()
	}
	for i, t := range types {
		switch {
		case t == "array":
			types[i] = "array of " + typeOf(v.Items, inline)
		case t == "object" && inline && len(v.Properties) > 0:
			var fields []string
			for _, k := range slices.Sorted(maps.Keys(v.Properties)) {
				if !isTwin(v, k) {
					fields = append(fields, k+": "+typeOf(v.Properties[k], false))
				}
			}
			types[i] = "{" + strings.Join(fields, ", ") + "}"
		case t == "object" && v.AdditionalProperties.Schema != nil:
			types[i] = "object of " + typeOf(v.AdditionalProperties.Schema, false)
		case t == "string" && v.Format != "":
			types[i] = "string (" + v.Format + ")"
		}
	}
	out := strings.Join(types, " or ")
	if out == "" {
		out = "any"
	}
	if len(v.Enum) > 0 {
		var vals []string
		for _, e := range v.Enum {
			vals = append(vals, fmt.Sprintf("`%v`", e))
		}
		out += ": " + strings.Join(vals, ", ")
	}
	return out
}

// mergedOf recognises a merged answer: a property key referring to a
// component whose properties are exactly the schema's others.
func mergedOf(s *openapi3.Schema) (string, *openapi3.SchemaRef, bool) {
	for key, prop := range s.Properties {
		if prop.Ref == "" || prop.Value == nil || len(prop.Value.Properties)+1 != len(s.Properties) {
			continue
		}
		all := true
		for k := range prop.Value.Properties {
			if s.Properties[k] == nil {
				all = false
			}
		}
		if all {
			return key, prop, true
		}
	}
	return "", nil, false
}

// isTwin reports whether property k of v is the camelCase twin of another.
func isTwin(v *openapi3.Schema, k string) bool {
	for name := range v.Properties {
		if name != k && CamelCase(name) == k {
			return true
		}
	}
	return false
}

func indentJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// cell makes text fit in a table cell.
func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// anchor is GitHub's heading anchor of a plain heading.
func anchor(heading string) string {
	return strings.ReplaceAll(strings.ToLower(heading), " ", "-")
}
