package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// tokenJSON is an API token as its owner sees it; the value itself only
// in the answer that created it.
type tokenJSON struct {
	ID         uint64     `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Prefix     string     `json:"prefix"`
	DeviceName string     `json:"device_name,omitempty"` // CLI tokens
	Current    bool       `json:"current"`               // the token of this request
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // null: never used
	ExpiresAt  *time.Time `json:"expires_at"`   // null: never expires
	Expired    bool       `json:"expired"`
	Token      string     `json:"token,omitempty"` // the value, on creation only
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *API) tokenOut(t *volley.APIToken, c *caller) tokenJSON {
	out := tokenJSON{
		ID: t.ID, Name: t.Name, Kind: t.Kind, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
		Current:    c.token != nil && c.token.ID == t.ID,
		LastUsedAt: optionalTime(t.LastUsedAt), ExpiresAt: optionalTime(t.ExpiresAt), Expired: t.Expired(a.now()),
	}
	if t.Kind == volley.TokenKindCLI {
		out.DeviceName = t.Name
	}
	return out
}

// listTokens serves GET /api/tokens: the caller's own tokens, oldest
// first, expired ones included.
func (a *API) listTokens(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.checkOrgHeader(r, c); err != nil {
		return err
	}
	tokens, err := a.cfg.Tenant.ListTokens(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	out := make([]tokenJSON, len(tokens))
	for i := range tokens {
		out[i] = a.tokenOut(&tokens[i], c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

type tokenRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// createToken serves POST /api/tokens {name, expires_at?}: a new API token
// of the caller, its value in the answer and never again.
func (a *API) createToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.checkOrgHeader(r, c); err != nil {
		return err
	}
	var req tokenRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	var expires time.Time
	if req.ExpiresAt != nil {
		expires = req.ExpiresAt.UTC()
	}
	tok, err := a.cfg.Tenant.CreateToken(r.Context(), c.account.ID, req.Name, expires)
	if err != nil {
		return err
	}
	out := a.tokenOut(&tok.APIToken, c)
	c.audit("token.create", "token", tok.ID, fieldChanges(nil, out)...)
	out.Token = tok.Value
	return writeJSON(w, http.StatusCreated, out)
}

// deleteToken serves DELETE /api/tokens/{token_id}: revokes one of the
// caller's tokens; "current" names the token of the request itself (what
// `volley logout` revokes).
func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.checkOrgHeader(r, c); err != nil {
		return err
	}
	var id uint64
	if r.PathValue("token_id") == "current" {
		if c.token == nil {
			return errorf(http.StatusBadRequest, "this request is not authenticated by a token")
		}
		id = c.token.ID
	} else {
		var err error
		if id, err = pathID(r, "token_id"); err != nil {
			return err
		}
	}
	err := a.cfg.Tenant.RevokeToken(r.Context(), c.account.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "Token not found")
	}
	if err != nil {
		return err
	}
	c.audit("token.delete", "token", id)
	return noContent(w)
}

// checkOrgHeader validates an X-Organization-ID the caller sent to a route
// that belongs to the account rather than to an organization, so that a
// bad or foreign header is refused (400, 403) here as everywhere else. An
// account without any organization may still manage its tokens.
func (a *API) checkOrgHeader(r *http.Request, c *caller) error {
	if c.orgHeader == "" {
		return nil
	}
	_, err := a.orgFor(r, c, nil)
	return err
}
