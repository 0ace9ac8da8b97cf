package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

type memberJSON struct {
	AccountID uint64      `json:"account_id"`
	Email     string      `json:"email"`
	Name      string      `json:"name"`
	Role      volley.Role `json:"role"`
	CreatedAt time.Time   `json:"created_at"`
}

func memberOut(m *volley.Member) memberJSON {
	return memberJSON{AccountID: m.AccountID, Email: m.Email, Name: m.Name, Role: m.Role, CreatedAt: m.CreatedAt}
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	ms, err := a.cfg.Store.MemberList(r.Context(), org.ID)
	if err != nil {
		return err
	}
	out := showAll(ms, memberOut)
	return writeJSON(w, http.StatusOK, map[string]any{"members": out})
}

type memberRequest struct {
	Email *string `json:"email"`
	Role  *string `json:"role"`
}

// checkGrant enforces who may hand out which role: only owners create or
// touch owners.
func checkGrant(actor volley.Role, target volley.Role) error {
	if target == volley.RoleOwner && actor != volley.RoleOwner {
		return volley.ErrForbidden
	}
	return nil
}

func (a *API) addMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanManageMembers)
	if err != nil {
		return err
	}
	var req memberRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	email, err := volley.NormalizeEmail(deref(req.Email))
	if err != nil {
		return err
	}
	role, err := volley.ParseRole(deref(req.Role))
	if err != nil {
		return err
	}
	if err := checkGrant(org.Role, role); err != nil {
		return err
	}
	acct, err := a.cfg.Store.AccountGetByEmail(r.Context(), email)
	if errors.Is(err, store.ErrNotFound) {
		return a.invite(w, r, c, org, email, role)
	}
	if err != nil {
		return err
	}
	m, err := a.cfg.Store.MemberAdd(r.Context(), store.MemberParams{OrgID: org.ID, AccountID: acct.ID, Role: role, Now: a.now()})
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, email+" is already a member of this organization")
	}
	if err != nil {
		return err
	}
	c.audit("member.create", "member", m.AccountID, fieldChanges(nil, memberOut(m))...)
	return writeMerged(w, http.StatusCreated, "member", memberOut(m))
}

// targetMember loads the member addressed by the path and checks that the
// caller may change it; it returns the context organization, the member's
// account id and its role.
func (a *API) targetMember(r *http.Request, c *caller) (org *volley.Membership, id uint64, role volley.Role, err error) {
	if org, err = a.orgFor(r, c, volley.Role.CanManageMembers); err != nil {
		return nil, 0, "", err
	}
	if id, err = pathID(r, "account_id"); err != nil {
		return nil, 0, "", err
	}
	target, err := a.cfg.Store.OrgGet(r.Context(), org.ID, id)
	if err != nil {
		return nil, 0, "", notFoundAs(err, "Member")
	}
	if err := checkGrant(org.Role, target.Role); err != nil {
		return nil, 0, "", err
	}
	return org, id, target.Role, nil
}

func (a *API) updateMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, id, prev, err := a.targetMember(r, c)
	if err != nil {
		return err
	}
	var req memberRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	role, err := volley.ParseRole(deref(req.Role))
	if err != nil {
		return err
	}
	if err := checkGrant(org.Role, role); err != nil {
		return err
	}
	m, err := a.cfg.Store.MemberUpdate(r.Context(), store.MemberParams{OrgID: org.ID, AccountID: id, Role: role, Now: a.now()})
	if err != nil {
		return notFoundAs(err, "Member")
	}
	c.audit("member.update", "member", id, fieldChanges(map[string]any{"role": prev}, map[string]any{"role": m.Role})...)
	return writeMerged(w, http.StatusOK, "member", memberOut(m))
}

func (a *API) deleteMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, id, prev, err := a.targetMember(r, c)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.MemberDelete(r.Context(), org.ID, id); err != nil {
		return notFoundAs(err, "Member")
	}
	c.audit("member.delete", "member", id, fieldChanges(map[string]any{"role": prev}, nil)...)
	return noContent(w)
}
