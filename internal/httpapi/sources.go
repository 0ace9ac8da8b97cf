package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/signature"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

type sourceJSON struct {
	ID              uint64 `json:"id"`
	ProjectID       uint64 `json:"project_id"`
	Name            string `json:"name"`
	Slug            string `json:"slug"`
	IngestionID     string `json:"ingestion_id"`
	IngestionURL    string `json:"ingestion_url"`
	Type            string `json:"type"`
	EPS             int    `json:"eps"`
	Status          string `json:"status"`
	ConnectionCount int64  `json:"connection_count"`
	AuthType        string `json:"auth_type"`
	AuthUsername    string `json:"auth_username,omitempty"`
	AuthKeyName     string `json:"auth_key_name,omitempty"`
	AuthKeySet      bool   `json:"auth_key_set"`
	// AuthKey is a generated key, shown once in the answer that made it.
	AuthKey            string    `json:"auth_key,omitempty"`
	VerifySignature    bool      `json:"verify_signature"`
	WebhookSecretSet   bool      `json:"webhook_secret_set"`
	SignatureHeader    string    `json:"signature_header,omitempty"`
	SignatureAlgorithm string    `json:"signature_algorithm,omitempty"`
	SignatureEncoding  string    `json:"signature_encoding,omitempty"`
	SignaturePrefix    string    `json:"signature_prefix,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// publicURL is the base of ingestion URLs: the configured public URL, else
// the scheme and host the request came in on.
func (a *API) publicURL(r *http.Request) string {
	if a.cfg.PublicURL != "" {
		return strings.TrimRight(a.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (a *API) sourceOut(r *http.Request, s *volley.Source) sourceJSON {
	out := sourceJSON{
		ID: s.ID, ProjectID: s.ProjectID, Name: s.Name, Slug: s.Slug, IngestionID: s.IngestionID,
		Type: s.Type, EPS: s.EPS, Status: s.Status, ConnectionCount: s.ConnectionCount,
		AuthType: s.AuthType, AuthKeySet: len(s.AuthKey) > 0,
		VerifySignature: s.VerifySignature, WebhookSecretSet: len(s.WebhookSecret) > 0,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	out.IngestionURL = a.publicURL(r) + "/hook/" + s.IngestionID
	switch s.AuthType {
	case volley.AuthBasic:
		out.AuthUsername = s.AuthUsername
	case volley.AuthAPIKey:
		out.AuthKeyName = s.AuthKeyName
	}
	if s.Type == volley.SourceTypeHMAC {
		out.SignatureHeader, out.SignatureAlgorithm = s.HMAC.Header, s.HMAC.Algorithm
		out.SignatureEncoding, out.SignaturePrefix = s.HMAC.Encoding, s.HMAC.Prefix
	}
	return out
}

// sourceRequest is the body of source create and update calls. Family A
// sends name, family B slug; both may send any subset on update.
type sourceRequest struct {
	Name               *string `json:"name"`
	Slug               *string `json:"slug"`
	Type               *string `json:"type"`
	EPS                *int    `json:"eps"`
	Status             *string `json:"status"`
	AuthType           *string `json:"auth_type"`
	AuthUsername       *string `json:"auth_username"`
	AuthKey            *string `json:"auth_key"`
	AuthKeyName        *string `json:"auth_key_name"`
	VerifySignature    *bool   `json:"verify_signature"`
	WebhookSecret      *string `json:"webhook_secret"`
	SignatureHeader    *string `json:"signature_header"`
	SignatureAlgorithm *string `json:"signature_algorithm"`
	SignatureEncoding  *string `json:"signature_encoding"`
	SignaturePrefix    *string `json:"signature_prefix"`
}

// apply copies the present fields of req onto s, sealing secrets.
func (a *API) applySource(req *sourceRequest, s *volley.Source) error {
	var err error
	if req.Name != nil {
		s.Name = *req.Name
	}
	if req.Slug != nil {
		s.Slug = *req.Slug
	}
	if deref(req.Type) != "" {
		if s.Type, err = volley.ParseSourceType(*req.Type); err != nil {
			return err
		}
	}
	if req.EPS != nil {
		s.EPS = *req.EPS
	}
	if deref(req.Status) != "" {
		if s.Status, err = volley.ParseSourceStatus(*req.Status); err != nil {
			return err
		}
	}
	if deref(req.AuthType) != "" {
		prev := s.AuthType
		if s.AuthType, err = volley.ParseAuthType(*req.AuthType); err != nil {
			return err
		}
		if s.AuthType != prev {
			s.AuthKey = nil // a basic password must not silently become an API key
		}
	}
	if req.AuthUsername != nil {
		s.AuthUsername = *req.AuthUsername
	}
	if req.AuthKeyName != nil {
		s.AuthKeyName = *req.AuthKeyName
	}
	if deref(req.AuthKey) != "" {
		if s.AuthKey, err = a.cfg.Box.SealString(*req.AuthKey); err != nil {
			return err
		}
	}
	if s.AuthType == volley.AuthNone {
		// Credentials of a source that no longer authenticates are dropped,
		// not kept around unused.
		s.AuthUsername, s.AuthKey = "", nil
	}
	if s.AuthKeyName == "" {
		s.AuthKeyName = volley.DefaultAuthKeyName
	}
	if req.VerifySignature != nil {
		s.VerifySignature = *req.VerifySignature
	}
	if req.WebhookSecret != nil {
		if s.WebhookSecret, err = a.cfg.Box.SealString(*req.WebhookSecret); err != nil {
			return err
		}
	}
	setIf(&s.HMAC.Header, req.SignatureHeader)
	setIf(&s.HMAC.Algorithm, req.SignatureAlgorithm)
	setIf(&s.HMAC.Encoding, req.SignatureEncoding)
	setIf(&s.HMAC.Prefix, req.SignaturePrefix)
	return nil
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// validateSource checks the whole source, including that its signature
// scheme can work with the secret it holds.
func (a *API) validateSource(s *volley.Source) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if !s.VerifySignature {
		return nil
	}
	secret, err := a.cfg.Box.Open(s.WebhookSecret)
	if err != nil {
		return err
	}
	v := signature.Verifier{Scheme: s.Type, Secret: secret, HMAC: signature.HMACConfig(s.HMAC)}
	if err := v.Validate(); err != nil {
		return volley.Invalid("webhook_secret", "%v", err)
	}
	return nil
}

// source loads the source named by {source_id}; on the family B route it
// must also belong to {project_id}.
func (a *API) source(r *http.Request, org *volley.Membership) (*volley.Source, error) {
	return loadInOrg(r, org, "source_id", "Source", a.cfg.Store.SourceGet,
		func(s *volley.Source) uint64 { return s.ProjectID })
}

// inProject checks the optional {project_id} of a nested route against the
// resource's project.
func inProject(r *http.Request, projectID uint64, what string) error {
	if r.PathValue("project_id") == "" {
		return nil
	}
	pid, err := pathID(r, "project_id")
	if err != nil {
		return err
	}
	if pid != projectID {
		return errorf(http.StatusNotFound, what+" not found")
	}
	return nil
}

func (a *API) listSources(w http.ResponseWriter, r *http.Request, c *caller) error {
	return listInProject(a, w, r, c, "sources", a.cfg.Store.SourceList,
		func(s *volley.Source) sourceJSON { return a.sourceOut(r, s) })
}

func (a *API) createSource(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	var req sourceRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	now := a.now()
	s := &volley.Source{
		ProjectID: p.ID, Type: volley.SourceTypeWebhook, Status: volley.SourceActive,
		AuthType: volley.AuthNone, CreatedAt: now, UpdatedAt: now,
	}
	if err := a.applySource(&req, s); err != nil {
		return err
	}
	generated, err := a.fillCredentials(s)
	if err != nil {
		return err
	}
	switch {
	case s.Name == "" && s.Slug == "":
		return volley.Invalid("name", "is required (or give a slug)")
	case s.Name == "":
		s.Name = s.Slug
	case s.Slug == "":
		if s.Slug = volley.Slugify(s.Name); s.Slug == "" {
			return volley.Invalid("slug", "cannot be derived from name %q; give a slug of lower-case letters, digits and dashes", s.Name)
		}
	}
	if s.IngestionID, err = volley.NewIngestionID(a.cfg.Rand); err != nil {
		return err
	}
	if err := a.validateSource(s); err != nil {
		return err
	}
	if err := a.cfg.Store.SourceCreate(r.Context(), s); err != nil {
		return sourceConflict(notFoundAs(err, "Project"), s.Slug)
	}
	out := a.sourceOut(r, s)
	c.audit("source.create", "source", s.ID, sourceChanges(nil, &out, &req, generated)...)
	out.AuthKey = generated
	return writeMerged(w, http.StatusCreated, "source", out)
}

func (a *API) getSource(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	s, err := a.source(r, org)
	if err != nil {
		return err
	}
	return writeMerged(w, http.StatusOK, "source", a.sourceOut(r, s))
}

func (a *API) updateSource(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	s, err := a.source(r, org)
	if err != nil {
		return err
	}
	var req sourceRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	before := a.sourceOut(r, s)
	if err := a.applySource(&req, s); err != nil {
		return err
	}
	generated, err := a.fillCredentials(s)
	if err != nil {
		return err
	}
	if err := a.validateSource(s); err != nil {
		return err
	}
	s.UpdatedAt = a.now()
	if err := a.cfg.Store.SourceUpdate(r.Context(), s); err != nil {
		return sourceConflict(notFoundAs(err, "Source"), s.Slug)
	}
	out := a.sourceOut(r, s)
	c.audit("source.update", "source", s.ID, sourceChanges(&before, &out, &req, generated)...)
	out.AuthKey = generated
	return writeMerged(w, http.StatusOK, "source", out)
}

func (a *API) deleteSource(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	s, err := a.source(r, org)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.SourceDelete(r.Context(), org.ID, s.ID, a.now()); err != nil {
		return notFoundAs(err, "Source")
	}
	c.audit("source.delete", "source", s.ID, fieldChanges(a.sourceOut(r, s), nil)...)
	return noContent(w)
}

// sourceChanges lists what a source create or update changed for the audit
// log: the fields of its view, and that a secret was set when the request
// gave one or a key was generated (never the secret itself).
func sourceChanges(before, after *sourceJSON, req *sourceRequest, generated string) []store.AuditChange {
	var b any
	if before != nil {
		b = *before
	}
	out := fieldChanges(b, *after)
	if deref(req.AuthKey) != "" || generated != "" {
		out = append(out, secretChanged("auth_key"))
	}
	if req.WebhookSecret != nil {
		out = append(out, secretChanged("webhook_secret"))
	}
	return out
}

// sourceConflict names the slug when a source's slug is taken.
func sourceConflict(err error, slug string) error {
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.What == "source slug" {
		return &Error{Status: http.StatusConflict, Field: "slug",
			Message: "slug: a source with slug " + slug + " already exists in this project"}
	}
	return err
}
