package openapi

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReferenceIsCurrent fails when docs/api-reference.md is not the
// rendering of the current document.
func TestReferenceIsCurrent(t *testing.T) {
	t.Parallel()
	want := Markdown(load(t))
	file := filepath.Join("..", "..", "..", filepath.FromSlash(ReferencePath))
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read %s: %v; run go generate ./internal/httpapi/openapi", ReferencePath, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale (openapi.yaml changed since it was rendered): run go generate ./internal/httpapi/openapi and commit the result", ReferencePath)
	}
}

// TestMarkdownRendersEveryOperation checks that the reference names every
// operation and schema of the document.
func TestMarkdownRendersEveryOperation(t *testing.T) {
	t.Parallel()
	doc := load(t)
	md := string(Markdown(doc))
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !strings.Contains(md, "`"+method+" "+path+"`") {
				t.Errorf("the reference lacks %s %s", method, path)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(md, "\n### "+name+"\n") {
			t.Errorf("the reference lacks the schema %s", name)
		}
	}
	if strings.Contains(md, "x-volley-") {
		t.Errorf("the reference shows an x-volley- extension")
	}
}
