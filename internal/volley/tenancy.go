package volley

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Account is a person who signs in to Volley.
type Account struct {
	ID           uint64
	Email        string // unique, compared case-insensitively
	Name         string
	PasswordHash string // argon2id (PHC string), or bcrypt from older versions; never leaves the server
	CreatedAt    time.Time
}

// Org is an organization: the unit of tenancy. Everything a member can reach
// hangs off one organization.
type Org struct {
	ID        uint64
	Name      string
	Slug      string // unique across the server
	AccountID uint64 // creator
	CreatedAt time.Time
}

// Membership is an organization seen by one of its members.
type Membership struct {
	Org
	Role Role
}

// Member is an account seen from an organization it belongs to.
type Member struct {
	AccountID uint64
	Email     string
	Name      string
	Role      Role
	CreatedAt time.Time
}

// Project groups sources, destinations and connections inside an
// organization. Exactly one project of each organization is its default.
type Project struct {
	ID        uint64
	OrgID     uint64
	AccountID uint64 // creator (for projects older than the column, the organization's creator)
	Name      string
	IsDefault bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DefaultProjectName is the name of the project created with every
// organization.
const DefaultProjectName = "Default"

// MaxNameLen bounds human-readable names, in characters.
const MaxNameLen = 200

// ValidateName checks a required human-readable name.
func ValidateName(field, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return Invalid(field, "is required")
	case utf8.RuneCountInString(name) > MaxNameLen:
		return Invalid(field, "must be at most %d characters", MaxNameLen)
	}
	return nil
}

// NormalizeEmail validates an email address and returns its canonical,
// lower-case form.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", Invalid("email", "is required")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return "", Invalid("email", "%q is not a valid email address", email)
	}
	return strings.ToLower(email), nil
}
