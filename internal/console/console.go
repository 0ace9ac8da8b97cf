// Package console serves the Volley console, the pages for people: sign-in
// and sign-up, invitations, the shell of a project (overview, sources,
// destinations, connections, transformations, members and the pages other
// files add), the account's settings (API tokens, password, sessions) and
// the approval of a CLI login. They are server-rendered HTML
// (html/template) that works with JavaScript off; small embedded scripts
// only enhance them (copy buttons, times in the viewer's time zone, the
// live tail, test panes that run without a reload). Templates, CSS and
// scripts are embedded in the binary (templates/, assets/). An address no
// route serves gets the console's own 404 page.
//
// URLs: a project's pages live under /projects/{project_id}/… (the project
// names its organization, so links never depend on a remembered org); /
// sends a signed-in person to the project they used last (a cookie) or to
// their first one, and anyone else to /signin. /orgs/{org_id} opens an
// organization's default project. The account's pages (Settings) are under
// /account, the CLI approval under /cli/approve.
//
// How pages get data: the management API (internal/httpapi) is the one
// source of truth for authorization (owner/admin/member), validation and the
// egress check of destination URLs. Pages call the API handler in process
// (Console.call): an http.Handler round trip whose request context carries
// the session's account (httpapi.WithAccount, which no network request can
// set) and X-Organization-ID of the project's organization, and decode its
// JSON. An API error comes back as an *apiError with the status, the
// message and the offending field, and pages show it in place next to that
// field. The console hides actions a role may not take (volley.Role's own
// rules, never a copy of them) but never relies on hiding: the API refuses
// them too. Reads the API cannot serve cheaply (the overview's series, the
// shell's organization and project lists of the signed-in account) go to the
// store directly.
//
// Safety: a session is a random secret in an HttpOnly, SameSite=Lax cookie
// (Secure over HTTPS) whose hash the store keeps; every form carries a
// CSRF token that must match a cookie of the same browser (double submit),
// and on top of it every unsafe request is refused when the browser says it
// comes from another origin (http.CrossOriginProtection). Pages are never
// cached, framed or sent as a referrer.
package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Config configures the console. Every field is required unless it says
// otherwise.
type Config struct {
	Tenant *tenant.Service
	Store  store.Store
	// API is the management API handler (httpapi.API): every change and
	// every read with a role rule goes through it, as the signed-in
	// account (see the package doc).
	API    http.Handler
	Logger *slog.Logger
	// NowFunc returns the current time; nil means time.Now.
	NowFunc func() time.Time
	// PublicURL is the server's external base URL; an https one makes
	// cookies Secure even behind a proxy that terminates TLS. "" decides
	// per request.
	PublicURL string
	// Signup opens /signup to anyone (VOLLEY_SIGNUP=open); otherwise people
	// join through invitations or `volley users create`.
	Signup bool
	// Rand makes CSRF tokens.
	Rand io.Reader
	// Devices approves CLI logins (the tenant service); nil serves no
	// approval page.
	Devices Devices
	// Stream serves the events page's live tail (the httpapi.API); nil
	// serves no tail, and the page keeps its refresh link.
	Stream Streamer
	// Guard slows down, then refuses, the addresses that sign in with wrong
	// passwords; nil for none.
	Guard *limit.Guard
	// Proxies tells each request's client address; the zero value means
	// the TCP peer.
	Proxies limit.Proxies
	// Audit records sign-ins, failed sign-ins and CLI login approvals.
	Audit store.Audit
}

// Devices is the part of the tenant service behind the CLI approval page.
type Devices interface {
	DeviceLookup(ctx context.Context, pairingCode string) (*tenant.DeviceCode, error)
	DeviceApprove(ctx context.Context, accountID uint64, pairingCode, deviceName string) error
	DeviceDeny(ctx context.Context, accountID uint64, pairingCode string) error
}

// Console is the handler of the console's pages.
type Console struct {
	cfg    Config
	pages  map[string]*template.Template
	mux    *http.ServeMux
	csrf   *http.CrossOriginProtection
	assets *assets
}

// Cookie names.
const (
	sessionCookie = "volley_session"
	csrfCookie    = "volley_csrf"
	// projectCookie remembers the project opened last, for /.
	projectCookie = "volley_project"
)

// New parses the pages and registers their routes.
func New(cfg Config) (*Console, error) {
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection(), assets: as}
	if c.pages, err = c.parsePages(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	c.mux.HandleFunc("GET /{$}", c.home)
	c.mux.HandleFunc("GET /assets/{name}", c.asset)
	c.mux.HandleFunc("GET /orgs/{org_id}", c.signedIn(c.openOrg))
	c.mux.HandleFunc("GET /projects/{project_id}", c.inProject(c.overviewPage))
	c.mux.HandleFunc("GET /projects/{project_id}/{$}", c.inProject(c.overviewPage))
	c.sourceRoutes()
	c.destinationRoutes()
	c.connectionRoutes()
	c.transformationRoutes()
	c.memberRoutes()
	c.mux.HandleFunc("GET /signin", c.signInPage)
	c.mux.HandleFunc("POST /signin", c.signIn)
	c.mux.HandleFunc("POST /signout", c.signOut)
	c.mux.HandleFunc("GET /signup", c.signUpPage)
	c.mux.HandleFunc("POST /signup", c.signUp)
	c.mux.HandleFunc("GET /invite/{secret}", c.invitePage)
	c.mux.HandleFunc("POST /invite/{secret}", c.acceptInvite)
	c.mux.HandleFunc("GET /account", c.signedIn(c.accountPage))
	c.mux.HandleFunc("GET /account/password", c.signedIn(c.passwordPage))
	c.mux.HandleFunc("POST /account/password", c.signedIn(c.changePassword))
	c.mux.HandleFunc("GET /account/tokens", c.signedIn(c.tokensPage))
	c.mux.HandleFunc("POST /account/tokens", c.signedIn(c.createToken))
	c.mux.HandleFunc("POST /account/tokens/{token_id}/revoke", c.signedIn(c.revokeToken))
	c.mux.HandleFunc("GET /account/sessions", c.signedIn(c.sessionsPage))
	c.mux.HandleFunc("POST /account/sessions/{session_id}/revoke", c.signedIn(c.revokeSession))
	c.trafficRoutes()
	c.replayRoutes()
	if c.cfg.Devices != nil {
		c.mux.HandleFunc("GET /cli/approve", c.signedIn(c.approvePage))
		c.mux.HandleFunc("POST /cli/approve", c.signedIn(c.approve))
	}
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	// No inline script or style anywhere: both come from /assets/.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// Invitation links carry their secret in the path.
	h.Set("Referrer-Policy", "no-referrer")
	if err := c.csrf.Check(r); err != nil {
		c.fail(w, r, http.StatusForbidden, "This form was sent from another site and was refused.")
		return
	}
	if h, pattern := c.mux.Handler(r); pattern == "" {
		c.unmatched(w, r, h)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// unmatched answers a request no route serves. The mux's own answer is
// kept (a 405 with its Allow header, a redirect to the clean path) unless
// it is a 404, which becomes the console's not-found page, in the shell
// for a signed-in person.
func (c *Console) unmatched(w http.ResponseWriter, r *http.Request, h http.Handler) {
	res := &answer{header: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(res, r)
	if res.status != http.StatusNotFound {
		for k, v := range res.header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.status)
		w.Write(res.body.Bytes())
		return
	}
	v := view{Title: "Page not found", Error: "There is no page at this address. It may have moved, or the link is mistyped."}
	a, err := c.session(r)
	switch {
	case err == nil:
		v.Account = a
	case !errors.Is(err, tenant.ErrUnauthenticated):
		c.internal(w, r, err)
		return
	}
	c.render(w, r, http.StatusNotFound, "message", v)
}

// account is a signed-in person on one request.
type account struct {
	*volley.Account
	Session *volley.Session
}

// signedIn wraps a page that needs a session: without one, the browser is
// sent to sign in and brought back.
func (c *Console) signedIn(page func(http.ResponseWriter, *http.Request, *account)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := c.session(r)
		if err != nil {
			if !errors.Is(err, tenant.ErrUnauthenticated) {
				c.internal(w, r, err)
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		page(w, r, a)
	}
}

// session returns the person signed in on r.
func (c *Console) session(r *http.Request) (*account, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, tenant.ErrUnauthenticated
	}
	ss, acct, err := c.cfg.Tenant.Session(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	return &account{Account: acct, Session: ss}, nil
}

// secure reports whether cookies must be Secure: the request came over
// TLS, or the public URL is https (TLS ends at a proxy).
func (c *Console) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(c.cfg.PublicURL, "https://")
}

func (c *Console) setSession(w http.ResponseWriter, r *http.Request, ns *tenant.NewSession) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: ns.Secret, Path: "/", Expires: ns.ExpiresAt,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

func (c *Console) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
}

// csrfToken returns the browser's CSRF token, setting its cookie on first
// use. Forms echo it in a hidden field.
func (c *Console) csrfToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value, nil
	}
	tok, err := volley.RandomToken(c.cfg.Rand, 32)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: int((365 * 24 * time.Hour).Seconds())})
	return tok, nil
}

// csrfOK reports whether a form carries the CSRF token of its browser.
func csrfOK(r *http.Request) bool {
	ck, err := r.Cookie(csrfCookie)
	if err != nil || len(ck.Value) < 32 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// form parses a POSTed form (bounded) and checks its CSRF token; it
// answers the request itself and returns false when either fails.
func (c *Console) form(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	if !csrfOK(r) {
		c.fail(w, r, http.StatusForbidden, "This form expired or was not sent from this site. Go back, reload the page and try again.")
		return false
	}
	return true
}

// clientAddr is the address a request came from (behind the trusted
// proxies), for the sessions list and the sign-in limit.
func (c *Console) clientAddr(r *http.Request) string {
	if a := c.cfg.Proxies.Client(r); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// localPath returns next when it is a path of this site, else "/" (the
// last project):
// sign-in must not become an open redirect.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

// view is what every page template receives.
type view struct {
	Title   string
	CSRF    string
	Account *account
	// Scope is the organization and project the shell shows (switchers,
	// navigation); render fills it for signed-in pages that set none.
	Scope *scope
	// Section is the navigation entry of the page ("overview", "events",
	// "attempts", "sources", "destinations", "connections",
	// "transformations", "members", "settings").
	Section string
	// Path is the request's path, for marking the current tab.
	Path   string
	Error  string
	Notice string
	Data   any
}

// render writes a page with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	tok, err := c.csrfToken(w, r)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	v.CSRF, v.Path = tok, r.URL.Path
	if v.Scope == nil && v.Account != nil {
		sc, err := c.scopeFor(r, v.Account, c.lastProject(r))
		if err != nil {
			c.internal(w, r, err)
			return
		}
		v.Scope = sc
	}
	t, ok := c.pages[page]
	if !ok {
		c.internal(w, r, fmt.Errorf("no page %q", page))
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		c.internal(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// fail shows a message page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "message", view{Title: http.StatusText(status), Error: msg})
}

func (c *Console) internal(w http.ResponseWriter, r *http.Request, err error) {
	c.cfg.Logger.ErrorContext(r.Context(), "console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, "Something went wrong on the server; the error is in its log.\n")
}

// parsePages parses every page of templates/ with the layout: a page is
// templates/<name>.html defining "content", rendered by name. Files whose
// name starts with "_" are not pages: they define templates several pages
// share, and every page gets them with the layout.
func (c *Console) parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(c.funcs()).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: list templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, file)
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
