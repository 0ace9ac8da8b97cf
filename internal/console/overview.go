package console

import (
	"net/http"
	"strconv"
	"time"
)

// overviewData is what the overview shows of a project.
type overviewData struct {
	// Window is the period of Totals and of each connection's numbers.
	Window      time.Duration
	Totals      apiMetrics
	Connections []apiConnection
	Sources     int
}

// overviewPage serves /projects/{project_id}/: the project's traffic.
func (c *Console) overviewPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	var conns struct {
		Connections []apiConnection `json:"connections"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("connections"), nil, &conns); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	d := overviewData{Window: 24 * time.Hour}
	for _, conn := range conns.Connections {
		var one apiConnection
		if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api/connections/"+strconv.FormatUint(conn.ID, 10), nil, &one); err != nil {
			c.failAPI(w, r, a, sc, err)
			return
		}
		if m := one.Metrics; m != nil {
			d.Totals.EventsRouted += m.EventsRouted
			d.Totals.Delivered += m.Delivered
			d.Totals.Failed += m.Failed
			d.Totals.Pending += m.Pending
		}
		d.Connections = append(d.Connections, one)
	}
	c.render(w, r, http.StatusOK, "overview", view{Title: "Overview of " + sc.Project.Name, Account: a, Scope: sc, Section: "overview", Data: d})
}
