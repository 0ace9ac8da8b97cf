package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildVolley builds cmd/volley into a temporary directory with the go
// tool from PATH (without -race: the race detector is for the test
// process), for the scale mode's child nodes.
func buildVolley(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool in PATH to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "volley")
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, "../../cmd/volley")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRunScale runs `volley bench --scale 2000` on SQLite and, when
// VOLLEY_TEST_DATABASE_URL is set, on PostgreSQL: every step finishes and
// the table has every row of issue 8's, with figures.
func TestRunScale(t *testing.T) {
	t.Parallel()
	bin := buildVolley(t)
	for _, tc := range []struct {
		name, database string
	}{
		{"SQLite", ""},
		{"PostgreSQL", os.Getenv("VOLLEY_TEST_DATABASE_URL")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.name == "PostgreSQL" && tc.database == "" {
				t.Skip("VOLLEY_TEST_DATABASE_URL is not set")
			}
			var out strings.Builder
			cfg := Config{Exe: bin, Database: tc.database, Scale: 2000, Backlog: 600, Duration: 300 * time.Millisecond,
				Clients: 4, Runs: 2, ProbeRate: 50, Hold: 50 * time.Millisecond, DrainTimeout: 2 * time.Minute}
			if err := Run(t.Context(), cfg, &out); err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			report := out.String()
			table := report[strings.Index(report, "| What |"):]
			for _, want := range []string{
				"| What | " + tc.name + ", 2000 events | target (issue 8) |",
				"| build (store API, 5000 events a batch) | 2000 events in ",
				"| ingest, 4 clients, empty store | ",
				"| burst drain, empty store (the events its ingest left held) | ",
				"| ingest, 4 clients, 2000 events | ",
				"| ingest in turns, 4 clients: 2000 events / a new empty store | big store ",
				"(3 rounds of 150ms on each; rounds: big ",
				"| `PUT` connection enabled / paused, 600 held; ingest at 50/s meanwhile | slowest ",
				"| backlog drain; ingest at 50/s meanwhile | ",
				"| retention purge (33.6 h kept of the 7 days built); ingest at 50/s meanwhile | ",
				"| store size | built: ",
				"| peak RSS of the node | ingest, empty store ",
				"; burst, empty store ", "; lists ", "; pause and resume ", "; drain ", "; retention purge ",
			} {
				if !strings.Contains(table, want) {
					t.Errorf("table lacks %q:\n%s", want, table)
				}
			}
			// The purge and the drain finished; no probe request failed.
			for _, want := range []string{"expired events gone", "every attempt recorded after", "0 timeouts, 0 errors", " % of the empty store's burst)"} {
				if !strings.Contains(table, want) {
					t.Errorf("table lacks %q:\n%s", want, table)
				}
			}
			for _, q := range append(scaleQueries(&graph{}, &dataset{MiddleUID: "evt_0123456789abcdefghijkl"}),
				listQuery{name: "requests, deep page by cursor"}) {
				if !strings.Contains(table, "| `"+q.name+"` | p50 ") {
					t.Errorf("table lacks the row of %q:\n%s", q.name, table)
				}
			}
			// SQLite's body index is filled by the build, before the node
			// starts: every built event is in it.
			if indexed := "search index filled after it: 2000 events in "; (tc.name == "SQLite") != strings.Contains(table, indexed) {
				t.Errorf("%s: table says %q: %v\n%s", tc.name, indexed, strings.Contains(table, indexed), table)
			}
			if strings.Contains(table, "INCOMPLETE") {
				t.Errorf("a step gave up:\n%s", table)
			}
			// The disk was settled before the steps: PostgreSQL
			// checkpointed (the test's server allows it), then the sync.
			settled := map[string]string{"SQLite": "disk settled: page cache synced in ",
				"PostgreSQL": "disk settled: CHECKPOINT in "}[tc.name]
			if !strings.Contains(report, settled) {
				t.Errorf("report lacks %q:\n%s", settled, report)
			}
		})
	}
}
