package httpapi

import (
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/volleyhq/volley/internal/tenant"
)

// publicHandler is the shape of an endpoint that needs no token: the CLI's
// device login, before it has one.
type publicHandler func(w http.ResponseWriter, r *http.Request) error

// public registers an unauthenticated endpoint. Routes does not list it:
// it lists the endpoints that take a token.
func (a *API) public(pattern string, h publicHandler) {
	a.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	}))
}

type deviceStartJSON struct {
	PairingCode string `json:"pairing_code"`
	DeviceCode  string `json:"device_code"`
	AuthURL     string `json:"auth_url"`
	ExpiresIn   int    `json:"expires_in"` // seconds
}

// deviceApprovePath is the approval page (served by the sign-in pages),
// which the CLI opens in a browser with ?code=<pairing code>.
const deviceApprovePath = "/cli/approve"

// startDeviceLogin serves POST /api/auth/cli/start (no token, no body).
func (a *API) startDeviceLogin(w http.ResponseWriter, r *http.Request) error {
	// No body is expected; whatever comes is read within the usual bound.
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBodyBytes)); err != nil {
		return err
	}
	// Every start stores a pending login: a flood from one address is
	// slowed down, then refused, like failed authentications.
	addr := a.cfg.Proxies.Client(r)
	if retry, blocked := a.cfg.DeviceGuard.Blocked(addr); blocked {
		return tooManyFailures(retry, "device logins or unknown device codes")
	}
	if retry, blocked := a.cfg.DeviceGuard.Fail(r.Context(), addr); blocked {
		return tooManyFailures(retry, "device logins or unknown device codes")
	}
	d, err := a.cfg.Tenant.DeviceStart(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, deviceStartJSON{
		PairingCode: d.PairingCode, DeviceCode: d.DeviceCode,
		AuthURL:   a.publicURL(r) + deviceApprovePath + "?code=" + url.QueryEscape(d.PairingCode),
		ExpiresIn: d.ExpiresIn(a.now()),
	})
}

type devicePollJSON struct {
	Status string `json:"status"`
	Token  string `json:"token,omitempty"`
}

// pollDeviceLogin serves GET /api/auth/cli/poll?device_code=… (no token):
// pending, complete (with the token, once), denied or expired. An unknown
// or already used device code reads expired.
func (a *API) pollDeviceLogin(w http.ResponseWriter, r *http.Request) error {
	res, err := a.cfg.Tenant.DevicePoll(r.Context(), r.URL.Query().Get("device_code"))
	if err != nil {
		return err
	}
	// A known device code is always answered (it is a long random secret);
	// unknown ones count against the address.
	if res.Status == tenant.DeviceStatusExpired {
		if retry, blocked := a.cfg.DeviceGuard.Fail(r.Context(), a.cfg.Proxies.Client(r)); blocked {
			return tooManyFailures(retry, "device logins or unknown device codes")
		}
	}
	// The token is a secret: no cache may keep this answer.
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, devicePollJSON{Status: res.Status, Token: res.Token})
}

type deviceDecisionRequest struct {
	PairingCode string `json:"pairing_code"`
	DeviceName  string `json:"device_name"`
}

func deviceNotFound(err error) error {
	if errors.Is(err, tenant.ErrDeviceCodeNotFound) {
		return &Error{Status: http.StatusNotFound, Message: "pairing code not found",
			Detail: "no pending login has this pairing code: it may have expired (after 10 minutes) or been used", Field: "pairing_code"}
	}
	return err
}

// approveDeviceLogin serves POST /api/auth/cli/approve {pairing_code,
// device_name?}: the caller approves a pending login, which gets a CLI
// token of the caller's account named after the device.
func (a *API) approveDeviceLogin(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.checkOrgHeader(r, c); err != nil {
		return err
	}
	var req deviceDecisionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := a.cfg.Tenant.DeviceApprove(r.Context(), c.account.ID, req.PairingCode, req.DeviceName); err != nil {
		return deviceNotFound(err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"status": "approved", "message": "The CLI is signed in."})
}

// denyDeviceLogin serves POST /api/auth/cli/deny {pairing_code}.
func (a *API) denyDeviceLogin(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.checkOrgHeader(r, c); err != nil {
		return err
	}
	var req deviceDecisionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := a.cfg.Tenant.DeviceDeny(r.Context(), c.account.ID, req.PairingCode); err != nil {
		return deviceNotFound(err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"status": "denied", "message": "The login was refused."})
}
