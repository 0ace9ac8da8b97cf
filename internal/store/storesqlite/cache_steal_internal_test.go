package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/volleyhq/volley/internal/store/storetest"
)

// TestReadsKeepTheWritersCache checks that a read of more pages than the
// 512 KiB read connections had, but fewer than readCacheKiB, leaves the
// write connection's cache as it was. Every connection shares one page
// cache group, whose oldest pages a full cache takes (see readCacheKiB):
// with 512 KiB readers this read took about 1.6 MiB of the writer's pages.
func TestReadsKeepTheWritersCache(t *testing.T) {
	if slots, _ := pageBuffer(); slots == 0 {
		t.Skip("SQLite's pages come from the allocator (VOLLEY_SQLITE_PAGE_MEMORY=malloc): readers keep 512 KiB")
	}
	ctx := t.Context()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "volley.db"), ReadConns: 1})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	// About 1.5 MiB of bodies (a page each) that do not compress, so stored as they are:
	// the writer's cache keeps the pages it wrote.
	conn := storetest.Graph(t, s)
	rng := rand.New(rand.NewPCG(1, 2))
	for batch := range 2 {
		events := storetest.Events(250, batch, conn, time.Now())
		for i := range events {
			body := make([]byte, 3000)
			for j := range body {
				body[j] = byte(rng.Uint32())
			}
			events[i].Event.Body, events[i].Deliveries = body, nil
		}
		if _, err := s.EventInsert(ctx, events); err != nil {
			t.Fatal(err)
		}
	}
	before := cacheUsed(t, s.write)
	var read int64
	if err := s.read.QueryRowContext(ctx, `SELECT sum(length(body)) FROM event_payloads`).Scan(&read); err != nil {
		t.Fatal(err)
	}
	if r := cacheUsed(t, s.read); r <= 1<<20 || r >= readCacheKiB<<10 {
		t.Fatalf("the read filled %d bytes of its cache; want a read past 1 MiB and within readCacheKiB", r)
	}
	// A few pages' slack: what the statements the test itself runs on
	// the writer move.
	if after := cacheUsed(t, s.write); after < before-16*pageMemoryPage {
		t.Errorf("the writer's cache held %d bytes before a read of %d bytes of bodies, %d after; want it kept", before, read, after)
	}
}

// cacheUsed is the bytes of pages in the cache of db's connection (one
// connection: the writer, or a store opened with one reader).
func cacheUsed(t testing.TB, db *sql.DB) int {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var used int
	err = c.Raw(func(dc any) error {
		st, ok := dc.(sqlite.DBStatus)
		if !ok {
			return fmt.Errorf("%T has no Status", dc)
		}
		used, _, err = st.Status(sqlite.DBStatusCacheUsed, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return used
}
