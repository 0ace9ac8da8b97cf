package tenant

import (
	"context"
	"errors"
	"fmt"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// ErrBadCredentials means an email and password do not match an account.
// It does not say which of the two was wrong.
var ErrBadCredentials = errors.New("wrong email or password")

// sessionSecretLen is the number of random base62 characters of a session
// cookie (~238 bits).
const sessionSecretLen = 40

// SignInParams is a sign-in attempt.
type SignInParams struct {
	Email, Password       string
	UserAgent, ClientAddr string // recorded for the sessions list
}

// NewSession is a session with the secret its cookie carries, which exists
// in plain text only now.
type NewSession struct {
	volley.Session
	Secret string
}

// SignIn checks an email and password and opens a session. A password hash
// of an older format or weaker parameters is replaced on the way.
func (s *Service) SignIn(ctx context.Context, p SignInParams) (*NewSession, *volley.Account, error) {
	acct, err := s.checkPassword(ctx, p.Email, p.Password)
	if err != nil {
		return nil, nil, err
	}
	ns, err := s.StartSession(ctx, acct.ID, p.UserAgent, p.ClientAddr)
	if err != nil {
		return nil, nil, err
	}
	return ns, acct, nil
}

// checkPassword returns the account of email if password is its password.
func (s *Service) checkPassword(ctx context.Context, email, password string) (*volley.Account, error) {
	email, err := volley.NormalizeEmail(email)
	if err != nil || password == "" || len(password) > maxPasswordLen {
		return nil, ErrBadCredentials
	}
	acct, err := s.store.AccountGetByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the time a real check would, so that the answer's delay
		// does not tell which emails have accounts.
		s.pw.hash(ctx, password)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	ok, rehash, err := s.pw.check(ctx, acct.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("sign in: check password of account %d: %w", acct.ID, err)
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	if rehash {
		hash, err := s.pw.hash(ctx, password)
		if err != nil {
			return nil, err
		}
		if err := s.store.AccountSetPassword(ctx, acct.ID, hash); err != nil {
			return nil, err
		}
		acct.PasswordHash = hash
	}
	return acct, nil
}

// StartSession opens a session for an account that just proved who it is
// (signed up, accepted an invitation).
func (s *Service) StartSession(ctx context.Context, accountID uint64, userAgent, clientAddr string) (*NewSession, error) {
	secret, err := volley.RandomToken(s.rand, sessionSecretLen)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ns := &NewSession{Secret: secret, Session: volley.Session{
		AccountID: accountID, Hash: volley.HashToken(secret),
		UserAgent: truncate(userAgent, 256), ClientAddr: truncate(clientAddr, 64),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(volley.SessionLifetime),
	}}
	if err := s.store.SessionCreate(ctx, &ns.Session); err != nil {
		return nil, err
	}
	return ns, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Session resolves a session cookie's secret to its session and account
// (ErrUnauthenticated when it is unknown, expired or revoked).
func (s *Service) Session(ctx context.Context, secret string) (*volley.Session, *volley.Account, error) {
	if secret == "" || len(secret) > 128 {
		return nil, nil, ErrUnauthenticated
	}
	ss, err := s.store.SessionLookup(ctx, volley.HashToken(secret), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up session: %w", err)
	}
	acct, err := s.store.AccountGet(ctx, ss.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load account: %w", err)
	}
	return ss, acct, nil
}

// Sessions returns an account's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, accountID uint64) ([]volley.Session, error) {
	return s.store.SessionList(ctx, accountID, s.now())
}

// EndSession signs one of an account's sessions out.
func (s *Service) EndSession(ctx context.Context, accountID, sessionID uint64) error {
	return s.store.SessionDelete(ctx, accountID, sessionID)
}

// ChangePassword replaces a signed-in person's password after checking the
// current one, and signs out every other session of the account.
func (s *Service) ChangePassword(ctx context.Context, acct *volley.Account, current, next string, keepSessionID uint64) error {
	if _, err := s.checkPassword(ctx, acct.Email, current); err != nil {
		if errors.Is(err, ErrBadCredentials) {
			return volley.Invalid("current_password", "is not your current password")
		}
		return err
	}
	if err := ValidatePassword(next); err != nil {
		return err
	}
	return s.setPassword(ctx, acct.ID, next, keepSessionID)
}

// ResetPassword gives the account of email a new password (generated and
// returned when password is ""), and signs out all its sessions: the
// operator's way back in for someone who forgot theirs.
func (s *Service) ResetPassword(ctx context.Context, email, password string) (*volley.Account, string, error) {
	email, err := volley.NormalizeEmail(email)
	if err != nil {
		return nil, "", err
	}
	acct, err := s.store.AccountGetByEmail(ctx, email)
	if err != nil {
		return nil, "", fmt.Errorf("find account %s: %w", email, err)
	}
	generated := ""
	if password == "" {
		if password, err = volley.RandomToken(s.rand, 20); err != nil {
			return nil, "", err
		}
		generated = password
	} else if err := ValidatePassword(password); err != nil {
		return nil, "", err
	}
	if err := s.setPassword(ctx, acct.ID, password, 0); err != nil {
		return nil, "", err
	}
	return acct, generated, nil
}

func (s *Service) setPassword(ctx context.Context, accountID uint64, password string, keepSessionID uint64) error {
	hash, err := s.pw.hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.store.AccountSetPassword(ctx, accountID, hash); err != nil {
		return err
	}
	return s.store.SessionDeleteAll(ctx, accountID, keepSessionID, s.now())
}
