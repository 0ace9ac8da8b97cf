package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
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
	// The backlog history, per hour and per day; nil when no sample was
	// taken in the window (the page says so instead of drawing zeros).
	BacklogHourly, BacklogDaily *chart
	AgeHourly, AgeDaily         *chart
	Connections                 []apiConnection
}

// trafficSeries reads a project's (or one of its connections') traffic
// per hour over the last 24 hours and per day over the last 30, from the
// store's counters (store.ProjectTraffic never counts events).
func (c *Console) trafficSeries(ctx context.Context, projectID, connectionID uint64) (hourly, daily *volley.ProjectTraffic, err error) {
	now := c.cfg.NowFunc().UTC()
	hourly, err = c.cfg.Store.ProjectTraffic(ctx, store.ProjectTrafficParams{ProjectID: projectID, ConnectionID: connectionID,
		Since: now.Add(-23 * time.Hour), Until: now, Step: time.Hour})
	if err != nil {
		return nil, nil, fmt.Errorf("read hourly traffic: %w", err)
	}
	daily, err = c.cfg.Store.ProjectTraffic(ctx, store.ProjectTrafficParams{ProjectID: projectID, ConnectionID: connectionID,
		Since: now.Add(-29 * 24 * time.Hour), Until: now, Step: 24 * time.Hour})
	if err != nil {
		return nil, nil, fmt.Errorf("read daily traffic: %w", err)
	}
	return hourly, daily, nil
}

// Labels and titles of the two windows.
var (
	hourLabel = func(t time.Time) string { return t.Format("15:04") }
	dayLabel  = func(t time.Time) string { return t.Format("Jan 2") }
)

// trafficChart draws t's counts. withReceived starts with the received
// events (a project's, not a connection's), else with the routed ones.
func trafficChart(t *volley.ProjectTraffic, id, title string, label func(time.Time) string, withReceived bool) *chart {
	n := len(t.Periods)
	ch := &chart{ID: id, Title: title, Labels: make([]string, n)}
	rec, routed, ok, failed := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, p := range t.Periods {
		ch.Labels[i] = label(p.Start)
		rec[i], routed[i], ok[i], failed[i] = p.Received, p.Routed, p.Delivered, p.Failed
	}
	first := chartSeries{Name: "received", Values: rec}
	if !withReceived {
		first = chartSeries{Name: "routed", Values: routed}
	}
	ch.Series = []chartSeries{first, {Name: "delivered", Values: ok}, {Name: "failed", Values: failed}}
	return ch
}

// backlogCharts draws t's backlog history: the most deliveries waiting and
// the greatest age of the oldest pending event sampled in each period
// (periods without a sample are gaps), or nil, nil when no period was
// sampled.
func backlogCharts(t *volley.ProjectTraffic, id, window string, label func(time.Time) string) (backlog, age *chart) {
	n := len(t.Periods)
	labels, gaps := make([]string, n), make([]bool, n)
	waiting, ages := make([]int64, n), make([]time.Duration, n)
	sampled := false
	for i, p := range t.Periods {
		labels[i], gaps[i] = label(p.Start), !p.BacklogSampled
		waiting[i], ages[i] = p.BacklogMax, p.OldestPendingAgeMax
		sampled = sampled || p.BacklogSampled
	}
	if !sampled {
		return nil, nil
	}
	unit, name := ageUnit(slices.Max(ages))
	inUnit := make([]int64, n)
	for i, a := range ages {
		inUnit[i] = int64((a + unit - 1) / unit) // rounded up: a backlog of seconds is not 0 minutes old
	}
	backlog = &chart{ID: id + "-backlog", Title: "Backlog " + window + ": the most deliveries waiting", Labels: labels, Gaps: gaps, Peaks: true,
		Series: []chartSeries{{Name: "pending or held", Values: waiting}}}
	age = &chart{ID: id + "-age", Title: "Oldest pending event " + window + ": its greatest age, in " + name, Labels: labels, Gaps: gaps, Peaks: true,
		Series: []chartSeries{{Name: name + " old", Values: inUnit}}}
	return backlog, age
}

// ageUnit picks the unit that shows the largest age in a few digits.
func ageUnit(largest time.Duration) (time.Duration, string) {
	switch {
	case largest <= 2*time.Minute:
		return time.Second, "seconds"
	case largest <= 2*time.Hour:
		return time.Minute, "minutes"
	default:
		return time.Hour, "hours"
	}
}

// overviewPage serves /projects/{project_id}/: the project's traffic and
// backlog from the store's counters, and every connection's figures from
// one API call (the connection list with their metrics).
func (c *Console) overviewPage(w http.ResponseWriter, r *http.Request, a *account, sc *scope) {
	var conns struct {
		Connections []apiConnection `json:"connections"`
	}
	if err := c.call(r, a, sc.Org.ID, http.MethodGet, "/api"+sc.Path("connections")+"?include=metrics", nil, &conns); err != nil {
		c.failAPI(w, r, a, sc, err)
		return
	}
	h, day, err := c.trafficSeries(r.Context(), sc.Project.ID, 0)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	d := overviewData{Backlog: h.Backlog, OldestPending: h.OldestPending, Connections: conns.Connections}
	d.Hourly = trafficChart(h, "hourly", "Per hour, last 24 hours (UTC)", hourLabel, true)
	d.Daily = trafficChart(day, "daily", "Per day, last 30 days (UTC)", dayLabel, true)
	d.BacklogHourly, d.AgeHourly = backlogCharts(h, "hourly", "per hour, last 24 hours (UTC)", hourLabel)
	d.BacklogDaily, d.AgeDaily = backlogCharts(day, "daily", "per day, last 30 days (UTC)", dayLabel)
	for _, p := range h.Periods {
		d.Day.Received += p.Received
		d.Day.Routed += p.Routed
		d.Day.Delivered += p.Delivered
		d.Day.Failed += p.Failed
	}
	c.render(w, r, http.StatusOK, "overview", view{Title: "Overview of " + sc.Project.Name, Account: a, Scope: sc, Section: "overview", Data: d})
}

// connectionChart draws a connection's hourly traffic for its page.
func (c *Console) connectionChart(r *http.Request, conn *apiConnection, d *connectionData) error {
	hourly, _, err := c.trafficSeries(r.Context(), conn.ProjectID, conn.ID)
	if err != nil {
		return err
	}
	d.Hourly = trafficChart(hourly, "hourly", "Per hour, last 24 hours (UTC)", hourLabel, false)
	return nil
}
