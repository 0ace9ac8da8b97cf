package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

type accountData struct {
	Orgs []volley.Membership
}

func (c *Console) accountPage(w http.ResponseWriter, r *http.Request, a *account) {
	orgs, err := c.cfg.Store.OrgList(r.Context(), a.ID)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	v := view{Title: "Your account", Account: a, Section: "settings", Data: accountData{Orgs: orgs}}
	if r.URL.Query().Get("changed") == "password" {
		v.Notice = "Your password was changed; your other sessions were signed out."
	}
	c.render(w, r, http.StatusOK, "account", v)
}

func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request, a *account) {
	c.render(w, r, http.StatusOK, "password", view{Title: "Change your password", Account: a, Section: "settings"})
}

func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, a *account) {
	if !c.form(w, r) {
		return
	}
	next := r.PostFormValue("password")
	if next != r.PostFormValue("confirm") {
		c.render(w, r, http.StatusBadRequest, "password", view{Title: "Change your password", Account: a, Section: "settings",
			Error: "The new password and its confirmation differ."})
		return
	}
	err := c.cfg.Tenant.ChangePassword(r.Context(), a.Account, r.PostFormValue("current"), next, a.Session.ID)
	if msg := userError(err); msg != "" {
		c.render(w, r, http.StatusBadRequest, "password", view{Title: "Change your password", Account: a, Section: "settings", Error: msg})
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	c.audit(r, a.ID, a.ID, "account.password_change", store.AuditChange{Field: "password", Secret: true})
	http.Redirect(w, r, "/account?changed=password", http.StatusSeeOther)
}

type sessionsData struct {
	Sessions []volley.Session
	Current  uint64
}

func (c *Console) sessionsPage(w http.ResponseWriter, r *http.Request, a *account) {
	list, err := c.cfg.Tenant.Sessions(r.Context(), a.ID)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "sessions", view{Title: "Your sessions", Account: a, Section: "settings",
		Data: sessionsData{Sessions: list, Current: a.Session.ID}})
}

func (c *Console) revokeSession(w http.ResponseWriter, r *http.Request, a *account) {
	if !c.form(w, r) {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("session_id"), 10, 64)
	if err != nil {
		c.fail(w, r, http.StatusNotFound, "No such session.")
		return
	}
	err = c.cfg.Tenant.EndSession(r.Context(), a.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, http.StatusNotFound, "No such session: it may have been signed out already.")
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	if id == a.Session.ID {
		c.clearSession(w, r)
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account/sessions", http.StatusSeeOther)
}
