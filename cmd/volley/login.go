package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"time"
)

// Device login timing, as the official CLI does it.
const (
	loginPollInterval = 2 * time.Second
	loginTimeout      = 10 * time.Minute
)

func runLogin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("login", "login [--api-url URL]", stderr)
	var cf clientFlags
	cf.register(fs)
	noBrowser := fs.Bool("no-browser", false, "print the approval URL without trying to open a browser")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadCLIConfig()
	if err != nil {
		return err
	}
	api := &apiClient{base: cf.resolveAPIURL(cfg), http: &http.Client{Timeout: 30 * time.Second}}
	var start struct {
		PairingCode string `json:"pairing_code"`
		DeviceCode  string `json:"device_code"`
		AuthURL     string `json:"auth_url"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := api.do(ctx, "POST", "/api/auth/cli/start", nil, &start); err != nil {
		return fmt.Errorf("login: start: %w", err)
	}
	fmt.Fprintf(stdout, "Your pairing code is: %s\n", start.PairingCode)
	fmt.Fprintf(stdout, "Approve it at: %s\n", start.AuthURL)
	fmt.Fprintln(stdout, "Waiting for approval…")
	if !*noBrowser {
		openBrowser(start.AuthURL)
	}
	token, err := pollLogin(ctx, api, start.DeviceCode, loginPollInterval, loginTimeout)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	cfg.Token, cfg.APIURL = token, api.base
	api.token = token
	var who struct {
		User struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"user"`
	}
	if err := api.do(ctx, "GET", "/api/user", nil, &who); err == nil {
		cfg.Email = who.User.Email
	}
	if err := cfg.save(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "✓ Successfully logged in!")
	if who.User.Name != "" {
		fmt.Fprintf(stdout, "Welcome, %s!\n", who.User.Name)
	}
	return nil
}

// pollLogin polls the device login every interval until it completes, is
// denied or expires, or timeout passes. Network and server errors are
// retried: the server may be restarting.
func pollLogin(ctx context.Context, api *apiClient, deviceCode string, interval, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		var res struct {
			Status string `json:"status"`
			Token  string `json:"token"`
		}
		err := api.do(ctx, "GET", "/api/auth/cli/poll?device_code="+url.QueryEscape(deviceCode), nil, &res)
		if err == nil {
			switch res.Status {
			case "complete":
				if res.Token != "" {
					return res.Token, nil
				}
				return "", errors.New("the server approved the login but handed out no token")
			case "denied":
				return "", errors.New("the login was denied")
			case "expired":
				return "", errors.New("the pairing code expired (or was already used): run `volley login` again")
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return "", errors.New("authentication timeout: please try again")
			}
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

// openBrowser tries to open url in a browser, in the background; failing
// is fine, the URL is printed anyway.
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if cmd.Start() == nil {
		go cmd.Wait() // reap it
	}
}
