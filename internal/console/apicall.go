package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/volleyhq/volley/internal/httpapi"
)

// apiError is an answer of the management API other than 2xx: its status
// and the message and field of its JSON error body.
type apiError struct {
	Status  int
	Message string // "error": what went wrong, for a person
	Detail  string // "message", when the API gives one
	Field   string // the request field at fault, when there is one
}

// Error implements error.
func (e *apiError) Error() string {
	return fmt.Sprintf("api answered %d: %s", e.Status, e.Message)
}

// Text is the whole message to show a person.
func (e *apiError) Text() string {
	msg := e.Message
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// asAPIError returns err's *apiError, or nil.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// call runs one request of the management API in process as the signed-in
// account, in the organization orgID (0 for none: account routes), and
// decodes a 2xx answer's JSON into out (nil to ignore it). in, when not nil,
// is sent as JSON. A non-2xx answer is an *apiError. The API checks roles
// and validates exactly as for any client: the console adds no rules.
func (c *Console) call(r *http.Request, a *account, orgID uint64, method, path string, in, out any) error {
	var body io.Reader = http.NoBody
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(httpapi.WithAccount(r.Context(), a.Account), method, path, body)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	// The API shows URLs (ingestion, invitations) on the host and scheme
	// the browser used, as it would for a request of its own.
	req.Host, req.TLS, req.RemoteAddr = r.Host, r.TLS, r.RemoteAddr
	req.Header.Set("User-Agent", r.UserAgent())
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if orgID != 0 {
		req.Header.Set("X-Organization-ID", strconv.FormatUint(orgID, 10))
	}
	res := &answer{header: http.Header{}, status: http.StatusOK}
	c.cfg.API.ServeHTTP(res, req)
	if res.status < 200 || res.status > 299 {
		var eb struct {
			Error   string `json:"error"`
			Message string `json:"message"`
			Field   string `json:"field"`
		}
		if err := json.Unmarshal(res.body.Bytes(), &eb); err != nil || eb.Error == "" {
			eb.Error = http.StatusText(res.status)
		}
		return &apiError{Status: res.status, Message: eb.Error, Detail: eb.Message, Field: eb.Field}
	}
	if out == nil || res.status == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(res.body.Bytes(), out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

// failAPI answers a request whose API call failed: the API's own status
// and message for its refusals (403, 404, 409, 400), a logged 500 for
// anything else.
func (c *Console) failAPI(w http.ResponseWriter, r *http.Request, a *account, sc *scope, err error) {
	ae := asAPIError(err)
	if ae == nil || ae.Status >= 500 {
		c.internal(w, r, err)
		return
	}
	msg := ae.Text()
	if ae.Status == http.StatusForbidden {
		msg = "Your role in this organization does not allow this: " + msg + ". Ask an owner or admin."
	}
	c.render(w, r, ae.Status, "message", view{Title: http.StatusText(ae.Status), Account: a, Scope: sc, Error: msg})
}

// answer records the API's response to an in-process call.
type answer struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(status int) {
	if !a.wrote {
		a.status, a.wrote = status, true
	}
}

func (a *answer) Write(b []byte) (int, error) {
	a.wrote = true
	return a.body.Write(b)
}

// problem is what a form shows after the API (or the form itself) refused
// what was sent: the message, next to Field when the API names one.
type problem = apiError

// errFor returns p's message when it is about field, for the template to
// show next to that field; "" otherwise.
func errFor(p *problem, field string) string {
	if p == nil || p.Field == "" || p.Field != field {
		return ""
	}
	return p.Text()
}

// intField reads an optional whole number of a form: nil when empty, a
// problem naming the field when it is not a number.
func intField(r *http.Request, name, label string) (*int, *problem) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, &problem{Status: http.StatusBadRequest, Field: name, Message: label + " must be a whole number, not " + strconv.Quote(v)}
	}
	return &n, nil
}

// submit sends a change to the API. A refusal the person can act on (4xx
// but 403) comes back as a problem for the form to show, with ok false. A
// refusal by role (403) is answered here with the API's message, and a
// server fault with a 500: both return ok false with a nil problem, and
// the caller stops.
func (c *Console) submit(w http.ResponseWriter, r *http.Request, a *account, sc *scope, method, path string, in, out any) (ok bool, p *problem) {
	var orgID uint64
	if sc != nil && sc.Org != nil {
		orgID = sc.Org.ID
	}
	err := c.call(r, a, orgID, method, path, in, out)
	if err == nil {
		return true, nil
	}
	if ae := asAPIError(err); ae != nil && ae.Status < 500 && ae.Status != http.StatusForbidden {
		return false, ae
	}
	c.failAPI(w, r, a, sc, err)
	return false, nil
}

// statusOf is the HTTP status a page answers with when it shows p.
func statusOf(p *problem) int {
	if p == nil {
		return http.StatusOK
	}
	return p.Status
}

// errorText is the message of p for the flash area ("" for none).
func errorText(p *problem) string {
	if p == nil {
		return ""
	}
	return p.Text()
}
