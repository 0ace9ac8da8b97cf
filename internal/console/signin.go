package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/volleyhq/volley/internal/limit"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	if _, err := c.session(r); err == nil {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

type signInData struct {
	Email  string
	Next   string
	Signup bool
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if _, err := c.session(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "signin", view{Title: "Sign in", Data: signInData{Next: next, Signup: c.cfg.Signup}})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if !c.form(w, r) {
		return
	}
	email, next := r.PostFormValue("email"), localPath(r.PostFormValue("next"))
	data := signInData{Email: email, Next: next, Signup: c.cfg.Signup}
	// A blocked address is refused before the password is checked: a
	// correct guess must not show through the block. The account still
	// signs in from any other address.
	addr := c.cfg.Proxies.Client(r)
	if retry, blocked := c.cfg.Guard.Blocked(addr); blocked {
		c.tooManySignIns(w, r, retry, data)
		return
	}
	ns, _, err := c.cfg.Tenant.SignIn(r.Context(), tenant.SignInParams{
		Email: email, Password: r.PostFormValue("password"),
		UserAgent: r.UserAgent(), ClientAddr: c.clientAddr(r),
	})
	if errors.Is(err, tenant.ErrBadCredentials) {
		if retry, blocked := c.cfg.Guard.Fail(r.Context(), addr); blocked {
			c.tooManySignIns(w, r, retry, data)
			return
		}
		c.render(w, r, http.StatusUnauthorized, "signin", view{Title: "Sign in", Error: "Wrong email or password.", Data: data})
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	c.setSession(w, r, ns)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// tooManySignIns answers 429 to an address that failed to sign in too
// often.
func (c *Console) tooManySignIns(w http.ResponseWriter, r *http.Request, retry time.Duration, data signInData) {
	w.Header().Set("Retry-After", strconv.Itoa(limit.Seconds(retry)))
	wait := "1 minute"
	if m := (limit.Seconds(retry) + 59) / 60; m > 1 {
		wait = fmt.Sprintf("%d minutes", m)
	}
	c.render(w, r, http.StatusTooManyRequests, "signin", view{Title: "Sign in", Data: data,
		Error: "Too many failed sign-ins from your address. Try again in " + wait + "."})
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if !c.form(w, r) {
		return
	}
	if a, err := c.session(r); err == nil {
		if err := c.cfg.Tenant.EndSession(r.Context(), a.ID, a.Session.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.internal(w, r, err)
			return
		}
	}
	c.clearSession(w, r)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

type signUpData struct {
	Email, Name string
}

func (c *Console) signUpPage(w http.ResponseWriter, r *http.Request) {
	if !c.cfg.Signup {
		c.fail(w, r, http.StatusNotFound, "Sign-up is closed on this server. Ask an administrator of your organization for an invitation.")
		return
	}
	c.render(w, r, http.StatusOK, "signup", view{Title: "Create an account", Data: signUpData{}})
}

func (c *Console) signUp(w http.ResponseWriter, r *http.Request) {
	if !c.cfg.Signup {
		c.fail(w, r, http.StatusNotFound, "Sign-up is closed on this server. Ask an administrator of your organization for an invitation.")
		return
	}
	if !c.form(w, r) {
		return
	}
	d := signUpData{Email: r.PostFormValue("email"), Name: r.PostFormValue("name")}
	password := r.PostFormValue("password")
	if password == "" {
		// tenant.CreateAccount would generate one: a person signing up
		// chooses theirs.
		c.render(w, r, http.StatusBadRequest, "signup", view{Title: "Create an account", Error: "Choose a password.", Data: d})
		return
	}
	acct, err := c.cfg.Tenant.CreateAccount(r.Context(), tenant.AccountParams{Email: d.Email, Name: d.Name, Password: password})
	if msg := userError(err); msg != "" {
		c.render(w, r, http.StatusBadRequest, "signup", view{Title: "Create an account", Error: msg, Data: d})
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	ns, err := c.cfg.Tenant.StartSession(r.Context(), acct.Account.ID, r.UserAgent(), c.clientAddr(r))
	if err != nil {
		c.internal(w, r, err)
		return
	}
	c.setSession(w, r, ns)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// userError is the message to show for a mistake in what a person typed,
// or "" when err is nil or not theirs to fix.
func userError(err error) string {
	var fe *volley.FieldError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe):
		return fieldLabel(fe.Field) + " " + fe.Message + "."
	case errors.Is(err, store.ErrConflict):
		return "An account with this email already exists: sign in instead."
	}
	return ""
}

func fieldLabel(field string) string {
	switch field {
	case "current_password":
		return "Current password"
	case "password":
		return "Password"
	case "email":
		return "Email"
	case "name":
		return "Name"
	}
	return field
}
