package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/tenant"
)

// AdminConfig describes the account created on first start.
type AdminConfig struct {
	Email    string // default admin@localhost
	Name     string // default "Admin"
	Token    string // "" generates one
	Password string // "" generates one
	// TokenFile receives the admin token (mode 0600); "" writes none.
	TokenFile string
}

// Bootstrap creates the admin account, its organization and default project
// when the store has no account yet, and writes the token file. It returns
// nil when accounts already exist: the secrets are shown only once. Nodes
// that start together on one database race safely: the loser sees a
// conflict and returns nil.
func (s *Server) Bootstrap(ctx context.Context, cfg AdminConfig) (*tenant.NewAccount, error) {
	n, err := s.cfg.Store.AccountCount(ctx)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: count accounts: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	if cfg.Email == "" {
		cfg.Email = "admin@localhost"
	}
	if cfg.Name == "" {
		cfg.Name = "Admin"
	}
	acct, err := s.tenant.CreateAccount(ctx, tenant.AccountParams{
		Email: cfg.Email, Name: cfg.Name, Password: cfg.Password, Token: cfg.Token,
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bootstrap: create admin account: %w", err)
	}
	if cfg.TokenFile != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.TokenFile), 0o700); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		// Remove first: WriteFile keeps the mode of an existing file.
		if err := os.Remove(cfg.TokenFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		if err := os.WriteFile(cfg.TokenFile, []byte(acct.Token+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("bootstrap: write admin token file: %w", err)
		}
	}
	return acct, nil
}
