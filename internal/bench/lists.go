package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/volleyhq/volley"
	"github.com/volleyhq/volley/internal/server"
	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/storepg"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/store/storesqlite" // also registers the "sqlite" database/sql driver
)

// listBatch is how many events phase (d) writes per EventInsert.
const listBatch = 2000

// listStore is the store phase (d) builds, opened as often as the phase
// needs.
type listStore struct {
	desc      string
	exclusive bool // the store belongs to this process (SQLite)
	open      func(context.Context) (store.Store, error)
	// openBulk, when set, opens the store for prepareStore's build instead
	// of open: PostgreSQL with the build's own session settings
	// (bulkSessionURL).
	openBulk func(context.Context) (store.Store, error)
	// finishBatch is datasetConfig.FinishBatch for the builds on this store.
	finishBatch int
	// planner prepares what the query planner knows after the build, the
	// way a running installation would have it, and describes it.
	planner func(context.Context) (string, error)
	// checkpoint, when set, writes the server's dirty buffers back
	// (PostgreSQL's CHECKPOINT; settleDisk).
	checkpoint func(context.Context) error
	// env points a `volley serve` child at the store.
	env []string
	// size is the store's size on disk in bytes: SQLite's file and WAL, or
	// PostgreSQL's tables with their indexes and TOAST.
	size    func(context.Context) (int64, error)
	cleanup func()
}

// newListStore prepares an empty store: SQLite in a temporary directory,
// or a fresh schema of the PostgreSQL database at dbURL.
func newListStore(ctx context.Context, dbURL string) (*listStore, error) {
	if dbURL != "" {
		schemaURL, schema, drop, err := freshSchema(ctx, dbURL)
		if err != nil {
			return nil, err
		}
		bulkURL, err := bulkSessionURL(schemaURL)
		if err != nil {
			drop()
			return nil, err
		}
		settings, err := serverSettings(ctx, dbURL)
		if err != nil {
			drop()
			return nil, err
		}
		return &listStore{
			desc: "PostgreSQL (fresh schema; " + settings + ")",
			open: func(ctx context.Context) (store.Store, error) {
				return storepg.Open(ctx, storepg.Config{URL: schemaURL})
			},
			openBulk: func(ctx context.Context) (store.Store, error) {
				return storepg.Open(ctx, storepg.Config{URL: bulkURL})
			},
			finishBatch: pgFinishBatch,
			planner: func(ctx context.Context) (string, error) {
				// Autovacuum vacuums and analyses a table that grew this
				// much (inserts alone trigger it since PostgreSQL 13)
				// within a minute or so; doing it now makes the run
				// independent of when it gets to it. The vacuum matters
				// to plans: it sets the visibility map, without which an
				// index-only scan reads every row's heap page too.
				if err := pgExec(ctx, schemaURL, `VACUUM (ANALYZE) events, event_payloads, deliveries, attempts`); err != nil {
					return "", fmt.Errorf("bench: vacuum: %w", err)
				}
				return "VACUUM (ANALYZE) of events, event_payloads, deliveries and attempts after the build (what autovacuum does)", nil
			},
			checkpoint: func(ctx context.Context) error { return pgExec(ctx, schemaURL, `CHECKPOINT`) },
			env:        []string{"VOLLEY_DATABASE_URL=" + schemaURL},
			size:       func(ctx context.Context) (int64, error) { return schemaSize(ctx, dbURL, schema) },
			cleanup:    drop,
		}, nil
	}
	dir, err := os.MkdirTemp("", "volley-bench-lists-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "volley.db")
	return &listStore{
		desc:      "SQLite (WAL; synchronous=FULL for acknowledged writes) in " + dir,
		exclusive: true,
		open: func(ctx context.Context) (store.Store, error) {
			return storesqlite.Open(ctx, storesqlite.Config{Path: path})
		},
		planner: func(ctx context.Context) (string, error) {
			// The store was reopened after the build, as `volley serve`
			// would be: its PRAGMA optimize at start decides whether
			// statistics exist. Say which, since plans can depend on it.
			return sqliteStats(ctx, path)
		},
		env:     []string{"VOLLEY_DATA_DIR=" + dir},
		size:    func(context.Context) (int64, error) { return fileSizes(path, path+"-wal") },
		cleanup: func() { os.RemoveAll(dir) },
	}, nil
}

// fileSizes is the total size of the files that exist among paths.
func fileSizes(paths ...string) (int64, error) {
	var n int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("bench: store size: %w", err)
		}
		n += fi.Size()
	}
	return n, nil
}

// sqliteStats describes the planner statistics of the events table.
func sqliteStats(ctx context.Context, path string) (string, error) {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'`).Scan(&n); err != nil {
		return "", fmt.Errorf("bench: read planner statistics: %w", err)
	}
	if n == 0 {
		return "none (no sqlite_stat1 table)", nil
	}
	var stat string
	err = db.QueryRowContext(ctx, `SELECT stat FROM sqlite_stat1 WHERE tbl = 'events' AND idx = 'events_project_created'`).Scan(&stat)
	if errors.Is(err, sql.ErrNoRows) {
		return "sqlite_stat1 exists, nothing for events", nil
	}
	if err != nil {
		return "", fmt.Errorf("bench: read planner statistics: %w", err)
	}
	return fmt.Sprintf("sqlite_stat1 for events (events_project_created %q)", stat), nil
}

// startServer runs an in-process node on st, listening on a free loopback
// port, with the bench's admin token.
func startServer(ctx context.Context, st store.Store, key []byte, exclusive bool) (*server.Server, error) {
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Store: st, SecretKey: key, ExclusiveStore: exclusive})
	if err != nil {
		return nil, err
	}
	if _, err := srv.Bootstrap(ctx, server.AdminConfig{Token: benchToken}); err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	return srv, nil
}

// listGraph is the configuration of the dataset's project.
type listGraph struct {
	projectID uint64
	routes    []datasetRoute
}

// setupListGraph creates two sources, each connected to a destination of
// its own. Nothing is ever delivered: the destinations are unreachable and
// the dataset leaves nothing due during a run.
func setupListGraph(ctx context.Context, api *volley.Client) (*listGraph, error) {
	projects, err := api.ListProjectsContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	g := &listGraph{projectID: projects[0].ID}
	for _, name := range []string{"shop", "billing"} {
		src, err := api.CreateSourceContext(ctx, g.projectID, volley.CreateSourceRequest{Name: name})
		if err != nil {
			return nil, fmt.Errorf("create source: %w", err)
		}
		dst, err := api.CreateDestinationContext(ctx, g.projectID, volley.CreateDestinationRequest{Name: name, URL: "http://127.0.0.1:9/" + name})
		if err != nil {
			return nil, fmt.Errorf("create destination: %w", err)
		}
		conn, err := api.CreateConnectionContext(ctx, g.projectID, volley.CreateConnectionRequest{
			SourceID: src.ID, DestinationID: dst.ID, Status: "enabled", MaxRetries: 5,
		})
		if err != nil {
			return nil, fmt.Errorf("create connection: %w", err)
		}
		g.routes = append(g.routes, datasetRoute{SourceID: src.ID, ConnectionID: conn.ID, DestinationID: dst.ID})
	}
	return g, nil
}

// runLists is phase (d): it builds a store of cfg.Events events in one
// project straight through the store, reopens it as a restarted node
// would, and times the management API's list queries over HTTP.
func runLists(ctx context.Context, cfg Config, out io.Writer) error {
	ls, err := newListStore(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer ls.cleanup()
	key := make([]byte, 32)
	rand.Read(key)

	g, ds, err := buildListStore(ctx, ls, key, cfg)
	if err != nil {
		return err
	}
	st, err := ls.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	planner, err := ls.planner(ctx)
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, st, key, ls.exclusive)
	if err != nil {
		return err
	}
	defer srv.Stop(context.WithoutCancel(ctx))

	fmt.Fprintf(out, "(d) list queries on %d events in one project, store %s\n", ds.Events, ls.desc)
	fmt.Fprintf(out, "    built in %.1f s (%.0f events/s) through store.EventInsert and DeliveryFinish, %d events a batch\n",
		ds.Took.Seconds(), float64(ds.Events)/ds.Took.Seconds(), listBatch)
	fmt.Fprintf(out, "    one delivery and one attempt each: %d processed, %d failed, %d pending; over %.1f days; 2 sources (4:1)\n",
		ds.Processed, ds.Failed, ds.Retrying, ds.Newest.Sub(ds.Oldest).Hours()/24)
	fmt.Fprintf(out, "    planner statistics: %s\n", planner)
	fmt.Fprintf(out, "    through the HTTP API of an in-process node; median and max of %d runs after one warm-up\n", cfg.Runs)
	fmt.Fprintf(out, "    %-34s %9s %9s %8s  %s\n", "query", "median", "max", "total", "request")
	c := newClient(1)
	defer c.CloseIdleConnections()
	queries := listQueries(g, ds)
	// The same deep page as the offset query, by cursor: the cursor of the
	// event just before it.
	events := fmt.Sprintf("/api/projects/%d/events", g.projectID)
	cursor, err := nextCursor(ctx, c, srv.URL(), fmt.Sprintf("%s?limit=1&offset=%d", events, ds.Events/2-1))
	if err != nil {
		return fmt.Errorf("bench: phase (d): %w", err)
	}
	queries = append(queries, listQuery{"events: deep page by cursor", events + "?after=" + url.QueryEscape(cursor)})
	for _, q := range queries {
		r, err := timeQuery(ctx, c, srv.URL(), q.path, cfg.Runs, 0)
		if err != nil {
			return fmt.Errorf("bench: phase (d): %s: %w", q.name, err)
		}
		total := "-"
		switch {
		case r.estimate:
			total = fmt.Sprintf(">%d", r.total)
		case r.total >= 0:
			total = fmt.Sprint(r.total)
		}
		fmt.Fprintf(out, "    %-34s %6.1f ms %6.1f ms %8s  GET %s\n", q.name, ms(r.median), ms(r.max), total, q.path)
	}
	fmt.Fprintln(out)
	return nil
}

// buildListStore creates the dataset's configuration through the API of a
// node, stops the node, and writes the events straight into the store
// with no node running; it closes the store when done.
func buildListStore(ctx context.Context, ls *listStore, key []byte, cfg Config) (g *listGraph, ds *dataset, err error) {
	err = prepareStore(ctx, ls, key, func(ctx context.Context, api *volley.Client) (err error) {
		g, err = setupListGraph(ctx, api)
		return err
	}, func(ctx context.Context, st store.Store) (err error) {
		ds, err = buildDataset(ctx, st, datasetConfig{
			ProjectID: g.projectID, Routes: g.routes, Events: cfg.Events, BodySize: cfg.BodySize,
			End: time.Now().Add(-time.Minute), Batch: listBatch, Seed: 1, FinishBatch: ls.finishBatch,
		})
		return err
	})
	return g, ds, err
}

// prepareStore opens the store (with ls.openBulk when set), configures it
// with setup through the API of an in-process node, stops the node, then
// fills the store with fill straight through the store API (no node
// running, so that SQLite's single writer is the builder's), and closes it.
func prepareStore(ctx context.Context, ls *listStore, key []byte,
	setup func(context.Context, *volley.Client) error, fill func(context.Context, store.Store) error) (err error) {
	open := ls.open
	if ls.openBulk != nil {
		open = ls.openBulk
	}
	st, err := open(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	srv, err := startServer(ctx, st, key, ls.exclusive)
	if err != nil {
		return err
	}
	err = setup(ctx, volley.NewClient(benchToken, volley.WithBaseURL(srv.URL())))
	if err = errors.Join(err, srv.Stop(context.WithoutCancel(ctx))); err != nil {
		return err
	}
	return fill(ctx, st)
}

// listQuery is one request phase (d) times.
type listQuery struct {
	name string
	path string // with the query string
}

// listQueries are the requests phase (d) times: the lists the docs quote,
// each filter alone.
func listQueries(g *listGraph, ds *dataset) []listQuery {
	p := g.projectID
	events := fmt.Sprintf("/api/projects/%d/events", p)
	mid := ds.Oldest.Add(ds.Newest.Sub(ds.Oldest) / 2)
	window := "start_time=" + url.QueryEscape(mid.Format(time.RFC3339)) + "&end_time=" + url.QueryEscape(mid.Add(time.Hour).Format(time.RFC3339))
	search := func(s string) string { return events + "?" + url.Values{"search": {s}}.Encode() }
	qs := []listQuery{
		{"events: default page", events},
		{"events: status=failed", events + "?status=failed"},
		{"events: source_id (a fifth)", fmt.Sprintf("%s?source_id=%d", events, g.routes[len(g.routes)-1].SourceID)},
		{"events: 1-hour time window", events + "?" + window},
		{"events: deep offset", fmt.Sprintf("%s?offset=%d", events, ds.Events/2)},
		{"events: search full event id", search(ds.MiddleUID)},
	}
	// Prefixes either side of the length from which the event_id index
	// drives the search.
	for _, n := range []int{storesql.IndexedIDPrefix, storesql.IndexedIDPrefix - 1} {
		if n < len(ds.MiddleUID) {
			qs = append(qs, listQuery{fmt.Sprintf("events: search id prefix, %d chars", n), search(ds.MiddleUID[:n])})
		}
	}
	return append(qs,
		listQuery{"events: search=evt_ (every id)", search("evt_")},
		listQuery{"events: search body text", search(datasetCustomer(datasetCustomers / 2))},
		listQuery{"connection with 24 h metrics", fmt.Sprintf("/api/connections/%d", g.routes[0].ConnectionID)},
		listQuery{"attempts: default page", fmt.Sprintf("/api/projects/%d/delivery-attempts", p)},
		listQuery{"attempts: status=failed", fmt.Sprintf("/api/projects/%d/delivery-attempts?status=failed", p)},
	)
}

// queryTiming is the latency of one query over several runs.
type queryTiming struct {
	median, p99, max time.Duration
	runs             int   // how many runs were timed, the warm-up excluded
	total            int64 // the "total" of a list answer; -1 for other answers
	estimate         bool  // the list stopped counting at total
}

// nextCursor returns the next_cursor of the list page at path.
func nextCursor(ctx context.Context, c *http.Client, base, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var page struct {
		Next string `json:"next_cursor"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || page.Next == "" {
		return "", fmt.Errorf("GET %s: no next_cursor (status %d, %v)", path, resp.StatusCode, err)
	}
	return page.Next, nil
}

// timeQuery sends GET path once to warm up, then runs times, and returns
// the median and the slowest. With a budget, it stops repeating once the
// query has taken that long in all (at least one run after the warm-up),
// so that a query taking seconds on a big store does not hold the run for
// minutes; queryTiming.runs says how many it timed.
func timeQuery(ctx context.Context, c *http.Client, base, path string, runs int, budget time.Duration) (queryTiming, error) {
	res := queryTiming{total: -1}
	var ds []time.Duration
	var spent time.Duration
	for i := 0; i <= runs; i++ {
		if budget > 0 && i > 1 && spent > budget {
			break
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return res, err
		}
		req.Header.Set("Authorization", "Bearer "+benchToken)
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			return res, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(t0)
		spent += took
		if err != nil {
			return res, err
		}
		if resp.StatusCode != http.StatusOK {
			return res, fmt.Errorf("GET %s answered %d: %.200s", path, resp.StatusCode, body)
		}
		var list struct {
			Total    *int64 `json:"total"`
			Estimate bool   `json:"total_is_estimate"`
		}
		if json.Unmarshal(body, &list) == nil && list.Total != nil {
			res.total, res.estimate = *list.Total, list.Estimate
		}
		if i > 0 {
			ds = append(ds, took)
		}
	}
	slices.Sort(ds)
	res.runs = len(ds)
	res.median, res.p99, res.max = ds[len(ds)/2], percentile(ds, 0.99), ds[len(ds)-1]
	return res, nil
}
