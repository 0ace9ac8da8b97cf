package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

// scope is what the shell shows around a page: the signed-in account's
// organizations and the current one, its projects and the current one.
// Project is nil only for an account without any organization.
type scope struct {
	Orgs     []volley.Membership
	Org      *volley.Membership
	Projects []volley.Project
	Project  *volley.Project
}

// CanConfigure reports whether the account may change the project's
// configuration and see its secrets (owner or admin). Pages use it to hide
// actions; the API refuses them anyway.
func (s *scope) CanConfigure() bool { return s.Org != nil && s.Org.Role.CanConfigure() }

// CanManageMembers reports whether the account may invite and manage
// members (owner or admin).
func (s *scope) CanManageMembers() bool { return s.Org != nil && s.Org.Role.CanManageMembers() }

// Path returns the URL path of a page of the scope's project:
// Path("sources", 3) is "/projects/7/sources/3".
func (s *scope) Path(elems ...any) string {
	p := "/projects/" + strconv.FormatUint(s.Project.ID, 10)
	for _, e := range elems {
		p += "/" + fmt.Sprint(e)
	}
	return p
}

// scopeFor builds the scope of a signed-in account in project projectID; 0
// (or a project the account cannot see, for the fallback of /) picks the
// default project of its first organization.
func (c *Console) scopeFor(r *http.Request, a *account, projectID uint64) (*scope, error) {
	orgs, err := c.cfg.Store.OrgList(r.Context(), a.ID)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	sc := &scope{Orgs: orgs}
	if len(orgs) == 0 {
		return sc, nil
	}
	if projectID != 0 {
		// An account belongs to a handful of organizations: asking each is
		// cheaper than a lookup table, and scoped by membership.
		for i := range orgs {
			p, err := c.cfg.Store.ProjectGet(r.Context(), orgs[i].ID, projectID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("load project: %w", err)
			}
			sc.Org, sc.Project = &orgs[i], p
			break
		}
	}
	if sc.Org == nil {
		sc.Org = &orgs[0]
	}
	if sc.Projects, err = c.cfg.Store.ProjectList(r.Context(), sc.Org.ID); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	if sc.Project == nil {
		sc.Project = defaultProject(sc.Projects)
	}
	return sc, nil
}

// defaultProject returns the organization's default project, else its
// first, else nil.
func defaultProject(ps []volley.Project) *volley.Project {
	for i := range ps {
		if ps[i].IsDefault {
			return &ps[i]
		}
	}
	if len(ps) > 0 {
		return &ps[0]
	}
	return nil
}

// lastProject is the project opened last in this browser (0 for none).
func (c *Console) lastProject(r *http.Request) uint64 {
	ck, err := r.Cookie(projectCookie)
	if err != nil {
		return 0
	}
	id, _ := strconv.ParseUint(ck.Value, 10, 64)
	return id
}

// projectPage is a page of one project: the signed-in account and its
// scope, whose Project is the one of the URL.
type projectPage func(w http.ResponseWriter, r *http.Request, a *account, sc *scope)

// inProject wraps a page under /projects/{project_id}/: it needs a session,
// and a project of one of the account's organizations (else 404, whether
// it exists or not). It remembers the project for /.
func (c *Console) inProject(page projectPage) http.HandlerFunc {
	return c.signedIn(func(w http.ResponseWriter, r *http.Request, a *account) {
		id, err := strconv.ParseUint(r.PathValue("project_id"), 10, 64)
		if err != nil || id == 0 {
			c.fail(w, r, http.StatusNotFound, "There is no such project, or you are not a member of its organization.")
			return
		}
		sc, err := c.scopeFor(r, a, id)
		if err != nil {
			c.internal(w, r, err)
			return
		}
		if sc.Project == nil || sc.Project.ID != id {
			c.render(w, r, http.StatusNotFound, "message", view{Title: "Project not found", Account: a, Scope: sc,
				Error: "There is no such project, or you are not a member of its organization."})
			return
		}
		http.SetCookie(w, &http.Cookie{Name: projectCookie, Value: strconv.FormatUint(id, 10), Path: "/",
			HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: int((365 * 24 * time.Hour).Seconds())})
		page(w, r, a, sc)
	})
}

// home sends a signed-in person to the project they used last, or their
// first one, and anyone else to sign in.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	a, err := c.session(r)
	if errors.Is(err, tenant.ErrUnauthenticated) {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	sc, err := c.scopeFor(r, a, c.lastProject(r))
	if err != nil {
		c.internal(w, r, err)
		return
	}
	if sc.Project == nil {
		// No organization (left or removed from all): the account page
		// says so.
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, sc.Path()+"/", http.StatusSeeOther)
}

// openOrg serves /orgs/{org_id}: the organization's default project.
func (c *Console) openOrg(w http.ResponseWriter, r *http.Request, a *account) {
	id, err := strconv.ParseUint(r.PathValue("org_id"), 10, 64)
	if err == nil {
		_, err = c.cfg.Store.OrgGet(r.Context(), id, a.ID)
	}
	if err == nil {
		ps, err := c.cfg.Store.ProjectList(r.Context(), id)
		if err != nil {
			c.internal(w, r, err)
			return
		}
		if p := defaultProject(ps); p != nil {
			http.Redirect(w, r, "/projects/"+strconv.FormatUint(p.ID, 10)+"/", http.StatusSeeOther)
			return
		}
	} else if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, strconv.ErrSyntax) && !errors.Is(err, strconv.ErrRange) {
		c.internal(w, r, err)
		return
	}
	c.render(w, r, http.StatusNotFound, "message", view{Title: "Organization not found", Account: a,
		Error: "There is no such organization, or you are not one of its members."})
}
