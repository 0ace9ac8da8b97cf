package httpapi

import (
	"context"
	"net/http"

	"github.com/volleyhq/volley/internal/volley"
)

// showAll turns stored items into their JSON shapes.
func showAll[T, J any](items []T, show func(*T) J) []J {
	out := make([]J, len(items))
	for i := range items {
		out[i] = show(&items[i])
	}
	return out
}

// listInProject serves GET /api/projects/{project_id}/<key>: the project's
// resources, read by list and shown by show, under key. Every member may
// list.
func listInProject[T, J any](a *API, w http.ResponseWriter, r *http.Request, c *caller, key string,
	list func(context.Context, uint64) ([]T, error), show func(*T) J) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	items, err := list(r.Context(), p.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{key: showAll(items, show)})
}

// loadInOrg loads the resource whose id is the path segment param, through
// get scoped to org (another organization's is "<what> not found"). On
// family B's nested routes it must also belong to {project_id}.
func loadInOrg[T any](r *http.Request, org *volley.Membership, param, what string,
	get func(ctx context.Context, orgID, id uint64) (*T, error), projectOf func(*T) uint64) (*T, error) {
	id, err := pathID(r, param)
	if err != nil {
		return nil, err
	}
	v, err := get(r.Context(), org.ID, id)
	if err != nil {
		return nil, notFoundAs(err, what)
	}
	if err := inProject(r, projectOf(v), what); err != nil {
		return nil, err
	}
	return v, nil
}
