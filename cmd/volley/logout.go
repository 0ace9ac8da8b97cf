package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

func runLogout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("logout", "logout [--api-url URL]", stderr)
	var cf clientFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	api, cfg, err := cf.newAPIClient()
	if errors.Is(err, errNotLoggedIn) {
		fmt.Fprintln(stdout, "Not logged in.")
		return nil
	}
	if err != nil {
		return err
	}
	// Revoke the token on the server first: forgetting it locally alone
	// would leave a working credential in the server's hands and in backups.
	err = api.do(ctx, "DELETE", "/api/tokens/current", nil, nil)
	var ae authError
	var apiErr *apiError
	switch {
	case err == nil:
	case errors.As(err, &ae), errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		// Already revoked or expired: nothing left to revoke.
	default:
		return fmt.Errorf("logout: revoke the token on %s: %w (the token is kept; try again)", api.base, err)
	}
	cfg.Token, cfg.Email = "", ""
	if err := cfg.save(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "✓ Successfully logged out")
	return nil
}
