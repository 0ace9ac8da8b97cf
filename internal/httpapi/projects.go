package httpapi

import (
	"net/http"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

type projectJSON struct {
	ID             uint64    `json:"id"`
	Name           string    `json:"name"`
	OrganizationID uint64    `json:"organization_id"`
	UserID         uint64    `json:"user_id"` // the creating account; the Ruby, PHP and .NET SDKs read it
	IsDefault      bool      `json:"is_default"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func projectOut(p *volley.Project) projectJSON {
	return projectJSON{ID: p.ID, Name: p.Name, OrganizationID: p.OrgID, UserID: p.AccountID, IsDefault: p.IsDefault,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// project loads the project named by the {project_id} path segment, which
// must belong to org.
func (a *API) project(r *http.Request, org *volley.Membership) (*volley.Project, error) {
	id, err := pathID(r, "project_id")
	if err != nil {
		return nil, err
	}
	p, err := a.cfg.Store.ProjectGet(r.Context(), org.ID, id)
	return p, notFoundAs(err, "Project")
}

func (a *API) listProjects(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	ps, err := a.cfg.Store.ProjectList(r.Context(), org.ID)
	if err != nil {
		return err
	}
	out := showAll(ps, projectOut)
	return writeJSON(w, http.StatusOK, map[string]any{"projects": out})
}

func (a *API) getProject(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	return writeMerged(w, http.StatusOK, "project", projectOut(p))
}

type projectRequest struct {
	Name      *string `json:"name"`
	IsDefault *bool   `json:"is_default"`
}

func (a *API) createProject(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	var req projectRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := volley.ValidateName("name", deref(req.Name)); err != nil {
		return err
	}
	now := a.now()
	p := &volley.Project{OrgID: org.ID, AccountID: c.account.ID, Name: *req.Name, IsDefault: deref(req.IsDefault),
		CreatedAt: now, UpdatedAt: now}
	if err := a.cfg.Store.ProjectCreate(r.Context(), p); err != nil {
		return err
	}
	c.audit("project.create", "project", p.ID, fieldChanges(nil, projectOut(p))...)
	return writeMerged(w, http.StatusCreated, "project", projectOut(p))
}

func (a *API) updateProject(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	cur, err := a.project(r, org)
	if err != nil {
		return err
	}
	var req projectRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.IsDefault == nil {
		// Every field is optional, so an empty body is a valid update that
		// changes nothing, updated_at included.
		c.audit("project.update", "project", cur.ID)
		return writeMerged(w, http.StatusOK, "project", projectOut(cur))
	}
	if req.Name != nil {
		if err := volley.ValidateName("name", *req.Name); err != nil {
			return err
		}
	}
	if req.IsDefault != nil && !*req.IsDefault && cur.IsDefault {
		return &Error{Status: http.StatusConflict, Field: "is_default",
			Message: "an organization always has a default project; make another project the default instead"}
	}
	p, err := a.cfg.Store.ProjectUpdate(r.Context(), store.ProjectUpdateParams{
		OrgID: org.ID, ID: cur.ID, Name: deref(req.Name), MakeDefault: deref(req.IsDefault), Now: a.now(),
	})
	if err != nil {
		return notFoundAs(err, "Project")
	}
	c.audit("project.update", "project", p.ID, fieldChanges(projectOut(cur), projectOut(p))...)
	return writeMerged(w, http.StatusOK, "project", projectOut(p))
}

func (a *API) deleteProject(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.ProjectDelete(r.Context(), org.ID, p.ID, a.now()); err != nil {
		return notFoundAs(err, "Project")
	}
	c.audit("project.delete", "project", p.ID, fieldChanges(projectOut(p), nil)...)
	return noContent(w)
}
