package volley

import (
	"encoding/json"
	"fmt"
)

// APIError represents an API error response.
//
// The API answers failures with a body such as
// {"error":"unauthorized","message":"token expired"}. When the body is not
// such an object, ErrorMsg is "API error (status N): " followed by the raw
// body, and Message is empty.
type APIError struct {
	// ErrorMsg is the short error from the body's "error" field.
	ErrorMsg string `json:"error"`
	// Message is the optional detail from the body's "message" field.
	Message string `json:"message,omitempty"`
	// Status is the HTTP status code of the response.
	Status int `json:"-"`
}

// Error returns ErrorMsg, followed by ": " and Message when Message is set.
func (e *APIError) Error() string {
	if e.Message == "" {
		return e.ErrorMsg
	}
	return e.ErrorMsg + ": " + e.Message
}

// newAPIError builds the error for a response with the given status and body.
// A body that is not a JSON object with a non-empty "error" field is kept
// verbatim in ErrorMsg, so nothing the server said is lost.
func newAPIError(status int, body []byte) *APIError {
	e := &APIError{}
	if err := json.Unmarshal(body, e); err != nil || e.ErrorMsg == "" {
		e = &APIError{ErrorMsg: fmt.Sprintf("API error (status %d): %s", status, body)}
	}
	e.Status = status
	return e
}
