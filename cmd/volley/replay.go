package main

import (
	"context"
	"fmt"
	"io"

	"github.com/volleyhq/volley"
)

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", "replay EVENT_ID [--connection ID] [flags]", stderr)
	var cf clientFlags
	cf.register(fs)
	conn := fs.Uint64("connection", 0, "replay to this connection only (default: every connection of the event)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"replay: expected one EVENT_ID (evt_…)"}
	}
	api, _, err := cf.newAPIClient()
	if err != nil {
		return err
	}
	req := volley.ReplayEventRequest{EventID: pos[0]}
	if *conn != 0 {
		req.ConnectionID = conn
	}
	res, err := api.sdk().ReplayEventContext(ctx, req)
	if err != nil {
		return fmt.Errorf("replay: %w", sdkError(err))
	}
	if cf.json {
		return printJSON(stdout, res)
	}
	if res.Success {
		fmt.Fprintf(stdout, "✓ Replayed %s: %d in %dms (attempt %d)\n", pos[0], res.StatusCode, res.DurationMs, res.AttemptID)
		return nil
	}
	fmt.Fprintf(stdout, "✗ Replay of %s failed: %s (status %d, attempt %d)\n", pos[0], res.ErrorReason, res.StatusCode, res.AttemptID)
	return fmt.Errorf("replay of %s failed", pos[0])
}
