package store

import (
	"context"
	"encoding/json"
	"time"
)

// Audit stores the audit log: who changed what, when and from where. It is
// part of Store. Records are written on administrative paths only, never
// by ingestion or delivery.
type Audit interface {
	// AuditInsert stores records in one transaction and sets their IDs.
	AuditInsert(ctx context.Context, recs []AuditRecord) error
	// AuditList returns an organization's records matching the filters,
	// newest first (by CreatedAt, then ID), at most Limit of them. Every filter is served
	// by an index, so a page costs the same however long the log is.
	AuditList(ctx context.Context, p AuditListParams) ([]AuditRecord, error)
	// AuditDelete deletes up to Limit records created before Before, the
	// oldest first, in one short transaction, and returns how many it
	// deleted; fewer than Limit means none are left.
	AuditDelete(ctx context.Context, before time.Time, limit int) (int, error)
}

// AuditRecord is one entry of the audit log.
type AuditRecord struct {
	ID uint64
	// OrgID is the organization the change was made in; 0 for what
	// belongs to no organization (a failed sign-in of an unknown email).
	OrgID uint64
	// ActorAccountID and ActorTokenID say who acted: the account and the
	// API token of the request (0 when not known: a console session has no
	// token, a failed sign-in may have no account).
	ActorAccountID uint64
	ActorTokenID   uint64
	// Action is "<target type>.<verb>", e.g. "source.update".
	Action     string
	TargetType string
	TargetID   string
	// ClientAddr is the address of the client that made the request.
	ClientAddr string
	// Changes lists the fields the action changed, at most a few dozen.
	Changes   []AuditChange
	CreatedAt time.Time
}

// AuditChange is one changed field. Old and New hold JSON values of
// non-secret fields; a secret field only says that it changed (Secret set,
// Old and New empty): the log never holds secret values.
type AuditChange struct {
	Field  string          `json:"field"`
	Old    json.RawMessage `json:"old,omitempty"`
	New    json.RawMessage `json:"new,omitempty"`
	Secret bool            `json:"secret,omitempty"`
}

// AuditListParams filters and pages AuditList. Zero values do not filter.
type AuditListParams struct {
	OrgID          uint64 // required
	ActorAccountID uint64
	Action         string
	TargetType     string
	TargetID       string
	Start, End     time.Time // created_at >= Start, created_at < End
	// After lists the records older than this one (the next page), Before
	// those newer than it (the previous page), still newest first; at most
	// one is set. Cursor.Key is CreatedAt in Unix microseconds.
	After, Before *Cursor
	Limit         int
}
