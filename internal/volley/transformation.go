package volley

import (
	"errors"
	"strings"
	"time"
)

// ErrTransformationInUse refuses to delete a transformation that a
// connection still runs.
var ErrTransformationInUse = errors.New("transformation is used by a connection: remove it from its connections first")

// Transformation is JavaScript code of a project that reshapes the
// outgoing requests of the connections referencing it: a function
// `(request) => request` (see package transform).
type Transformation struct {
	ID        uint64
	ProjectID uint64
	Name      string
	Code      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a transformation's name and that it has code; whether
// the code compiles is the caller's check (package transform).
func (t *Transformation) Validate() error {
	if err := ValidateName("name", t.Name); err != nil {
		return err
	}
	if strings.TrimSpace(t.Code) == "" {
		return Invalid("code", "is required: a function such as (request) => request")
	}
	return nil
}
