package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("send", "send --source ID [--data JSON|@file] [flags]", stderr)
	var cf clientFlags
	cf.register(fs)
	source := fs.String("source", "", "the source's ingestion id (src_…) or numeric id (required)")
	data := fs.String("data", `{"test":true}`, "the body: literal text, @file, or @- for stdin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *source == "" {
		fs.Usage()
		return usageError{"send: --source is required"}
	}
	body, err := readData(*data)
	if err != nil {
		return err
	}
	api, _, err := cf.newAPIClient()
	if err != nil {
		return err
	}
	ingestion := *source
	if n, err := strconv.ParseUint(ingestion, 10, 64); err == nil {
		var src struct {
			Source struct {
				IngestionID string `json:"ingestion_id"`
			} `json:"source"`
		}
		if err := api.do(ctx, "GET", fmt.Sprintf("/api/sources/%d", n), nil, &src); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		ingestion = src.Source.IngestionID
	}
	id, err := api.sdk().SendWebhookContext(ctx, ingestion, body) // the bytes as they are
	if err != nil {
		return fmt.Errorf("send: %w", sdkError(err))
	}
	if cf.json {
		return printJSON(stdout, map[string]string{"event_id": id})
	}
	fmt.Fprintf(stdout, "✓ Sent event %s\n", id)
	return nil
}

// readData reads --data: "@file", "@-" (stdin) or the literal text.
func readData(v string) ([]byte, error) {
	switch {
	case v == "@-":
		return io.ReadAll(os.Stdin)
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, fmt.Errorf("send: --data: %w", err)
		}
		return b, nil
	}
	return []byte(v), nil
}
