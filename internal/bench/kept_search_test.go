package bench

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
)

// BenchmarkKeptSearch times the scale run's body search (a customer id, in
// one event of datasetCustomers) on the kept store, called on the store
// itself as the API calls it (a page of 50, the count capped at 10,000),
// so that a profile (-cpuprofile) shows the store's work alone; or the
// searches VOLLEY_BENCH_SEARCH names, separated by commas, one
// sub-benchmark each. The store is opened in place, not copied: the
// searches write nothing, but Open and Close run PRAGMA optimize, which may
// refresh the planner's statistics in it (as a node's start and stop on
// the store would):
//
//	VOLLEY_BENCH_KEPT_DIR=/var/tmp/kept10m VOLLEY_BENCH_KEPT_EVENTS=10000000 \
//	    go test -run '^$' -bench BenchmarkKeptSearch -benchtime 20x ./internal/bench
func BenchmarkKeptSearch(b *testing.B) {
	dir, _ := keptDir(b)
	path := filepath.Join(dir, "volley.db")
	project := keptProject(b, path)
	st, err := storesqlite.Open(b.Context(), storesqlite.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	texts := []string{datasetCustomer(datasetCustomers / 2)}
	if v := os.Getenv("VOLLEY_BENCH_SEARCH"); v != "" {
		texts = strings.Split(v, ",")
	}
	for _, text := range texts {
		b.Run(text, func(b *testing.B) {
			p := store.EventListParams{ProjectID: project, Search: text, Limit: 50,
				Page: store.PageParams{CountLimit: 10_000}}
			list, total, err := st.EventList(b.Context(), p) // warms the caches, as the scale run's first call
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%q: a page of %d, total %d (estimated %v)", p.Search, len(list), total.N, total.Estimated)
			for b.Loop() {
				if _, _, err := st.EventList(b.Context(), p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// keptProject returns the id of the kept store's project, the only one
// holding events.
func keptProject(b *testing.B, path string) uint64 {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var id uint64
	if err := db.QueryRowContext(b.Context(), `SELECT project_id FROM events ORDER BY id DESC LIMIT 1`).Scan(&id); err != nil {
		b.Fatal(err)
	}
	return id
}
