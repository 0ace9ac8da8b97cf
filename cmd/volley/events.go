package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/volleyhq/volley"
)

// sdk returns the Go SDK client for the saved login.
func (c *apiClient) sdk() *volley.Client {
	return volley.NewClient(c.token, volley.WithBaseURL(c.base), volley.WithHTTPClient(c.http))
}

// defaultProject returns the project to use without --project: the
// organization's default one.
func defaultProject(ctx context.Context, c *volley.Client) (uint64, error) {
	projects, err := c.ListProjectsContext(ctx)
	if err != nil {
		return 0, fmt.Errorf("list projects: %w", err)
	}
	for _, p := range projects {
		if p.IsDefault {
			return p.ID, nil
		}
	}
	if len(projects) > 0 {
		return projects[0].ID, nil
	}
	return 0, errors.New("this organization has no project")
}

// sdkError maps the SDK's 401 to an authError, for the exit code.
func sdkError(err error) error {
	var ae *volley.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		return authError{"the server refused the saved token (revoked or expired): run `volley login`"}
	}
	return err
}

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "get") {
		fmt.Fprintln(stderr, "Usage: volley events list [--project ID] [--source ID] [--limit N] [--json]\n       volley events get EVENT_ID [--json]")
		return usageError{"events: expected list or get"}
	}
	if args[0] == "get" {
		return runEventsGet(ctx, args[1:], stdout, stderr)
	}
	fs := newFlagSet("events list", "events list [flags]", stderr)
	var cf clientFlags
	cf.register(fs)
	project := fs.Uint64("project", 0, "project id (default: the organization's default project)")
	source := fs.Uint64("source", 0, "only events of this source id")
	limit := fs.Int("limit", 20, "how many events, newest first")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	api, _, err := cf.newAPIClient()
	if err != nil {
		return err
	}
	c := api.sdk()
	if *project == 0 {
		if *project, err = defaultProject(ctx, c); err != nil {
			return sdkError(err)
		}
	}
	opts := &volley.ListEventsOptions{Limit: limit}
	if *source != 0 {
		opts.SourceID = source
	}
	list, err := c.ListEventsContext(ctx, *project, opts)
	if err != nil {
		return fmt.Errorf("events list: %w", sdkError(err))
	}
	if cf.json {
		return printJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT ID\tID\tSOURCE\tSTATUS\tCREATED\tBODY")
	for _, e := range list.Requests {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", e.EventID, e.ID, e.SourceID, e.Status,
			e.CreatedAt.Local().Format("2006-01-02 15:04:05"), preview(e.RawBody, 40))
	}
	return tw.Flush()
}

// preview is the start of a body on one line.
func preview(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func runEventsGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("events get", "events get EVENT_ID [flags]", stderr)
	var cf clientFlags
	cf.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"events get: expected one EVENT_ID (evt_… or a numeric id)"}
	}
	api, _, err := cf.newAPIClient()
	if err != nil {
		return err
	}
	ev, err := findEvent(ctx, api, pos[0])
	if err != nil {
		return fmt.Errorf("events get: %w", sdkError(err))
	}
	if cf.json {
		return printJSON(stdout, ev)
	}
	fmt.Fprintf(stdout, "Event:    %s (id %d)\nSource:   %d\nStatus:   %s\nCreated:  %s\nHeaders:\n",
		ev.EventID, ev.ID, ev.SourceID, ev.Status, ev.CreatedAt.Local().Format("2006-01-02 15:04:05"))
	for k, v := range ev.Headers {
		fmt.Fprintf(stdout, "  %s: %v\n", k, v)
	}
	fmt.Fprintf(stdout, "Body:\n%s\n", ev.RawBody)
	if len(ev.DeliveryAttempts) > 0 {
		fmt.Fprintln(stdout, "Attempts:")
		for _, a := range ev.DeliveryAttempts {
			fmt.Fprintf(stdout, "  %s  connection %d  %s %d  %dms  %s\n", a.CreatedAt.Local().Format("15:04:05"),
				a.ConnectionID, a.Status, a.StatusCode, a.DurationMs, a.ErrorReason)
		}
	}
	return nil
}

// findEvent reads an event by numeric id, or by public id in each project
// of the organization in turn.
func findEvent(ctx context.Context, api *apiClient, id string) (*volley.Event, error) {
	c := api.sdk()
	if n, err := strconv.ParseUint(id, 10, 64); err == nil {
		return c.GetEventContext(ctx, n)
	}
	projects, err := c.ListProjectsContext(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range projects {
		var out struct {
			Request volley.Event `json:"request"`
		}
		err := api.do(ctx, "GET", fmt.Sprintf("/api/projects/%d/events/%s", p.ID, id), nil, &out)
		var apiErr *apiError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &out.Request, nil
	}
	return nil, fmt.Errorf("no event %s in this organization", id)
}

// parseInterspersed parses flags that may come after the positional
// arguments ("events get evt_1 --json") and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}
