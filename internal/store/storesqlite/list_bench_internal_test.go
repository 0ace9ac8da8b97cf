package storesqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
)

// BenchmarkEventListOffset measures an event page read at an offset half
// way into one project's VOLLEY_BENCH_OFFSET_EVENTS events (default
// 200,000): "keys" as EventList reads it (the offset skips index entries,
// storesql.listQuery), "joined" as it did before, the offset skipping rows
// of the page's whole select, each joined to its payload. ns/op is one
// page of 50.
//
//	VOLLEY_BENCH_OFFSET_EVENTS=200000 go test -run '^$' -bench BenchmarkEventListOffset ./internal/store/storesqlite
func BenchmarkEventListOffset(b *testing.B) {
	n := storetest.EnvInt(b, "VOLLEY_BENCH_OFFSET_EVENTS", 200_000)
	s, err := Open(context.Background(), Config{Path: filepath.Join(b.TempDir(), "volley.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conn := storetest.Graph(b, s)
	for first := 0; first < n; first += 5000 {
		events := storetest.Events(min(5000, n-first), first/5000, conn, time.Now())
		for j := range events {
			events[j].Deliveries = nil
		}
		if _, err := s.EventInsert(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
	p := store.EventListParams{ProjectID: conn.ProjectID, Limit: 50, Offset: n / 2}
	b.Run("keys", func(b *testing.B) {
		for b.Loop() {
			list, _, err := s.EventList(context.Background(), p)
			if err != nil || len(list) != p.Limit {
				b.Fatalf("EventList: %d events, %v", len(list), err)
			}
		}
	})
	joined := `SELECT ` + eventCols + eventFrom + ` WHERE e.project_id = ? ORDER BY e.created_at DESC, e.id DESC LIMIT ? OFFSET ?`
	b.Run("joined", func(b *testing.B) {
		for b.Loop() {
			rows, err := s.read.QueryContext(context.Background(), joined, p.ProjectID, p.Limit, p.Offset)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for rows.Next() {
				got++
			}
			if err := rows.Close(); err != nil || got != p.Limit {
				b.Fatalf("joined page: %d events, %v", got, err)
			}
		}
	})
}
