package bench

import (
	"database/sql"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storesqlite"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// BenchmarkKeptSearch times the scale run's body search (a customer id, in
// one event of datasetCustomers) on the kept store, called on the store
// itself as the API calls it (a page of 50, the count capped at 10,000),
// so that a profile (-cpuprofile) shows the store's work alone; or the
// searches VOLLEY_BENCH_SEARCH names, separated by commas, one
// sub-benchmark each. The store is opened in place, not copied: the
// searches write nothing, but Open and Close run PRAGMA optimize, which may
// refresh the planner's statistics in it (as a node's start and stop on
// the store would). With VOLLEY_BENCH_SEARCH_NEWER=n, the store first
// gets n events more than it was built with (if it has fewer), all with
// the body the scale run ingests (realisticBody(-1), which names no
// customer of the build), and indexed: the scale run's store at its list
// step, whose newest events hold none of a search's candidates. They stay
// in the kept store: give it a copy.
//
//	VOLLEY_BENCH_KEPT_DIR=/var/tmp/kept10m VOLLEY_BENCH_KEPT_EVENTS=10000000 \
//	    go test -run '^$' -bench BenchmarkKeptSearch -benchtime 20x ./internal/bench
func BenchmarkKeptSearch(b *testing.B) {
	dir, events := keptDir(b)
	path := filepath.Join(dir, "volley.db")
	newest := keptNewest(b, path)
	st, err := storesqlite.Open(b.Context(), storesqlite.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if n := storetest.EnvInt(b, "VOLLEY_BENCH_SEARCH_NEWER", 0); n > 0 {
		addNewer(b, st, newest, events+n)
	}
	texts := []string{datasetCustomer(datasetCustomers / 2)}
	if v := os.Getenv("VOLLEY_BENCH_SEARCH"); v != "" {
		texts = strings.Split(v, ",")
	}
	for _, text := range texts {
		b.Run(text, func(b *testing.B) {
			p := store.EventListParams{ProjectID: newest.project, Search: text, Limit: 50,
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

// keptEvent is the kept store's newest event: its id, and its project and
// source, the only ones holding events.
type keptEvent struct{ id, project, source uint64 }

// keptNewest reads the kept store's newest event.
func keptNewest(b *testing.B, path string) keptEvent {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var e keptEvent
	if err := db.QueryRowContext(b.Context(), `SELECT id, project_id, source_id FROM events ORDER BY id DESC LIMIT 1`).
		Scan(&e.id, &e.project, &e.source); err != nil {
		b.Fatal(err)
	}
	return e
}

// addNewer adds events to the kept store st after its newest until the
// newest event id is upto, each with the scale run's ingest body and no
// delivery, created now, and indexes them.
func addNewer(b *testing.B, st *storesqlite.Store, newest keptEvent, upto int) {
	rng := rand.NewChaCha8([32]byte{1})
	body := realisticBody(-1, 1024)
	headers := http.Header{"Content-Type": {"application/json"}}
	for left := upto - int(newest.id); left > 0; left -= 5000 {
		batch := make([]store.NewEvent, min(left, 5000))
		for i := range batch {
			now := time.Now()
			uid, err := volley.NewEventID(rng, now)
			if err != nil {
				b.Fatal(err)
			}
			batch[i].Event = volley.Event{UID: uid, ProjectID: newest.project, SourceID: newest.source, Method: http.MethodPost,
				Headers: headers, Body: body, CreatedAt: now}
		}
		if _, err := st.EventInsert(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	storetest.IndexAll(b, st)
}
