// Package tenant creates accounts and organizations and authenticates API
// tokens: the tenancy rules shared by the API, the first-start bootstrap and
// the `volley users` command.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"

	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// Service applies the tenancy rules on top of the store.
type Service struct {
	store store.Tenancy
	box   *seal.Box
	rand  io.Reader
	now   func() time.Time
	pw    *hasher
}

// Config configures a Service.
type Config struct {
	Store   store.Tenancy
	Box     *seal.Box
	Rand    io.Reader        // tokens and passwords; crypto/rand.Reader in production
	NowFunc func() time.Time // nil means time.Now
	// Password sets the argon2id parameters of new password hashes; the
	// zero value means DefaultPasswordParams. Tests use TestPasswordParams.
	Password PasswordParams
	// HashConcurrency bounds how many password hashes run at once; 0 means
	// GOMAXPROCS.
	HashConcurrency int
}

// New returns a Service.
func New(cfg Config) *Service {
	now := cfg.NowFunc
	if now == nil {
		now = time.Now
	}
	n := cfg.HashConcurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Service{store: cfg.Store, box: cfg.Box, rand: cfg.Rand, now: now, pw: newHasher(cfg.Password, n)}
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 8

// maxPasswordLen bounds what is hashed: argon2 reads it all.
const maxPasswordLen = 1024

// ValidatePassword checks a password a person chose.
func ValidatePassword(password string) error {
	switch {
	case len(password) < MinPasswordLen:
		return volley.Invalid("password", "must be at least %d characters", MinPasswordLen)
	case len(password) > maxPasswordLen:
		return volley.Invalid("password", "must be at most %d bytes", maxPasswordLen)
	}
	return nil
}

// AccountParams describes an account to create.
type AccountParams struct {
	Email    string
	Name     string
	Password string // "" generates one (returned in NewAccount.Password)
	Token    string // "" generates one; otherwise must pass volley.ValidateGivenToken
}

// NewAccount is a freshly created account with the secrets that exist in
// plain text only now.
type NewAccount struct {
	store.AccountCreateResult
	Token    string // the API token
	Password string // set only when it was generated
}

// CreateAccount creates an account with its first organization, default
// project and API token.
func (s *Service) CreateAccount(ctx context.Context, p AccountParams) (*NewAccount, error) {
	email, err := volley.NormalizeEmail(p.Email)
	if err != nil {
		return nil, err
	}
	if err := volley.ValidateName("name", p.Name); err != nil {
		return nil, err
	}
	out := &NewAccount{}
	password := p.Password
	if password == "" {
		if password, err = volley.RandomToken(s.rand, 20); err != nil {
			return nil, err
		}
		out.Password = password
	} else if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	hash, err := s.pw.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	tok, err := s.newToken(p.Token, volley.TokenKindAPI, "API token")
	if err != nil {
		return nil, err
	}
	out.Token = tok.plain
	orgName := p.Name + "'s organization"
	for attempt := 0; ; attempt++ {
		res, err := s.store.AccountCreate(ctx, store.AccountCreateParams{
			Email: email, Name: p.Name, PasswordHash: hash,
			OrgName: orgName, OrgSlug: slugCandidate(orgName, attempt, s.rand),
			Token: tok.APIToken, Now: s.now(),
		})
		if err == nil {
			out.AccountCreateResult = *res
			return out, nil
		}
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.What != "organization slug" || attempt >= maxSlugAttempts {
			return nil, err
		}
	}
}

// maxSlugAttempts bounds the search for a free organization slug.
const maxSlugAttempts = 8

// slugCandidate returns the slug to try for a name: the plain slug first,
// then numbered ones, then a random suffix.
func slugCandidate(name string, attempt int, rand io.Reader) string {
	base := volley.Slugify(name)
	if base == "" {
		base = "org"
	}
	base = base[:min(len(base), volley.MaxSlugLen-9)]
	switch {
	case attempt == 0:
		return base
	case attempt < maxSlugAttempts-2:
		return base + "-" + strconv.Itoa(attempt+1)
	default:
		suffix, _ := volley.RandomToken(rand, 6)
		return base + "-" + toLowerASCII(suffix)
	}
}

func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// CreateOrg creates an organization owned by accountID, with its default
// project, picking a free slug derived from the name.
func (s *Service) CreateOrg(ctx context.Context, accountID uint64, name string) (*volley.Membership, error) {
	if err := volley.ValidateName("name", name); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		m, err := s.store.OrgCreate(ctx, store.OrgCreateParams{
			Name: name, Slug: slugCandidate(name, attempt, s.rand), AccountID: accountID, Now: s.now(),
		})
		if err == nil || !errors.Is(err, store.ErrConflict) || attempt >= maxSlugAttempts {
			return m, err
		}
	}
}

type newToken struct {
	volley.APIToken
	plain string
}

func (s *Service) newToken(given, kind, name string) (*newToken, error) {
	plain := given
	if plain == "" {
		var err error
		if plain, err = volley.NewToken(s.rand); err != nil {
			return nil, err
		}
	} else if err := volley.ValidateGivenToken(plain); err != nil {
		return nil, err
	}
	sealed, err := s.box.SealString(plain)
	if err != nil {
		return nil, err
	}
	return &newToken{
		APIToken: volley.APIToken{
			Kind: kind, Name: name, Hash: volley.HashToken(plain), Sealed: sealed,
			Prefix: volley.DisplayPrefix(plain), CreatedAt: s.now(),
		},
		plain: plain,
	}, nil
}

// ErrUnauthenticated means a bearer token is missing, unknown or revoked.
var ErrUnauthenticated = errors.New("invalid or missing API token")

// Authenticate resolves a bearer token to its account.
func (s *Service) Authenticate(ctx context.Context, token string) (*volley.Account, *volley.APIToken, error) {
	if token == "" {
		return nil, nil, ErrUnauthenticated
	}
	t, err := s.store.TokenLookup(ctx, volley.HashToken(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up token: %w", err)
	}
	a, err := s.store.AccountGet(ctx, t.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load account: %w", err)
	}
	return a, t, nil
}
