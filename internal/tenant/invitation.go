package tenant

import (
	"context"
	"errors"
	"fmt"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// invitationSecretLen is the number of random base62 characters of an
// invitation link's secret (~238 bits).
const invitationSecretLen = 40

// ErrInvitationGone means an invitation link was used, revoked, replaced
// by a newer one or expired.
var ErrInvitationGone = errors.New("this invitation was used, revoked or has expired")

// ErrInvitationEmail means a signed-in person tried to use an invitation
// sent to another email.
var ErrInvitationEmail = errors.New("this invitation was sent to another email")

// InvitationWithSecret is an invitation with the secret of its link.
type InvitationWithSecret struct {
	volley.Invitation
	Secret string
}

// Invite creates (or renews) an invitation of email to an organization with
// a role, valid for volley.InvitationLifetime.
func (s *Service) Invite(ctx context.Context, orgID, inviterID uint64, email string, role volley.Role) (*InvitationWithSecret, error) {
	email, err := volley.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	secret, err := volley.RandomToken(s.rand, invitationSecretLen)
	if err != nil {
		return nil, err
	}
	sealed, err := s.box.SealString(secret)
	if err != nil {
		return nil, err
	}
	now := s.now()
	inv := &InvitationWithSecret{Secret: secret, Invitation: volley.Invitation{
		OrgID: orgID, Email: email, Role: role, Hash: volley.HashToken(secret), Sealed: sealed,
		InvitedBy: inviterID, CreatedAt: now, ExpiresAt: now.Add(volley.InvitationLifetime),
	}}
	if err := s.store.InvitationCreate(ctx, &inv.Invitation); err != nil {
		return nil, err
	}
	return inv, nil
}

// Invitations returns an organization's pending invitations with the
// secrets of their links.
func (s *Service) Invitations(ctx context.Context, orgID uint64) ([]InvitationWithSecret, error) {
	list, err := s.store.InvitationList(ctx, orgID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]InvitationWithSecret, len(list))
	for i, inv := range list {
		secret, err := s.box.OpenString(inv.Sealed)
		if err != nil {
			return nil, fmt.Errorf("open invitation %d: %w", inv.ID, err)
		}
		out[i] = InvitationWithSecret{Invitation: inv, Secret: secret}
	}
	return out, nil
}

// Invitation returns the pending invitation behind a link's secret
// (ErrInvitationGone when there is none).
func (s *Service) Invitation(ctx context.Context, secret string) (*volley.Invitation, error) {
	if secret == "" || len(secret) > 128 {
		return nil, ErrInvitationGone
	}
	inv, err := s.store.InvitationGetByHash(ctx, volley.HashToken(secret), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvitationGone
	}
	return inv, err
}

// AcceptInvitation creates the invitee's account (with the invited email)
// and makes it a member with the invited role.
func (s *Service) AcceptInvitation(ctx context.Context, secret, name, password string) (*volley.Member, error) {
	inv, err := s.Invitation(ctx, secret)
	if err != nil {
		return nil, err
	}
	if err := volley.ValidateName("name", name); err != nil {
		return nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	hash, err := s.pw.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	m, err := s.store.InvitationAccept(ctx, store.InvitationAcceptParams{
		InvitationID: inv.ID, Now: s.now(),
		NewAccount: &volley.Account{Email: inv.Email, Name: name, PasswordHash: hash},
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvitationGone
	}
	return m, err
}

// JoinInvitation makes an existing, signed-in account a member through an
// invitation sent to its email.
func (s *Service) JoinInvitation(ctx context.Context, secret string, acct *volley.Account) (*volley.Member, error) {
	inv, err := s.Invitation(ctx, secret)
	if err != nil {
		return nil, err
	}
	if inv.Email != acct.Email {
		return nil, ErrInvitationEmail
	}
	m, err := s.store.InvitationAccept(ctx, store.InvitationAcceptParams{InvitationID: inv.ID, AccountID: acct.ID, Now: s.now()})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvitationGone
	}
	return m, err
}
