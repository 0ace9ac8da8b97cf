package storesqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/volleyhq/volley/internal/searchindex"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storetest"
	"github.com/volleyhq/volley/internal/volley"
)

// searchBenchWords is the free text of searchBody.
var searchBenchWords = []string{"invoice", "paid", "thank", "you", "for", "choosing", "our", "service", "plan", "pro",
	"team", "enterprise", "starter", "seats", "storage", "bandwidth", "support", "priority", "annual", "renewal",
	"discount", "coupon", "applied", "credit", "balance", "account", "customer", "billing", "portal", "card", "ending"}

// searchBody is event i's body, about 620 bytes: a random provider id,
// customer cus_<i> (one event), account acct_<i%1000> (one in a thousand,
// as volley bench's customers), region r<i%100> (1 %), a plan (a quarter)
// and twenty words of searchBenchWords.
func searchBody(i int) []byte {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	b := fmt.Appendf(nil, `{"id":"evt_%016x","type":"invoice.paid","customer":"cus_%07d","account":"acct_%04d",`+
		`"email":"user%d@example%d.com","plan":"%s","region":"r%02d","amount":%d,"note":"`, rng.Uint64(), i, i%1000,
		rng.IntN(1e6), rng.IntN(100), []string{"starter", "pro", "team", "enterprise"}[i%4], i%100, rng.IntN(100000))
	for j := range 20 {
		if j > 0 {
			b = append(b, ' ')
		}
		b = append(b, searchBenchWords[rng.IntN(len(searchBenchWords))]...)
	}
	return append(b, `"}`...)
}

// benchStore opens a store in a temporary directory, closed when the
// benchmark ends, with one connection (storetest.Graph) and n events of
// its source without deliveries, event i's body body(i) (nil: the
// storetest body), inserted 5,000 at a time.
func benchStore(b *testing.B, n int, body func(i int) []byte) (*Store, *volley.Connection) {
	b.Helper()
	return benchStoreAt(b, filepath.Join(b.TempDir(), "volley.db"), n, body)
}

// benchStoreAt is benchStore with the store's file at path.
func benchStoreAt(b *testing.B, path string, n int, body func(i int) []byte) (*Store, *volley.Connection) {
	b.Helper()
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	conn := storetest.Graph(b, s)
	for first := 0; first < n; first += 5000 {
		events := storetest.Events(min(5000, n-first), first/5000, conn, time.Now())
		for j := range events {
			// Events numbers a batch's uids by its size: a last, smaller
			// batch would repeat some.
			events[j].Event.UID = fmt.Sprintf("evt_%022d", first+j)
			if body != nil {
				events[j].Event.Body = body(first + j)
			}
			events[j].Deliveries = nil
		}
		if _, err := s.EventInsert(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
	return s, conn
}

// BenchmarkSearch measures body searches of one project of
// VOLLEY_BENCH_SEARCH_EVENTS events (default 200,000; searchBody), first
// with nothing indexed (as the store searched before the index: every
// body read), then indexed; the indexing rate is logged. ns/op is one
// list call (the count, capped at 10,000, and a page of 50). With
// VOLLEY_BENCH_SEARCH_INDEXED_ONLY=1 only the indexed searches run.
//
//	VOLLEY_BENCH_SEARCH_EVENTS=200000 go test -run '^$' -bench BenchmarkSearch -benchtime 3x ./internal/store/storesqlite
//
// VOLLEY_BENCH_SEARCH_DB=<file> keeps the store in that file: built and
// indexed there the first time, reused after (10M events take a quarter
// of an hour to build), so that each change is measured on the same
// store. A reused store is indexed already: only the indexed searches run.
func BenchmarkSearch(b *testing.B) {
	n := storetest.EnvInt(b, "VOLLEY_BENCH_SEARCH_EVENTS", 200_000)
	path := os.Getenv("VOLLEY_BENCH_SEARCH_DB")
	if _, err := os.Stat(path); path != "" && err == nil {
		s, project := reuseSearchStore(b, path, n)
		benchIndex(b, s) // done, unless its build was stopped while indexing
		runSearches(b, s, project, n, "indexed")
		return
	}
	if path == "" {
		path = filepath.Join(b.TempDir(), "volley.db")
	}
	start := time.Now()
	s, conn := benchStoreAt(b, path, n, searchBody)
	b.Logf("stored %d events in %v", n, time.Since(start).Round(time.Millisecond))
	if os.Getenv("VOLLEY_BENCH_SEARCH_INDEXED_ONLY") == "" {
		runSearches(b, s, conn.ProjectID, n, "unindexed")
	}
	benchIndex(b, s)
	runSearches(b, s, conn.ProjectID, n, "indexed")
}

// benchIndex fills s's search index in batches of searchindex.DefaultBatch
// (a node's) and logs its rate.
func benchIndex(b *testing.B, s *Store) { benchIndexBy(b, s, searchindex.DefaultBatch) }

// benchIndexBy is benchIndex in batches of batch; it returns how long the
// fill took.
func benchIndexBy(b *testing.B, s *Store, batch int) time.Duration {
	start := time.Now()
	var indexed int
	for {
		res, err := s.SearchIndex(context.Background(), batch)
		if err != nil {
			b.Fatal(err)
		}
		indexed += res.Indexed
		if res.Done {
			break
		}
	}
	took := time.Since(start)
	b.Logf("indexed %d events in %v: %.0f events/s", indexed, took.Round(time.Millisecond), float64(indexed)/took.Seconds())
	return took
}

// runSearches runs BenchmarkSearch's searches of project in s, one
// sub-benchmark each, named phase/search. n is the store's events.
func runSearches(b *testing.B, s *Store, project uint64, n int, phase string) {
	searches := []struct{ name, text string }{
		{"rare", fmt.Sprintf("cus_%07d", n/2)}, // one event
		{"one_percent", "r42"},                 // one word
		{"two_words", "r42 pro"},               // both words: a quarter of r42, bodies checked
		// Two words, one in every body: volley bench --scale's body search.
		{"per_mille", "acct_0042"},
		{"common", "invoice"}, // every event: a walk
	}
	for _, q := range searches {
		b.Run(phase+"/"+q.name, func(b *testing.B) {
			p := store.EventListParams{ProjectID: project, Search: q.text, Limit: 50}
			p.Page.CountLimit = 10_000
			for b.Loop() {
				if _, _, err := s.EventList(context.Background(), p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reuseSearchStore opens the store BenchmarkSearch kept in path, which
// must hold n events, and returns it and its project. It checks the
// newest event's id, not a count: the benchmark's stores lose no event,
// and counting 10M rows took 10 s of every run on a kept store.
func reuseSearchStore(b *testing.B, path string, n int) (*Store, uint64) {
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var events int64
	var project uint64
	if err := s.read.QueryRowContext(context.Background(), `SELECT coalesce((SELECT max(id) FROM events), 0), (SELECT max(project_id) FROM events)`).Scan(&events, &project); err != nil {
		b.Fatal(err)
	}
	if events != int64(n) {
		b.Fatalf("%s holds events up to id %d, not VOLLEY_BENCH_SEARCH_EVENTS=%d: remove it to build another", path, events, n)
	}
	b.Logf("reusing the store in %s", path)
	return s, project
}

// BenchmarkIngestIndexer measures ingestion into a new store, in
// transactions of 16 events as group commit writes them, with the search
// indexer off and running (searchindex, its defaults) beside it:
// VOLLEY_BENCH_INGEST_EVENTS events (default 60,000), reported as the rate
// of the first and the last third, so that a rate that falls as the store
// (and its index) grows shows.
//
//	go test -run '^$' -bench BenchmarkIngestIndexer -benchtime 1x ./internal/store/storesqlite
func BenchmarkIngestIndexer(b *testing.B) {
	n := storetest.EnvInt(b, "VOLLEY_BENCH_INGEST_EVENTS", 60_000)
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "indexer_off", true: "indexer_on"}[on], func(b *testing.B) {
			for b.Loop() {
				s, err := Open(context.Background(), Config{Path: filepath.Join(b.TempDir(), "volley.db")})
				if err != nil {
					b.Fatal(err)
				}
				conn := storetest.Graph(b, s)
				var x *searchindex.Indexer
				if on {
					x = searchindex.New(searchindex.Config{Store: s})
					x.Start()
				}
				third := n / 3
				marks := []time.Time{time.Now()}
				for i := 0; i < n; i += 16 {
					events := storetest.Events(16, i/16, conn, time.Time{})
					for j := range events {
						events[j].Event.Body = searchBody(i + j)
					}
					if _, err := s.EventInsert(context.Background(), events); err != nil {
						b.Fatal(err)
					}
					if (i+16)%third < 16 {
						marks = append(marks, time.Now())
					}
				}
				if x != nil {
					x.Stop()
				}
				if len(marks) >= 4 {
					b.ReportMetric(float64(third)/marks[1].Sub(marks[0]).Seconds(), "first_events/s")
					b.ReportMetric(float64(third)/marks[3].Sub(marks[2]).Seconds(), "last_events/s")
				}
				var pending int64
				if err := s.read.QueryRowContext(context.Background(), `SELECT count(*) FROM events
					WHERE id > (SELECT indexed_through FROM search_index)`).Scan(&pending); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(pending), "unindexed_at_end")
				s.Close()
			}
		})
	}
}
