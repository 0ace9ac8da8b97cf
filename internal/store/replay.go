package store

import (
	"context"
	"time"

	"github.com/volleyhq/volley/internal/volley"
)

// Replays stores bulk replay jobs. A job is worked on by one node at a time,
// under a lease that it renews with each batch of progress; when the node
// stops or dies, the lease runs out and another node (or the same one,
// started again) claims the job and goes on from its cursor.
type Replays interface {
	// ReplayCreate stores a new job, queued, and sets its ID (ErrNotFound
	// when its project is gone). CreatedAt is the caller's; UpdatedAt is set
	// to it.
	ReplayCreate(ctx context.Context, r *volley.Replay) error
	// ReplayGet returns a job of a project of an organization.
	ReplayGet(ctx context.Context, orgID, id uint64) (*volley.Replay, error)
	// ReplayList returns a project's jobs, newest first.
	ReplayList(ctx context.Context, p ReplayListParams) ([]volley.Replay, error)
	// ReplayClaim leases to Owner until Until the unfinished job whose
	// lease is free or ran out at Now and that progressed least recently
	// (so that the jobs of every project take turns, one batch each), marks
	// it running and returns it; ErrNotFound when there is none. Safe to
	// call from several nodes at once: each job goes to one of them.
	ReplayClaim(ctx context.Context, p ReplayClaimParams) (*volley.Replay, error)
	// ReplayProgress records one batch of a claimed job: it adds the
	// counts, moves the cursor, sets Status (running, done or failed, with
	// Error) and renews the lease until Until, or frees it with Release,
	// in one statement. It changes the job only while the job is
	// unfinished and leased to Owner, and returns the job as it is
	// afterwards, so that a caller that finds it cancelled, or leased to
	// another node, stops.
	ReplayProgress(ctx context.Context, p ReplayProgressParams) (*volley.Replay, error)
	// ReplayCancel cancels an unfinished job of an organization, finished
	// at Now, and returns it; a finished job comes back unchanged.
	ReplayCancel(ctx context.Context, orgID, id uint64, now time.Time) (*volley.Replay, error)
}

// ReplayListParams pages a project's jobs, newest first.
type ReplayListParams struct {
	ProjectID uint64
	// BeforeID lists the jobs with a smaller id only (the next page); 0
	// starts at the newest.
	BeforeID uint64
	Limit    int
}

// ReplayClaimParams asks for a job to work on.
type ReplayClaimParams struct {
	Owner string
	Now   time.Time
	Until time.Time
}

// ReplayProgressParams is one batch of progress of a claimed job.
type ReplayProgressParams struct {
	ID    uint64
	Owner string
	// Processed, Succeeded, Failed and Skipped are added to the job's.
	Processed, Succeeded, Failed, Skipped int64
	// CursorKey and CursorID move the cursor when CursorID is not 0.
	CursorKey int64
	CursorID  uint64
	Status    string // ReplayRunning, ReplayDone or ReplayFailed
	Error     string
	Now       time.Time
	Until     time.Time // the lease's new end, unless Release
	Release   bool      // free the lease: any node may claim the job next
}
