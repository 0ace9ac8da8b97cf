package console

import (
	"net/http"
	"strconv"
	"strings"
)

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
