package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Exit codes of the client commands (login, listen, events, …): 0 ok,
// 1 error, 2 usage (see exitCode), and exitNotAuthenticated when there is no
// token or the server refuses it.
const exitNotAuthenticated = 4

// authError means the CLI has no token, or the server refused it (401).
type authError struct{ msg string }

func (e authError) Error() string { return e.msg }

var errNotLoggedIn = authError{"not authenticated: run `volley login` first"}

// defaultAPIURL is where the client commands go without --api-url,
// VOLLEY_API_URL or a saved api_url: a server on this machine.
const defaultAPIURL = "http://127.0.0.1:8080"

// cliConfig is what `volley login` saves, in the official CLI's format.
type cliConfig struct {
	Token  string `json:"token,omitempty"`
	Email  string `json:"email,omitempty"`
	APIURL string `json:"api_url,omitempty"`
}

// cliConfigPath is $XDG_CONFIG_HOME/volley/config.json, else
// ~/.config/volley/config.json.
func cliConfigPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the config directory: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "volley", "config.json"), nil
}

func loadCLIConfig() (*cliConfig, error) {
	path, err := cliConfigPath()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &cliConfig{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c cliConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return &c, nil
}

// save writes the config with mode 0600: it holds a bearer token.
func (c *cliConfig) save() error {
	path, err := cliConfigPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// clientFlags are the flags every client command takes.
type clientFlags struct {
	apiURL string
	json   bool
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.apiURL, "api-url", "", "the server's base URL (env VOLLEY_API_URL; default: the saved one, else "+defaultAPIURL+")")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts instead of tables")
}

// resolveAPIURL applies the precedence --api-url, VOLLEY_API_URL, the
// saved api_url, the default. Loopback URLs are kept (the official CLI
// replaces them with its cloud's).
func (f *clientFlags) resolveAPIURL(cfg *cliConfig) string {
	for _, u := range []string{f.apiURL, os.Getenv("VOLLEY_API_URL"), cfg.APIURL, defaultAPIURL} {
		if u != "" {
			return strings.TrimRight(u, "/")
		}
	}
	return defaultAPIURL
}

// apiClient calls the management API with the saved token.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// newAPIClient loads the config and returns a client for it; errNotLoggedIn
// without a token.
func (f *clientFlags) newAPIClient() (*apiClient, *cliConfig, error) {
	cfg, err := loadCLIConfig()
	if err != nil {
		return nil, nil, err
	}
	if cfg.Token == "" {
		return nil, cfg, errNotLoggedIn
	}
	return &apiClient{base: f.resolveAPIURL(cfg), token: cfg.Token, http: &http.Client{Timeout: 30 * time.Second}}, cfg, nil
}

// apiError is a non-2xx answer of the API.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("API error (%d): %s", e.Status, e.Message) }

// do sends a JSON request and decodes a JSON answer into out (nil to
// ignore it). A 401 is an authError.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return authError{"the server refused the saved token (revoked or expired): run `volley login`"}
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		msg := strings.TrimSpace(e.Error + " " + e.Message)
		if msg == "" {
			msg = strings.TrimSpace(string(raw))
		}
		return &apiError{Status: resp.StatusCode, Message: msg}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
		}
	}
	return nil
}

// printJSON prints v indented, for --json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
