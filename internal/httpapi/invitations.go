package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/volleyhq/volley/internal/mail"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

// Mailer sends an email (an SMTP server; see VOLLEY_SMTP_URL).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// mailTimeout bounds how long an invitation's answer waits for the SMTP
// server.
const mailTimeout = 10 * time.Second

type invitationJSON struct {
	ID        uint64      `json:"id"`
	Email     string      `json:"email"`
	Role      volley.Role `json:"role"`
	URL       string      `json:"url"`
	InvitedBy uint64      `json:"invited_by"`
	CreatedAt time.Time   `json:"created_at"`
	ExpiresAt time.Time   `json:"expires_at"`
	// Mailed says whether the invitation was also emailed (only in the
	// answer that created it, and only with an SMTP server configured).
	Mailed    *bool  `json:"mailed,omitempty"`
	MailError string `json:"mail_error,omitempty"`
}

func (a *API) invitationOut(r *http.Request, inv *tenant.InvitationWithSecret) invitationJSON {
	return invitationJSON{
		ID: inv.ID, Email: inv.Email, Role: inv.Role, URL: a.publicURL(r) + "/invite/" + inv.Secret,
		InvitedBy: inv.InvitedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt,
	}
}

// invite answers POST /api/org/members for an email without an account: an
// invitation link, returned to the inviter and, with an SMTP server, mailed.
func (a *API) invite(w http.ResponseWriter, r *http.Request, c *caller, org *volley.Membership, email string, role volley.Role) error {
	inv, err := a.cfg.Tenant.Invite(r.Context(), org.ID, c.account.ID, email, role)
	if err != nil {
		return err
	}
	out := a.invitationOut(r, inv)
	c.audit("invitation.create", "invitation", inv.ID, fieldChanges(nil, out, "url")...)
	if a.cfg.Mailer != nil {
		ctx, cancel := context.WithTimeout(r.Context(), mailTimeout)
		err := a.cfg.Mailer.Send(ctx, mail.Message{
			To:      inv.Email,
			Subject: fmt.Sprintf("%s invited you to %s on Volley", c.account.Name, org.Name),
			Body: fmt.Sprintf("%s (%s) invited you to join the organization %q on Volley as %s.\n\n"+
				"Accept the invitation: %s\n\nThe link works once and expires on %s.\n",
				c.account.Name, c.account.Email, org.Name, inv.Role, out.URL, inv.ExpiresAt.Format(time.RFC1123)),
		})
		cancel()
		mailed := err == nil
		out.Mailed = &mailed
		if err != nil {
			// The invitation stands: the link in this answer still works.
			a.cfg.Logger.WarnContext(r.Context(), "mail invitation", "org_id", org.ID, "invitation_id", inv.ID, "err", err)
			out.MailError = "the invitation could not be mailed; share the link yourself"
		}
	}
	return writeMerged(w, http.StatusCreated, "invitation", out)
}

func (a *API) listInvitations(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanManageMembers)
	if err != nil {
		return err
	}
	list, err := a.cfg.Tenant.Invitations(r.Context(), org.ID)
	if err != nil {
		return err
	}
	out := make([]invitationJSON, len(list))
	for i := range list {
		out[i] = a.invitationOut(r, &list[i])
	}
	if len(list) > 0 {
		// The links are secrets: whoever reads them can join.
		c.audit("invitation.links_reveal", "org", org.ID, valueSet("invitation_count", len(list)))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"invitations": out})
}

func (a *API) deleteInvitation(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanManageMembers)
	if err != nil {
		return err
	}
	id, err := pathID(r, "invitation_id")
	if err != nil {
		return err
	}
	if err := a.cfg.Store.InvitationDelete(r.Context(), org.ID, id); err != nil {
		return notFoundAs(err, "Invitation")
	}
	c.audit("invitation.delete", "invitation", id)
	return noContent(w)
}
