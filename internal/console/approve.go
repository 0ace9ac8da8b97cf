package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

type approveData struct {
	Code       string
	Device     *tenant.DeviceCode
	DeviceName string
}

// approvePage shows a CLI login's pairing code to a signed-in person, who
// compares it with the one in their terminal and approves or denies it.
// Without a code in the link it asks for one.
func (c *Console) approvePage(w http.ResponseWriter, r *http.Request, a *account) {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	d := approveData{Code: code, DeviceName: tenant.DefaultDeviceName}
	if code == "" {
		c.render(w, r, http.StatusOK, "approve", view{Title: "Approve a CLI login", Account: a, Section: "settings", Data: d})
		return
	}
	dev, err := c.cfg.Devices.DeviceLookup(r.Context(), code)
	if errors.Is(err, tenant.ErrDeviceCodeNotFound) {
		c.render(w, r, http.StatusNotFound, "approve", view{Title: "Approve a CLI login", Account: a, Section: "settings", Data: d,
			Error: "No CLI login is waiting for the code " + code + ". Check the code in your terminal, or run volley login again."})
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	d.Device = dev
	c.render(w, r, http.StatusOK, "approve", view{Title: "Approve a CLI login", Account: a, Section: "settings", Data: d})
}

// approve approves or denies the login of the pairing code in the form.
func (c *Console) approve(w http.ResponseWriter, r *http.Request, a *account) {
	if !c.form(w, r) {
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	d := approveData{Code: code, DeviceName: r.PostFormValue("device_name")}
	var err error
	var notice string
	switch r.PostFormValue("action") {
	case "approve":
		err = c.cfg.Devices.DeviceApprove(r.Context(), a.ID, code, d.DeviceName)
		notice = "Approved: the CLI signs in as " + a.Email + " within a few seconds. You can close this page."
	case "deny":
		err = c.cfg.Devices.DeviceDeny(r.Context(), a.ID, code)
		notice = "Denied: that CLI login will not get a token."
	default:
		c.fail(w, r, http.StatusBadRequest, "Choose approve or deny.")
		return
	}
	var fe *volley.FieldError
	switch {
	case errors.Is(err, tenant.ErrDeviceCodeNotFound):
		c.render(w, r, http.StatusNotFound, "approve", view{Title: "Approve a CLI login", Account: a, Section: "settings", Data: approveData{DeviceName: d.DeviceName},
			Error: "No CLI login is waiting for the code " + code + ": it expired, was already answered, or the code is mistyped."})
	case errors.As(err, &fe):
		c.render(w, r, http.StatusBadRequest, "approve", view{Title: "Approve a CLI login", Account: a, Section: "settings", Data: d,
			Error: "Device name " + fe.Message + "."})
	case err != nil:
		c.internal(w, r, err)
	default:
		if r.PostFormValue("action") == "approve" {
			c.audit(r, a.ID, a.ID, "device_login.approve", deviceName(d.DeviceName))
		} else {
			c.audit(r, a.ID, a.ID, "device_login.deny")
		}
		c.render(w, r, http.StatusOK, "approve", view{Title: "Approve a CLI login", Account: a, Section: "settings", Notice: notice, Data: approveData{}})
	}
}
