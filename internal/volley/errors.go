package volley

import (
	"errors"
	"fmt"
)

// FieldError reports one invalid input field. Transports turn it into a 400
// whose message names the field, so a person can fix the request.
type FieldError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Invalid returns a *FieldError for field with a formatted message.
func Invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrForbidden means the caller's role does not allow the operation.
var ErrForbidden = errors.New("insufficient permissions")

// ErrDefaultProject is returned when deleting an organization's default
// project.
var ErrDefaultProject = errors.New("the default project cannot be deleted; make another project the default first (PUT /api/projects/{id} with \"is_default\": true)")

// ErrLastOwner is returned when a change would leave an organization without
// an owner.
var ErrLastOwner = errors.New("an organization must keep at least one owner")
