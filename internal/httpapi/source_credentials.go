package httpapi

import (
	"net/http"

	"github.com/volleyhq/volley/internal/volley"
)

// The Go, Node and Java SDKs create sources with auth_type basic or api_key
// but have no field for the credential itself. Such a source gets a
// generated one, shown once in the answer that created it; owners and
// admins can read it again or replace it through …/credentials.

// generatedKeyLen is the length of a generated source key: 40 base62
// characters, about 238 random bits.
const generatedKeyLen = 40

// defaultAuthUsername is the user name of a basic-auth source created
// without one.
const defaultAuthUsername = "volley"

// fillCredentials gives a source that authenticates but has no key a
// generated one (and a basic source without a user name the default), and
// returns the generated key, or "" when none was needed.
func (a *API) fillCredentials(s *volley.Source) (string, error) {
	if s.AuthType == volley.AuthBasic && s.AuthUsername == "" {
		s.AuthUsername = defaultAuthUsername
	}
	if s.AuthType == volley.AuthNone || len(s.AuthKey) > 0 {
		return "", nil
	}
	return a.newSourceKey(s)
}

// newSourceKey generates a key for s and seals it in place.
func (a *API) newSourceKey(s *volley.Source) (string, error) {
	key, err := volley.RandomToken(a.cfg.Rand, generatedKeyLen)
	if err != nil {
		return "", err
	}
	if s.AuthKey, err = a.cfg.Box.SealString(key); err != nil {
		return "", err
	}
	return key, nil
}

// credentialsJSON shows a source's credentials to an owner or admin.
type credentialsJSON struct {
	AuthType     string `json:"auth_type"`
	AuthUsername string `json:"auth_username,omitempty"`
	AuthKeyName  string `json:"auth_key_name,omitempty"`
	AuthKey      string `json:"auth_key"`
}

func (a *API) credentialsOut(s *volley.Source) (*credentialsJSON, error) {
	key, err := a.cfg.Box.OpenString(s.AuthKey)
	if err != nil {
		return nil, err
	}
	out := &credentialsJSON{AuthType: s.AuthType, AuthKey: key}
	switch s.AuthType {
	case volley.AuthBasic:
		out.AuthUsername = s.AuthUsername
	case volley.AuthAPIKey:
		out.AuthKeyName = s.AuthKeyName
	}
	return out, nil
}

// credentialedSource loads the source of a credentials route, for an owner
// or admin; a source without authentication has none to show (409).
func (a *API) credentialedSource(r *http.Request, c *caller) (*volley.Source, error) {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return nil, err
	}
	s, err := a.source(r, org)
	if err != nil {
		return nil, err
	}
	if s.AuthType == volley.AuthNone {
		return nil, &Error{Status: http.StatusConflict, Field: "auth_type",
			Message: "this source has no credentials: its auth_type is none; set auth_type to basic or api_key first"}
	}
	return s, nil
}

// getSourceCredentials serves GET …/sources/{id}/credentials.
func (a *API) getSourceCredentials(w http.ResponseWriter, r *http.Request, c *caller) error {
	s, err := a.credentialedSource(r, c)
	if err != nil {
		return err
	}
	out, err := a.credentialsOut(s)
	if err != nil {
		return err
	}
	c.audit("source.credentials_reveal", "source", s.ID)
	return writeJSON(w, http.StatusOK, out)
}

type credentialsRotateRequest struct {
	AuthKey *string `json:"auth_key"`
}

// rotateSourceCredentials serves POST …/sources/{id}/credentials/rotate: the
// given key, or a generated one, replaces the old key at once (a provider
// is configured with one credential, so there is no grace period).
func (a *API) rotateSourceCredentials(w http.ResponseWriter, r *http.Request, c *caller) error {
	s, err := a.credentialedSource(r, c)
	if err != nil {
		return err
	}
	var req credentialsRotateRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.AuthKey != nil {
		if *req.AuthKey == "" {
			return volley.Invalid("auth_key", "must not be empty; leave it out to have one generated")
		}
		if s.AuthKey, err = a.cfg.Box.SealString(*req.AuthKey); err != nil {
			return err
		}
	} else if _, err := a.newSourceKey(s); err != nil {
		return err
	}
	s.UpdatedAt = a.now()
	if err := a.cfg.Store.SourceUpdate(r.Context(), s); err != nil {
		return notFoundAs(err, "Source")
	}
	out, err := a.credentialsOut(s)
	if err != nil {
		return err
	}
	c.audit("source.credentials_rotate", "source", s.ID, secretChanged("auth_key"))
	return writeJSON(w, http.StatusOK, out)
}
