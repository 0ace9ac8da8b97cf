package volley

import (
	"net/http"
	"strings"
	"time"
)

// Source is a webhook sender's entry point: a permanent URL
// (/hook/{IngestionID}) that accepts, authenticates and stores requests.
type Source struct {
	ID          uint64
	ProjectID   uint64
	Name        string
	Slug        string // unique within the project
	IngestionID string // never changes
	Type        string // SourceTypeWebhook or a signature scheme
	EPS         int    // ingestion limit in events per second; 0 = unlimited
	Status      string // SourceActive or SourceDisabled

	AuthType     string // AuthNone, AuthBasic or AuthAPIKey
	AuthUsername string
	AuthKeyName  string // header carrying the key for AuthAPIKey
	AuthKey      []byte // sealed (encrypted at rest); nil when unset

	VerifySignature bool
	WebhookSecret   []byte     // sealed; nil when unset
	HMAC            HMACConfig // for SourceTypeHMAC

	ConnectionCount int64 // derived: connections from this source
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// HMACConfig configures the generic "hmac" signature scheme of a source.
type HMACConfig struct {
	Header    string // request header carrying the signature
	Algorithm string // sha256 (default) or sha512
	Encoding  string // hex (default) or base64
	Prefix    string // stripped before decoding, e.g. "sha256="
}

// Source statuses.
const (
	SourceActive   = "active"
	SourceDisabled = "disabled"
)

// Source authentication types.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthAPIKey = "api_key"
)

// DefaultAuthKeyName is the header an api_key source reads by default.
const DefaultAuthKeyName = "X-API-Key"

// Source types. SourceTypeWebhook is generic; the others name the provider
// signature scheme that VerifySignature checks.
const (
	SourceTypeWebhook          = "webhook"
	SourceTypeStripe           = "stripe"
	SourceTypeGitHub           = "github"
	SourceTypeShopify          = "shopify"
	SourceTypeSlack            = "slack"
	SourceTypeStandardWebhooks = "standard_webhooks"
	SourceTypeHMAC             = "hmac"
)

// MaxEPS bounds every events-per-second setting.
const MaxEPS = 100_000

// ParseSourceStatus validates a source status; "enabled" is accepted as
// "active".
func ParseSourceStatus(s string) (string, error) {
	switch strings.ToLower(s) {
	case SourceActive, "enabled":
		return SourceActive, nil
	case SourceDisabled:
		return SourceDisabled, nil
	}
	return "", Invalid("status", "must be active or disabled, not %q", s)
}

// ParseAuthType validates an authentication type; "" means none.
func ParseAuthType(s string) (string, error) {
	switch strings.ToLower(s) {
	case "", AuthNone:
		return AuthNone, nil
	case AuthBasic:
		return AuthBasic, nil
	case AuthAPIKey, "apikey", "api-key":
		return AuthAPIKey, nil
	}
	return "", Invalid("auth_type", "must be none, basic or api_key, not %q", s)
}

// ParseSourceType validates a source type; "" means webhook and "svix" is
// Standard Webhooks.
func ParseSourceType(s string) (string, error) {
	switch t := strings.ToLower(s); t {
	case "":
		return SourceTypeWebhook, nil
	case "svix", "standard-webhooks", "standardwebhooks":
		return SourceTypeStandardWebhooks, nil
	case SourceTypeWebhook, SourceTypeStripe, SourceTypeGitHub, SourceTypeShopify,
		SourceTypeSlack, SourceTypeStandardWebhooks, SourceTypeHMAC:
		return t, nil
	}
	return "", Invalid("type", "must be one of webhook, stripe, github, shopify, slack, standard_webhooks or hmac, not %q", s)
}

// ValidateEPS checks an events-per-second limit.
func ValidateEPS(field string, eps int) error {
	if eps < 0 || eps > MaxEPS {
		return Invalid(field, "must be between 0 (unlimited) and %d, not %d", MaxEPS, eps)
	}
	return nil
}

// Validate checks a source after a create or an update has been applied to
// it. Sealed secrets are checked for presence only.
func (s *Source) Validate() error {
	if err := ValidateName("name", s.Name); err != nil {
		return err
	}
	if err := ValidateSlug("slug", s.Slug); err != nil {
		return err
	}
	if err := ValidateEPS("eps", s.EPS); err != nil {
		return err
	}
	switch s.AuthType {
	case AuthNone:
	case AuthBasic:
		if s.AuthUsername == "" {
			return Invalid("auth_username", "is required when auth_type is basic")
		}
		if strings.Contains(s.AuthUsername, ":") {
			return Invalid("auth_username", "must not contain ':'")
		}
		if len(s.AuthKey) == 0 {
			return Invalid("auth_key", "is required when auth_type is basic (it is the password)")
		}
	case AuthAPIKey:
		if len(s.AuthKey) == 0 {
			return Invalid("auth_key", "is required when auth_type is api_key")
		}
		if !ValidHeaderName(s.AuthKeyName) {
			return Invalid("auth_key_name", "%q is not a valid header name", s.AuthKeyName)
		}
	default:
		return Invalid("auth_type", "must be none, basic or api_key, not %q", s.AuthType)
	}
	if !s.VerifySignature {
		return nil
	}
	if s.Type == SourceTypeWebhook {
		return Invalid("verify_signature", "needs a source type with a signature scheme (stripe, github, shopify, slack, standard_webhooks or hmac)")
	}
	if len(s.WebhookSecret) == 0 {
		return Invalid("webhook_secret", "is required when verify_signature is true")
	}
	if s.Type == SourceTypeHMAC {
		if !ValidHeaderName(s.HMAC.Header) {
			return Invalid("signature_header", "is required for hmac sources and must be a valid header name")
		}
		if a := s.HMAC.Algorithm; a != "" && a != "sha256" && a != "sha512" {
			return Invalid("signature_algorithm", "must be sha256 or sha512, not %q", a)
		}
		if e := s.HMAC.Encoding; e != "" && e != "hex" && e != "base64" {
			return Invalid("signature_encoding", "must be hex or base64, not %q", e)
		}
	}
	return nil
}

// ValidHeaderName reports whether s is a valid HTTP header field name.
func ValidHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return http.CanonicalHeaderKey(s) != ""
}
