// Package store is the storage port of Volley: the one interface through which
// the rest of the server reads and writes durable state, and the errors and
// parameter types that go with it. Drivers live in sub-packages (storesqlite,
// storepg) and prove their behaviour with the shared suite in storetest.
//
// Scope rules are part of the contract: every method that takes an OrgID
// returns ErrNotFound for rows of other organizations, exactly as if they did
// not exist. Update methods take no OrgID: callers first load the row with
// its scoped Get, change it, and write it back.
//
// Conventions every driver follows (the storetest suite checks them):
//   - times come back in UTC, at whole microseconds;
//   - an empty []byte or map is stored as "unset" and may come back nil;
//   - a missing parent row (project, source, account, …) is ErrNotFound;
//   - a violated uniqueness rule is a *ConflictError naming the value;
//   - an id is never handed out twice, not even after the row holding the
//     highest one is deleted: traffic keeps plain ids of the configuration
//     it came through and must never show up under a newer row.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// ErrNotFound means the row does not exist or is outside the caller's scope.
var ErrNotFound = errors.New("not found")

// ErrConflict means a uniqueness rule was violated. Drivers wrap it in a
// *ConflictError naming what clashed.
var ErrConflict = errors.New("conflict")

// ConflictError names the unique value that already exists.
type ConflictError struct {
	What string // e.g. "organization slug", "source slug"
}

// Error implements error.
func (e *ConflictError) Error() string { return e.What + " already exists" }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Conflict returns a *ConflictError for what.
func Conflict(what string) error { return &ConflictError{What: what} }

// Store is the whole storage port. Implementations are safe for concurrent
// use.
type Store interface {
	Tenancy
	Config
	Traffic
	Payloads
	Stream
	Audit
	Sealed
	Replays

	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Tenancy stores accounts, tokens, organizations, members and projects.
type Tenancy interface {
	People

	// AccountCreate creates an account together with its first organization
	// (the account as owner), that organization's default project and the
	// account's API token, atomically.
	AccountCreate(ctx context.Context, p AccountCreateParams) (*AccountCreateResult, error)
	// AccountGet returns an account by id.
	AccountGet(ctx context.Context, id uint64) (*volley.Account, error)
	// AccountGetByEmail returns an account by its normalised email.
	AccountGetByEmail(ctx context.Context, email string) (*volley.Account, error)
	// AccountCount returns the number of accounts.
	AccountCount(ctx context.Context) (int64, error)

	// TokenCreate stores a new token. With ReplaceKind set, the account's
	// other tokens of that kind are revoked in the same transaction;
	// without it, any number of tokens of a kind coexist.
	TokenCreate(ctx context.Context, p TokenCreateParams) (*volley.APIToken, error)
	// TokenLookup finds a live token by its hash (ErrNotFound for one that
	// expired at or before now) and records its use, at most once a minute
	// so that API calls do not all become writes.
	TokenLookup(ctx context.Context, hash []byte, now time.Time) (*volley.APIToken, error)
	// TokenList returns an account's tokens, expired ones included, oldest
	// first.
	TokenList(ctx context.Context, accountID uint64) ([]volley.APIToken, error)
	// TokenDelete revokes one of an account's tokens.
	TokenDelete(ctx context.Context, accountID, tokenID uint64) error

	// DeviceCodeCreate stores a new pending device login and sets its ID,
	// first deleting the logins that expired at or before its CreatedAt
	// (ErrConflict when either hash is taken by a live one).
	DeviceCodeCreate(ctx context.Context, d *volley.DeviceCode) error
	// DeviceCodeGetByPairing returns the device login of a pairing code
	// hash, whatever its status (ErrNotFound once deleted).
	DeviceCodeGetByPairing(ctx context.Context, pairingHash []byte) (*volley.DeviceCode, error)
	// DeviceCodeApprove stores the CLI token of a pending device login that
	// has not expired at Now and marks the login approved by the token's
	// account, atomically (ErrNotFound when no such login is pending).
	DeviceCodeApprove(ctx context.Context, p DeviceCodeApproveParams) (*volley.APIToken, error)
	// DeviceCodeDeny marks a pending device login that has not expired at
	// now denied by accountID (ErrNotFound when no such login is pending).
	DeviceCodeDeny(ctx context.Context, pairingHash []byte, accountID uint64, now time.Time) error
	// DeviceCodeClaim returns the device login of a device code hash. An
	// approved one comes back once with its token's sealed value and is
	// marked consumed in the same transaction, so that concurrent polls on
	// several nodes hand the token out once; later claims see it consumed.
	DeviceCodeClaim(ctx context.Context, deviceHash []byte) (*volley.DeviceCode, error)

	// OrgCreate creates an organization with the creator as owner and its
	// default project, atomically.
	OrgCreate(ctx context.Context, p OrgCreateParams) (*volley.Membership, error)
	// OrgList returns the organizations an account belongs to, by id.
	OrgList(ctx context.Context, accountID uint64) ([]volley.Membership, error)
	// OrgGet returns an organization as seen by one of its members.
	OrgGet(ctx context.Context, orgID, accountID uint64) (*volley.Membership, error)
	// OrgDelete deletes an organization and everything in it; its traffic
	// is swept by RetentionDelete.
	OrgDelete(ctx context.Context, orgID uint64, now time.Time) error

	// MemberList returns an organization's members, by account id.
	MemberList(ctx context.Context, orgID uint64) ([]volley.Member, error)
	// MemberAdd adds an account to an organization (ErrConflict if it is
	// already a member).
	MemberAdd(ctx context.Context, p MemberParams) (*volley.Member, error)
	// MemberUpdate changes a member's role (volley.ErrLastOwner if it would
	// demote the last owner).
	MemberUpdate(ctx context.Context, p MemberParams) (*volley.Member, error)
	// MemberDelete removes a member (volley.ErrLastOwner for the last owner).
	MemberDelete(ctx context.Context, orgID, accountID uint64) error

	// ProjectList returns an organization's projects, by id.
	ProjectList(ctx context.Context, orgID uint64) ([]volley.Project, error)
	// ProjectGet returns a project of an organization.
	ProjectGet(ctx context.Context, orgID, id uint64) (*volley.Project, error)
	// ProjectCreate creates a project; with IsDefault it takes the default
	// flag from the organization's current default, atomically.
	ProjectCreate(ctx context.Context, p *volley.Project) error
	// ProjectUpdate renames a project and, with MakeDefault, moves the
	// default flag to it.
	ProjectUpdate(ctx context.Context, p ProjectUpdateParams) (*volley.Project, error)
	// ProjectDelete deletes a project and its sources, destinations and
	// connections (volley.ErrDefaultProject for the default project). Its
	// unfinished deliveries are cancelled later by DeliverySweep, and its
	// events deleted by RetentionDelete.
	ProjectDelete(ctx context.Context, orgID, id uint64, now time.Time) error
}

// Config stores the routing graph: sources, destinations and connections.
// Get, Update and Delete are scoped to an organization.
type Config interface {
	// SourceList returns a project's sources with their connection counts,
	// by id.
	SourceList(ctx context.Context, projectID uint64) ([]volley.Source, error)
	// SourceGet returns a source of an organization.
	SourceGet(ctx context.Context, orgID, id uint64) (*volley.Source, error)
	// SourceGetByIngestionID returns the source behind an ingestion URL
	// (unscoped: ingestion is not authenticated by organization).
	SourceGetByIngestionID(ctx context.Context, ingestionID string) (*volley.Source, error)
	// SourceCreate stores a new source and sets its ID.
	SourceCreate(ctx context.Context, s *volley.Source) error
	// SourceUpdate writes the mutable fields of an existing source (all but
	// ProjectID, IngestionID and CreatedAt).
	SourceUpdate(ctx context.Context, s *volley.Source) error
	// SourceDelete deletes a source and its connections, whose unfinished
	// deliveries DeliverySweep then cancels.
	SourceDelete(ctx context.Context, orgID, id uint64, now time.Time) error

	// DestinationList returns a project's destinations, by id.
	DestinationList(ctx context.Context, projectID uint64) ([]volley.Destination, error)
	// DestinationGet returns a destination of an organization.
	DestinationGet(ctx context.Context, orgID, id uint64) (*volley.Destination, error)
	// DestinationGetByID returns a destination whatever its organization,
	// for the delivery engine.
	DestinationGetByID(ctx context.Context, id uint64) (*volley.Destination, error)
	// DestinationCreate stores a new destination and sets its ID.
	DestinationCreate(ctx context.Context, d *volley.Destination) error
	// DestinationUpdate writes the mutable fields of an existing destination
	// (all but ProjectID and CreatedAt) and records that its connections'
	// deliveries need a sweep (held while it is disabled, released when it is
	// active again; see DeliverySweep).
	DestinationUpdate(ctx context.Context, d *volley.Destination) error
	// DestinationDelete deletes a destination and its connections, whose
	// unfinished deliveries DeliverySweep then cancels.
	DestinationDelete(ctx context.Context, orgID, id uint64, now time.Time) error

	// ConnectionList returns a project's connections, by id.
	ConnectionList(ctx context.Context, projectID uint64) ([]volley.Connection, error)
	// ConnectionGet returns a connection of an organization.
	ConnectionGet(ctx context.Context, orgID, id uint64) (*volley.Connection, error)
	// ConnectionGetByID returns a connection whatever its organization, for
	// the delivery engine.
	ConnectionGetByID(ctx context.Context, id uint64) (*volley.Connection, error)
	// ConnectionListBySource returns a source's connections, by id, for
	// routing its events.
	ConnectionListBySource(ctx context.Context, sourceID uint64) ([]volley.Connection, error)
	// ConnectionCreate stores a new connection and sets its ID
	// (ErrConflict when the source and destination are already connected).
	// That both ends belong to the connection's project is the caller's
	// check; a TransformationID that is not a transformation of the
	// connection's project is ErrNotFound, here and in ConnectionUpdate.
	ConnectionCreate(ctx context.Context, c *volley.Connection) error
	// ConnectionUpdate writes the mutable fields of a connection and records
	// that its deliveries need a sweep: held while it is paused or disabled,
	// released when it is enabled with an active destination (see
	// DeliverySweep). It costs the same whatever the backlog.
	ConnectionUpdate(ctx context.Context, c *volley.Connection) error
	// ConnectionDelete deletes a connection, whose unfinished deliveries
	// DeliverySweep then cancels.
	ConnectionDelete(ctx context.Context, orgID, id uint64, now time.Time) error

	// TransformationList returns a project's transformations, by id.
	TransformationList(ctx context.Context, projectID uint64) ([]volley.Transformation, error)
	// TransformationGet returns a transformation of an organization.
	TransformationGet(ctx context.Context, orgID, id uint64) (*volley.Transformation, error)
	// TransformationGetByID returns a transformation whatever its
	// organization, for the delivery engine.
	TransformationGetByID(ctx context.Context, id uint64) (*volley.Transformation, error)
	// TransformationCreate stores a new transformation and sets its ID
	// (ErrConflict when its project has one of that name).
	TransformationCreate(ctx context.Context, t *volley.Transformation) error
	// TransformationUpdate writes the name, code and UpdatedAt of a
	// transformation (ErrConflict when the name is taken in its project).
	TransformationUpdate(ctx context.Context, t *volley.Transformation) error
	// TransformationDelete deletes a transformation of an organization
	// (volley.ErrTransformationInUse while a connection uses it).
	TransformationDelete(ctx context.Context, orgID, id uint64) error
}

// AccountCreateParams describes a new account and what comes with it.
type AccountCreateParams struct {
	Email        string // normalised
	Name         string
	PasswordHash string
	OrgName      string
	OrgSlug      string
	Token        volley.APIToken // AccountID is filled in
	Now          time.Time
}

// AccountCreateResult is everything AccountCreate made.
type AccountCreateResult struct {
	Account volley.Account
	Org     volley.Membership
	Project volley.Project
	Token   volley.APIToken
}

// TokenCreateParams describes a new token.
type TokenCreateParams struct {
	Token       volley.APIToken
	ReplaceKind bool // revoke the account's other tokens of the same kind
}

// DeviceCodeApproveParams approves a device login with a new CLI token.
type DeviceCodeApproveParams struct {
	PairingHash []byte
	Token       volley.APIToken // AccountID is the approver; Name the device name
	Now         time.Time
}

// OrgCreateParams describes a new organization.
type OrgCreateParams struct {
	Name      string
	Slug      string
	AccountID uint64
	Now       time.Time
}

// MemberParams sets an account's role in an organization.
type MemberParams struct {
	OrgID     uint64
	AccountID uint64
	Role      volley.Role
	Now       time.Time
}

// ProjectUpdateParams changes a project.
type ProjectUpdateParams struct {
	OrgID       uint64
	ID          uint64
	Name        string // "" keeps the name
	MakeDefault bool
	Now         time.Time
}
