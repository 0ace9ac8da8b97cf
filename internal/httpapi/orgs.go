package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

type userJSON struct {
	ID        uint64    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// getUser serves GET /api/user, the CLI's "who am I".
func (a *API) getUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	u := userJSON{ID: c.account.ID, Email: c.account.Email, Name: c.account.Name, CreatedAt: c.account.CreatedAt}
	return writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

type orgJSON struct {
	ID        uint64      `json:"id"`
	Name      string      `json:"name"`
	Slug      string      `json:"slug"`
	AccountID uint64      `json:"account_id"`
	Role      volley.Role `json:"role"`
	CreatedAt time.Time   `json:"created_at"`
}

func orgOut(m *volley.Membership) orgJSON {
	return orgJSON{ID: m.ID, Name: m.Name, Slug: m.Slug, AccountID: m.AccountID, Role: m.Role, CreatedAt: m.CreatedAt}
}

// orgContext resolves the organization a request acts in: the one named by
// X-Organization-ID, else the caller's first (lowest id) organization.
func (a *API) orgContext(r *http.Request, c *caller) (*volley.Membership, error) {
	if c.org != nil {
		return c.org, nil
	}
	if c.orgHeader == "" {
		orgs, err := a.cfg.Store.OrgList(r.Context(), c.account.ID)
		if err != nil {
			return nil, err
		}
		if len(orgs) == 0 {
			return nil, &Error{Status: http.StatusNotFound, Message: "no active organization",
				Detail: "create an organization (POST /api/org) or ask to be added to one"}
		}
		c.org = &orgs[0]
		return c.org, nil
	}
	id, err := strconv.ParseUint(c.orgHeader, 10, 64)
	if err != nil || id == 0 {
		return nil, &Error{Status: http.StatusBadRequest,
			Message: fmt.Sprintf("X-Organization-ID: %q is not a valid organization id", c.orgHeader)}
	}
	m, err := a.cfg.Store.OrgGet(r.Context(), id, c.account.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Status: http.StatusForbidden, Message: "insufficient permissions",
			Detail: fmt.Sprintf("you are not a member of organization %d", id)}
	}
	if err != nil {
		return nil, err
	}
	c.org = m
	return m, nil
}

// orgFor resolves the organization context and checks the caller's role in
// it with allowed (nil allows every member).
func (a *API) orgFor(r *http.Request, c *caller, allowed func(volley.Role) bool) (*volley.Membership, error) {
	m, err := a.orgContext(r, c)
	if err != nil {
		return nil, err
	}
	if allowed != nil && !allowed(m.Role) {
		return nil, volley.ErrForbidden
	}
	return m, nil
}

func (a *API) listOrgs(w http.ResponseWriter, r *http.Request, c *caller) error {
	orgs, err := a.cfg.Store.OrgList(r.Context(), c.account.ID)
	if err != nil {
		return err
	}
	out := showAll(orgs, orgOut)
	return writeJSON(w, http.StatusOK, map[string]any{"organizations": out})
}

func (a *API) getOrg(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := a.orgContext(r, c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, orgOut(m))
}

type orgRequest struct {
	Name *string `json:"name"`
}

func (a *API) createOrg(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req orgRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	m, err := a.cfg.Tenant.CreateOrg(r.Context(), c.account.ID, deref(req.Name))
	if err != nil {
		return err
	}
	c.auditIn(m.ID, "org.create", "org", m.ID, fieldChanges(nil, orgOut(m))...)
	return writeJSON(w, http.StatusCreated, orgOut(m))
}

func isOwner(r volley.Role) bool { return r == volley.RoleOwner }

// deleteOrg serves DELETE /api/org: the owner deletes the context
// organization and everything in it.
func (a *API) deleteOrg(w http.ResponseWriter, r *http.Request, c *caller) error {
	m, err := a.orgFor(r, c, isOwner)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.OrgDelete(r.Context(), m.ID, a.now()); err != nil {
		return notFoundAs(err, "Organization")
	}
	c.audit("org.delete", "org", m.ID, fieldChanges(orgOut(m), nil)...)
	return noContent(w)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
