package volley

import (
	"net/url"
	"strings"
	"time"
)

// Destination is an HTTP endpoint that receives deliveries.
type Destination struct {
	ID        uint64
	ProjectID uint64
	Name      string
	URL       string
	EPS       int    // cap across all its connections; 0 = unlimited
	Status    string // DestinationActive or DestinationDisabled
	TimeoutMS int    // attempt timeout; 0 = the server default
	Headers   map[string]string
	// InsecureSkipVerify turns off the verification of the destination's
	// TLS certificate (self-signed or private CA receivers): an explicit,
	// audited opt-out that the API shows and the engine logs at warn.
	InsecureSkipVerify bool

	// SigningSecret is the sealed Standard Webhooks secret ("whsec_…").
	SigningSecret []byte
	// PrevSigningSecret is the sealed secret replaced by the last rotation;
	// it keeps signing alongside the new one until PrevSecretExpiresAt.
	PrevSigningSecret   []byte
	PrevSecretExpiresAt time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Destination statuses. A disabled destination holds its deliveries until it
// is active again.
const (
	DestinationActive   = "active"
	DestinationDisabled = "disabled"
)

// Attempt timeout bounds for TimeoutMS.
const (
	MinTimeoutMS = 1_000
	MaxTimeoutMS = 60_000
)

// ParseDestinationStatus validates a destination status; "enabled" is
// accepted as "active", "paused" as "disabled".
func ParseDestinationStatus(s string) (string, error) {
	switch strings.ToLower(s) {
	case DestinationActive, "enabled":
		return DestinationActive, nil
	case DestinationDisabled, "paused":
		return DestinationDisabled, nil
	}
	return "", Invalid("status", "must be active or disabled, not %q", s)
}

// reservedHeaders cannot be set as a destination's static headers: Volley
// computes them for every attempt.
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "transfer-encoding": true, "connection": true,
	"keep-alive": true, "te": true, "trailer": true, "upgrade": true,
	"proxy-authorization": true, "proxy-connection": true,
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
}

// MaxStaticHeaders bounds a destination's static headers.
const MaxStaticHeaders = 50

// ValidateURL checks the syntax of a destination URL. The egress policy
// (which addresses may be reached) is checked separately.
func ValidateURL(field, raw string) error {
	if raw == "" {
		return Invalid(field, "is required")
	}
	if len(raw) > 2048 {
		return Invalid(field, "must be at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Invalid(field, "%q is not a valid URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Invalid(field, "must be an http or https URL, not %q", raw)
	}
	if u.Hostname() == "" {
		return Invalid(field, "%q has no host", raw)
	}
	return nil
}

// Validate checks a destination after a create or an update has been applied.
func (d *Destination) Validate() error {
	if err := ValidateName("name", d.Name); err != nil {
		return err
	}
	if err := ValidateURL("url", d.URL); err != nil {
		return err
	}
	if err := ValidateEPS("eps", d.EPS); err != nil {
		return err
	}
	if d.Status != DestinationActive && d.Status != DestinationDisabled {
		return Invalid("status", "must be active or disabled, not %q", d.Status)
	}
	if d.TimeoutMS != 0 && (d.TimeoutMS < MinTimeoutMS || d.TimeoutMS > MaxTimeoutMS) {
		return Invalid("timeout_ms", "must be between %d and %d milliseconds, not %d", MinTimeoutMS, MaxTimeoutMS, d.TimeoutMS)
	}
	if len(d.Headers) > MaxStaticHeaders {
		return Invalid("headers", "may hold at most %d headers", MaxStaticHeaders)
	}
	for k, v := range d.Headers {
		lk := strings.ToLower(k)
		switch {
		case !ValidHeaderName(k):
			return Invalid("headers", "%q is not a valid header name", k)
		case reservedHeaders[lk] || strings.HasPrefix(lk, "x-volley-") || strings.HasPrefix(lk, "proxy-"):
			return Invalid("headers", "%q is set by Volley and cannot be overridden", k)
		case strings.ContainsAny(v, "\r\n\x00"):
			return Invalid("headers", "the value of %q must not contain control characters", k)
		}
	}
	return nil
}
