package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/volleyhq/volley/internal/egress"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
	"github.com/volleyhq/volley/internal/volley"
)

// Error is an error with the HTTP status and the message a client sees.
// Handlers return it for failures they can name; everything else becomes a
// logged 500.
type Error struct {
	Status  int
	Message string // the "error" field: what went wrong, for a person
	Detail  string // the optional "message" field
	Field   string // the offending request field, when there is one
	// RetryAfter, when positive, is sent as the Retry-After header (whole
	// seconds, at least 1) with a 429.
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

func errorf(status int, msg string) *Error { return &Error{Status: status, Message: msg} }

// notFoundAs maps store.ErrNotFound to a 404 naming the resource and passes
// other errors through.
func notFoundAs(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, what+" not found")
	}
	return err
}

// errorBody is the JSON error shape every client reads: `error` always,
// `message` and `field` when known.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

// classify maps an error to its response. The second result reports whether
// the error is a server fault that must be logged.
func classify(err error) (*Error, bool) {
	var e *Error
	var fe *volley.FieldError
	var ce *store.ConflictError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e, false
	case errors.As(err, &fe):
		return &Error{Status: http.StatusBadRequest, Message: fe.Error(), Field: fe.Field}, false
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: "request body is too large",
			Detail: "management API bodies are limited to 1 MiB"}, false
	case errors.Is(err, tenant.ErrUnauthenticated):
		return errorf(http.StatusUnauthorized, "unauthorized"), false
	case errors.Is(err, volley.ErrForbidden):
		return errorf(http.StatusForbidden, volley.ErrForbidden.Error()), false
	case errors.As(err, &ce):
		return errorf(http.StatusConflict, ce.Error()), false
	case errors.Is(err, volley.ErrDefaultProject):
		// The sentinel's own text: the store's wrapping ("delete project: …")
		// is for logs, not for clients.
		return errorf(http.StatusConflict, volley.ErrDefaultProject.Error()), false
	case errors.Is(err, volley.ErrTransformationInUse):
		return errorf(http.StatusConflict, volley.ErrTransformationInUse.Error()), false
	case errors.Is(err, volley.ErrLastOwner):
		return errorf(http.StatusConflict, volley.ErrLastOwner.Error()), false
	case errors.Is(err, egress.ErrBlocked):
		return &Error{Status: http.StatusBadRequest, Message: "url: " + err.Error(), Field: "url"}, false
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "not found"), false
	}
	return errorf(http.StatusInternalServerError, "internal server error"), true
}
