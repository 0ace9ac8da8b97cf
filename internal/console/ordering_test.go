package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/testserver"
)

// TestConnectionDelayOrdering: the connection form sets a delay and FIFO
// ordering, shows the API's refusals at their fields, and the event page
// says which delivery waits behind an earlier event of its key.
func TestConnectionDelayOrdering(t *testing.T) {
	t.Parallel()
	srv, _, owner, _ := shellSetup(t)
	p := newPipeline(t, srv, http.StatusOK, `{}`)
	page := fmt.Sprintf("/projects/%d/connections/%d", srv.Admin.Project.ID, p.connectionID)
	pg := owner.get(page)
	pg.want(t, "the connection form", http.StatusOK, `name="delay_ms"`, `name="ordering"`, `name="ordering_key"`)
	tok := pg.csrf(t)

	edit := url.Values{"csrf": {tok}, "name": {"shop-to-orders"}, "status": {"paused"}, "eps": {""}, "max_retries": {"0"},
		"delay_ms": {"90000000"}, "ordering": {"none"}, "ordering_key": {""}}
	owner.post(page, edit).want(t, "a delay over 24 hours", http.StatusBadRequest, `id="delay_ms-error"`, "24 hours")
	edit.Set("delay_ms", "soon")
	owner.post(page, edit).want(t, "a delay that is no number", http.StatusBadRequest, `id="delay_ms-error"`)
	edit.Set("delay_ms", "0")
	edit.Set("ordering", "fifo")
	owner.post(page, edit).want(t, "fifo without a key", http.StatusBadRequest, `id="ordering_key-error"`, "required")
	edit.Set("ordering_key", "customer")
	owner.post(page, edit).want(t, "a key that is no path", http.StatusBadRequest, `id="ordering_key-error"`, `value="customer"`)
	edit.Set("ordering_key", "$.customer")
	owner.post(page, edit).wantRedirect(t, "save", page+"?saved=1")
	var got struct {
		DelayMS     int    `json:"delay_ms"`
		Ordering    string `json:"ordering"`
		OrderingKey string `json:"ordering_key"`
	}
	srv.Do(t, testserver.Request{Method: http.MethodGet, Path: fmt.Sprintf("/api/connections/%d", p.connectionID),
		Token: testserver.AdminToken}).JSON(t, &got)
	if got.DelayMS != 0 || got.Ordering != "fifo" || got.OrderingKey != "$.customer" {
		t.Fatalf("the connection after the edit: %+v", got)
	}
	owner.get(page).want(t, "the saved form", http.StatusOK, `value="$.customer"`, `<option value="fifo" selected>`)

	// Paused, the first event of a key is held and the second parked
	// behind it.
	p.send(t, "application/json", `{"customer":"c1","n":1}`, nil)
	second := p.send(t, "application/json", `{"customer":"c1","n":2}`, nil)
	ev := owner.get(fmt.Sprintf("/projects/%d/events/%s", srv.Admin.Project.ID, second))
	ev.want(t, "the parked event", http.StatusOK, "Waiting on shop-to-orders", "<code>c1</code>")
	if strings.Count(ev.Body, "Waiting on") != 1 {
		t.Fatalf("the parked event says it waits %d times", strings.Count(ev.Body, "Waiting on"))
	}
}
