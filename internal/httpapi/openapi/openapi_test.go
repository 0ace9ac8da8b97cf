package openapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestDocumentValidates loads the expanded document and validates it as
// OpenAPI 3.1 with kin-openapi, examples included. kin-openapi v0.153.0
// validates 3.1 documents structurally (3.1-only fields, type arrays,
// numeric exclusive bounds, $ref siblings) and checks schemas and values
// with a JSON Schema 2020-12 validator; it does not check a document
// against the official 3.1 meta-schema, so keywords it does not know are
// not reported.
func TestDocumentValidates(t *testing.T) {
	t.Parallel()
	doc := load(t)
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(t.Context(), openapi3.EnableExamplesValidation(), openapi3.ProhibitExtensionsWithRef()); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3.1: %v", err)
	}
}

// TestPathParameters checks that every {name} of a path template is a
// required path parameter of each of its operations, and every path
// parameter is in the template, naming the fix (kin-openapi's Validate
// reports a mismatch too, as "must define exactly all path parameters").
func TestPathParameters(t *testing.T) {
	t.Parallel()
	doc := load(t)
	for path, item := range doc.Paths.Map() {
		var inPath []string
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				inPath = append(inPath, seg[1:len(seg)-1])
			}
		}
		for method, op := range item.Operations() {
			var declared []string
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				if p.Value.In != openapi3.ParameterInPath {
					continue
				}
				declared = append(declared, p.Value.Name)
				if !slices.Contains(inPath, p.Value.Name) {
					t.Errorf("%s %s declares the path parameter %q, which is not in the path", method, path, p.Value.Name)
				}
				if !p.Value.Required {
					t.Errorf("%s %s: path parameter %q must be required: true", method, path, p.Value.Name)
				}
			}
			for _, name := range inPath {
				if !slices.Contains(declared, name) {
					t.Errorf("%s %s: {%s} has no parameter; add {name: %s, in: path, required: true, schema: …}", method, path, name, name)
				}
			}
		}
	}
}

// TestExamplesMatchSchemas validates every example of an answer against its
// schema with the JSON Schema 2020-12 validator, as a response would be,
// and requires an example for the answers listed in wantExamples.
func TestExamplesMatchSchemas(t *testing.T) {
	t.Parallel()
	doc := load(t)
	n := 0
	check := func(where string, mt *openapi3.MediaType) {
		t.Helper()
		var values []any
		if mt.Example != nil {
			values = append(values, mt.Example)
		}
		for _, ex := range mt.Examples {
			values = append(values, ex.Value.Value)
		}
		for _, v := range values {
			n++
			if mt.Schema == nil {
				t.Errorf("%s: an example without a schema", where)
				continue
			}
			if err := mt.Schema.Value.VisitJSON(jsonValue(t, v), openapi3.VisitAsResponse(), openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
				t.Errorf("%s: the example does not match the schema: %v", where, err)
			}
		}
	}
	for name, r := range doc.Components.Responses {
		for ct, mt := range r.Value.Content {
			check("components.responses."+name+" "+ct, mt)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status, r := range op.Responses.Map() {
				if r.Ref != "" {
					continue
				}
				for ct, mt := range r.Value.Content {
					check(method+" "+path+" "+status+" "+ct, mt)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d examples of answers; the document should show most answers", n)
	}
}

// TestExpansion pins what expansion adds: twins (required when the
// original is), none where the server writes maps, merged answers, and no
// extension of the source left over.
func TestExpansion(t *testing.T) {
	t.Parallel()
	doc := load(t)
	s := doc.Components.Schemas
	src := s["Source"].Value
	if src.Properties["ingestionId"] == nil || !slices.Contains(src.Required, "ingestionId") {
		t.Errorf("Source has no required twin ingestionId: %v", src.Required)
	}
	if src.Properties["authUsername"] == nil || slices.Contains(src.Required, "authUsername") {
		t.Errorf("Source's optional auth_username has no optional twin")
	}
	if page := s["EventPage"].Value; page.Properties["nextCursor"] != nil {
		t.Errorf("EventPage (written from a map) has twins")
	}
	ans := s["SourceAnswer"].Value
	if ans.Properties["source"] == nil || ans.Properties["createdAt"] == nil || !slices.Contains(ans.Required, "source") {
		t.Errorf("SourceAnswer is not merged: properties %v", slices.Sorted(maps.Keys(ans.Properties)))
	}
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("x-volley-")) {
		t.Errorf("the served document still holds an x-volley- extension")
	}
	var ex map[string]any
	ct := doc.Components.Responses["Source"].Value.Content["application/json"]
	if err := json.Unmarshal(mustJSON(t, ct.Example), &ex); err != nil {
		t.Fatal(err)
	}
	if ex["source"] == nil || ex["ingestion_id"] == nil || ex["ingestionId"] == nil {
		t.Errorf("the merged example was not completed: %v", ex)
	}
}

func TestCamelCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"id": "id", "created_at": "createdAt", "latency_p50_ms": "latencyP50Ms", "_x": "x"} {
		if got := CamelCase(in); got != want {
			t.Errorf("CamelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonValue turns a YAML-decoded value into what decoding JSON gives, the
// form schemas validate.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	var out any
	d := json.NewDecoder(strings.NewReader(string(mustJSON(t, v))))
	if err := d.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
