package main

import (
	"context"
	"fmt"
	"io"

	"github.com/volleyhq/volley/internal/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "bench [flags]", stderr)
	var cfg bench.Config
	fs.DurationVar(&cfg.Duration, "duration", 0, "length of each throughput phase (default 10s)")
	fs.IntVar(&cfg.Clients, "clients", 0, "concurrent ingest clients (default 16)")
	fs.IntVar(&cfg.Rate, "rate", 0, "events per second of the end-to-end phase (default 100)")
	fs.IntVar(&cfg.Burst, "burst", 0, "events in the burst phase (default 20000)")
	fs.IntVar(&cfg.BodySize, "body-size", 0, "bytes per webhook body (default 512; 1024 with --scale)")
	fs.StringVar(&cfg.Database, "database", "", "PostgreSQL URL the nodes share (in a fresh schema, dropped afterwards); empty runs one node on the embedded SQLite store")
	fs.IntVar(&cfg.Nodes, "nodes", 1, "nodes sharing --database; the load is spread over them")
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", 0, "how long the burst may take to drain before it is reported incomplete (default 5m; with --scale it bounds the drain and the purge, default 30m)")
	fs.IntVar(&cfg.Events, "events", 0, "events in the store phase d builds (default 500000)")
	fs.IntVar(&cfg.Runs, "runs", 0, "times phase d and --scale run each query, reporting the median (default 5; --scale stops repeating a query after 30s)")
	fs.StringVar(&cfg.Phases, "phases", "abc", "phases to run: a (ingest), b (end-to-end), c (burst), d (list queries on a large store)")
	fs.IntVar(&cfg.Scale, "scale", 0, "instead of the phases, build a store of this many events (1 KiB bodies by default) and measure on it, through a child node: "+
		"ingest (against an empty store too), pause and resume with the backlog held, its drain, a retention purge, every list, store size and memory; "+
		"prints one table (see docs/benchmarks.md)")
	fs.IntVar(&cfg.Backlog, "backlog", 0, "with --scale: events of the store held undelivered, the connection paused (default half of --scale, at most 2000000)")
	fs.IntVar(&cfg.ProbeRate, "probe-rate", 0, "with --scale: steady ingest rate (events/s) during pause and resume, drain and purge (default 200)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("bench: unexpected argument %q", fs.Arg(0))}
	}
	return bench.Run(ctx, cfg, stdout)
}
