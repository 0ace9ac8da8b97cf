// Package openapi holds the OpenAPI 3.1 document of Volley's HTTP API: the
// hand-written openapi.yaml, expanded into the document GET
// /api/openapi.json serves, and its rendering as Markdown
// (docs/api-reference.md).
//
// The YAML states each resource once. Expansion adds what the server's
// writers add mechanically (see internal/httpapi/twin.go and writeMerged):
// the camelCase twin of every multi-word property of an object schema (not
// of schemas marked `x-volley-twins: false`, which the server writes from
// maps), and the "merged" answers marked `x-volley-merged`, which carry a
// resource under its wrapper key and at the top level. Examples are
// completed the same way, so that they show what the server sends.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:generate go run ./cmd/apireference -o ../../../docs/api-reference.md

// source is the hand-written document; go:embed needs a package variable,
// which nothing writes.
//
//go:embed openapi.yaml
var source []byte

// Extensions of the YAML source; none survives expansion.
const (
	extTwins   = "x-volley-twins"
	extMerged  = "x-volley-merged"
	extAnchors = "x-volley-anchors"
)

// Load parses openapi.yaml and expands it into the document the server
// serves.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(source)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	delete(doc.Extensions, extAnchors)
	x := &expander{doc: doc, twinned: map[*openapi3.Schema]bool{}, merged: map[*openapi3.Schema]string{}}
	if err := x.expand(); err != nil {
		return nil, fmt.Errorf("expand openapi.yaml: %w", err)
	}
	return doc, nil
}

// JSON returns the expanded document as indented JSON, as GET
// /api/openapi.json serves it.
func JSON() ([]byte, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode openapi document: %w", err)
	}
	return append(b, '\n'), nil
}

// expander rewrites a loaded document in place.
type expander struct {
	doc     *openapi3.T
	twinned map[*openapi3.Schema]bool   // schemas whose twins are added
	merged  map[*openapi3.Schema]string // merged answers → their wrapper key
}

func (x *expander) expand() error {
	schemas := x.doc.Components.Schemas
	// Twins first, so that merged answers copy twinned properties.
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		x.twins(schemas[name])
	}
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		if err := x.merge(name, schemas[name].Value); err != nil {
			return err
		}
	}
	// Inline schemas of parameters, bodies and answers.
	for _, rb := range x.doc.Components.RequestBodies {
		x.content(rb.Value.Content, false)
	}
	for _, r := range x.doc.Components.Responses {
		x.content(r.Value.Content, true)
	}
	for _, path := range x.doc.Paths.InMatchingOrder() {
		for _, op := range x.doc.Paths.Value(path).Operations() {
			if op.RequestBody != nil && op.RequestBody.Ref == "" {
				x.content(op.RequestBody.Value.Content, false)
			}
			for _, r := range op.Responses.Map() {
				if r.Ref == "" {
					x.content(r.Value.Content, true)
				}
			}
		}
	}
	return nil
}

// content twins the inline schemas of a body and, for answers, completes
// its examples.
func (x *expander) content(c openapi3.Content, answer bool) {
	for _, mt := range c {
		x.twins(mt.Schema)
		if answer && mt.Example != nil {
			mt.Example = x.example(mt.Schema, mt.Example)
		}
		for _, ex := range mt.Examples {
			if answer && ex.Value != nil {
				ex.Value.Value = x.example(mt.Schema, ex.Value.Value)
			}
		}
	}
}

// twins adds the camelCase twin of every multi-word property of s and of
// the schemas within it, once per schema.
func (x *expander) twins(s *openapi3.SchemaRef) {
	if s == nil || s.Value == nil || x.twinned[s.Value] {
		return
	}
	v := s.Value
	x.twinned[v] = true
	for _, sub := range slices.Concat(v.AllOf, v.OneOf, v.AnyOf) {
		x.twins(sub)
	}
	x.twins(v.Items)
	x.twins(v.AdditionalProperties.Schema)
	off := v.Extensions[extTwins] == false
	delete(v.Extensions, extTwins)
	for _, name := range slices.Sorted(maps.Keys(v.Properties)) {
		prop := v.Properties[name]
		x.twins(prop)
		twin := CamelCase(name)
		if off || twin == name {
			continue
		}
		if _, ok := v.Properties[twin]; ok {
			continue
		}
		v.Properties[twin] = twinOf(name, prop)
		if slices.Contains(v.Required, name) {
			v.Required = append(v.Required, twin)
		}
	}
}

// twinOf is the schema of name's twin: a reference to the same component,
// or a copy of an inline schema that says whose twin it is.
func twinOf(name string, prop *openapi3.SchemaRef) *openapi3.SchemaRef {
	if prop.Ref != "" {
		return &openapi3.SchemaRef{Ref: prop.Ref, Value: prop.Value}
	}
	cp := *prop.Value
	cp.Description = "The camelCase twin of `" + name + "` (same value)."
	return &openapi3.SchemaRef{Value: &cp}
}

// merge turns a schema marked `x-volley-merged: {key, of}` into the object
// writeMerged sends: the properties of `of` at the top level and `of`
// itself under key.
func (x *expander) merge(name string, v *openapi3.Schema) error {
	raw, ok := v.Extensions[extMerged]
	if !ok {
		return nil
	}
	delete(v.Extensions, extMerged)
	m, _ := raw.(map[string]any)
	key, _ := m["key"].(string)
	of, _ := m["of"].(string)
	target := x.doc.Components.Schemas[of]
	if key == "" || target == nil || target.Value == nil {
		return fmt.Errorf("schema %s: %s needs {key: <wrapper key>, of: <schema name>}, got %v", name, extMerged, raw)
	}
	t := target.Value
	v.Type = &openapi3.Types{openapi3.TypeObject}
	if v.Description == "" {
		v.Description = fmt.Sprintf("A %s under `%s` and, for the clients that read it bare, its fields at the top level.", of, key)
	}
	v.Properties = maps.Clone(t.Properties)
	v.Properties[key] = &openapi3.SchemaRef{Ref: "#/components/schemas/" + of, Value: t}
	v.Required = append([]string{key}, t.Required...)
	no := false
	v.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
	x.twinned[v] = true
	x.merged[v] = key
	return nil
}

// example completes an example written in snake_case with what the server
// adds: twins wherever the schema has them and, for a merged answer, the
// top-level copy of the wrapped object.
func (x *expander) example(s *openapi3.SchemaRef, value any) any {
	if s == nil || s.Value == nil {
		return value
	}
	v := s.Value
	switch val := value.(type) {
	case []any:
		if v.Items == nil {
			return val
		}
		for i := range val {
			val[i] = x.example(v.Items, val[i])
		}
		return val
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(val)) {
			switch prop, ok := v.Properties[k]; {
			case ok:
				val[k] = x.example(prop, val[k])
			case v.AdditionalProperties.Schema != nil:
				val[k] = x.example(v.AdditionalProperties.Schema, val[k])
			}
		}
		if key, ok := x.merged[v]; ok {
			if inner, ok := val[key].(map[string]any); ok {
				for k, iv := range inner {
					if _, set := val[k]; !set {
						val[k] = iv
					}
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(val)) {
			twin := CamelCase(k)
			if _, has := v.Properties[twin]; has && twin != k {
				if _, set := val[twin]; !set {
					val[twin] = val[k]
				}
			}
		}
		return val
	}
	return value
}

// CamelCase turns a snake_case key into lowerCamelCase, the twin the server
// writes beside every multi-word key (internal/httpapi/twin.go):
// "ingestion_id" → "ingestionId", "latency_p50_ms" → "latencyP50Ms".
func CamelCase(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	var b strings.Builder
	upper := false
	for _, r := range s {
		switch {
		case r == '_':
			upper = b.Len() > 0
		case upper && 'a' <= r && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
			upper = false
		default:
			b.WriteRune(r)
			upper = false
		}
	}
	return b.String()
}
