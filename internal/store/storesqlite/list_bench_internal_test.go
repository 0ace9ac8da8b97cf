package storesqlite

import (
	"context"
	"testing"

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
	s, conn := benchStore(b, n, nil)
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
