// Package trainer gives busy sources a zstd dictionary trained on their own
// payloads, in the background, so that the store keeps their new payloads
// in fewer bytes (package payload; about 0.57 of the size zstd reaches
// alone on 1 KiB JSON webhooks).
//
// A pass walks every source by id, a page at a time. A source without a
// dictionary gets one once it has MinEvents events: the trainer reads the
// bodies and headers of its newest Sample events through an index, trains
// on all but the newest fifth, measures the ratio the dictionary reaches on
// that fifth (stored over plain bytes) and stores both, in one short
// transaction of its own. Ingestion never waits for any of it: reads go to
// the read pool, training is CPU work outside any transaction, and the
// store picks the new dictionary up for the next payloads it writes.
//
// A source whose payloads change shape (a provider's new API version) would
// keep compressing against an outdated dictionary. So a dictionary older
// than RetrainAge is checked, at most once per RetrainAge: the newest Check
// payloads are compressed with it, and when they keep more than Degraded
// times the ratio it was trained to, the source gets a new dictionary.
// Older ones stay: payloads compressed with them still need them.
package trainer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/volleyhq/volley/internal/clock"
	"github.com/volleyhq/volley/internal/periodic"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/payload"
)

// Store is what the trainer reads and writes.
type Store interface {
	PayloadDictSources(ctx context.Context, p store.PayloadDictSourcesParams) ([]store.PayloadDictSource, error)
	PayloadSample(ctx context.Context, sourceID uint64, limit int) ([]store.PayloadSample, error)
	PayloadDictInsert(ctx context.Context, d *store.PayloadDict) error
}

// Config configures a Trainer.
type Config struct {
	Store Store
	// MinEvents is how many events a source needs before it gets a
	// dictionary; 0 means 1,000.
	MinEvents int
	// Sample is how many of a source's newest payloads a training reads;
	// 0 means 2,000 (about 2 MiB of 1 KiB bodies, and a second of CPU).
	Sample int
	// Check is how many newest payloads a check of an older dictionary
	// compresses; 0 means 200.
	Check int
	// RetrainAge is the age from which a dictionary is checked, and how
	// often; 0 means 24h.
	RetrainAge time.Duration
	// Degraded is the factor over its trained ratio at which a dictionary
	// is replaced; 0 means 1.25 (payloads keep 25% more bytes than when it
	// was trained).
	Degraded float64
	// Interval is the wait between passes; 0 means 10m.
	Interval time.Duration
	// Page bounds the sources one query of a pass reads; 0 means 100.
	Page   int
	Clock  clock.Clock
	Rand   *rand.Rand // picks dictionary ids; nil means a random seed
	Logger *slog.Logger
}

// Trainer trains payload dictionaries in the background.
type Trainer struct {
	cfg     Config
	checked map[uint64]time.Time // source → when its dictionary was last checked; one goroutine at a time
	loop    *periodic.Loop
}

// New returns a Trainer; Start runs it.
func New(cfg Config) *Trainer {
	if cfg.MinEvents <= 0 {
		cfg.MinEvents = 1000
	}
	if cfg.Sample <= 0 {
		cfg.Sample = 2000
	}
	if cfg.Check <= 0 {
		cfg.Check = 200
	}
	if cfg.RetrainAge <= 0 {
		cfg.RetrainAge = 24 * time.Hour
	}
	if cfg.Degraded <= 0 {
		cfg.Degraded = 1.25
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Minute
	}
	if cfg.Page <= 0 {
		cfg.Page = 100
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Trainer{cfg: cfg, checked: map[uint64]time.Time{}}
	t.loop = periodic.New(cfg.Clock, t.round)
	return t
}

// Start runs passes, the first at once, until Stop.
func (t *Trainer) Start() { t.loop.Start() }

// Stop ends the trainer, cancelling the training under way, and waits for
// it.
func (t *Trainer) Stop() { t.loop.Stop() }

func (t *Trainer) round(ctx context.Context) time.Duration {
	if _, err := t.Pass(ctx); err != nil && ctx.Err() == nil {
		t.cfg.Logger.Error("payload dictionary pass", "err", err)
	}
	return t.cfg.Interval
}

// Pass walks every source once and trains the dictionaries due; it
// returns how many it stored. A source that fails is logged and left for
// the next pass; the walk goes on.
func (t *Trainer) Pass(ctx context.Context) (int, error) {
	trained := 0
	for after := uint64(0); ; {
		page, err := t.cfg.Store.PayloadDictSources(ctx, store.PayloadDictSourcesParams{After: after, Limit: t.cfg.Page,
			MinEvents: t.cfg.MinEvents})
		if err != nil {
			return trained, err
		}
		for _, src := range page {
			ok, err := t.source(ctx, src)
			if ctx.Err() != nil {
				return trained, ctx.Err()
			}
			if err != nil {
				t.cfg.Logger.Warn("payload dictionary", "source_id", src.SourceID, "err", err)
			}
			if ok {
				trained++
			}
		}
		if len(page) < t.cfg.Page {
			return trained, nil
		}
		after = page[len(page)-1].SourceID
	}
}

// source trains a dictionary for src if it is due one, and reports
// whether it stored one.
func (t *Trainer) source(ctx context.Context, src store.PayloadDictSource) (bool, error) {
	now := t.cfg.Clock.Now()
	if src.DictID == 0 {
		if !src.Enough {
			return false, nil
		}
		return t.train(ctx, src.SourceID, now)
	}
	if now.Sub(src.DictCreatedAt) < t.cfg.RetrainAge || now.Sub(t.checked[src.SourceID]) < t.cfg.RetrainAge {
		return false, nil
	}
	t.checked[src.SourceID] = now
	sample, err := t.cfg.Store.PayloadSample(ctx, src.SourceID, t.cfg.Check)
	if err != nil {
		return false, err
	}
	ratio, err := payload.DictRatio(src.DictID, bodies(sample))
	if err != nil {
		return false, fmt.Errorf("check dictionary %d: %w", src.DictID, err)
	}
	if ratio <= src.DictRatio*t.cfg.Degraded {
		return false, nil
	}
	t.cfg.Logger.Info("payload dictionary degraded", "source_id", src.SourceID, "dict_id", src.DictID,
		"trained_ratio", src.DictRatio, "ratio", ratio)
	return t.train(ctx, src.SourceID, now)
}

func bodies(sample []store.PayloadSample) [][]byte {
	out := make([][]byte, len(sample))
	for i, p := range sample {
		out[i] = p.Body
	}
	return out
}

// train trains and stores a new dictionary of a source.
func (t *Trainer) train(ctx context.Context, sourceID uint64, now time.Time) (bool, error) {
	sample, err := t.cfg.Store.PayloadSample(ctx, sourceID, t.cfg.Sample)
	if err != nil {
		return false, err
	}
	// The newest fifth measures the dictionary the rest trains: a ratio
	// measured on the training set itself would flatter it, and later
	// checks would find it degraded too soon.
	held := len(sample) / 5
	var in [][]byte
	for _, p := range sample[held:] {
		in = append(in, p.Body, []byte(p.Headers))
	}
	if len(in) < payload.MinDictSamples {
		return false, nil // deleted since it was counted (retention)
	}
	// zstd reserves ids below 32768; the store's primary key catches the
	// rare clash, and the next pass tries another.
	id := 32768 + uint32(t.cfg.Rand.Int32N(1<<31-32768))
	raw, err := payload.TrainDict(in, id)
	if err != nil {
		return false, err
	}
	if _, err := payload.RegisterDict(raw); err != nil {
		return false, err
	}
	ratio, err := payload.DictRatio(id, bodies(sample[:held]))
	if err != nil {
		return false, err
	}
	d := &store.PayloadDict{ID: id, SourceID: sourceID, Dict: raw, Ratio: ratio, CreatedAt: now}
	if err := t.cfg.Store.PayloadDictInsert(ctx, d); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil // the source was deleted meanwhile
		}
		return false, err
	}
	t.cfg.Logger.Info("payload dictionary trained", "source_id", sourceID, "dict_id", id, "size", len(raw),
		"payloads", len(sample), "ratio", ratio)
	return true, nil
}
