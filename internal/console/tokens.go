package console

import (
	"net/http"
	"strconv"
	"time"
)

// apiToken is an API token as its owner sees it; Token only in the answer
// that created it.
type apiToken struct {
	ID         uint64     `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Prefix     string     `json:"prefix"`
	DeviceName string     `json:"device_name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	Expired    bool       `json:"expired"`
	Token      string     `json:"token"`
}

// tokensData is the API tokens page: the account's tokens, and the value of
// the one just created (shown in that answer only).
type tokensData struct {
	Tokens  []apiToken
	Created *apiToken
	Name    string
	Expires string
	Field   string // the form field the error is about
}

// tokenLifetimes are the expiries the form offers, by form value.
var tokenLifetimes = map[string]time.Duration{
	"never": 0, "30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "365d": 365 * 24 * time.Hour,
}

func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request, a *account) {
	c.showTokens(w, r, a, http.StatusOK, tokensData{Expires: "90d"}, "", "")
}

// showTokens renders the tokens page with the account's current tokens.
func (c *Console) showTokens(w http.ResponseWriter, r *http.Request, a *account, status int, d tokensData, errMsg, notice string) {
	var list struct {
		Tokens []apiToken `json:"tokens"`
	}
	if err := c.call(r, a, 0, http.MethodGet, "/api/tokens", nil, &list); err != nil {
		c.failAPI(w, r, a, nil, err)
		return
	}
	d.Tokens = list.Tokens
	c.render(w, r, status, "tokens", view{Title: "API tokens", Account: a, Section: "settings", Error: errMsg, Notice: notice, Data: d})
}

// createToken creates a token through the API and shows its value once.
func (c *Console) createToken(w http.ResponseWriter, r *http.Request, a *account) {
	if !c.form(w, r) {
		return
	}
	d := tokensData{Name: r.PostFormValue("name"), Expires: r.PostFormValue("expires")}
	life, ok := tokenLifetimes[d.Expires]
	if !ok {
		d.Field = "expires"
		c.showTokens(w, r, a, http.StatusBadRequest, d, "Choose when the token expires.", "")
		return
	}
	in := map[string]any{"name": d.Name}
	if life > 0 {
		in["expires_at"] = c.cfg.NowFunc().UTC().Add(life).Truncate(time.Second)
	}
	var tok apiToken
	if err := c.call(r, a, 0, http.MethodPost, "/api/tokens", in, &tok); err != nil {
		ae := asAPIError(err)
		if ae == nil || ae.Status >= 500 {
			c.internal(w, r, err)
			return
		}
		d.Field = ae.Field
		c.showTokens(w, r, a, ae.Status, d, ae.Text(), "")
		return
	}
	c.showTokens(w, r, a, http.StatusCreated, tokensData{Created: &tok, Expires: "90d"}, "",
		"Token created. Copy it now: it is shown only this once.")
}

// revokeToken revokes one of the account's tokens through the API.
func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, a *account) {
	if !c.form(w, r) {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("token_id"), 10, 64)
	if err != nil {
		c.fail(w, r, http.StatusNotFound, "No such token.")
		return
	}
	if err := c.call(r, a, 0, http.MethodDelete, "/api/tokens/"+strconv.FormatUint(id, 10), nil, nil); err != nil {
		c.failAPI(w, r, a, nil, err)
		return
	}
	http.Redirect(w, r, "/account/tokens?revoked=1", http.StatusSeeOther)
}
