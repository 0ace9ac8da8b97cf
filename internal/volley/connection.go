package volley

import (
	"strings"
	"time"
)

// Connection routes the events of one source to one destination.
type Connection struct {
	ID            uint64
	ProjectID     uint64
	SourceID      uint64
	DestinationID uint64
	Name          string
	Status        string // ConnectionEnabled, ConnectionPaused or ConnectionDisabled
	EPS           int    // 0 = unlimited
	MaxRetries    int    // retries after the first attempt
	// Filter is the connection's filter document (JSON, see package
	// filter), validated when saved; nil when every event passes.
	Filter []byte
	// TransformationID is the transformation run on each outgoing request;
	// 0 for none.
	TransformationID uint64
	// DelayMS delays each delivery of an event received after it is set by
	// this many milliseconds (0..MaxDelayMS; 0 for none). Replays are not
	// delayed.
	DelayMS int
	// Ordering is OrderingNone or OrderingFIFO: with FIFO, the deliveries
	// of events with the same OrderingKey are sent one at a time, in the
	// order the events were received.
	Ordering string
	// OrderingKey says where an event's ordering key is read (see
	// ParseOrderingKey); "" unless Ordering is OrderingFIFO.
	OrderingKey string

	// Joined from the source and destination, for listings (the CLI reads
	// them).
	SourceSlug        string
	SourceEPS         int
	DestinationName   string
	DestinationURL    string
	DestinationEPS    int
	DestinationStatus string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Connection statuses. Events are routed to enabled and paused connections;
// paused ones hold their deliveries until enabled again. Disabled connections
// are not routed to.
const (
	ConnectionEnabled  = "enabled"
	ConnectionPaused   = "paused"
	ConnectionDisabled = "disabled"
)

// Retry bounds.
const (
	DefaultMaxRetries = 5
	MaxMaxRetries     = 100
)

// ParseConnectionStatus validates a connection status; "active" is accepted
// as "enabled".
func ParseConnectionStatus(s string) (string, error) {
	switch strings.ToLower(s) {
	case ConnectionEnabled, "active":
		return ConnectionEnabled, nil
	case ConnectionPaused:
		return ConnectionPaused, nil
	case ConnectionDisabled:
		return ConnectionDisabled, nil
	}
	return "", Invalid("status", "must be enabled, paused or disabled, not %q", s)
}

// Routed reports whether new events are routed to the connection.
func (c *Connection) Routed() bool { return c.Status != ConnectionDisabled }

// DefaultConnectionName is the name of a connection created without one.
func DefaultConnectionName(sourceSlug, destinationName string) string {
	return sourceSlug + " → " + destinationName
}

// Validate checks a connection after a create or an update has been applied.
func (c *Connection) Validate() error {
	if err := ValidateName("name", c.Name); err != nil {
		return err
	}
	if c.SourceID == 0 {
		return Invalid("source_id", "is required")
	}
	if c.DestinationID == 0 {
		return Invalid("destination_id", "is required")
	}
	if _, err := ParseConnectionStatus(c.Status); err != nil {
		return err
	}
	if err := ValidateEPS("eps", c.EPS); err != nil {
		return err
	}
	if c.MaxRetries < 0 || c.MaxRetries > MaxMaxRetries {
		return Invalid("max_retries", "must be between 0 and %d, not %d", MaxMaxRetries, c.MaxRetries)
	}
	if c.DelayMS < 0 || c.DelayMS > MaxDelayMS {
		return Invalid("delay_ms", "must be between 0 and %d milliseconds (24 hours), not %d", MaxDelayMS, c.DelayMS)
	}
	return c.validateOrdering()
}
