package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Bulk replay jobs (POST /api/projects/{id}/replays): the events the event
// list's filters match are replayed in the background by package replay.
// Members may start and cancel them, as they may replay one event.

// ReplayJobs is told when a job is created, so that it starts at once
// (package replay's Runner).
type ReplayJobs interface {
	Wake()
}

type replayJobFilterJSON struct {
	Status        string     `json:"status,omitempty"`
	SourceID      uint64     `json:"source_id,omitempty"`
	ConnectionID  uint64     `json:"connection_id,omitempty"`
	DestinationID uint64     `json:"destination_id,omitempty"`
	StartTime     *time.Time `json:"start_time,omitempty"`
	EndTime       *time.Time `json:"end_time,omitempty"`
	Search        string     `json:"search,omitempty"`
}

type replayJobCountsJSON struct {
	Matched   int64 `json:"matched"`
	Queued    int64 `json:"queued"`
	Processed int64 `json:"processed"`
	Done      int64 `json:"done"`
	Failed    int64 `json:"failed"`
	Skipped   int64 `json:"skipped"`
}

type replayJobJSON struct {
	ID              uint64              `json:"id"`
	ProjectID       uint64              `json:"project_id"`
	Status          string              `json:"status"`
	Filter          replayJobFilterJSON `json:"filter"`
	ConnectionID    *uint64             `json:"connection_id,omitempty"`
	Counts          replayJobCountsJSON `json:"counts"`
	CountIsEstimate bool                `json:"count_is_estimate"`
	Error           string              `json:"error,omitempty"`
	CreatedBy       uint64              `json:"created_by"`
	CreatedAt       time.Time           `json:"created_at"`
	UpdatedAt       time.Time           `json:"updated_at"`
	FinishedAt      *time.Time          `json:"finished_at,omitempty"`
}

func replayOut(r *volley.Replay) replayJobJSON {
	f := r.Filter
	out := replayJobJSON{
		ID: r.ID, ProjectID: r.ProjectID, Status: r.Status,
		Filter: replayJobFilterJSON{Status: f.Status, SourceID: f.SourceID, ConnectionID: f.ConnectionID,
			DestinationID: f.DestinationID, Search: f.Search, StartTime: timeOrNil(f.Start), EndTime: timeOrNil(f.End)},
		Counts: replayJobCountsJSON{Matched: r.Matched, Queued: r.Queued(), Processed: r.Processed,
			Done: r.Succeeded, Failed: r.Failed, Skipped: r.Skipped},
		CountIsEstimate: r.MatchedIsEstimate, Error: r.Error, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, FinishedAt: timeOrNil(r.FinishedAt),
	}
	if r.ConnectionID != 0 {
		out.ConnectionID = &r.ConnectionID
	}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

type replayFilterRequest struct {
	Status        *string `json:"status"`
	SourceID      *uint64 `json:"source_id"`
	ConnectionID  *uint64 `json:"connection_id"`
	DestinationID *uint64 `json:"destination_id"`
	StartTime     *string `json:"start_time"`
	EndTime       *string `json:"end_time"`
	Search        *string `json:"search"`
}

type replayCreateRequest struct {
	Filter       *replayFilterRequest `json:"filter"`
	ConnectionID *uint64              `json:"connection_id"`
	DryRun       *bool                `json:"dry_run"`
}

// createReplay serves POST /api/projects/{project_id}/replays: with
// dry_run, how many events the filter matches now (counted up to the event
// list's cap); otherwise a queued job, 202.
func (a *API) createReplay(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	var req replayCreateRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	now := a.now().UTC()
	f, err := a.replayFilter(r, org, p, req.Filter, now)
	if err != nil {
		return err
	}
	target, err := a.replayTarget(r, org, p, f, deref(req.ConnectionID))
	if err != nil {
		return err
	}
	_, total, err := a.cfg.Store.EventList(r.Context(), store.EventListParams{
		ProjectID: p.ID, SourceID: f.SourceID, ConnectionID: f.ConnectionID, DestinationID: f.DestinationID,
		Status: f.Status, Start: f.Start, End: f.End, Search: f.Search,
		Page: store.PageParams{CountLimit: countCap},
	})
	if err != nil {
		return err
	}
	matched, estimate := capped(total)
	if deref(req.DryRun) {
		c.audit("replay.dry_run", "project", p.ID, valueSet("filter", f), valueSet("count", matched))
		out := map[string]any{"count": matched}
		if estimate {
			out["count_is_estimate"] = true
		}
		return writeJSON(w, http.StatusOK, out)
	}
	job := &volley.Replay{ProjectID: p.ID, Filter: f, ConnectionID: target, Matched: matched, MatchedIsEstimate: estimate,
		CreatedBy: c.account.ID, CreatedAt: now}
	if err := a.cfg.Store.ReplayCreate(r.Context(), job); err != nil {
		return notFoundAs(err, "Project")
	}
	if a.cfg.ReplayJobs != nil {
		a.cfg.ReplayJobs.Wake()
	}
	c.audit("replay.create", "replay", job.ID, fieldChanges(nil, replayOut(job))...)
	return writeMerged(w, http.StatusAccepted, "replay", replayOut(job))
}

// replayFilter checks a job's filter: the event list's filters, whose
// source, connection and destination must be the project's. A filter
// without end_time ends now: events that arrive later are not replayed.
func (a *API) replayFilter(r *http.Request, org *volley.Membership, p *volley.Project, req *replayFilterRequest, now time.Time) (volley.ReplayFilter, error) {
	f := volley.ReplayFilter{End: now}
	if req == nil {
		return f, nil
	}
	var err error
	if v := deref(req.Status); v != "" {
		if f.Status, err = volley.ParseEventStatus(v); err != nil {
			return f, volley.Invalid("filter.status", "must be processed, pending, failed, filtered or dropped, not %q", v)
		}
	}
	if f.Start, err = replayTime("filter.start_time", deref(req.StartTime), false); err != nil {
		return f, err
	}
	if v := deref(req.EndTime); v != "" {
		if f.End, err = replayTime("filter.end_time", v, true); err != nil {
			return f, err
		}
	}
	if !f.Start.IsZero() && f.Start.After(f.End) {
		return f, volley.Invalid("filter.start_time", "is after end_time (or after now, when end_time is not given)")
	}
	f.Search = strings.TrimSpace(deref(req.Search))
	f.SourceID, f.ConnectionID, f.DestinationID = deref(req.SourceID), deref(req.ConnectionID), deref(req.DestinationID)
	if id := f.SourceID; id != 0 {
		s, err := a.cfg.Store.SourceGet(r.Context(), org.ID, id)
		if err := inThisProject(err, s != nil && s.ProjectID == p.ID, "filter.source_id", "source", id); err != nil {
			return f, err
		}
	}
	if id := f.ConnectionID; id != 0 {
		cn, err := a.cfg.Store.ConnectionGet(r.Context(), org.ID, id)
		if err := inThisProject(err, cn != nil && cn.ProjectID == p.ID, "filter.connection_id", "connection", id); err != nil {
			return f, err
		}
	}
	if id := f.DestinationID; id != 0 {
		d, err := a.cfg.Store.DestinationGet(r.Context(), org.ID, id)
		if err := inThisProject(err, d != nil && d.ProjectID == p.ID, "filter.destination_id", "destination", id); err != nil {
			return f, err
		}
	}
	return f, nil
}

// replayTarget checks the connection a job replays to (0: the events'
// own deliveries).
func (a *API) replayTarget(r *http.Request, org *volley.Membership, p *volley.Project, f volley.ReplayFilter, id uint64) (uint64, error) {
	if id == 0 {
		return 0, nil
	}
	cn, err := a.cfg.Store.ConnectionGet(r.Context(), org.ID, id)
	if err := inThisProject(err, cn != nil && cn.ProjectID == p.ID, "connection_id", "connection", id); err != nil {
		return 0, err
	}
	if f.SourceID != 0 && cn.SourceID != f.SourceID {
		return 0, volley.Invalid("connection_id", "connection %d does not carry events of source %d (filter.source_id)", id, f.SourceID)
	}
	return id, nil
}

// inThisProject turns a lookup of what the filter names into a 400 when it
// is not there or not in the project: the filter is the request's body,
// not its path.
func inThisProject(err error, ok bool, field, what string, id uint64) error {
	if errors.Is(err, store.ErrNotFound) || (err == nil && !ok) {
		return volley.Invalid(field, "no %s %d in this project", what, id)
	}
	return err
}

// replayTime parses a filter time as the event list does: RFC 3339, or a
// date (its start, or for an end, its last microsecond).
func replayTime(field, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Microsecond)
		}
		return t, nil
	}
	return time.Time{}, volley.Invalid(field, "%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z, or a date", v)
}

// replay loads the job named by {replay_id}.
func (a *API) replay(r *http.Request, org *volley.Membership) (*volley.Replay, error) {
	return loadInOrg(r, org, "replay_id", "Replay", a.cfg.Store.ReplayGet,
		func(j *volley.Replay) uint64 { return j.ProjectID })
}

func (a *API) getReplay(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	job, err := a.replay(r, org)
	if err != nil {
		return err
	}
	return writeMerged(w, http.StatusOK, "replay", replayOut(job))
}

// listReplays serves GET /api/projects/{project_id}/replays: newest
// first, ?limit= (default 50, at most 500) at a time, ?before=<id> for the
// next page (next_before in the answer).
func (a *API) listReplays(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	q := newQuery(r)
	limit, _ := q.page()
	before := q.id("before")
	if q.err != nil {
		return q.err
	}
	list, err := a.cfg.Store.ReplayList(r.Context(), store.ReplayListParams{ProjectID: p.ID, BeforeID: before, Limit: limit})
	if err != nil {
		return err
	}
	out := map[string]any{"replays": showAll(list, replayOut)}
	if len(list) == limit {
		out["next_before"] = strconv.FormatUint(list[len(list)-1].ID, 10)
	}
	return writeJSON(w, http.StatusOK, out)
}

// cancelReplay serves DELETE /api/replays/{replay_id}: the job stops
// within one batch. Cancelling a finished job changes nothing and answers
// it as it is.
func (a *API) cancelReplay(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	job, err := a.replay(r, org)
	if err != nil {
		return err
	}
	after, err := a.cfg.Store.ReplayCancel(r.Context(), org.ID, job.ID, a.now())
	if err != nil {
		return notFoundAs(err, "Replay")
	}
	c.audit("replay.cancel", "replay", job.ID, fieldChanges(replayOut(job), replayOut(after))...)
	return writeMerged(w, http.StatusOK, "replay", replayOut(after))
}
