package store

import (
	"context"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// People stores what lets people in: console sessions, passwords and
// invitations. It is part of Tenancy.
type People interface {
	// AccountList returns every account, by id (the operator's `volley
	// users list`; accounts are people, not traffic).
	AccountList(ctx context.Context) ([]volley.Account, error)
	// AccountSetPassword replaces an account's password hash.
	AccountSetPassword(ctx context.Context, accountID uint64, hash string) error

	// SessionCreate stores a new session and sets its ID.
	SessionCreate(ctx context.Context, s *volley.Session) error
	// SessionLookup finds a session by its hash, unless it expired by now,
	// and records that it was seen (at most once a minute).
	SessionLookup(ctx context.Context, hash []byte, now time.Time) (*volley.Session, error)
	// SessionList returns an account's sessions that have not expired by
	// now, newest first.
	SessionList(ctx context.Context, accountID uint64, now time.Time) ([]volley.Session, error)
	// SessionDelete ends one of an account's sessions.
	SessionDelete(ctx context.Context, accountID, id uint64) error
	// SessionDeleteAll ends every session of an account but keepID (0
	// keeps none), and every session of any account that expired by now.
	SessionDeleteAll(ctx context.Context, accountID, keepID uint64, now time.Time) error

	// InvitationCreate stores an invitation and sets its ID; it replaces a
	// pending invitation of the same email to the same organization
	// (ErrNotFound when the organization does not exist).
	InvitationCreate(ctx context.Context, inv *volley.Invitation) error
	// InvitationList returns an organization's invitations that have not
	// expired by now, by id.
	InvitationList(ctx context.Context, orgID uint64, now time.Time) ([]volley.Invitation, error)
	// InvitationGetByHash returns the invitation behind a link, unless it
	// expired by now.
	InvitationGetByHash(ctx context.Context, hash []byte, now time.Time) (*volley.Invitation, error)
	// InvitationDelete revokes an invitation of an organization.
	InvitationDelete(ctx context.Context, orgID, id uint64) error
	// InvitationAccept uses an invitation, atomically: it creates the
	// account (when NewAccount is set) or takes AccountID, makes it a
	// member with the invitation's role, and deletes the invitation. An
	// invitation used, revoked or expired meanwhile is ErrNotFound; an
	// email already registered is a conflict; an account that is already a
	// member keeps its role (the invitation is still used up).
	InvitationAccept(ctx context.Context, p InvitationAcceptParams) (*volley.Member, error)
}

// InvitationAcceptParams says who accepts an invitation.
type InvitationAcceptParams struct {
	InvitationID uint64
	// NewAccount creates the account (Email, Name, PasswordHash); nil means
	// the existing account AccountID joins.
	NewAccount *volley.Account
	AccountID  uint64
	Now        time.Time
}
