package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiSource is a source as the API shows it (docs/api.md).
type apiSource struct {
	ID                 uint64    `json:"id"`
	Name               string    `json:"name"`
	Slug               string    `json:"slug"`
	IngestionID        string    `json:"ingestion_id"`
	IngestionURL       string    `json:"ingestion_url"`
	Type               string    `json:"type"`
	EPS                int       `json:"eps"`
	Status             string    `json:"status"`
	ConnectionCount    int64     `json:"connection_count"`
	AuthType           string    `json:"auth_type"`
	AuthUsername       string    `json:"auth_username"`
	AuthKeyName        string    `json:"auth_key_name"`
	AuthKeySet         bool      `json:"auth_key_set"`
	AuthKey            string    `json:"auth_key"`
	VerifySignature    bool      `json:"verify_signature"`
	WebhookSecretSet   bool      `json:"webhook_secret_set"`
	SignatureHeader    string    `json:"signature_header"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	SignatureEncoding  string    `json:"signature_encoding"`
	SignaturePrefix    string    `json:"signature_prefix"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// sourceTypes are the source types the form offers: generic webhooks and
// the signature schemes ingestion verifies (volley.ParseSourceType).
var sourceTypes = []struct{ Value, Label string }{
	{"webhook", "Generic webhook"}, {"stripe", "Stripe"}, {"github", "GitHub"}, {"shopify", "Shopify"},
	{"slack", "Slack"}, {"standard_webhooks", "Standard Webhooks (Svix)"}, {"hmac", "Other HMAC signature"},
}

// sourceForm is the source form as typed, to show again after a refusal.
type sourceForm struct {
	Name, Slug, Type, Status, EPS                                           string
	AuthType, AuthUsername, AuthKeyName, AuthKey                            string
	VerifySignature                                                         bool
	WebhookSecret                                                           string
	SignatureHeader, SignatureAlgorithm, SignatureEncoding, SignaturePrefix string
}

// sourceData is what the source pages show.
type sourceData struct {
	Sources []apiSource
	Source  *apiSource // nil on the new source form
	Form    sourceForm
	Types   any
	Problem *problem
	// Credentials are shown after an explicit reveal or rotation, or the
	// key generated when the source was created.
	Credentials *apiCredentials
}

type apiCredentials struct {
	AuthType     string `json:"auth_type"`
	AuthUsername string `json:"auth_username"`
	AuthKeyName  string `json:"auth_key_name"`
	AuthKey      string `json:"auth_key"`
}

func (c *Console) sourceRoutes() {
	c.mux.HandleFunc("GET /projects/{project_id}/sources", c.inProject(c.sourcesPage))
	c.mux.HandleFunc("GET /projects/{project_id}/sources/new", c.inProject(c.newSourcePage))
	c.mux.HandleFunc("POST /projects/{project_id}/sources", c.inProject(c.createSource))
	c.mux.HandleFunc("GET /projects/{project_id}/sources/{source_id}", c.inProject(c.sourcePage))
	c.mux.HandleFunc("POST /projects/{project_id}/sources/{source_id}", c.inProject(c.updateSource))
	c.mux.HandleFunc("POST /projects/{project_id}/sources/{source_id}/credentials", c.inProject(c.revealCredentials))
	c.mux.HandleFunc("POST /projects/{project_id}/sources/{source_id}/credentials/rotate", c.inProject(c.rotateCredentials))
}

func (c *Console) sourcesPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	var list struct {
		Sources []apiSource `json:"sources"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("sources"), nil, &list); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	c.render(w, r, http.StatusOK, "sources", view{Title: "Sources", Account: a, Scope: sc, Section: "sources",
		Data: sourceData{Sources: list.Sources}})
}

func (c *Console) newSourcePage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	c.showSource(w, r, a, sc, sourceData{Form: sourceForm{Type: "webhook", Status: "active", AuthType: "none"}}, "")
}

// showSource renders the source form page (new or existing).
func (c *Console) showSource(w http.ResponseWriter, r *http.Request, a *account, sc *scope, d sourceData, notice string) {
	d.Types = sourceTypes
	title := "New source"
	if d.Source != nil {
		title = "Source " + d.Source.Name
	}
	c.render(w, r, statusOf(d.Problem), "source", view{Title: title, Account: a, Scope: sc, Section: "sources",
		Error: errorText(d.Problem), Notice: notice, Data: d})
}

// readSourceForm reads the posted form and the API request it makes. On
// an update, secrets left empty are left out (unchanged).
func readSourceForm(r *http.Request) (sourceForm, map[string]any, *problem) {
	f := sourceForm{
		Name: strings.TrimSpace(r.PostFormValue("name")), Slug: strings.TrimSpace(r.PostFormValue("slug")),
		Type: r.PostFormValue("type"), Status: r.PostFormValue("status"), EPS: strings.TrimSpace(r.PostFormValue("eps")),
		AuthType: r.PostFormValue("auth_type"), AuthUsername: strings.TrimSpace(r.PostFormValue("auth_username")),
		AuthKeyName: strings.TrimSpace(r.PostFormValue("auth_key_name")), AuthKey: r.PostFormValue("auth_key"),
		VerifySignature: r.PostFormValue("verify_signature") == "on", WebhookSecret: r.PostFormValue("webhook_secret"),
		SignatureHeader: strings.TrimSpace(r.PostFormValue("signature_header")), SignatureAlgorithm: r.PostFormValue("signature_algorithm"),
		SignatureEncoding: r.PostFormValue("signature_encoding"), SignaturePrefix: r.PostFormValue("signature_prefix"),
	}
	in := map[string]any{
		"name": f.Name, "slug": f.Slug, "type": f.Type, "status": f.Status, "auth_type": f.AuthType,
		"auth_username": f.AuthUsername, "auth_key_name": f.AuthKeyName, "verify_signature": f.VerifySignature,
	}
	eps, p := intField(r, "eps", "Events per second")
	if p != nil {
		return f, nil, p
	}
	if eps == nil {
		eps = new(int) // empty: no limit
	}
	in["eps"] = *eps
	if f.AuthKey != "" {
		in["auth_key"] = f.AuthKey
	}
	if f.WebhookSecret != "" {
		in["webhook_secret"] = f.WebhookSecret
	}
	if f.Type == "hmac" {
		in["signature_header"], in["signature_algorithm"] = f.SignatureHeader, f.SignatureAlgorithm
		in["signature_encoding"], in["signature_prefix"] = f.SignatureEncoding, f.SignaturePrefix
	}
	f.AuthKey, f.WebhookSecret = "", "" // never echoed back into the page
	return f, in, nil
}

func (c *Console) createSource(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	f, in, p := readSourceForm(r)
	if p == nil {
		var created apiSource
		ok, p2 := c.submit(w, r, a, sc, http.MethodPost, "/api"+sc.Path("sources"), in, &created)
		if ok {
			d := sourceData{Source: &created, Form: formOfSource(&created)}
			notice := "Source created. Send webhooks to its ingestion URL."
			if created.AuthKey != "" {
				// A generated key is in this answer only.
				d.Credentials = &apiCredentials{AuthType: created.AuthType, AuthUsername: created.AuthUsername,
					AuthKeyName: created.AuthKeyName, AuthKey: created.AuthKey}
				notice += " Copy its generated key now."
			}
			c.showSource(w, r, a, sc, d, notice)
			return
		}
		if p2 == nil {
			return
		}
		p = p2
	}
	c.showSource(w, r, a, sc, sourceData{Form: f, Problem: p}, "")
}

// loadSource reads the source of the URL through the API; it answers the
// request itself and returns nil when that fails.
func (c *Console) loadSource(w http.ResponseWriter, r *http.Request, a *account, sc *scope) *apiSource {
	id, err := strconv.ParseUint(r.PathValue("source_id"), 10, 64)
	if err != nil {
		c.render(w, r, http.StatusNotFound, "message", view{Title: "Not found", Account: a, Scope: sc, Error: "No such source."})
		return nil
	}
	var s apiSource
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("sources", id), nil, &s); err != nil {
		c.failAPI(w, r, a, sc, err)
		return nil
	}
	return &s
}

func formOfSource(s *apiSource) sourceForm {
	return sourceForm{
		Name: s.Name, Slug: s.Slug, Type: s.Type, Status: s.Status, EPS: strconv.Itoa(s.EPS),
		AuthType: s.AuthType, AuthUsername: s.AuthUsername, AuthKeyName: s.AuthKeyName,
		VerifySignature: s.VerifySignature, SignatureHeader: s.SignatureHeader, SignatureAlgorithm: s.SignatureAlgorithm,
		SignatureEncoding: s.SignatureEncoding, SignaturePrefix: s.SignaturePrefix,
	}
}

func (c *Console) sourcePage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	s := c.loadSource(w, r, a, sc)
	if s == nil {
		return
	}
	notice := ""
	if r.URL.Query().Get("saved") == "1" {
		notice = "Source saved."
	}
	c.showSource(w, r, a, sc, sourceData{Source: s, Form: formOfSource(s)}, notice)
}

func (c *Console) updateSource(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	if !c.form(w, r) {
		return
	}
	s := c.loadSource(w, r, a, sc)
	if s == nil {
		return
	}
	f, in, p := readSourceForm(r)
	if p == nil {
		var saved apiSource
		ok, p2 := c.submit(w, r, a, sc, http.MethodPut, "/api"+sc.Path("sources", s.ID), in, &saved)
		if ok {
			if saved.AuthKey != "" {
				// Switching to basic or api_key without a key generated one.
				c.showSource(w, r, a, sc, sourceData{Source: &saved, Form: formOfSource(&saved),
					Credentials: &apiCredentials{AuthType: saved.AuthType, AuthUsername: saved.AuthUsername,
						AuthKeyName: saved.AuthKeyName, AuthKey: saved.AuthKey}}, "Source saved. Copy its generated key now.")
				return
			}
			http.Redirect(w, r, sc.Path("sources", s.ID)+"?saved=1", http.StatusSeeOther)
			return
		}
		if p2 == nil {
			return
		}
		p = p2
	}
	c.showSource(w, r, a, sc, sourceData{Source: s, Form: f, Problem: p}, "")
}

// revealCredentials shows a source's credentials: a POST, so that a secret
// never sits in a URL, history or a prefetched page; the API allows it to
// owners and admins only.
func (c *Console) revealCredentials(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	c.credentials(w, r, a, sc, http.MethodGet, "", "Shown because you asked; it is not stored in this page's address.")
}

// rotateCredentials replaces a source's key with a generated one.
func (c *Console) rotateCredentials(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	c.credentials(w, r, a, sc, http.MethodPost, "/rotate", "A new key replaced the old one, which no longer works: update the sender.")
}

func (c *Console) credentials(w http.ResponseWriter, r *http.Request, a *account, sc *scope, method, suffix, notice string) {
	if !c.form(w, r) {
		return
	}
	s := c.loadSource(w, r, a, sc)
	if s == nil {
		return
	}
	var in any
	if method == http.MethodPost {
		in = map[string]any{}
	}
	var cr apiCredentials
	ok, p := c.submit(w, r, a, sc, method, "/api"+sc.Path("sources", s.ID, "credentials")+suffix, in, &cr)
	if !ok {
		if p == nil {
			return
		}
		c.showSource(w, r, a, sc, sourceData{Source: s, Form: formOfSource(s), Problem: p}, "")
		return
	}
	c.showSource(w, r, a, sc, sourceData{Source: s, Form: formOfSource(s), Credentials: &cr}, notice)
}
