package tenant

import (
	"context"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// NewToken is a freshly created token with its value, which exists in
// plain text only now.
type NewToken struct {
	volley.APIToken
	Value string
}

// CreateToken creates a named API token of an account, alongside its other
// tokens. A zero expiresAt means the token never expires; otherwise it must
// be in the future.
func (s *Service) CreateToken(ctx context.Context, accountID uint64, name string, expiresAt time.Time) (*NewToken, error) {
	if err := volley.ValidateName("name", name); err != nil {
		return nil, err
	}
	if !expiresAt.IsZero() && !expiresAt.After(s.now()) {
		return nil, volley.Invalid("expires_at", "must be in the future")
	}
	tok, err := s.newToken("", volley.TokenKindAPI, name)
	if err != nil {
		return nil, err
	}
	tok.AccountID, tok.ExpiresAt = accountID, expiresAt
	saved, err := s.store.TokenCreate(ctx, store.TokenCreateParams{Token: tok.APIToken})
	if err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	return &NewToken{APIToken: *saved, Value: tok.plain}, nil
}

// ListTokens returns an account's tokens, expired ones included, oldest
// first.
func (s *Service) ListTokens(ctx context.Context, accountID uint64) ([]volley.APIToken, error) {
	tokens, err := s.store.TokenList(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return tokens, nil
}

// RevokeToken deletes one of an account's tokens (store.ErrNotFound when
// the account has no such token); it stops authenticating at once.
func (s *Service) RevokeToken(ctx context.Context, accountID, tokenID uint64) error {
	if err := s.store.TokenDelete(ctx, accountID, tokenID); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}
