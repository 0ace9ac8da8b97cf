package tenant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/volley"
)

// DeviceCode is a device login as the CLI and the approval page see it.
type DeviceCode struct {
	// PairingCode is the short code the person compares and approves
	// ("ABCD-1234").
	PairingCode string
	// DeviceCode is the long secret the CLI polls with; set only by
	// DeviceStart (it is stored hashed and never shown again).
	DeviceCode string
	// Status is DeviceStatusPending, DeviceStatusComplete (approved;
	// collected or not), DeviceStatusDenied or DeviceStatusExpired.
	Status     string
	DeviceName string // set once approved
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// ExpiresIn is how long the code has left at now, in whole seconds (at
// least 0).
func (d *DeviceCode) ExpiresIn(now time.Time) int {
	return max(0, int(d.ExpiresAt.Sub(now)/time.Second))
}

// DevicePollResult is the answer to the CLI's poll.
type DevicePollResult struct {
	// Status is DeviceStatusPending, DeviceStatusComplete,
	// DeviceStatusDenied or DeviceStatusExpired.
	Status string
	// Token is the new CLI token: set with DeviceStatusComplete, on the
	// first poll after approval only. Later polls answer
	// DeviceStatusExpired: the code has been used.
	Token string
}

// Device login statuses as the CLI's poll names them.
const (
	DeviceStatusPending  = "pending"
	DeviceStatusComplete = "complete"
	DeviceStatusDenied   = "denied"
	DeviceStatusExpired  = "expired"
)

// ErrDeviceCodeNotFound means no pending device login has this pairing
// code: unknown, expired, already approved or denied.
var ErrDeviceCodeNotFound = errors.New("no pending device login with this pairing code")

// DefaultDeviceName names a CLI token approved without a device name.
const DefaultDeviceName = "volley CLI"

// maxDeviceCodeAttempts bounds the retries on a pairing code collision.
const maxDeviceCodeAttempts = 5

// DeviceStart begins a device login: it returns a new pairing code and
// device code, valid for volley.DeviceCodeTTL.
func (s *Service) DeviceStart(ctx context.Context) (*DeviceCode, error) {
	for attempt := 0; ; attempt++ {
		device, err := volley.NewDeviceCode(s.rand)
		if err != nil {
			return nil, err
		}
		pairing, err := volley.NewPairingCode(s.rand)
		if err != nil {
			return nil, err
		}
		now := s.now()
		d := volley.DeviceCode{
			DeviceHash: volley.HashToken(device), PairingHash: volley.HashToken(pairing),
			CreatedAt: now, ExpiresAt: now.Add(volley.DeviceCodeTTL),
		}
		err = s.store.DeviceCodeCreate(ctx, &d)
		if errors.Is(err, store.ErrConflict) && attempt < maxDeviceCodeAttempts {
			continue // a live login holds this pairing code: draw again
		}
		if err != nil {
			return nil, fmt.Errorf("start device login: %w", err)
		}
		return &DeviceCode{PairingCode: pairing, DeviceCode: device, Status: DeviceStatusPending,
			CreatedAt: d.CreatedAt, ExpiresAt: d.ExpiresAt}, nil
	}
}

// DevicePoll answers the CLI's poll. An unknown device code is expired, so
// the answer tells a guesser nothing. The token is handed out once.
func (s *Service) DevicePoll(ctx context.Context, deviceCode string) (*DevicePollResult, error) {
	if deviceCode == "" {
		return &DevicePollResult{Status: DeviceStatusExpired}, nil
	}
	d, err := s.store.DeviceCodeClaim(ctx, volley.HashToken(deviceCode))
	if errors.Is(err, store.ErrNotFound) {
		return &DevicePollResult{Status: DeviceStatusExpired}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("poll device login: %w", err)
	}
	switch d.Status {
	case volley.DeviceApproved:
		if d.TokenSealed == nil { // revoked before it was collected
			return &DevicePollResult{Status: DeviceStatusExpired}, nil
		}
		token, err := s.box.OpenString(d.TokenSealed)
		if err != nil {
			return nil, fmt.Errorf("poll device login: open token: %w", err)
		}
		return &DevicePollResult{Status: DeviceStatusComplete, Token: token}, nil
	case volley.DeviceDenied:
		return &DevicePollResult{Status: DeviceStatusDenied}, nil
	case volley.DevicePending:
		if s.now().Before(d.ExpiresAt) {
			return &DevicePollResult{Status: DeviceStatusPending}, nil
		}
	}
	return &DevicePollResult{Status: DeviceStatusExpired}, nil
}

// DeviceLookup returns the device login of a pairing code, for the approval
// page to show; ErrDeviceCodeNotFound when there is none (or the code is
// malformed). Its DeviceCode is empty.
func (s *Service) DeviceLookup(ctx context.Context, pairingCode string) (*DeviceCode, error) {
	code := volley.NormalizePairingCode(pairingCode)
	if code == "" {
		return nil, ErrDeviceCodeNotFound
	}
	d, err := s.store.DeviceCodeGetByPairing(ctx, volley.HashToken(code))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrDeviceCodeNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("look up device login: %w", err)
	}
	out := &DeviceCode{PairingCode: code, DeviceName: d.DeviceName, CreatedAt: d.CreatedAt, ExpiresAt: d.ExpiresAt}
	switch {
	case d.Status == volley.DeviceApproved || d.Status == volley.DeviceConsumed:
		out.Status = DeviceStatusComplete
	case d.Status == volley.DeviceDenied:
		out.Status = DeviceStatusDenied
	case s.now().Before(d.ExpiresAt):
		out.Status = DeviceStatusPending
	default:
		out.Status = DeviceStatusExpired
	}
	return out, nil
}

// DeviceApprove approves a pending device login for an account: it creates
// the CLI token (kind cli, named deviceName, or DefaultDeviceName when
// empty) that the CLI's next poll collects. ErrDeviceCodeNotFound when no
// login with that pairing code is pending.
func (s *Service) DeviceApprove(ctx context.Context, accountID uint64, pairingCode, deviceName string) error {
	code := volley.NormalizePairingCode(pairingCode)
	if code == "" {
		return ErrDeviceCodeNotFound
	}
	if deviceName == "" {
		deviceName = DefaultDeviceName
	}
	if err := volley.ValidateName("device_name", deviceName); err != nil {
		return err
	}
	tok, err := s.newToken("", volley.TokenKindCLI, deviceName)
	if err != nil {
		return err
	}
	tok.AccountID = accountID
	_, err = s.store.DeviceCodeApprove(ctx, store.DeviceCodeApproveParams{
		PairingHash: volley.HashToken(code), Token: tok.APIToken, Now: s.now(),
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrDeviceCodeNotFound
	}
	if err != nil {
		return fmt.Errorf("approve device login: %w", err)
	}
	return nil
}

// DeviceDeny refuses a pending device login; the CLI's next poll reads
// "denied". ErrDeviceCodeNotFound when no login with that pairing code is
// pending.
func (s *Service) DeviceDeny(ctx context.Context, accountID uint64, pairingCode string) error {
	code := volley.NormalizePairingCode(pairingCode)
	if code == "" {
		return ErrDeviceCodeNotFound
	}
	err := s.store.DeviceCodeDeny(ctx, volley.HashToken(code), accountID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return ErrDeviceCodeNotFound
	}
	if err != nil {
		return fmt.Errorf("deny device login: %w", err)
	}
	return nil
}
