// Package routing caches the configuration that every ingested request and
// every delivery attempt needs (a source with its routed connections, a
// destination with its opened signing keys, a connection), so that the hot
// paths do not read the database for it. Entries live for a short TTL and
// are dropped at once by Invalidate, which the management API calls after
// every configuration change.
package routing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/volleyhq/volley/internal/filter"
	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/signature"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/transform"
	"github.com/volleyhq/volley/internal/volley"
)

// Source is a source ready for ingestion: secrets opened, routed
// connections attached.
type Source struct {
	volley.Source
	AuthKey       []byte // opened auth key (password or API key)
	WebhookSecret []byte // opened signature secret
	// Connections are the enabled and paused connections, by id, with their
	// destinations' status.
	Connections []volley.Connection
	// Filters are the connections' parsed filters, by the index of the
	// connection; nil for a connection without one.
	Filters []*filter.Filter
	// FilterBody reports whether some filter looks at the body, so that
	// ingestion decodes a body at most once, and only then.
	FilterBody bool
	// OrderingKeys are the parsed ordering keys of the FIFO connections,
	// by the index of the connection; nil for a connection without
	// ordering.
	OrderingKeys []*volley.OrderingKeyPath
}

// Transformation is a transformation with its compiled code.
type Transformation struct {
	volley.Transformation
	Program *transform.Program
}

// Destination is a destination ready for delivery.
type Destination struct {
	volley.Destination
	// SigningKeys are the Standard Webhooks HMAC keys: the current secret's
	// first, then the previous one while its grace period lasts.
	SigningKeys [][]byte
}

// Config configures a Cache.
type Config struct {
	Store store.Config
	Box   *seal.Box
	// TTL bounds how stale an entry may be when another node changed the
	// configuration; 0 means 2s.
	TTL time.Duration
	// NowFunc returns the current time; nil means time.Now.
	NowFunc func() time.Time
}

// Cache is the configuration cache. It is safe for concurrent use.
type Cache struct {
	cfg Config

	mu      sync.Mutex
	gen     uint64 // bumped by Invalidate; loads from an older generation are not kept
	sources map[string]entry[*Source]
	dests   map[uint64]entry[*Destination]
	conns   map[uint64]entry[*volley.Connection]
	trans   map[uint64]entry[*Transformation]
	// programs keeps compiled code across invalidations: code is compiled
	// once per version, not once per TTL.
	programs map[uint64]compiled
}

type compiled struct {
	code string
	prog *transform.Program
}

type entry[T any] struct {
	v       T
	err     error // store.ErrNotFound is cached too, so unknown ids cost no query
	expires time.Time
}

// New returns an empty cache.
func New(cfg Config) *Cache {
	if cfg.TTL == 0 {
		cfg.TTL = 2 * time.Second
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	c := &Cache{cfg: cfg, programs: map[uint64]compiled{}}
	c.reset()
	return c
}

func (c *Cache) reset() {
	c.sources = map[string]entry[*Source]{}
	c.dests = map[uint64]entry[*Destination]{}
	c.conns = map[uint64]entry[*volley.Connection]{}
	c.trans = map[uint64]entry[*Transformation]{}
}

// Invalidate drops every entry.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.gen++
	c.reset()
	c.mu.Unlock()
}

// lookup returns a fresh cached entry of m, or loads one with load and keeps
// it unless the cache was invalidated meanwhile. Only store.ErrNotFound is
// cached as an error; other errors are returned and retried next time.
func lookup[K comparable, V any](c *Cache, m func() map[K]entry[V], key K, load func() (V, time.Time, error)) (V, error) {
	now := c.cfg.NowFunc()
	c.mu.Lock()
	e, ok := m()[key]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.v, e.err
	}
	v, expires, err := load()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	if limit := now.Add(c.cfg.TTL); expires.IsZero() || expires.After(limit) {
		expires = limit
	}
	c.mu.Lock()
	if c.gen == gen {
		m()[key] = entry[V]{v: v, err: err, expires: expires}
	}
	c.mu.Unlock()
	return v, err
}

// Source returns the source of an ingestion id (store.ErrNotFound when
// there is none).
func (c *Cache) Source(ctx context.Context, ingestionID string) (*Source, error) {
	return lookup(c, func() map[string]entry[*Source] { return c.sources }, ingestionID, func() (*Source, time.Time, error) {
		s, err := c.cfg.Store.SourceGetByIngestionID(ctx, ingestionID)
		if err != nil {
			return nil, time.Time{}, err
		}
		out := &Source{Source: *s}
		if out.AuthKey, err = c.cfg.Box.Open(s.AuthKey); err != nil {
			return nil, time.Time{}, fmt.Errorf("source %d: open auth key: %w", s.ID, err)
		}
		if out.WebhookSecret, err = c.cfg.Box.Open(s.WebhookSecret); err != nil {
			return nil, time.Time{}, fmt.Errorf("source %d: open webhook secret: %w", s.ID, err)
		}
		conns, err := c.cfg.Store.ConnectionListBySource(ctx, s.ID)
		if err != nil {
			return nil, time.Time{}, err
		}
		for _, cn := range conns {
			if !cn.Routed() {
				continue
			}
			f, err := filter.Parse(cn.Filter)
			if err != nil {
				// Filters are validated when saved: this one was stored by
				// something else. Failing the ingest loses nothing (the
				// client is told to retry); routing around the filter would
				// deliver what it was written to stop.
				return nil, time.Time{}, fmt.Errorf("connection %d: stored filter: %w", cn.ID, err)
			}
			var key *volley.OrderingKeyPath
			if cn.Ordering == volley.OrderingFIFO {
				// Validated when saved, like filters, and refused the same
				// way: ignoring it would break the order it promises.
				if key, err = volley.ParseOrderingKey(cn.OrderingKey); err != nil {
					return nil, time.Time{}, fmt.Errorf("connection %d: stored ordering key: %w", cn.ID, err)
				}
			}
			out.Connections = append(out.Connections, cn)
			out.OrderingKeys = append(out.OrderingKeys, key)
			out.Filters = append(out.Filters, f)
			out.FilterBody = out.FilterBody || f.UsesBody()
		}
		return out, time.Time{}, nil
	})
}

// Destination returns a destination by id with its signing keys.
func (c *Cache) Destination(ctx context.Context, id uint64) (*Destination, error) {
	return lookup(c, func() map[uint64]entry[*Destination] { return c.dests }, id, func() (*Destination, time.Time, error) {
		d, err := c.cfg.Store.DestinationGetByID(ctx, id)
		if err != nil {
			return nil, time.Time{}, err
		}
		out := &Destination{Destination: *d}
		key, err := c.signingKey(d.SigningSecret)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("destination %d: %w", id, err)
		}
		out.SigningKeys = [][]byte{key}
		var expires time.Time
		if len(d.PrevSigningSecret) > 0 && d.PrevSecretExpiresAt.After(c.cfg.NowFunc()) {
			prev, err := c.signingKey(d.PrevSigningSecret)
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("destination %d: previous secret: %w", id, err)
			}
			out.SigningKeys = append(out.SigningKeys, prev)
			expires = d.PrevSecretExpiresAt // stop signing with it on time
		}
		return out, expires, nil
	})
}

func (c *Cache) signingKey(sealed []byte) ([]byte, error) {
	secret, err := c.cfg.Box.OpenString(sealed)
	if err != nil {
		return nil, fmt.Errorf("open signing secret: %w", err)
	}
	return signature.ParseSecret(secret)
}

// Connection returns a connection by id.
func (c *Cache) Connection(ctx context.Context, id uint64) (*volley.Connection, error) {
	return lookup(c, func() map[uint64]entry[*volley.Connection] { return c.conns }, id, func() (*volley.Connection, time.Time, error) {
		cn, err := c.cfg.Store.ConnectionGetByID(ctx, id)
		return cn, time.Time{}, err
	})
}

// Transformation returns a transformation by id with its compiled code
// (store.ErrNotFound when there is none). Code is compiled once per
// version.
func (c *Cache) Transformation(ctx context.Context, id uint64) (*Transformation, error) {
	return lookup(c, func() map[uint64]entry[*Transformation] { return c.trans }, id, func() (*Transformation, time.Time, error) {
		t, err := c.cfg.Store.TransformationGetByID(ctx, id)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				c.mu.Lock()
				delete(c.programs, id)
				c.mu.Unlock()
			}
			return nil, time.Time{}, err
		}
		c.mu.Lock()
		p, ok := c.programs[id]
		c.mu.Unlock()
		if !ok || p.code != t.Code {
			prog, err := transform.Compile(t.Code)
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("transformation %d: %w", id, err)
			}
			p = compiled{code: t.Code, prog: prog}
			c.mu.Lock()
			c.programs[id] = p
			c.mu.Unlock()
		}
		return &Transformation{Transformation: *t, Program: p.prog}, time.Time{}, nil
	})
}
