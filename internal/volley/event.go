package volley

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Event is one request received on a source's ingestion URL (the API calls
// it a "request"), stored with its exact bytes.
type Event struct {
	ID         uint64 // database id
	UID        string // public id, "evt_…"
	ProjectID  uint64
	SourceID   uint64
	SourceSlug string // joined, for listings
	Method     string
	Query      string // raw query string, without "?"
	// Path is the path the event was received on after its source's
	// ingestion URL ("/orders/42" for /hook/src_…/orders/42); "" for the
	// bare URL. Filters see it, and it is appended to destination URLs.
	Path      string
	Headers   http.Header
	Body      []byte
	Status    string // derived from the deliveries, see EventStatus
	CreatedAt time.Time
	// TraceParent is the W3C traceparent of the span that accepted the
	// event (tracing on), so that its attempts join the same trace; "" when
	// the event was accepted without tracing.
	TraceParent string
}

// Event statuses.
const (
	// EventDropped: routed to no connection.
	EventDropped = "dropped"
	// EventPending: some delivery is waiting, throttled, held, parked or in
	// flight.
	EventPending = "pending"
	// EventFailed: every delivery is finished and at least one failed.
	EventFailed = "failed"
	// EventProcessed: every delivery finished, each succeeded or was
	// filtered, and at least one succeeded.
	EventProcessed = "processed"
	// EventFiltered: every connection it was routed to filtered it out
	// (its filter did not match, or its transformation dropped it).
	EventFiltered = "filtered"
)

// ParseEventStatus validates an event status filter; "success" (seen in
// the .NET SDK's mocks) is accepted as "processed".
func ParseEventStatus(s string) (string, error) {
	switch s {
	case EventDropped, EventPending, EventFailed, EventProcessed, EventFiltered:
		return s, nil
	case "success", "succeeded", "delivered":
		return EventProcessed, nil
	}
	return "", Invalid("status", "must be processed, pending, failed, filtered or dropped, not %q", s)
}

// Delivery is an event's journey through one connection: the unit the
// engine leases, attempts and retries.
type Delivery struct {
	ID            uint64
	EventID       uint64 // Event.ID
	EventUID      string
	ProjectID     uint64
	SourceID      uint64
	ConnectionID  uint64 // 0 for a direct delivery (a test send to an unconnected destination)
	DestinationID uint64
	State         string
	Attempts      int       // attempts made so far, replays excluded
	NextAttemptAt time.Time // when pending: due time, or lease expiry while leased
	LeaseOwner    string    // node holding the lease; "" when none
	LeaseToken    uint64    // fences results of an expired lease
	CreatedAt     time.Time
	FinishedAt    time.Time // zero while unfinished
	// Reason says why a filtered delivery was not attempted
	// (ReasonFilter, ReasonTransformation); "" otherwise.
	Reason string
	// OrderingKey is the event's key on a FIFO connection; "" for a
	// delivery that waits behind no other.
	OrderingKey string
}

// Delivery states. Pending deliveries are due at NextAttemptAt (or leased
// until then); held ones wait for their connection or destination to be
// enabled again; parked ones wait for the delivery before them of the same
// ordering key to finish (OrderingFIFO); the other four are final. A
// filtered delivery was never attempted, on purpose: it is not a failure.
const (
	DeliveryPending   = "pending"
	DeliveryHeld      = "held"
	DeliveryParked    = "parked"
	DeliverySuccess   = "success"
	DeliveryFailed    = "failed"
	DeliveryCancelled = "cancelled"
	DeliveryFiltered  = "filtered"
)

// Reasons of filtered deliveries.
const (
	ReasonFilter         = "filter did not match"
	ReasonTransformation = "dropped by transformation"
)

// DeliveryFinal reports whether a delivery state is final.
func DeliveryFinal(state string) bool {
	switch state {
	case DeliverySuccess, DeliveryFailed, DeliveryCancelled, DeliveryFiltered:
		return true
	}
	return false
}

// WebhookID is the delivery's stable Standard Webhooks message id: the same
// on every retry, so receivers can deduplicate.
func (d *Delivery) WebhookID() string {
	via := strconv.FormatUint(d.ConnectionID, 10)
	if d.ConnectionID == 0 {
		via = "d" + strconv.FormatUint(d.DestinationID, 10)
	}
	return "msg_" + strings.TrimPrefix(d.EventUID, "evt_") + "_" + via
}

// Attempt is one recorded HTTP request to a destination.
type Attempt struct {
	ID            uint64
	DeliveryID    uint64
	EventID       uint64 // Event.ID
	EventUID      string
	ProjectID     uint64
	SourceID      uint64
	ConnectionID  uint64
	DestinationID uint64
	Number        int    // 1 for the first attempt of the delivery
	Trigger       string // AttemptAuto or AttemptReplay
	Status        string // AttemptSuccess or AttemptFailed
	StatusCode    int    // 0 when there was no response
	ErrorReason   string // for a person: "timeout after 15s", "HTTP 503"
	// DurationMS spans what the attempt timeout spans, from before the
	// request is built to the end of the response: an attempt that timed
	// out lasted at least its timeout.
	DurationMS      int64
	ResponseHeaders http.Header
	ResponseBody    []byte // at most MaxResponseBody bytes
	// TransformationLogs is what the connection's transformation printed
	// (console.log …), at most MaxTransformationLogs bytes; "" when none.
	TransformationLogs string
	// TransformationError is why the transformation failed, in which case
	// no request was made; "" when it ran fine or there is none.
	TransformationError string
	// CreatedAt is when the attempt started: the instant the rate limits
	// granted it (the engine sends the request as soon as it is scheduled
	// after that). Rate limits hold exactly on these times, whatever the
	// load on the machine.
	CreatedAt time.Time
}

// Attempt statuses and triggers.
const (
	AttemptSuccess = "success"
	AttemptFailed  = "failed"
	AttemptAuto    = "auto"
	AttemptReplay  = "replay"
)

// MaxResponseBody is how much of a destination's response body is kept.
const MaxResponseBody = 64 << 10

// MaxTransformationLogs is how much console output of a transformation is
// kept with an attempt.
const MaxTransformationLogs = 4 << 10

// ParseAttemptStatus validates an attempt status filter.
func ParseAttemptStatus(s string) (string, error) {
	switch s {
	case AttemptSuccess, AttemptFailed:
		return s, nil
	}
	return "", Invalid("status", "must be success or failed, not %q", s)
}

// ProjectTraffic is a project's traffic over a window, period by period,
// and its backlog now.
type ProjectTraffic struct {
	Periods       []TrafficPeriod
	Backlog       int64     // pending, held and parked deliveries now
	OldestPending time.Time // creation of the oldest event still pending; zero when none
}

// TrafficPeriod is the traffic of one period of a ProjectTraffic.
type TrafficPeriod struct {
	Start     time.Time
	Received  int64 // events that arrived
	Routed    int64 // deliveries created
	Delivered int64 // deliveries that succeeded
	Failed    int64 // deliveries that failed for good
	// BacklogSampled reports that the backlog was sampled at least once
	// in the period; BacklogMax and OldestPendingAgeMax are 0 otherwise.
	BacklogSampled bool
	// BacklogMax is the most pending and held deliveries sampled in the
	// period.
	BacklogMax int64
	// OldestPendingAgeMax is the greatest age, in whole seconds, of the
	// oldest pending event sampled in the period.
	OldestPendingAgeMax time.Duration
}

// ConnectionMetrics summarises a connection's recent traffic.
type ConnectionMetrics struct {
	Since          time.Time
	EventsRouted   int64
	Delivered      int64
	Failed         int64
	Pending        int64 // current backlog: pending, held and parked deliveries
	LatencyP50MS   int64 // of successful attempts since Since
	LatencyP95MS   int64
	LastDeliveryAt time.Time // latest attempt; zero when none
}

// SuccessRate is Delivered / (Delivered + Failed), or 0 when nothing
// finished.
func (m *ConnectionMetrics) SuccessRate() float64 {
	if n := m.Delivered + m.Failed; n > 0 {
		return float64(m.Delivered) / float64(n)
	}
	return 0
}
