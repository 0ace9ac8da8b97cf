package volley

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultBaseURL is the default Volley API base URL.
	DefaultBaseURL = "https://api.volleyhooks.com"
	// DefaultTimeout is the default HTTP client timeout.
	DefaultTimeout = 30 * time.Second
)

// Version is the current version of the Volley Go SDK.
const Version = "1.0.1"

// Client is the main Volley API client.
//
// A Client is safe for concurrent use by multiple goroutines. Only its
// organization ID can change after NewClient returns.
type Client struct {
	baseURL    string
	apiToken   string
	httpClient *http.Client

	mu    sync.RWMutex
	orgID *uint64 // nil: the API uses the first accessible organization
}

// ClientOption is a function that configures a Client.
type ClientOption func(*Client)

// NewClient creates a new Volley API client that authenticates with
// apiToken. Without options it talks to DefaultBaseURL with an HTTP client
// whose timeout is DefaultTimeout, and sends no organization ID.
func NewClient(apiToken string, opts ...ClientOption) *Client {
	c := &Client{
		baseURL:    DefaultBaseURL,
		apiToken:   apiToken,
		httpClient: &http.Client{Timeout: DefaultTimeout},
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// WithBaseURL sets a custom base URL for the client, for example a
// self-hosted server or a staging API. A trailing "/" is removed, because
// request paths are appended to the base URL as they are.
func WithBaseURL(baseURL string) ClientOption {
	return func(c *Client) {
		c.baseURL = strings.TrimRight(baseURL, "/")
	}
}

// WithHTTPClient sets a custom HTTP client, replacing the default one and its
// DefaultTimeout. A nil httpClient keeps the default.
func WithHTTPClient(httpClient *http.Client) ClientOption {
	return func(c *Client) {
		if httpClient != nil {
			c.httpClient = httpClient
		}
	}
}

// WithOrganizationID sets the organization ID for all requests.
func WithOrganizationID(orgID uint64) ClientOption {
	return func(c *Client) {
		c.SetOrganizationID(orgID)
	}
}

// SetOrganizationID sets the organization ID for subsequent requests. They
// carry it in the X-Organization-ID header.
func (c *Client) SetOrganizationID(orgID uint64) {
	c.mu.Lock()
	c.orgID = &orgID
	c.mu.Unlock()
}

// ClearOrganizationID clears the organization ID, so that subsequent
// requests use the first organization the token can access.
func (c *Client) ClearOrganizationID() {
	c.mu.Lock()
	c.orgID = nil
	c.mu.Unlock()
}

// BaseURL returns the base URL of the client (for testing).
func (c *Client) BaseURL() string {
	return c.baseURL
}

// OrganizationID returns the organization ID (for testing), or nil when none
// is set. The result is a copy: changing it does not change the client.
func (c *Client) OrganizationID() *uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.orgID == nil {
		return nil
	}
	id := *c.orgID
	return &id
}

// call is one request to the management API.
type call struct {
	method string
	path   string     // already escaped; appended to the base URL
	query  url.Values // omitted when empty
	body   any        // JSON-encoded; nil sends no body
	orgID  *uint64    // overrides the client's organization ID for this call
}

// do sends an authenticated request to the management API and, when out is
// not nil, decodes the JSON body of a successful response into it. Any status
// below 400 is a success.
func (c *Client) do(ctx context.Context, r call, out any) error {
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("volley: encode request: %w", err)
		}
		body = b
	}
	req, err := c.newRequest(ctx, r.method, r.path, r.query, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiToken)
	orgID := r.orgID
	if orgID == nil {
		orgID = c.OrganizationID()
	}
	if orgID != nil {
		req.Header.Set("X-Organization-ID", strconv.FormatUint(*orgID, 10))
	}
	return c.send(req, 0, out)
}

// newRequest builds a request to path on the base URL. Every request says
// Content-Type: application/json, even without a body, as v1.0.1 did.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body []byte) (*http.Request, error) {
	u := c.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, fmt.Errorf("volley: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// send performs req. A status of 400 or above, or any status other than
// wantStatus when wantStatus is not 0, yields an *APIError. Otherwise the
// body is decoded into out unless out is nil; the body is read to the end in
// both cases so the connection can be reused.
func (c *Client) send(req *http.Request, wantStatus int, out any) error {
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("volley: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("volley: read response (status %d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode >= 400 || (wantStatus != 0 && resp.StatusCode != wantStatus) {
		return newAPIError(resp.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("volley: decode response: %w", err)
	}
	return nil
}

// unwrap performs r and decodes the member key of the response object into
// out; the API wraps most payloads, as in {"source":{...}}. A missing member
// leaves out unchanged.
func (c *Client) unwrap(ctx context.Context, r call, key string, out any) error {
	var env map[string]json.RawMessage
	if err := c.do(ctx, r, &env); err != nil {
		return err
	}
	raw, ok := env[key]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("volley: decode response: %s: %w", key, err)
	}
	return nil
}

// resource performs r and returns the single resource wrapped under key. A
// response without it is an error rather than a zero value, since it means
// the server does not speak this API (for example one answering bare
// objects).
func resource[T any](ctx context.Context, c *Client, r call, key string) (*T, error) {
	var v *T
	if err := c.unwrap(ctx, r, key, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("volley: decode response: no %q object", key)
	}
	return v, nil
}

// list fetches path and returns the list wrapped under key. A missing or
// null list is empty.
func list[T any](ctx context.Context, c *Client, path, key string) ([]T, error) {
	var v []T
	if err := c.unwrap(ctx, call{method: http.MethodGet, path: path}, key, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// idPath joins prefix and a numeric ID into a path, such as /api/sources/7.
func idPath(prefix string, id uint64) string {
	return prefix + "/" + strconv.FormatUint(id, 10)
}
