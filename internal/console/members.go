package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type apiMember struct {
	AccountID uint64    `json:"account_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

type apiInvitation struct {
	ID        uint64    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Mailed    *bool     `json:"mailed"`
	MailError string    `json:"mail_error"`
}

type membersData struct {
	Members     []apiMember
	Invitations []apiInvitation
	// Invited is the invitation just created, with its link.
	Invited *apiInvitation
	Email   string
	Role    string
	Problem *problem
	Me      uint64
}

func (c *Console) memberRoutes() {
	c.mux.HandleFunc("GET /projects/{project_id}/members", c.inProject(c.membersPage))
	c.mux.HandleFunc("POST /projects/{project_id}/members", c.inProject(c.addMember))
	c.mux.HandleFunc("POST /projects/{project_id}/members/{account_id}/role", c.inProject(c.changeRole))
	c.mux.HandleFunc("POST /projects/{project_id}/members/{account_id}/remove", c.inProject(c.removeMember))
	c.mux.HandleFunc("POST /projects/{project_id}/invitations/{invitation_id}/revoke", c.inProject(c.revokeInvitation))
}

func (c *Console) membersPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	notice := ""
	switch r.URL.Query().Get("done") {
	case "added":
		notice = "Member added."
	case "role":
		notice = "Role changed."
	case "removed":
		notice = "Member removed."
	case "revoked":
		notice = "Invitation revoked: its link no longer works."
	}
	c.showMembers(w, r, a, sc, membersData{Role: "member"}, notice)
}

// showMembers renders the members page; invitations are listed for those
// who may manage members (the API refuses the list to the others).
func (c *Console) showMembers(w http.ResponseWriter, r *http.Request, a *account, sc *scope, d membersData, notice string) {
	var ms struct {
		Members []apiMember `json:"members"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api/org/members", nil, &ms); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	d.Members, d.Me = ms.Members, a.ID
	if sc.CanManageMembers() {
		var is struct {
			Invitations []apiInvitation `json:"invitations"`
		}
		if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api/org/invitations", nil, &is); err != nil {
			c.failAPI(w, r, a, sc, err)
			return
		}
		d.Invitations = is.Invitations
	}
	c.render(w, r, statusOf(d.Problem), "members", view{Title: "Members of " + sc.Org.Name, Account: a, Scope: sc, Section: "members",
		Error: errorText(d.Problem), Notice: notice, Data: d})
}

// addMember adds an account to the organization, or invites an email
// without one (the API decides which).
func (c *Console) addMember(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	d := membersData{Email: strings.TrimSpace(r.PostFormValue("email")), Role: r.PostFormValue("role")}
	var out json.RawMessage
	ok, p := c.submit(w, r, a, sc, http.MethodPost, "/api/org/members", map[string]any{"email": d.Email, "role": d.Role}, &out)
	if !ok {
		if p == nil {
			return
		}
		d.Problem = p
		c.showMembers(w, r, a, sc, d, "")
		return
	}
	var created struct {
		Invitation *apiInvitation `json:"invitation"`
	}
	if err := json.Unmarshal(out, &created); err != nil {
		c.internal(w, r, err)
		return
	}
	if created.Invitation == nil {
		http.Redirect(w, r, sc.Path("members")+"?done=added", http.StatusSeeOther)
		return
	}
	notice := d.Email + " has no account yet: send them the invitation link."
	if m := created.Invitation.Mailed; m != nil && *m {
		notice = "Invitation mailed to " + d.Email + "; the link is also below."
	}
	c.showMembers(w, r, a, sc, membersData{Invited: created.Invitation, Role: "member"}, notice)
}

// memberAction sends one change of a member through the API and comes
// back to the list.
func (c *Console) memberAction(w http.ResponseWriter, r *http.Request, a *account, sc *scope, method, path string, in any, done string) {
	ok, p := c.submit(w, r, a, sc, method, path, in, nil)
	if !ok {
		if p != nil {
			c.failAPI(w, r, a, sc, p)
		}
		return
	}
	http.Redirect(w, r, sc.Path("members")+"?done="+done, http.StatusSeeOther)
}

func (c *Console) changeRole(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("account_id"), 10, 64)
	if err != nil {
		c.fail(w, r, http.StatusNotFound, "No such member.")
		return
	}
	c.memberAction(w, r, a, sc, http.MethodPut, "/api/org/members/"+strconv.FormatUint(id, 10),
		map[string]any{"role": r.PostFormValue("role")}, "role")
}

func (c *Console) removeMember(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("account_id"), 10, 64)
	if err != nil {
		c.fail(w, r, http.StatusNotFound, "No such member.")
		return
	}
	c.memberAction(w, r, a, sc, http.MethodDelete, "/api/org/members/"+strconv.FormatUint(id, 10), nil, "removed")
}

func (c *Console) revokeInvitation(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("invitation_id"), 10, 64)
	if err != nil {
		c.fail(w, r, http.StatusNotFound, "No such invitation.")
		return
	}
	c.memberAction(w, r, a, sc, http.MethodDelete, "/api/org/invitations/"+strconv.FormatUint(id, 10), nil, "revoked")
}
