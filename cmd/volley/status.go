package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", "status [--api-url URL] [--json]", stderr)
	var cf clientFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	api, _, err := cf.newAPIClient()
	if errors.Is(err, errNotLoggedIn) {
		if cf.json {
			printJSON(stdout, map[string]any{"authenticated": false})
		} else {
			fmt.Fprintln(stdout, "Not authenticated. Run 'volley login' to authenticate.")
		}
		return err
	}
	if err != nil {
		return err
	}
	var who struct {
		User struct {
			ID    uint64 `json:"id"`
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"user"`
	}
	if err := api.do(ctx, "GET", "/api/user", nil, &who); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	var org struct {
		ID   uint64 `json:"id"`
		Name string `json:"name"`
	}
	orgErr := api.do(ctx, "GET", "/api/org", nil, &org)
	if cf.json {
		out := map[string]any{"authenticated": true, "api_url": api.base, "user": who.User}
		if orgErr == nil {
			out["organization"] = org
		}
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "Authentication Status: ✓ Authenticated\nServer: %s\nEmail: %s\nName: %s\nUser ID: %d\n",
		api.base, who.User.Email, who.User.Name, who.User.ID)
	if orgErr == nil {
		fmt.Fprintf(stdout, "Current Organization: %s (ID: %d)\n", org.Name, org.ID)
	}
	return nil
}
