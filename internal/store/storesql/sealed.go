package storesql

import (
	"fmt"

	"github.com/volleyhq/volley/internal/store"
)

// SealedTable returns the table and column holding a sealed column. The
// names come from this fixed list, never from input, so drivers may splice
// them into SQL.
func SealedTable(c store.SealedColumn) (table, column string, err error) {
	switch c {
	case store.SealedTokens:
		return "api_tokens", "sealed", nil
	case store.SealedInvitations:
		return "invitations", "sealed", nil
	case store.SealedSourceAuthKeys:
		return "sources", "auth_key", nil
	case store.SealedSourceWebhookSecrets:
		return "sources", "webhook_secret", nil
	case store.SealedDestinationSecrets:
		return "destinations", "signing_secret", nil
	case store.SealedDestinationPrevSecrets:
		return "destinations", "prev_signing_secret", nil
	}
	return "", "", fmt.Errorf("unknown sealed column %q", c)
}
