package console

import (
	"errors"
	"net/http"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

type inviteData struct {
	Invitation *volley.Invitation
	OrgName    string
	Secret     string
	// HasAccount says the invited email already has an account: the
	// person signs in and joins instead of creating one.
	HasAccount bool
	Name       string
}

// invitation loads the invitation of the link and what the page shows
// about it; it answers the request itself and returns nil when the link
// does not work.
func (c *Console) invitation(w http.ResponseWriter, r *http.Request) *inviteData {
	secret := r.PathValue("secret")
	inv, err := c.cfg.Tenant.Invitation(r.Context(), secret)
	if errors.Is(err, tenant.ErrInvitationGone) {
		c.fail(w, r, http.StatusNotFound, "This invitation link does not work: it was used, revoked, replaced by a newer one or has expired. Ask for a new invitation.")
		return nil
	}
	if err != nil {
		c.internal(w, r, err)
		return nil
	}
	d := &inviteData{Invitation: inv, Secret: secret, OrgName: "an organization"}
	// The organization as its inviter sees it (the invitee cannot yet).
	if org, err := c.cfg.Store.OrgGet(r.Context(), inv.OrgID, inv.InvitedBy); err == nil {
		d.OrgName = org.Name
	}
	_, err = c.cfg.Store.AccountGetByEmail(r.Context(), inv.Email)
	switch {
	case err == nil:
		d.HasAccount = true
	case !errors.Is(err, store.ErrNotFound):
		c.internal(w, r, err)
		return nil
	}
	return d
}

func (c *Console) invitePage(w http.ResponseWriter, r *http.Request) {
	d := c.invitation(w, r)
	if d == nil {
		return
	}
	a, _ := c.session(r)
	c.render(w, r, http.StatusOK, "invite", view{Title: "Join " + d.OrgName, Account: a, Data: d})
}

func (c *Console) acceptInvite(w http.ResponseWriter, r *http.Request) {
	if !c.form(w, r) {
		return
	}
	d := c.invitation(w, r)
	if d == nil {
		return
	}
	a, err := c.session(r)
	if err != nil && !errors.Is(err, tenant.ErrUnauthenticated) {
		c.internal(w, r, err)
		return
	}
	if a != nil {
		_, err := c.cfg.Tenant.JoinInvitation(r.Context(), d.Secret, a.Account)
		if errors.Is(err, tenant.ErrInvitationEmail) {
			c.render(w, r, http.StatusForbidden, "invite", view{Title: "Join " + d.OrgName, Account: a, Data: d,
				Error: "This invitation was sent to " + d.Invitation.Email + ", and you are signed in as " + a.Email + ". Sign out and sign in with that email."})
			return
		}
		if c.inviteFailed(w, r, err) {
			return
		}
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	if d.HasAccount {
		http.Redirect(w, r, "/signin?next=/invite/"+d.Secret, http.StatusSeeOther)
		return
	}
	d.Name = r.PostFormValue("name")
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		c.render(w, r, http.StatusBadRequest, "invite", view{Title: "Join " + d.OrgName, Data: d, Error: "The password and its confirmation differ."})
		return
	}
	m, err := c.cfg.Tenant.AcceptInvitation(r.Context(), d.Secret, d.Name, password)
	if msg := userError(err); msg != "" {
		c.render(w, r, http.StatusBadRequest, "invite", view{Title: "Join " + d.OrgName, Data: d, Error: msg})
		return
	}
	if c.inviteFailed(w, r, err) {
		return
	}
	ns, err := c.cfg.Tenant.StartSession(r.Context(), m.AccountID, r.UserAgent(), c.clientAddr(r))
	if err != nil {
		c.internal(w, r, err)
		return
	}
	c.setSession(w, r, ns)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// inviteFailed answers an acceptance that failed and reports whether it
// did.
func (c *Console) inviteFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, tenant.ErrInvitationGone):
		c.fail(w, r, http.StatusNotFound, "This invitation link does not work any more: it was used, revoked or has expired.")
	default:
		c.internal(w, r, err)
	}
	return true
}
