package volley

import "time"

// Replay job statuses. A job is queued until a node first works on it,
// running until it has gone through every matching event (done), was
// cancelled, or stopped on an error it cannot get past (failed).
const (
	ReplayQueued    = "queued"
	ReplayRunning   = "running"
	ReplayDone      = "done"
	ReplayCancelled = "cancelled"
	ReplayFailed    = "failed"
)

// ReplayFilter selects the events a replay job goes through: the filters of
// the event list, with the same meaning (zero values match any).
type ReplayFilter struct {
	Status        string    `json:"status,omitempty"` // an event status (EventFailed, …)
	SourceID      uint64    `json:"source_id,omitempty"`
	ConnectionID  uint64    `json:"connection_id,omitempty"`  // events routed to this connection
	DestinationID uint64    `json:"destination_id,omitempty"` // events routed to this destination
	Start         time.Time `json:"start_time,omitzero"`
	End           time.Time `json:"end_time,omitzero"`
	Search        string    `json:"search,omitempty"`
}

// Replay is a bulk replay job: every event of a project that its filter
// matches is sent again, one replay attempt per selected delivery, in the
// background and at low priority.
type Replay struct {
	ID        uint64
	ProjectID uint64
	Filter    ReplayFilter
	// ConnectionID, when not 0, replays each event to this connection only
	// (creating the delivery when the event was never routed there);
	// otherwise to the event's deliveries whose connection still exists.
	ConnectionID uint64
	Status       string
	// Matched is how many events matched when the job was created, counted
	// up to a cap; MatchedIsEstimate says the cap was reached.
	Matched           int64
	MatchedIsEstimate bool
	// Processed counts the events the job went through; Succeeded and
	// Failed its replay attempts by outcome; Skipped the events it found
	// nothing to replay to (no delivery left, or not of the target).
	Processed, Succeeded, Failed, Skipped int64
	// Cursor is the position (in the event list's order, newest first) of
	// the last event processed; zero before the first.
	CursorKey int64 // created_at in Unix microseconds
	CursorID  uint64
	Error     string // why a failed job stopped
	CreatedBy uint64 // account id
	CreatedAt time.Time
	UpdatedAt time.Time
	// FinishedAt is when the job became done, cancelled or failed.
	FinishedAt time.Time
	// LeaseOwner names the node working on the job until LeaseUntil.
	LeaseOwner string
	LeaseUntil time.Time
}

// Finished reports whether the job will do nothing more.
func (r *Replay) Finished() bool {
	switch r.Status {
	case ReplayDone, ReplayCancelled, ReplayFailed:
		return true
	}
	return false
}

// Queued is how many matched events are still to go (0 once finished; an
// estimate while Matched is).
func (r *Replay) Queued() int64 {
	if r.Finished() {
		return 0
	}
	return max(r.Matched-r.Processed, 0)
}
