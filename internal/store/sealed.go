package store

import "context"

// Sealed reads and replaces the values sealed with the server's secret key
// (internal/seal), for `volley secrets rotate-key`. It is part of Store.
type Sealed interface {
	// SealedList returns up to Limit set values of one sealed column whose
	// row id is above AfterID, by row id.
	SealedList(ctx context.Context, p SealedListParams) ([]SealedValue, error)
	// SealedReplace writes each replacement's New where the column still
	// holds Old (a value changed meanwhile is left alone), all in one
	// transaction, and returns how many it replaced.
	SealedReplace(ctx context.Context, vals []SealedReplacement) (int, error)
}

// SealedColumn names a column holding sealed values.
type SealedColumn string

// The sealed columns. A new column holding sealed data gets a name here and
// a case in each driver, or key rotation leaves it under the old key.
const (
	SealedTokens                 SealedColumn = "api_tokens.sealed"
	SealedInvitations            SealedColumn = "invitations.sealed"
	SealedSourceAuthKeys         SealedColumn = "sources.auth_key"
	SealedSourceWebhookSecrets   SealedColumn = "sources.webhook_secret"
	SealedDestinationSecrets     SealedColumn = "destinations.signing_secret"
	SealedDestinationPrevSecrets SealedColumn = "destinations.prev_signing_secret"
)

// SealedColumns returns every sealed column.
func SealedColumns() []SealedColumn {
	return []SealedColumn{SealedTokens, SealedInvitations, SealedSourceAuthKeys, SealedSourceWebhookSecrets,
		SealedDestinationSecrets, SealedDestinationPrevSecrets}
}

// SealedListParams selects a page of one sealed column.
type SealedListParams struct {
	Column  SealedColumn
	AfterID uint64
	Limit   int
}

// SealedValue is the sealed value of one row.
type SealedValue struct {
	Column SealedColumn
	RowID  uint64
	Value  []byte
}

// SealedReplacement replaces a sealed value that is still Old with New.
type SealedReplacement struct {
	Column   SealedColumn
	RowID    uint64
	Old, New []byte
}
