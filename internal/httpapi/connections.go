package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/volleyhq/volley/internal/filter"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

type connectionJSON struct {
	ID              uint64 `json:"id"`
	ProjectID       uint64 `json:"project_id"`
	Name            string `json:"name"`
	SourceID        uint64 `json:"source_id"`
	DestinationID   uint64 `json:"destination_id"`
	Status          string `json:"status"`
	EPS             int    `json:"eps"`
	MaxRetries      int    `json:"max_retries"`
	SourceSlug      string `json:"source_slug"`
	SourceEPS       int    `json:"source_eps"`
	DestinationName string `json:"destination_name"`
	DestinationURL  string `json:"destination_url"`
	DestinationEPS  int    `json:"destination_eps"`
	// Filter is the connection's filter document, omitted when it has none.
	Filter json.RawMessage `json:"filter,omitempty"`
	// TransformationID is omitted when the connection runs no
	// transformation.
	TransformationID uint64 `json:"transformation_id,omitempty"`
	// DelayMS delays each delivery of the events received from now on.
	DelayMS int `json:"delay_ms"`
	// Ordering is none or fifo; OrderingKey (omitted when unset) says where
	// a FIFO connection reads each event's key.
	Ordering    string       `json:"ordering"`
	OrderingKey string       `json:"ordering_key,omitempty"`
	Metrics     *metricsJSON `json:"metrics,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// metricsJSON is a connection's traffic over the last 24 hours.
type metricsJSON struct {
	Since          time.Time  `json:"since"`
	EventsRouted   int64      `json:"events_routed"`
	Delivered      int64      `json:"delivered"`
	Failed         int64      `json:"failed"`
	Pending        int64      `json:"pending"`
	SuccessRate    float64    `json:"success_rate"`
	LatencyP50MS   int64      `json:"latency_p50_ms"`
	LatencyP95MS   int64      `json:"latency_p95_ms"`
	LastDeliveryAt *time.Time `json:"last_delivery_at,omitempty"`
}

// metricsWindow is the period GET /api/connections/{id} summarises.
const metricsWindow = 24 * time.Hour

func metricsOut(m *volley.ConnectionMetrics) *metricsJSON {
	out := &metricsJSON{
		Since: m.Since, EventsRouted: m.EventsRouted, Delivered: m.Delivered, Failed: m.Failed, Pending: m.Pending,
		SuccessRate: m.SuccessRate(), LatencyP50MS: m.LatencyP50MS, LatencyP95MS: m.LatencyP95MS,
	}
	if !m.LastDeliveryAt.IsZero() {
		t := m.LastDeliveryAt
		out.LastDeliveryAt = &t
	}
	return out
}

func connectionOut(c *volley.Connection) connectionJSON {
	return connectionJSON{
		ID: c.ID, ProjectID: c.ProjectID, Name: c.Name, SourceID: c.SourceID, DestinationID: c.DestinationID,
		Status: c.Status, EPS: c.EPS, MaxRetries: c.MaxRetries,
		SourceSlug: c.SourceSlug, SourceEPS: c.SourceEPS,
		DestinationName: c.DestinationName, DestinationURL: c.DestinationURL, DestinationEPS: c.DestinationEPS,
		Filter: json.RawMessage(c.Filter), TransformationID: c.TransformationID,
		DelayMS: c.DelayMS, Ordering: c.Ordering, OrderingKey: c.OrderingKey,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

type connectionRequest struct {
	Name          *string `json:"name"`
	SourceID      *uint64 `json:"source_id"`
	DestinationID *uint64 `json:"destination_id"`
	Status        *string `json:"status"`
	EPS           *int    `json:"eps"`
	MaxRetries    *int    `json:"max_retries"`
	// Filter is absent to keep the filter, null or {} to remove it.
	Filter json.RawMessage `json:"filter"`
	// TransformationID is absent to keep it, 0 to remove it.
	TransformationID *uint64 `json:"transformation_id"`
	DelayMS          *int    `json:"delay_ms"`
	Ordering         *string `json:"ordering"`
	// OrderingKey is absent to keep it, "" to remove it.
	OrderingKey *string `json:"ordering_key"`
}

// parseFilter validates a filter document as sent and returns it compact,
// or nil for no filter.
func parseFilter(raw json.RawMessage) ([]byte, error) {
	f, err := filter.Parse(raw)
	var fe *filter.Error
	if errors.As(err, &fe) {
		return nil, &Error{Status: http.StatusBadRequest, Message: fe.Error(), Field: "filter"}
	}
	if err != nil || f == nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Message: "filter: is not valid JSON", Field: "filter"}
	}
	return buf.Bytes(), nil
}

// applyRules sets a connection's filter and transformation from req; the
// transformation must be one of the connection's project.
func (a *API) applyRules(r *http.Request, org *volley.Membership, req *connectionRequest, c *volley.Connection) error {
	if req.Filter != nil {
		f, err := parseFilter(req.Filter)
		if err != nil {
			return err
		}
		c.Filter = f
	}
	if req.TransformationID != nil {
		c.TransformationID = *req.TransformationID
		if c.TransformationID != 0 {
			t, err := a.cfg.Store.TransformationGet(r.Context(), org.ID, c.TransformationID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err != nil || t.ProjectID != c.ProjectID {
				return volley.Invalid("transformation_id", "transformation %d does not exist in project %d", c.TransformationID, c.ProjectID)
			}
		}
	}
	return nil
}

func (req *connectionRequest) apply(c *volley.Connection) error {
	setIf(&c.Name, req.Name)
	setIf(&c.EPS, req.EPS)
	setIf(&c.MaxRetries, req.MaxRetries)
	setIf(&c.DelayMS, req.DelayMS)
	setIf(&c.OrderingKey, req.OrderingKey)
	if deref(req.Ordering) != "" { // the Go SDK sends "" for "not set"
		c.Ordering = *req.Ordering
	}
	if deref(req.Status) != "" { // the Go SDK sends "" for "not set"
		var err error
		if c.Status, err = volley.ParseConnectionStatus(*req.Status); err != nil {
			return err
		}
	}
	return c.Validate()
}

// connection loads the connection named by {connection_id}.
func (a *API) connection(r *http.Request, org *volley.Membership) (*volley.Connection, error) {
	return loadInOrg(r, org, "connection_id", "Connection", a.cfg.Store.ConnectionGet,
		func(c *volley.Connection) uint64 { return c.ProjectID })
}

// listConnections lists a project's connections; with include=metrics each
// carries its metrics of the last 24 hours, as GET /api/connections/{id}
// gives them, so that a dashboard (the console's overview) makes one call
// instead of one per connection, and the store one read
// (ConnectionMetricsList) instead of one per connection.
func (a *API) listConnections(w http.ResponseWriter, r *http.Request, c *caller) error {
	switch include, _ := newQuery(r).str("include"); include {
	case "":
		return listInProject(a, w, r, c, "connections", a.cfg.Store.ConnectionList, connectionOut)
	case "metrics":
	default:
		return &Error{Status: http.StatusBadRequest, Field: "include",
			Message: fmt.Sprintf("include: %q cannot be included in a list of connections; the only choice is metrics", include)}
	}
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	conns, err := a.cfg.Store.ConnectionList(r.Context(), p.ID)
	if err != nil {
		return err
	}
	metrics, err := a.cfg.Store.ConnectionMetricsList(r.Context(),
		store.ConnectionMetricsListParams{ProjectID: p.ID, Since: a.now().Add(-metricsWindow)})
	if err != nil {
		return err
	}
	out := make([]connectionJSON, len(conns))
	for i := range conns {
		out[i] = connectionOut(&conns[i])
		if m := metrics[conns[i].ID]; m != nil { // nil: created after the list was read
			out[i].Metrics = metricsOut(m)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"connections": out})
}

// endpoints loads the source and destination a new connection joins; both
// must be in project p.
func (a *API) endpoints(r *http.Request, org *volley.Membership, p *volley.Project, req *connectionRequest) (*volley.Source, *volley.Destination, error) {
	if deref(req.SourceID) == 0 {
		return nil, nil, volley.Invalid("source_id", "is required")
	}
	if deref(req.DestinationID) == 0 {
		return nil, nil, volley.Invalid("destination_id", "is required")
	}
	s, err := a.cfg.Store.SourceGet(r.Context(), org.ID, *req.SourceID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	if err != nil || s.ProjectID != p.ID {
		return nil, nil, volley.Invalid("source_id", "source %d does not exist in project %d", *req.SourceID, p.ID)
	}
	d, err := a.cfg.Store.DestinationGet(r.Context(), org.ID, *req.DestinationID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	if err != nil || d.ProjectID != p.ID {
		return nil, nil, volley.Invalid("destination_id", "destination %d does not exist in project %d", *req.DestinationID, p.ID)
	}
	return s, d, nil
}

func (a *API) createConnection(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	p, err := a.project(r, org)
	if err != nil {
		return err
	}
	var req connectionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	s, d, err := a.endpoints(r, org, p, &req)
	if err != nil {
		return err
	}
	now := a.now()
	conn := &volley.Connection{
		ProjectID: p.ID, SourceID: s.ID, DestinationID: d.ID,
		Name:   volley.DefaultConnectionName(s.Slug, d.Name),
		Status: volley.ConnectionEnabled, MaxRetries: volley.DefaultMaxRetries, Ordering: volley.OrderingNone,
		SourceSlug: s.Slug, SourceEPS: s.EPS, DestinationName: d.Name, DestinationURL: d.URL, DestinationEPS: d.EPS,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := req.apply(conn); err != nil {
		return err
	}
	if err := a.applyRules(r, org, &req, conn); err != nil {
		return err
	}
	if err := a.cfg.Store.ConnectionCreate(r.Context(), conn); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errorf(http.StatusConflict, fmt.Sprintf("source %d is already connected to destination %d", s.ID, d.ID))
		}
		return notFoundAs(err, "Source or destination")
	}
	c.audit("connection.create", "connection", conn.ID, fieldChanges(nil, connectionOut(conn))...)
	return writeMerged(w, http.StatusCreated, "connection", connectionOut(conn))
}

func (a *API) getConnection(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	conn, err := a.connection(r, org)
	if err != nil {
		return err
	}
	m, err := a.cfg.Store.ConnectionMetrics(r.Context(), conn.ID, a.now().Add(-metricsWindow))
	if err != nil {
		return err
	}
	out := connectionOut(conn)
	out.Metrics = metricsOut(m)
	return writeMerged(w, http.StatusOK, "connection", out)
}

func (a *API) updateConnection(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	conn, err := a.connection(r, org)
	if err != nil {
		return err
	}
	var req connectionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.SourceID != nil && *req.SourceID != conn.SourceID {
		return volley.Invalid("source_id", "cannot be changed; create a new connection instead")
	}
	if req.DestinationID != nil && *req.DestinationID != conn.DestinationID {
		return volley.Invalid("destination_id", "cannot be changed; create a new connection instead")
	}
	before := connectionOut(conn)
	if err := req.apply(conn); err != nil {
		return err
	}
	if err := a.applyRules(r, org, &req, conn); err != nil {
		return err
	}
	conn.UpdatedAt = a.now()
	if err := a.cfg.Store.ConnectionUpdate(r.Context(), conn); err != nil {
		return notFoundAs(err, "Connection")
	}
	c.audit("connection.update", "connection", conn.ID, fieldChanges(before, connectionOut(conn))...)
	return writeMerged(w, http.StatusOK, "connection", connectionOut(conn))
}

func (a *API) deleteConnection(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, volley.Role.CanConfigure)
	if err != nil {
		return err
	}
	conn, err := a.connection(r, org)
	if err != nil {
		return err
	}
	if err := a.cfg.Store.ConnectionDelete(r.Context(), org.ID, conn.ID, a.now()); err != nil {
		return notFoundAs(err, "Connection")
	}
	c.audit("connection.delete", "connection", conn.ID, fieldChanges(connectionOut(conn), nil)...)
	return noContent(w)
}
