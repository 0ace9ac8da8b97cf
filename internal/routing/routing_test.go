package routing_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/routing"
	"github.com/volleyhq/volley/internal/seal"
	"github.com/volleyhq/volley/internal/signature"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/volley"
)

// countingStore counts the configuration reads that reach the store.
type countingStore struct {
	store.Config
	sources, dests atomic.Int64
}

func (c *countingStore) SourceGetByIngestionID(ctx context.Context, id string) (*volley.Source, error) {
	c.sources.Add(1)
	return c.Config.SourceGetByIngestionID(ctx, id)
}

func (c *countingStore) DestinationGetByID(ctx context.Context, id uint64) (*volley.Destination, error) {
	c.dests.Add(1)
	return c.Config.DestinationGetByID(ctx, id)
}

type fixture struct {
	st    *storesqlite.Store
	cs    *countingStore
	box   *seal.Box
	cache *routing.Cache
	now   *time.Time
	src   *volley.Source
	dst   *volley.Destination
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, storesqlite.Config{Path: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, _ := seal.NewBox(bytes.Repeat([]byte{1}, 32), rand.Reader)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	acct, err := st.AccountCreate(ctx, store.AccountCreateParams{Email: "a@b.c", Name: "A", PasswordHash: "x", OrgName: "o", OrgSlug: "o",
		Token: volley.APIToken{Kind: "api", Name: "t", Hash: []byte("h"), Sealed: []byte("s"), Prefix: "vk", CreatedAt: now}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := box.SealString("hunter2hunter2")
	src := &volley.Source{ProjectID: acct.Project.ID, Name: "s", Slug: "s", IngestionID: "src_x", Type: "webhook", Status: "active",
		AuthType: "api_key", AuthKeyName: "X-API-Key", AuthKey: key, CreatedAt: now, UpdatedAt: now}
	if err := st.SourceCreate(ctx, src); err != nil {
		t.Fatal(err)
	}
	secret, _ := signature.NewSecret(rand.Reader)
	sealed, _ := box.SealString(secret)
	dst := &volley.Destination{ProjectID: acct.Project.ID, Name: "d", URL: "http://127.0.0.1:1/", Status: "active",
		SigningSecret: sealed, CreatedAt: now, UpdatedAt: now}
	if err := st.DestinationCreate(ctx, dst); err != nil {
		t.Fatal(err)
	}
	for i, status := range []string{"enabled", "paused"} {
		d := *dst
		d.ID = 0
		if i > 0 {
			if err := st.DestinationCreate(ctx, &d); err != nil {
				t.Fatal(err)
			}
		} else {
			d = *dst
		}
		c := &volley.Connection{ProjectID: acct.Project.ID, SourceID: src.ID, DestinationID: d.ID, Name: status, Status: status, CreatedAt: now, UpdatedAt: now}
		if err := st.ConnectionCreate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{st: st, cs: &countingStore{Config: st}, box: box, now: &now, src: src, dst: dst}
	f.cache = routing.New(routing.Config{Store: f.cs, Box: box, TTL: time.Minute, NowFunc: func() time.Time { return *f.now }})
	return f
}

func TestSourceIsCachedWithOpenedSecretsAndRoutedConnections(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for range 3 {
		s, err := f.cache.Source(ctx, "src_x")
		if err != nil {
			t.Fatal(err)
		}
		if string(s.AuthKey) != "hunter2hunter2" || len(s.Connections) != 2 {
			t.Fatalf("source = %+v", s)
		}
	}
	if n := f.cs.sources.Load(); n != 1 {
		t.Fatalf("store read %d times, want 1", n)
	}
	// Unknown ids are cached as not found too.
	for range 2 {
		if _, err := f.cache.Source(ctx, "src_nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown source: %v", err)
		}
	}
	if n := f.cs.sources.Load(); n != 2 {
		t.Fatalf("store read %d times, want 2", n)
	}
	// Invalidate drops everything; the TTL bounds staleness.
	f.cache.Invalidate()
	f.cache.Source(ctx, "src_x")
	*f.now = f.now.Add(2 * time.Minute)
	f.cache.Source(ctx, "src_x")
	if n := f.cs.sources.Load(); n != 4 {
		t.Fatalf("store read %d times, want 4", n)
	}
}

func TestDisabledConnectionsAreNotRouted(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	conns, _ := f.st.ConnectionListBySource(ctx, f.src.ID)
	c := conns[1]
	c.Status = volley.ConnectionDisabled
	if err := f.st.ConnectionUpdate(ctx, &c); err != nil {
		t.Fatal(err)
	}
	s, err := f.cache.Source(ctx, "src_x")
	if err != nil || len(s.Connections) != 1 || s.Connections[0].Status != volley.ConnectionEnabled {
		t.Fatalf("routed connections = %+v, %v", s.Connections, err)
	}
}

func TestDestinationSigningKeysFollowRotation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	d, err := f.cache.Destination(ctx, f.dst.ID)
	if err != nil || len(d.SigningKeys) != 1 {
		t.Fatalf("keys = %v, %v", d, err)
	}
	// Rotate: the previous secret signs too, until its grace period ends.
	next, _ := signature.NewSecret(rand.Reader)
	sealed, _ := f.box.SealString(next)
	dst := *f.dst
	dst.PrevSigningSecret, dst.SigningSecret = dst.SigningSecret, sealed
	dst.PrevSecretExpiresAt = f.now.Add(time.Hour)
	if err := f.st.DestinationUpdate(ctx, &dst); err != nil {
		t.Fatal(err)
	}
	f.cache.Invalidate()
	d, _ = f.cache.Destination(ctx, f.dst.ID)
	want, _ := signature.ParseSecret(next)
	if len(d.SigningKeys) != 2 || !bytes.Equal(d.SigningKeys[0], want) {
		t.Fatalf("after rotation: %d keys", len(d.SigningKeys))
	}
	// The cache entry ends when the old secret expires, even within the TTL.
	*f.now = f.now.Add(time.Hour + time.Second)
	d, _ = f.cache.Destination(ctx, f.dst.ID)
	if len(d.SigningKeys) != 1 {
		t.Fatalf("after the grace period: %d keys", len(d.SigningKeys))
	}
	if n := f.cs.dests.Load(); n != 3 {
		t.Fatalf("store read %d times, want 3", n)
	}
}

func TestFiltersParsedWithTheSource(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	conns, _ := f.st.ConnectionListBySource(ctx, f.src.ID)
	c := conns[0]
	c.Filter = []byte(`{"headers":{"x-kind":"a"}}`)
	if err := f.st.ConnectionUpdate(ctx, &c); err != nil {
		t.Fatal(err)
	}
	s, err := f.cache.Source(ctx, "src_x")
	if err != nil || len(s.Filters) != len(s.Connections) || s.Filters[0] == nil || s.Filters[1] != nil || s.FilterBody {
		t.Fatalf("source filters = %+v, body %v, %v", s.Filters, s.FilterBody, err)
	}
	c.Filter = []byte(`{"body":{"x":1}}`)
	if err := f.st.ConnectionUpdate(ctx, &c); err != nil {
		t.Fatal(err)
	}
	f.cache.Invalidate()
	if s, _ = f.cache.Source(ctx, "src_x"); !s.FilterBody {
		t.Fatal("a body filter does not make the source decode bodies")
	}
}

func TestTransformationCompiledOncePerVersion(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	tr := &volley.Transformation{ProjectID: f.src.ProjectID, Name: "t", Code: "(r) => r", CreatedAt: *f.now, UpdatedAt: *f.now}
	if err := f.st.TransformationCreate(ctx, tr); err != nil {
		t.Fatal(err)
	}
	first, err := f.cache.Transformation(ctx, tr.ID)
	if err != nil || first.Program == nil {
		t.Fatalf("Transformation = %+v, %v", first, err)
	}
	f.cache.Invalidate()
	again, _ := f.cache.Transformation(ctx, tr.ID)
	if again.Program != first.Program {
		t.Error("unchanged code was compiled again")
	}
	tr.Code = "(r) => null"
	if err := f.st.TransformationUpdate(ctx, tr); err != nil {
		t.Fatal(err)
	}
	f.cache.Invalidate()
	changed, _ := f.cache.Transformation(ctx, tr.ID)
	if changed.Program == first.Program || changed.Code != "(r) => null" {
		t.Error("changed code was not compiled again")
	}
	if _, err := f.cache.Transformation(ctx, tr.ID+100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown transformation: %v", err)
	}
}
