package httpapi

import (
	"net/http"
	"time"

	"github.com/volleyhq/volley/internal/signature"
	"github.com/volleyhq/volley/internal/volley"
)

type destinationJSON struct {
	ID               uint64            `json:"id"`
	ProjectID        uint64            `json:"project_id"`
	Name             string            `json:"name"`
	URL              string            `json:"url"`
	EPS              int               `json:"eps"`
	Status           string            `json:"status"`
	TimeoutMS        int               `json:"timeout_ms"`
	Headers          map[string]string `json:"headers"`
	SigningSecretSet bool              `json:"signing_secret_set"`
	// InsecureSkipVerify is always shown: certificate verification off is
	// something every reader of the destination must see.
	InsecureSkipVerify bool      `json:"insecure_skip_verify"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func destinationOut(d *volley.Destination) destinationJSON {
	h := d.Headers
	if h == nil {
		h = map[string]string{}
	}
	return destinationJSON{
		ID: d.ID, ProjectID: d.ProjectID, Name: d.Name, URL: d.URL, EPS: d.EPS, Status: d.Status,
		TimeoutMS: d.TimeoutMS, Headers: h, SigningSecretSet: len(d.SigningSecret) > 0,
		InsecureSkipVerify: d.InsecureSkipVerify, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

type destinationRequest struct {
	Name          *string            `json:"name"`
	URL           *string            `json:"url"`
	EPS           *int               `json:"eps"`
	Status        *string            `json:"status"`
	TimeoutMS     *int               `json:"timeout_ms"`
	Headers       *map[string]string `json:"headers"`
	SigningSecret *string            `json:"signing_secret"`
	// InsecureSkipVerify turns TLS certificate verification of an https
	// URL off (true) or back on (false); absent keeps it as it is.
	InsecureSkipVerify *bool `json:"insecure_skip_verify"`
}

// sealSigningSecret validates a Standard Webhooks secret given by a client,
// or generates one when given is "", and seals it.
func (a *API) sealSigningSecret(field, given string) ([]byte, error) {
	secret := given
	if secret == "" {
		var err error
		if secret, err = signature.NewSecret(a.cfg.Rand); err != nil {
			return nil, err
		}
	} else if _, err := signature.ParseSecret(secret); err != nil {
		return nil, volley.Invalid(field, "must be a Standard Webhooks secret (whsec_ followed by base64 of at least 16 bytes)")
	}
	return a.cfg.Box.SealString(secret)
}

// applyDestination copies the present fields of req onto d and checks the
// result, including the egress policy when the URL is new or changed.
func (a *API) applyDestination(r *http.Request, req *destinationRequest, d *volley.Destination) error {
	oldURL := d.URL
	setIf(&d.Name, req.Name)
	setIf(&d.URL, req.URL)
	setIf(&d.EPS, req.EPS)
	setIf(&d.TimeoutMS, req.TimeoutMS)
	setIf(&d.Headers, req.Headers)
	setIf(&d.InsecureSkipVerify, req.InsecureSkipVerify)
	if deref(req.Status) != "" {
		var err error
		if d.Status, err = volley.ParseDestinationStatus(*req.Status); err != nil {
			return err
		}
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if d.URL != oldURL {
		if err := a.cfg.Egress.CheckURL(r.Context(), d.URL, a.cfg.LookupFunc); err != nil {
			return volley.Invalid("url", "%v", err)
		}
	}
	return nil
}

// destination loads the destination named by {destination_id}; on the
// family B route it must also belong to {project_id}.
func (a *API) destination(r *http.Request, org *volley.Membership) (*volley.Destination, error) {
	return loadInOrg(r, org, "destination_id", "Destination", a.cfg.Store.DestinationGet,
		func(d *volley.Destination) uint64 { return d.ProjectID })
}

func (a *API) listDestinations(w http.ResponseWriter, r *http.Request, c *caller) error {
	return listInProject(a, w, r, c, "destinations", a.cfg.Store.DestinationList, destinationOut)
}

func (a *API) createDestination(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	var req destinationRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	now := a.now()
	d := &volley.Destination{ProjectID: p.ID, Status: volley.DestinationActive, CreatedAt: now, UpdatedAt: now}
	if err := a.applyDestination(r, &req, d); err != nil {
		return err
	}
	if d.SigningSecret, err = a.sealSigningSecret("signing_secret", deref(req.SigningSecret)); err != nil {
		return err
	}
	if err := a.cfg.Store.DestinationCreate(r.Context(), d); err != nil {
		return notFoundAs(err, "Project")
	}
	a.warnInsecure(r, d, false)
	return writeMerged(w, http.StatusCreated, "destination", destinationOut(d))
}

func (a *API) getDestination(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	d, err := a.destination(r, org)
	if err != nil {
		return err
	}
	return writeMerged(w, http.StatusOK, "destination", destinationOut(d))
}

func (a *API) updateDestination(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	d, err := a.destination(r, org)
	if err != nil {
		return err
	}
	var req destinationRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.SigningSecret != nil {
		return volley.Invalid("signing_secret", "is changed with POST /api/destinations/{id}/secret/rotate, which keeps the old secret signing for a grace period")
	}
	wasInsecure := d.InsecureSkipVerify
	if err := a.applyDestination(r, &req, d); err != nil {
		return err
	}
	d.UpdatedAt = a.now()
	if err := a.cfg.Store.DestinationUpdate(r.Context(), d); err != nil {
		return notFoundAs(err, "Destination")
	}
	a.warnInsecure(r, d, wasInsecure)
	return writeMerged(w, http.StatusOK, "destination", destinationOut(d))
}

// warnInsecure logs at warn when a destination's certificate verification
// was just turned off: deliveries to it can be intercepted.
func (a *API) warnInsecure(r *http.Request, d *volley.Destination, was bool) {
	if d.InsecureSkipVerify && !was {
		a.cfg.Logger.WarnContext(r.Context(), "TLS certificate verification turned off for a destination",
			"destination_id", d.ID, "project_id", d.ProjectID)
	}
}

func (a *API) deleteDestination(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	d, err := a.destination(r, org)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.DestinationDelete(r.Context(), org.ID, d.ID, a.now()); err != nil {
		return notFoundAs(err, "Destination")
	}
	return noContent(w)
}

// secretJSON shows a destination's signing secrets to an owner or admin.
type secretJSON struct {
	Secret                  string     `json:"secret"`
	PreviousSecret          string     `json:"previous_secret,omitempty"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
}

func (a *API) secretOut(d *volley.Destination) (*secretJSON, error) {
	cur, err := a.cfg.Box.OpenString(d.SigningSecret)
	if err != nil {
		return nil, err
	}
	out := &secretJSON{Secret: cur}
	if len(d.PrevSigningSecret) > 0 && d.PrevSecretExpiresAt.After(a.now()) {
		if out.PreviousSecret, err = a.cfg.Box.OpenString(d.PrevSigningSecret); err != nil {
			return nil, err
		}
		exp := d.PrevSecretExpiresAt
		out.PreviousSecretExpiresAt = &exp
	}
	return out, nil
}

// getDestinationSecret serves GET …/destinations/{id}/secret.
func (a *API) getDestinationSecret(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	d, err := a.destination(r, org)
	if err != nil {
		return err
	}
	out, err := a.secretOut(d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

type rotateRequest struct {
	Secret *string `json:"secret"`
}

// rotateDestinationSecret serves POST …/destinations/{id}/secret/rotate: a
// new secret (given or generated) signs from now on, and the old one keeps
// signing alongside it for the grace period so receivers can switch over.
func (a *API) rotateDestinationSecret(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	d, err := a.destination(r, org)
	if err != nil {
		return err
	}
	var req rotateRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	sealed, err := a.sealSigningSecret("secret", deref(req.Secret))
	if err != nil {
		return err
	}
	now := a.now()
	d.PrevSigningSecret, d.SigningSecret = d.SigningSecret, sealed
	d.PrevSecretExpiresAt = now.Add(a.cfg.SecretRotationGrace)
	d.UpdatedAt = now
	if err := a.cfg.Store.DestinationUpdate(r.Context(), d); err != nil {
		return notFoundAs(err, "Destination")
	}
	out, err := a.secretOut(d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
