package httpapi

import (
	"net/http"
	"time"

	"github.com/volleyhq/volley/internal/transform"
	"github.com/volleyhq/volley/internal/volley"
)

type transformationJSON struct {
	ID        uint64    `json:"id"`
	ProjectID uint64    `json:"project_id"`
	Name      string    `json:"name"`
	Code      string    `json:"code"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func transformationOut(t *volley.Transformation) transformationJSON {
	return transformationJSON{ID: t.ID, ProjectID: t.ProjectID, Name: t.Name, Code: t.Code,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

type transformationRequest struct {
	Name *string `json:"name"`
	Code *string `json:"code"`
}

// apply sets the fields sent and checks that the code compiles to a
// function, so that a saved transformation can always run.
func (req *transformationRequest) apply(t *volley.Transformation) error {
	setIf(&t.Name, req.Name)
	setIf(&t.Code, req.Code)
	if err := t.Validate(); err != nil {
		return err
	}
	return compileCode(t.Code)
}

// compileCode compiles code, turning a compile error into a 400 on "code".
func compileCode(code string) error {
	if _, err := transform.Compile(code); err != nil {
		return volley.Invalid("code", "%s", err.Error())
	}
	return nil
}

// transformation loads the transformation named by {transformation_id}.
func (a *API) transformation(r *http.Request, org *volley.Membership) (*volley.Transformation, error) {
	return loadInOrg(r, org, "transformation_id", "Transformation", a.cfg.Store.TransformationGet,
		func(t *volley.Transformation) uint64 { return t.ProjectID })
}

func (a *API) listTransformations(w http.ResponseWriter, r *http.Request, c *caller) error {
	return listInProject(a, w, r, c, "transformations", a.cfg.Store.TransformationList, transformationOut)
}

func (a *API) createTransformation(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	var req transformationRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	now := a.now()
	t := &volley.Transformation{ProjectID: p.ID, CreatedAt: now, UpdatedAt: now}
	if err := req.apply(t); err != nil {
		return err
	}
	if err := a.cfg.Store.TransformationCreate(r.Context(), t); err != nil {
		return notFoundAs(err, "Project")
	}
	c.audit("transformation.create", "transformation", t.ID, fieldChanges(nil, transformationOut(t))...)
	return writeMerged(w, http.StatusCreated, "transformation", transformationOut(t))
}

func (a *API) getTransformation(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	t, err := a.transformation(r, org)
	if err != nil {
		return err
	}
	return writeMerged(w, http.StatusOK, "transformation", transformationOut(t))
}

func (a *API) updateTransformation(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	t, err := a.transformation(r, org)
	if err != nil {
		return err
	}
	var req transformationRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	before := transformationOut(t)
	if err := req.apply(t); err != nil {
		return err
	}
	t.UpdatedAt = a.now()
	if err := a.cfg.Store.TransformationUpdate(r.Context(), t); err != nil {
		return notFoundAs(err, "Transformation")
	}
	c.audit("transformation.update", "transformation", t.ID, fieldChanges(before, transformationOut(t))...)
	return writeMerged(w, http.StatusOK, "transformation", transformationOut(t))
}

func (a *API) deleteTransformation(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	t, err := a.transformation(r, org)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.TransformationDelete(r.Context(), org.ID, t.ID); err != nil {
		return notFoundAs(err, "Transformation")
	}
	c.audit("transformation.delete", "transformation", t.ID, fieldChanges(transformationOut(t), nil)...)
	return noContent(w)
}
