package volley

import "time"

// Session is a person signed in to the console in one browser. The cookie
// holds a random secret; the store keeps only its hash.
type Session struct {
	ID         uint64
	AccountID  uint64
	Hash       []byte // SHA-256 of the cookie's secret
	UserAgent  string // as sent when signing in, for the sessions list
	ClientAddr string // the address that signed in
	CreatedAt  time.Time
	LastSeenAt time.Time // refreshed at most once a minute
	ExpiresAt  time.Time
}

// SessionLifetime is how long a sign-in lasts.
const SessionLifetime = 30 * 24 * time.Hour

// Invitation lets a person who has no account yet join an organization with
// a role: a one-time link, valid for InvitationLifetime.
type Invitation struct {
	ID        uint64
	OrgID     uint64
	Email     string // normalised
	Role      Role
	Hash      []byte // SHA-256 of the link's secret
	Sealed    []byte // the secret, encrypted at rest, so the link can be shown again
	InvitedBy uint64 // account id
	CreatedAt time.Time
	ExpiresAt time.Time
}

// InvitationLifetime is how long an invitation link works.
const InvitationLifetime = 7 * 24 * time.Hour
