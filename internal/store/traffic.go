package store

import (
	"context"
	"fmt"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// Traffic stores events, their deliveries and delivery attempts.
type Traffic interface {
	// EventInsert stores events with their deliveries, all in one
	// transaction (group commit): when it returns nil, every event is
	// durable. An event whose idempotency key was seen on its source before
	// the key expired (IdempotencyUntil after the event's CreatedAt) is not
	// stored, and the key's window is not extended; its result names the
	// original event. A key whose event was deleted since is free again.
	// Each event's status is dropped without deliveries, pending otherwise;
	// deliveries are created at the event's CreatedAt.
	//
	// Event status, here and wherever deliveries change, is derived from the
	// event's deliveries ignoring cancelled ones: none left → dropped; any
	// pending, held or parked → pending; else any failed → failed; else all
	// filtered → filtered; else processed. A delivery written filtered (its
	// connection's filter did not match) is finished at the event's
	// CreatedAt, with its Reason.
	//
	// FIFO ordering: a pending or held delivery with an OrderingKey whose
	// connection already has an unfinished (pending, held or parked)
	// delivery of that key, stored before it or earlier in the batch, is
	// stored parked instead: not leased, not due, counted as pending in its
	// event's status and the backlog. When a delivery of the key finishes
	// (DeliveryFinish to a final state, a successful DeliveryReplayed) and
	// no delivery of the key is pending or held any more, the same
	// transaction makes the key's first parked delivery (lowest id) pending,
	// due at the later of then and its own NextAttemptAt. Drivers serialise
	// the check and the promotion per connection and key, also across
	// nodes.
	EventInsert(ctx context.Context, events []NewEvent) ([]InsertedEvent, error)
	// EventList returns a page of a project's events, newest first, and the
	// number of events matching the filters.
	EventList(ctx context.Context, p EventListParams) ([]volley.Event, Total, error)
	// EventGet returns an event of an organization by its database id.
	EventGet(ctx context.Context, orgID, id uint64) (*volley.Event, error)
	// EventGetByUID returns an event of an organization by its public id.
	EventGetByUID(ctx context.Context, orgID uint64, uid string) (*volley.Event, error)

	// DeliveryListByEvent returns an event's deliveries, by id.
	DeliveryListByEvent(ctx context.Context, eventID uint64) ([]volley.Delivery, error)
	// DeliveryCreate adds a delivery to an existing event (replay to a
	// connection the event was never routed to) and recomputes its status.
	DeliveryCreate(ctx context.Context, d *volley.Delivery) error
	// DeliveryLease leases up to Limit due deliveries (not of
	// SkipDestinations) to Owner until Until, choosing the earliest due
	// first (ties in any order), and returns them with their events in any
	// order. Due are the pending deliveries due at or before Now, and the
	// held ones of a resumed connection (see DeliverySweep), as due at the
	// time the change was recorded when that is at or before Now. Leasing
	// makes a delivery pending, moves its due time to Until and increments
	// its LeaseToken, so an unfinished lease becomes due again when it
	// expires.
	DeliveryLease(ctx context.Context, p LeaseParams) ([]Job, error)
	// DeliveryFinish applies the outcomes of leased deliveries, in order,
	// in one transaction or, where a driver stops a batch for writes
	// clients wait on, in several (it may also skip waiting for the disk: a
	// lost outcome only means one more attempt): it records their
	// attempts, moves each delivery to its new state (only if its lease
	// token still matches and it is still pending; the attempt is recorded
	// either way, unless its event is gone) and recomputes the affected
	// events' statuses. A held outcome for a connection that is enabled
	// again (with an active destination) by the time it commits makes the
	// delivery due at once instead. Outcomes of deliveries that no longer
	// exist are ignored. If it fails after committing some of the
	// outcomes, its error is a *PartialError: a retry must pass only the
	// rest, or their attempts would be recorded twice.
	DeliveryFinish(ctx context.Context, outcomes []Outcome) error
	// DeliveryReplayed records replay attempts of deliveries, all in one
	// transaction (a bulk replay records a batch at once); a successful
	// one marks its delivery succeeded (finished at the attempt's time)
	// whatever its state, and the events' statuses are recomputed. Replays
	// do not count in Delivery.Attempts. Each attempt's ID is set, unless
	// its event is gone (then it is not recorded).
	DeliveryReplayed(ctx context.Context, attempts ...*volley.Attempt) error
	// DeliveryResetLeases makes every leased delivery due at now. A single
	// process owning its database calls it at start: leases of a previous
	// run died with it.
	DeliveryResetLeases(ctx context.Context, now time.Time) (int64, error)
	// DeliverySweep applies the latest configuration change of one
	// connection to at most Limit of its deliveries, in one short
	// transaction: pending ones are held while the connection is not
	// enabled or its destination not active (leased ones are left to their
	// workers), and unfinished ones (parked included) are cancelled (their
	// events' statuses recomputed) once the connection is deleted. Once the
	// connection is enabled again with an active destination (resumed),
	// its held deliveries are not rewritten: DeliveryLease takes them as
	// due from the time the change was recorded, and the sweep is finished
	// when none is held any more. Parked deliveries are neither held nor
	// released: they wait for their key. ConnectionUpdate,
	// DestinationUpdate and the deletes of connections, destinations,
	// sources and projects only record which connections need a sweep, so
	// they cost the same whatever the backlog. With no other sweep to do,
	// it records one, as a resume would, for each running connection that
	// holds deliveries without one: an ingest routed while the connection
	// was paused may commit after the resume's sweep was forgotten. It
	// returns how many deliveries it changed, counting a sweep it found
	// finished or recorded as one; 0 means no sweep is left but those of
	// resumed connections still holding deliveries.
	DeliverySweep(ctx context.Context, p SweepParams) (int, error)
	// DeliveryNextDue returns the earliest due time of a pending delivery
	// or of a resumed connection's held ones (see DeliveryLease), or the
	// zero time when there is none.
	DeliveryNextDue(ctx context.Context) (time.Time, error)
	// DeliveryBacklog reads the delivery backlog for monitoring, at a cost
	// that does not grow with the store: Total is every pending, held and parked
	// delivery (exact, from the per-connection counters), Due the
	// deliveries DeliveryLease would take at Now (pending ones not leased
	// or whose lease expired, and resumed connections' held ones),
	// counted up to DueLimit and no further, and OldestDue the due time of
	// the earliest due one (zero when none is due).
	DeliveryBacklog(ctx context.Context, p BacklogParams) (Backlog, error)

	// AttemptList returns a page of the attempts of a project or of a set of
	// projects (without response
	// headers and bodies) and the number matching the filters. Sorts:
	// newest first, oldest first, longest first, highest status code first;
	// ties newest first.
	AttemptList(ctx context.Context, p AttemptListParams) ([]volley.Attempt, int64, error)
	// AttemptListByEvent returns every attempt of an event in the order they
	// were recorded, with response headers and bodies.
	AttemptListByEvent(ctx context.Context, eventID uint64) ([]volley.Attempt, error)
	// AttemptListByConnection returns the newest attempts of a connection.
	AttemptListByConnection(ctx context.Context, connectionID uint64, limit int) ([]volley.Attempt, error)

	// ConnectionMetrics summarises a connection's traffic since a time,
	// rounded down to its minute (the returned Since): deliveries created
	// since (EventsRouted), deliveries that finished succeeded or failed
	// since (Delivered, Failed), the current backlog of pending, held and parked
	// deliveries (exact), p50/p95 of the durations of the successful attempts
	// since (replays included), and the time of its latest attempt ever.
	// Percentiles are read from fixed latency buckets (upper bounds 1, 2, 3,
	// 5, 7, 10, 15, 20, 30, 50, 70, 100, … 30,000, 60,000 ms, and 120,000 ms
	// for anything longer): each is the upper bound of the bucket holding
	// the lower nearest rank ((n-1)·p/100-th of n, from 0). The counts are
	// kept per connection and minute in the transactions that change the
	// rows, so the cost does not grow with the store; deleting deliveries
	// does not lower EventsRouted, Delivered or Failed, whose minutes go
	// with ConnectionMetricsDelete.
	ConnectionMetrics(ctx context.Context, connectionID uint64, since time.Time) (*volley.ConnectionMetrics, error)
	// ConnectionMetricsList returns the ConnectionMetrics of every
	// connection of p.ProjectID since p.Since, by connection id, read in one
	// snapshot: a dashboard's figures in one read instead of one per
	// connection. Each connection costs what ConnectionMetrics costs.
	ConnectionMetricsList(ctx context.Context, p ConnectionMetricsListParams) (map[uint64]*volley.ConnectionMetrics, error)
	// ProjectTraffic returns a project's traffic per period (p.Step) from
	// p.Since, rounded down to a whole step in UTC, until p.Until: one
	// TrafficPeriod per step, oldest first, zeros included. Received counts
	// the project's events by the hour they arrived (per-hour counters kept
	// by the transaction that inserts them; a step shorter than an hour is
	// refused); Routed, Delivered and Failed are the connection counters of
	// ConnectionMetrics summed over the project's connections, or over
	// p.ConnectionID alone (then Received is 0). Backlog is the current
	// number of pending, held and parked deliveries, and OldestPending the creation
	// time of the project's oldest event still pending (zero when none). No
	// figure counts rows of events or deliveries: the cost depends on the
	// window, not on the store's size.
	//
	// Each period also carries the backlog history BacklogSample keeps
	// per project and hour: the highest backlog and oldest pending age
	// sampled in the period, and whether any sample was taken in it at all
	// (BacklogSampled; a sampled period with no row for the project had no
	// backlog). With p.ConnectionID they are left 0: the history is the
	// project's.
	ProjectTraffic(ctx context.Context, p ProjectTrafficParams) (*volley.ProjectTraffic, error)
	// BacklogSample records, for every project with a backlog at p.Now, its
	// backlog (pending and held deliveries, from the per-connection
	// counters) and the age of its oldest pending event, keeping the
	// highest of each per UTC hour, and marks the hour as sampled. Its cost
	// grows with the projects that have a backlog (one counter row per
	// connection, one index seek per project), not with the events. It is
	// idempotent: samples are merged by maximum, so a sample taken twice,
	// or by several nodes at once, changes nothing. It returns how many
	// projects had a backlog.
	BacklogSample(ctx context.Context, p BacklogSampleParams) (int, error)
	// ConnectionMetricsDelete deletes, in one short transaction, up to Limit
	// of the per-minute counters of minutes wholly before Before, and of the
	// per-hour counters of projects (received events, backlog samples) of
	// hours wholly before it (at most Limit of each kind), for the retention round to call beside
	// RetentionDelete. It returns how many rows it deleted; 0 means nothing
	// is left to do for now.
	ConnectionMetricsDelete(ctx context.Context, p RetentionParams) (int, error)

	// RetentionDelete runs one round of retention, in one short
	// transaction: it deletes up to Limit events of a deleted project, or
	// else up to Limit finished events created before Before (events with
	// unfinished deliveries stay) among the events after the pass's cursor
	// (After), with their deliveries and attempts; and up to Limit expired
	// idempotency keys. A pass starts with After 0 and goes on with the
	// result's After until Done, so the events it skipped (still pending or
	// held) are read once per pass, not once per round.
	RetentionDelete(ctx context.Context, p RetentionParams) (RetentionResult, error)
}

// NewEvent is an event to store with the deliveries it was routed to.
type NewEvent struct {
	Event volley.Event // UID, ProjectID, SourceID, Method, Query, Headers, Body, CreatedAt
	// IdempotencyKey deduplicates the event on its source until
	// IdempotencyUntil; "" for none.
	IdempotencyKey   string
	IdempotencyUntil time.Time
	// Deliveries to create: ConnectionID, DestinationID, State (pending,
	// held, or filtered with a Reason), NextAttemptAt, for a delivery handed
	// straight to a worker LeaseOwner and LeaseToken, and OrderingKey for a
	// delivery of a FIFO connection (see EventInsert).
	Deliveries []volley.Delivery
}

// InsertedEvent is the result of one NewEvent.
type InsertedEvent struct {
	ID          uint64   // Event.ID (of the original event for a duplicate)
	UID         string   // Event.UID (of the original event for a duplicate)
	Duplicate   bool     // the idempotency key matched; nothing was stored
	DeliveryIDs []uint64 // in the order of NewEvent.Deliveries
	// Parked reports, in the same order, the deliveries stored parked
	// behind an unfinished delivery of their ordering key (not leased,
	// whatever NewEvent asked); nil when none was.
	Parked []bool
}

// EventListParams filters and pages a project's events.
type EventListParams struct {
	ProjectID     uint64
	SourceID      uint64 // 0 = any
	ConnectionID  uint64 // 0 = any: events routed to this connection
	DestinationID uint64 // 0 = any: events routed to this destination
	Status        string // "" = any
	Start, End    time.Time
	// Search matches the event id exactly or by prefix when it starts with
	// "evt_", and otherwise text in the body.
	Search        string
	Limit, Offset int
	Page          PageParams
}

// PageParams pages a list by position instead of (or besides) an offset,
// and bounds its count.
type PageParams struct {
	// After lists the items that come after this one in the list's order
	// (the next page); Before those that come before it (the previous
	// page), still in the list's order. At most one is set.
	After, Before *Cursor
	// CountLimit caps the count: 0 counts every match; n > 0 counts at
	// most n+1 of them, so a count of n+1 means "more than n".
	CountLimit int
}

// Total is how many items a list's filters match (see PageParams.CountLimit).
type Total struct {
	N int64
	// Estimated means N is not an exact count, which would have cost
	// too much: SQLite's body search counts a word common in the store
	// among the newest events only (N matched there, more may: a lower
	// bound), and the matches of many candidates from a sample of them
	// (N is the sample's share scaled up).
	Estimated bool
}

// Cursor is a position in a list: the sort key of an item and its id, which
// breaks ties. For time orders the key is the time in Unix microseconds.
type Cursor struct {
	Key int64
	ID  uint64
}

// AttemptListParams filters, sorts and pages a project's attempts, or those
// of several projects (an organization's).
type AttemptListParams struct {
	ProjectID uint64
	// ProjectIDs, used when ProjectID is 0, lists the attempts of any of
	// these projects.
	ProjectIDs    []uint64
	EventID       uint64 // Event.ID; 0 = any
	SourceID      uint64
	DestinationID uint64
	ConnectionID  uint64
	Status        string // "", success or failed
	Start, End    time.Time
	Sort          string // AttemptSortTime (default), AttemptSortOldest, AttemptSortDuration, AttemptSortStatusCode
	Limit, Offset int
	Page          PageParams
}

// Attempt list orders.
const (
	AttemptSortTime       = "time"
	AttemptSortOldest     = "time_oldest"
	AttemptSortDuration   = "duration"
	AttemptSortStatusCode = "status_code"
)

// LeaseParams asks for due deliveries.
type LeaseParams struct {
	Owner string
	Now   time.Time
	Until time.Time
	Limit int
	// SkipDestinations are destinations the caller has no room for now.
	SkipDestinations []uint64
}

// Job is a leased delivery with its event.
type Job struct {
	Delivery volley.Delivery
	Event    volley.Event
}

// Outcome is what happened to a leased delivery.
type Outcome struct {
	DeliveryID uint64
	LeaseToken uint64
	EventID    uint64
	// Attempt is the attempt made, or nil when the delivery was only held,
	// cancelled or put back (rate limit, shutdown) without one.
	Attempt *volley.Attempt
	// State is the delivery's new state; for pending, NextAttemptAt is when
	// it is due again; filtered (a transformation dropped it) takes Reason.
	State         string
	Reason        string
	NextAttemptAt time.Time
	Now           time.Time
	// Ordered reports that the delivery has an ordering key, so that a
	// final outcome may make the next delivery of its key due: the engine
	// then looks for due work at once. Stores read the key themselves.
	Ordered bool
	// ConnectionID is the delivery's connection, when the caller knows
	// it: a store may then record the outcome without reading it back.
	ConnectionID uint64
}

// BacklogParams asks DeliveryBacklog for the backlog at Now.
type BacklogParams struct {
	Now time.Time
	// DueLimit caps the count of due deliveries (it reads one index entry
	// per delivery counted); it must be positive.
	DueLimit int
}

// Backlog is the delivery backlog at one time.
type Backlog struct {
	Total     int64     // pending, held and parked deliveries, in flight included
	Due       int64     // pending deliveries due now, at most DueLimit
	OldestDue time.Time // due time of the earliest due delivery; zero when none is due
}

// SweepParams bounds one batch of DeliverySweep.
type SweepParams struct {
	Now   time.Time // released deliveries are due then; cancelled ones finish then
	Limit int
}

// ProjectTrafficParams selects the window of ProjectTraffic.
type ProjectTrafficParams struct {
	ProjectID uint64
	// ConnectionID, when not 0, limits the delivery figures to one
	// connection of the project.
	ConnectionID uint64
	Since, Until time.Time
	// Step is the length of a period: a whole number of hours (time.Hour,
	// 24 * time.Hour), at most 1,000 periods in the window.
	Step time.Duration
}

// ConnectionMetricsListParams selects the connections and the window of
// ConnectionMetricsList.
type ConnectionMetricsListParams struct {
	ProjectID uint64
	Since     time.Time // rounded down to its minute, as in ConnectionMetrics
}

// BacklogSampleParams is one sample of BacklogSample.
type BacklogSampleParams struct {
	// Now is the time of the sample: its hour is the row it merges into,
	// and ages of the oldest pending events are counted up to it.
	Now time.Time
}

// RetentionParams bounds one round of retention.
type RetentionParams struct {
	Before time.Time // events created before it go
	Now    time.Time // idempotency keys expired by then go
	// Limit bounds the events the round looks at (and, apart, the
	// idempotency keys it deletes). A driver may take fewer: SQLite sizes
	// rounds by how long they hold its writer.
	Limit int
	// After is the pass's cursor: the round looks at events with a greater
	// id only. 0 starts a pass at the oldest event.
	After uint64
}

// RetentionResult is what one round of retention did.
type RetentionResult struct {
	// Deleted counts the events and idempotency keys deleted.
	Deleted int
	// After is the cursor for the next round of the same pass.
	After uint64
	// Done reports that the pass has nothing left to do: the next pass,
	// after a wait, starts again from After 0 (and so looks again at the
	// events this one skipped, which may have finished meanwhile).
	Done bool
}

// SearchIndexer is implemented by a driver that fills its index of event
// bodies in the background rather than in the transaction that writes an
// event (SQLite: an FTS5 index kept at ingest slowed ingestion down; see
// docs/benchmarks.md). The driver's body search is complete at any time:
// it reads its index for the events indexed and checks the bodies of the
// others. A driver that indexes as it writes (PostgreSQL) does not
// implement it.
type SearchIndexer interface {
	// SearchIndex indexes the next events not yet indexed, oldest first, at
	// most limit of them, in one short background transaction.
	SearchIndex(ctx context.Context, limit int) (SearchIndexResult, error)
}

// SearchIndexResult is what one SearchIndex batch did.
type SearchIndexResult struct {
	// Indexed counts the events the batch indexed.
	Indexed int
	// Done reports that every event written before the batch is indexed
	// and the index's upkeep is done: the indexer may wait before the next
	// batch.
	Done bool
}

// PartialError is DeliveryFinish's error when it committed the first
// Applied outcomes before it failed on the rest.
type PartialError struct {
	Applied int
	Err     error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%v (the first %d outcomes were recorded)", e.Err, e.Applied)
}

func (e *PartialError) Unwrap() error { return e.Err }
