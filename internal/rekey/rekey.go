// Package rekey re-seals every sealed value of the store under the current
// secret key (`volley secrets rotate-key`), online and crash-safe.
//
// It walks each sealed column (store.SealedColumns) by row id in batches.
// A value already under the current key is skipped without decrypting; any
// other is opened with whichever key sealed it and sealed again, and a
// batch is written in one short transaction that replaces a value only if
// it is still the one read (a value a node changed meanwhile is left as
// the node wrote it). Every value is therefore readable at every moment
// with the old key or the new one, so a crash or an interruption loses
// nothing, and running the rotation again resumes it: what is done is
// skipped. The servers must hold both keys (the new as current, the old as
// previous) while it runs.
package rekey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/store"
)

// DefaultBatch is how many values a batch re-seals in one transaction.
const DefaultBatch = 200

// Config configures a rotation.
type Config struct {
	Store store.Sealed
	// Box holds the new key as current and the old ones as previous.
	Box *seal.Box
	// Batch bounds the values one transaction re-seals; 0 means
	// DefaultBatch.
	Batch int
	// Logger reports progress per column; nil logs nothing.
	Logger *slog.Logger
	// AfterBatchFunc runs after each committed batch with the totals so
	// far; an error stops the rotation there and is returned (tests
	// interrupt a rotation half-way with it). nil for none.
	AfterBatchFunc func(Result) error
}

// Result counts what a rotation did.
type Result struct {
	Resealed int // values now sealed under the current key
	Current  int // values that already were
	Changed  int // values changed by a node while being re-sealed, left as they were written
}

// ErrStopped wraps the error of AfterBatchFunc that stopped a rotation.
var ErrStopped = errors.New("rotation stopped")

// Run re-seals every sealed value not yet under the current key.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var res Result
	for _, col := range store.SealedColumns() {
		before := res
		if err := column(ctx, cfg, col, &res); err != nil {
			return res, err
		}
		cfg.Logger.InfoContext(ctx, "re-sealed column", "column", string(col),
			"resealed", res.Resealed-before.Resealed, "current", res.Current-before.Current)
	}
	return res, nil
}

// column re-seals one column, batch by batch.
func column(ctx context.Context, cfg Config, col store.SealedColumn, res *Result) error {
	var after uint64
	for {
		vals, err := cfg.Store.SealedList(ctx, store.SealedListParams{Column: col, AfterID: after, Limit: cfg.Batch})
		if err != nil {
			return fmt.Errorf("read %s: %w", col, err)
		}
		if len(vals) == 0 {
			return nil
		}
		after = vals[len(vals)-1].RowID
		var reps []store.SealedReplacement
		for _, v := range vals {
			if cfg.Box.Current(v.Value) {
				res.Current++
				continue
			}
			nv, err := cfg.Box.Reseal(v.Value)
			if err != nil {
				return fmt.Errorf("re-seal %s of row %d: %w", col, v.RowID, err)
			}
			reps = append(reps, store.SealedReplacement{Column: col, RowID: v.RowID, Old: v.Value, New: nv})
		}
		if len(reps) == 0 {
			continue
		}
		n, err := cfg.Store.SealedReplace(ctx, reps)
		if err != nil {
			return fmt.Errorf("write %s: %w", col, err)
		}
		res.Resealed += n
		res.Changed += len(reps) - n
		if cfg.AfterBatchFunc != nil {
			if err := cfg.AfterBatchFunc(*res); err != nil {
				return fmt.Errorf("%w after %d values: %w", ErrStopped, res.Resealed, err)
			}
		}
	}
}
