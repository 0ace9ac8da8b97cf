package console

import "time"

// The JSON shapes of the management API the pages read (docs/api.md):
// only the fields the pages show.

type apiSource struct {
	ID                 uint64    `json:"id"`
	Name               string    `json:"name"`
	Slug               string    `json:"slug"`
	IngestionID        string    `json:"ingestion_id"`
	IngestionURL       string    `json:"ingestion_url"`
	Type               string    `json:"type"`
	EPS                int       `json:"eps"`
	Status             string    `json:"status"`
	ConnectionCount    int64     `json:"connection_count"`
	AuthType           string    `json:"auth_type"`
	AuthUsername       string    `json:"auth_username"`
	AuthKeyName        string    `json:"auth_key_name"`
	AuthKeySet         bool      `json:"auth_key_set"`
	AuthKey            string    `json:"auth_key"`
	VerifySignature    bool      `json:"verify_signature"`
	WebhookSecretSet   bool      `json:"webhook_secret_set"`
	SignatureHeader    string    `json:"signature_header"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	SignatureEncoding  string    `json:"signature_encoding"`
	SignaturePrefix    string    `json:"signature_prefix"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

type apiConnection struct {
	ID              uint64      `json:"id"`
	ProjectID       uint64      `json:"project_id"`
	Name            string      `json:"name"`
	SourceID        uint64      `json:"source_id"`
	DestinationID   uint64      `json:"destination_id"`
	Status          string      `json:"status"`
	EPS             int         `json:"eps"`
	MaxRetries      int         `json:"max_retries"`
	SourceSlug      string      `json:"source_slug"`
	DestinationName string      `json:"destination_name"`
	DestinationURL  string      `json:"destination_url"`
	Metrics         *apiMetrics `json:"metrics"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

type apiMetrics struct {
	Since          time.Time  `json:"since"`
	EventsRouted   int64      `json:"events_routed"`
	Delivered      int64      `json:"delivered"`
	Failed         int64      `json:"failed"`
	Pending        int64      `json:"pending"`
	SuccessRate    float64    `json:"success_rate"`
	LatencyP50MS   int64      `json:"latency_p50_ms"`
	LatencyP95MS   int64      `json:"latency_p95_ms"`
	LastDeliveryAt *time.Time `json:"last_delivery_at"`
}

type apiToken struct {
	ID         uint64     `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Prefix     string     `json:"prefix"`
	DeviceName string     `json:"device_name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	Expired    bool       `json:"expired"`
	Token      string     `json:"token"`
}
