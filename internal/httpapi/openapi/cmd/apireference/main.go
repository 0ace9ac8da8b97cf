// Command apireference renders the OpenAPI document of the API
// (internal/httpapi/openapi/openapi.yaml) into the Markdown reference,
// docs/api-reference.md. Run it through go generate:
//
//	go generate ./internal/httpapi/openapi
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/volleyhq/volley/internal/httpapi/openapi"
)

func main() {
	out := flag.String("o", openapi.ReferencePath, "the Markdown file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "apireference:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	doc, err := openapi.Load()
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, openapi.Markdown(doc), 0o644); err != nil {
		return fmt.Errorf("write reference: %w", err)
	}
	return nil
}
