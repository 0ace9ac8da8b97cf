package store

import (
	"context"
	"time"
)

// Payloads stores the zstd dictionaries event payloads are compressed with
// (package payload): one source's payloads share their keys, headers and
// much of their values, which a dictionary trained on them captures.
type Payloads interface {
	// PayloadDictsUsed reports whether the driver compresses new payloads
	// with their source's newest dictionary. When it does not, the other
	// methods still work but nothing needs them.
	PayloadDictsUsed() bool
	// PayloadDictInsert stores a dictionary of a source (its CreatedAt is
	// set by the caller); from then on the source's new payloads are
	// compressed with it. A dictionary never changes: an id already stored
	// is a *ConflictError, and a missing source is ErrNotFound.
	PayloadDictInsert(ctx context.Context, d *PayloadDict) error
	// PayloadDictGet returns a dictionary by its id.
	PayloadDictGet(ctx context.Context, id uint32) (*PayloadDict, error)
	// PayloadDictSources returns up to Limit sources of every project with
	// an id after After, by id, each with its newest dictionary's id, ratio
	// and time (zero when it has none) and, for a source without one,
	// whether it has at least MinEvents events (counted up to MinEvents
	// through an index, never further).
	PayloadDictSources(ctx context.Context, p PayloadDictSourcesParams) ([]PayloadDictSource, error)
	// PayloadSample returns the plain payloads of a source's newest events,
	// at most Limit of them, newest first, read through an index.
	PayloadSample(ctx context.Context, sourceID uint64, limit int) ([]PayloadSample, error)
}

// PayloadDict is a zstd dictionary trained on one source's payloads.
type PayloadDict struct {
	ID       uint32 // the dictionary's zstd id, unique in the store
	SourceID uint64
	Dict     []byte // the zstd dictionary, as payload.TrainDict built it
	// Ratio is the stored size of the training sample over its plain
	// size, compressed with this dictionary: what the trainer compares
	// newer payloads with to tell when to train again.
	Ratio     float64
	CreatedAt time.Time
}

// PayloadDictSourcesParams selects a page of PayloadDictSources.
type PayloadDictSourcesParams struct {
	After     uint64 // source id; 0 starts at the first
	Limit     int
	MinEvents int
}

// PayloadDictSource is a source as the dictionary trainer sees it.
type PayloadDictSource struct {
	SourceID      uint64
	DictID        uint32 // newest dictionary; 0 for none
	DictRatio     float64
	DictCreatedAt time.Time
	// Enough reports, for a source without a dictionary, that it has at
	// least MinEvents events.
	Enough bool
}

// PayloadSample is one event's payload in plain form.
type PayloadSample struct {
	Headers string // the JSON of the event's headers, as stored
	Body    []byte
}
