// Package console serves Volley's pages for people: sign-in and sign-up,
// invitations, the account's password and sessions, and the approval of
// a CLI login. They are plain server-rendered HTML (html/template, no
// JavaScript needed), embedded in the binary.
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
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Config configures the console. Every field is required unless it says
// otherwise.
type Config struct {
	Tenant *tenant.Service
	Store  store.Tenancy
	Logger *slog.Logger
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
	// Guard slows down, then refuses, the addresses that sign in with wrong
	// passwords; nil for none.
	Guard *limit.Guard
	// Proxies tells each request's client address; the zero value means
	// the TCP peer.
	Proxies limit.Proxies
}

// Devices is the part of the tenant service behind the CLI approval page.
type Devices interface {
	DeviceLookup(ctx context.Context, pairingCode string) (*tenant.DeviceCode, error)
	DeviceApprove(ctx context.Context, accountID uint64, pairingCode, deviceName string) error
	DeviceDeny(ctx context.Context, accountID uint64, pairingCode string) error
}

// Console is the handler of the console's pages.
type Console struct {
	cfg   Config
	pages map[string]*template.Template
	mux   *http.ServeMux
	csrf  *http.CrossOriginProtection
}

// Cookie names.
const (
	sessionCookie = "volley_session"
	csrfCookie    = "volley_csrf"
)

// New parses the pages and registers their routes.
func New(cfg Config) (*Console, error) {
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, pages: pages, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	c.mux.HandleFunc("GET /{$}", c.home)
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
	c.mux.HandleFunc("GET /account/sessions", c.signedIn(c.sessionsPage))
	c.mux.HandleFunc("POST /account/sessions/{session_id}/revoke", c.signedIn(c.revokeSession))
	if c.cfg.Devices != nil {
		c.mux.HandleFunc("GET /cli/approve", c.signedIn(c.approvePage))
		c.mux.HandleFunc("POST /cli/approve", c.signedIn(c.approve))
	}
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// Invitation links carry their secret in the path.
	h.Set("Referrer-Policy", "no-referrer")
	if err := c.csrf.Check(r); err != nil {
		c.fail(w, r, http.StatusForbidden, "This form was sent from another site and was refused.")
		return
	}
	c.mux.ServeHTTP(w, r)
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

// localPath returns next when it is a path of this site, else "/account":
// sign-in must not become an open redirect.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/account"
	}
	return next
}

// view is what every page template receives.
type view struct {
	Title   string
	CSRF    string
	Account *account
	Error   string
	Notice  string
	Data    any
}

// render writes a page with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	tok, err := c.csrfToken(w, r)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	v.CSRF = tok
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

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"message", "signin", "signup", "invite", "account", "password", "sessions", "approve"} {
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
