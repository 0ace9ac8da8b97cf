package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/transform"
	"github.com/volleyhq/volley/internal/volley"
)

// transformed is the outcome of a connection's transformation on one
// event: the request to send, or a drop, or an error for a person.
type transformed struct {
	view        eventView
	logs        string // console output, at most volley.MaxTransformationLogs
	drop        bool   // the code returned null: send nothing
	err         string // the transformation failed: send nothing, fail the delivery
	retry       bool   // the failure may be another's doing (the memory guard): retry as scheduled
	unavailable bool   // the transformation could not be loaded now: try again later
	took        time.Duration
}

// transform runs transformation id on ev.
func (e *Engine) transform(ctx context.Context, id uint64, ev *eventView) transformed {
	t, err := e.cfg.Routes.Transformation(ctx, id)
	var ce *transform.CompileError
	switch {
	case errors.As(err, &ce):
		return transformed{err: "transformation " + ce.Error()}
	case errors.Is(err, store.ErrNotFound):
		// A connection's transformation cannot be deleted while it is in
		// use: the configuration cache is behind. It catches up within its
		// TTL.
		return transformed{unavailable: true}
	case err != nil:
		e.log.Error("load transformation", "transformation_id", id, "err", err)
		return transformed{unavailable: true}
	}
	return e.runTransformation(ctx, t.Program, ev)
}

// runTransformation runs p on ev within the engine's limits.
func (e *Engine) runTransformation(ctx context.Context, p *transform.Program, ev *eventView) transformed {
	t0 := time.Now()
	out, logs, err := e.runner.Run(ctx, p, &transform.Request{
		Method: ev.method, Path: ev.path, Query: ev.query, Headers: ev.headers, Body: ev.body,
	})
	res := transformed{logs: logs, took: time.Since(t0)}
	switch {
	case err != nil:
		res.err = err.Error()
		res.retry = errors.Is(err, transform.ErrMemory)
	case out == nil:
		res.drop = true
	default:
		res.view = eventView{method: ev.method, path: out.Path, query: out.Query, headers: out.Headers, body: out.Body,
			traceParent: ev.traceParent}
	}
	if len(res.logs) > volley.MaxTransformationLogs {
		res.logs = res.logs[:volley.MaxTransformationLogs]
	}
	return res
}
