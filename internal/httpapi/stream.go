package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Stream defaults (see Config).
const (
	defaultStreamPoll      = 500 * time.Millisecond
	defaultStreamHeartbeat = 15 * time.Second
	// streamPage bounds the events read at once; a full page is followed
	// by the next at once.
	streamPage = 100
	// maxStreamSources bounds the sources of one stream.
	maxStreamSources = 50
)

// streamEventJSON is one event of the listen stream: everything needed to
// replay the request exactly.
type streamEventJSON struct {
	ID         uint64              `json:"id"`
	EventID    string              `json:"event_id"`
	ProjectID  uint64              `json:"project_id"`
	SourceID   uint64              `json:"source_id"`
	SourceSlug string              `json:"source_slug"`
	Method     string              `json:"method"`
	Query      string              `json:"query"`   // raw, without "?"
	Headers    map[string][]string `json:"headers"` // as stored, every value
	// Body is the body as text when it is valid UTF-8 (BodyEncoding
	// "utf-8"), else its standard base64 (BodyEncoding "base64").
	Body         string    `json:"body"`
	BodyEncoding string    `json:"body_encoding"`
	CreatedAt    time.Time `json:"created_at"`
}

func streamEventOut(e *volley.Event) streamEventJSON {
	out := streamEventJSON{ID: e.ID, EventID: e.UID, ProjectID: e.ProjectID, SourceID: e.SourceID, SourceSlug: e.SourceSlug,
		Method: e.Method, Query: e.Query, Headers: e.Headers, Body: string(e.Body), BodyEncoding: "utf-8", CreatedAt: e.CreatedAt}
	if out.Headers == nil {
		out.Headers = map[string][]string{}
	}
	if !utf8.Valid(e.Body) {
		out.Body, out.BodyEncoding = base64.StdEncoding.EncodeToString(e.Body), "base64"
	}
	return out
}

// StopStreams ends every open stream (their clients reconnect elsewhere or
// later, from their last event id): the server calls it when it shuts
// down, which would otherwise wait for streams that never end.
func (a *API) StopStreams() { a.stopOnce.Do(func() { close(a.stopStreams) }) }

// streamSources resolves the source_id parameters (numeric ids or
// ingestion ids) to sources of the caller's organization.
func (a *API) streamSources(r *http.Request, org *volley.Membership) ([]uint64, error) {
	var ids []uint64
	for _, raw := range r.URL.Query()["source_id"] {
		for _, v := range strings.Split(raw, ",") {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			src, err := a.streamSource(r.Context(), org, v)
			if err != nil {
				return nil, err
			}
			ids = append(ids, src.ID)
		}
	}
	switch {
	case len(ids) == 0:
		return nil, &Error{Status: http.StatusBadRequest, Field: "source_id",
			Message: "source_id: is required (a source id or ingestion id; repeat it for several sources)"}
	case len(ids) > maxStreamSources:
		return nil, &Error{Status: http.StatusBadRequest, Field: "source_id",
			Message: fmt.Sprintf("source_id: at most %d sources per stream", maxStreamSources)}
	}
	return ids, nil
}

func (a *API) streamSource(ctx context.Context, org *volley.Membership, v string) (*volley.Source, error) {
	if !strings.HasPrefix(v, "src_") {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil || id == 0 {
			return nil, &Error{Status: http.StatusBadRequest, Field: "source_id",
				Message: fmt.Sprintf("source_id: %q is neither a source id nor an ingestion id", v)}
		}
		src, err := a.cfg.Store.SourceGet(ctx, org.ID, id)
		return src, notFoundAs(err, "Source")
	}
	src, err := a.cfg.Store.SourceGetByIngestionID(ctx, v)
	if err != nil {
		return nil, notFoundAs(err, "Source")
	}
	// Ingestion ids are unscoped: the source must be in this organization.
	if _, err := a.cfg.Store.ProjectGet(ctx, org.ID, src.ProjectID); err != nil {
		return nil, notFoundAs(err, "Source")
	}
	return src, nil
}

// streamEvents serves GET /api/stream?source_id=…: server-sent events, one
// message per new event of the sources, in commit order. Each message's id
// is its stream position; a client that reconnects with Last-Event-ID (or
// ?last_event_id=) resumes right after it, nothing skipped or repeated.
// Without one the stream starts at the current head, announced by a
// "ready" message that carries the head as its id. New events arrive at
// once when they are committed on this node (StreamWake), else within
// StreamPoll; a comment line every StreamHeartbeat keeps proxies from
// closing an idle stream.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request, c *caller) error {
	org, err := a.orgFor(r, c, nil)
	if err != nil {
		return err
	}
	sources, err := a.streamSources(r, org)
	if err != nil {
		return err
	}
	return a.ServeStream(w, r, sources, func(e *volley.Event) any { return streamEventOut(e) })
}

// ServeStream serves, as server-sent events, the new events of sources the
// caller has already been allowed to read, each written as the JSON of
// render(event): the stream of GET /api/stream, and the console's live
// tail, which renders events its own way. See streamEvents for the
// protocol (positions, Last-Event-ID, "ready", heartbeats). Its error is
// for a bad Last-Event-ID or a store failing before the stream starts;
// after that, failures end the stream with an "error" message.
func (a *API) ServeStream(w http.ResponseWriter, r *http.Request, sources []uint64, render func(*volley.Event) any) error {
	ctx := r.Context()
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last_event_id")
	}
	var pos store.StreamPos
	var err error
	if last != "" {
		if pos, err = store.ParseStreamPos(last); err != nil {
			return &Error{Status: http.StatusBadRequest, Field: "Last-Event-ID", Message: "Last-Event-ID: " + err.Error()}
		}
	} else if pos, err = a.cfg.Store.EventStreamHead(ctx); err != nil {
		return err
	}

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: rc}
	s.message(pos.String(), "ready", map[string]any{"source_ids": sources})

	heartbeat := time.NewTicker(a.streamHeartbeat)
	defer heartbeat.Stop()
	poll := time.NewTimer(0)
	defer poll.Stop()
	for s.err == nil {
		var wake <-chan struct{}
		if a.cfg.StreamWake != nil {
			wake = a.cfg.StreamWake.Wait() // before the read: a commit during it still wakes us
		}
		page, err := a.cfg.Store.EventStream(ctx, store.EventStreamParams{SourceIDs: sources, After: pos, Limit: streamPage})
		if err != nil {
			if ctx.Err() == nil {
				a.cfg.Logger.ErrorContext(ctx, "stream events", "err", err)
				s.message("", "error", map[string]string{"error": "the stream failed; reconnect with Last-Event-ID"})
			}
			return nil
		}
		for i := range page {
			pos = page[i].Pos
			s.message(pos.String(), "event", render(&page[i].Event))
		}
		s.flush()
		if len(page) == streamPage {
			continue
		}
		poll.Reset(a.streamPoll)
		select {
		case <-ctx.Done():
			return nil
		case <-a.stopStreams:
			return nil
		case <-wake:
		case <-poll.C:
		case <-heartbeat.C:
			s.comment("ping")
			s.flush()
		}
		poll.Stop()
	}
	return nil // the client went away
}

// sseWriter writes server-sent events and keeps the first write error.
type sseWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	err error
}

func (s *sseWriter) message(id, event string, v any) {
	data, err := json.Marshal(v) // one line: JSON escapes newlines
	if err != nil {
		s.err = errors.Join(s.err, err)
		return
	}
	var b strings.Builder
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	b.WriteString("event: " + event + "\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	s.write(b.String())
}

func (s *sseWriter) comment(text string) { s.write(": " + text + "\n\n") }

func (s *sseWriter) write(text string) {
	if s.err == nil {
		_, s.err = s.w.Write([]byte(text))
	}
}

func (s *sseWriter) flush() {
	if s.err == nil {
		s.err = s.rc.Flush()
	}
}
