package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/volleyhq/volley/internal/metrics"
)

// metricName matches Volley's metric names in queries and docs; the
// suffixes histograms expose are cut off.
var metricName = regexp.MustCompile(`volley_[a-z_]+`)

// baseName strips the series suffixes of a histogram.
func baseName(s string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(s, suffix); ok && !strings.HasSuffix(s, "_total") {
			return b
		}
	}
	return s
}

// registered lists the volley_ metric families a node exposes.
func registered(t *testing.T) []string {
	t.Helper()
	m := metrics.New(metrics.Config{})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "volley_") {
			names = append(names, f.GetName())
		}
	}
	// Read from the store at scrape time: present when a store is given
	// (the writer's and the page buffer's on SQLite), and the caps on bulk
	// work when the node has them.
	return append(names, "volley_delivery_backlog", "volley_delivery_oldest_due_age_seconds",
		"volley_store_writer_wait_seconds", "volley_store_writer_hold_seconds",
		"volley_store_page_buffer_slots", "volley_store_page_overflow_bytes", "volley_bulk_rate_cap",
		"volley_bulk_yield_given_up_total")
}

// TestDashboardUsesRealMetrics checks that the Grafana dashboard is valid
// JSON whose queries name only metrics Volley exposes, and that it shows
// every one of them.
func TestDashboardUsesRealMetrics(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Type    string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil || dash.Title == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard: not a Grafana dashboard (%v)", err)
	}
	names := registered(t)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		for _, q := range p.Targets {
			for _, n := range metricName.FindAllString(q.Expr, -1) {
				if n = baseName(n); !slices.Contains(names, n) {
					t.Errorf("dashboard query %q uses %s, which Volley does not expose", q.Expr, n)
				}
				used[n] = true
			}
		}
	}
	for _, n := range names {
		if !used[n] {
			t.Errorf("dashboard shows nothing of %s", n)
		}
	}
}

// TestObservabilityDocsListEveryMetric checks that docs/observability.md
// documents every metric and names no metric that does not exist.
func TestObservabilityDocsListEveryMetric(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/observability.md")
	if err != nil {
		t.Fatal(err)
	}
	names := registered(t)
	for _, n := range names {
		if !strings.Contains(string(b), "`"+n+"`") {
			t.Errorf("docs/observability.md does not document %s", n)
		}
	}
	for _, n := range metricName.FindAllString(string(b), -1) {
		if n = baseName(n); !slices.Contains(names, n) {
			t.Errorf("docs/observability.md names %s, which Volley does not expose", n)
		}
	}
}
