package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// overviewData is what the overview shows of a project.
type overviewData struct {
	// Day sums the hourly periods: the last 24 hours.
	Day           volley.TrafficPeriod
	Backlog       int64
	OldestPending time.Time
	Hourly, Daily *chart
	Connections   []apiConnection
}

// trafficCharts reads a project's (or one of its connections') traffic per
// hour over the last 24 hours and per day over the last 30, from the
// store's counters (store.ProjectTraffic never counts events), and draws
// them. withReceived adds the received events (a project's, not a
// connection's).
func (c *Console) trafficCharts(ctx context.Context, projectID, connectionID uint64, withReceived bool) (hourly, daily *chart, last *volley.ProjectTraffic, err error) {
	now := c.cfg.NowFunc().UTC()
	series := func(t *volley.ProjectTraffic, label func(time.Time) string) ([]string, []chartSeries) {
		labels := make([]string, len(t.Periods))
		rec, routed, ok, failed := make([]int64, len(t.Periods)), make([]int64, len(t.Periods)), make([]int64, len(t.Periods)), make([]int64, len(t.Periods))
		for i, p := range t.Periods {
			labels[i] = label(p.Start)
			rec[i], routed[i], ok[i], failed[i] = p.Received, p.Routed, p.Delivered, p.Failed
		}
		first := chartSeries{Name: "received", Values: rec}
		if !withReceived {
			first = chartSeries{Name: "routed", Values: routed}
		}
		return labels, []chartSeries{first, {Name: "delivered", Values: ok}, {Name: "failed", Values: failed}}
	}
	h, err := c.cfg.Store.ProjectTraffic(ctx, store.ProjectTrafficParams{ProjectID: projectID, ConnectionID: connectionID,
		Since: now.Add(-23 * time.Hour), Until: now, Step: time.Hour})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read hourly traffic: %w", err)
	}
	d, err := c.cfg.Store.ProjectTraffic(ctx, store.ProjectTrafficParams{ProjectID: projectID, ConnectionID: connectionID,
		Since: now.Add(-29 * 24 * time.Hour), Until: now, Step: 24 * time.Hour})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read daily traffic: %w", err)
	}
	hourly = &chart{ID: "hourly", Title: "Per hour, last 24 hours (UTC)"}
	hourly.Labels, hourly.Series = series(h, func(t time.Time) string { return t.Format("15:04") })
	daily = &chart{ID: "daily", Title: "Per day, last 30 days (UTC)"}
	daily.Labels, daily.Series = series(d, func(t time.Time) string { return t.Format("Jan 2") })
	return hourly, daily, h, nil
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
	var d overviewData
	hourly, daily, h, err := c.trafficCharts(r.Context(), sc.Project.ID, 0, true)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	d.Hourly, d.Daily, d.Backlog, d.OldestPending = hourly, daily, h.Backlog, h.OldestPending
	for _, p := range h.Periods {
		d.Day.Received += p.Received
		d.Day.Routed += p.Routed
		d.Day.Delivered += p.Delivered
		d.Day.Failed += p.Failed
	}
	// Each connection's own figures (latency, backlog) come from the API,
	// which reads the same counters.
	for _, conn := range conns.Connections {
		var one apiConnection
		if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api/connections/"+strconv.FormatUint(conn.ID, 10), nil, &one); err != nil {
			c.failAPI(w, r, a, sc, err)
			return
		}
		d.Connections = append(d.Connections, one)
	}
	c.render(w, r, http.StatusOK, "overview", view{Title: "Overview of " + sc.Project.Name, Account: a, Scope: sc, Section: "overview", Data: d})
}

// connectionChart draws a connection's hourly traffic for its page.
func (c *Console) connectionChart(r *http.Request, conn *apiConnection, d *connectionData) error {
	hourly, _, _, err := c.trafficCharts(r.Context(), conn.ProjectID, conn.ID, false)
	if err != nil {
		return err
	}
	d.Hourly = hourly
	return nil
}
