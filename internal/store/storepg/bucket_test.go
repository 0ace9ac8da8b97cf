package storepg_test

import (
	"testing"

	"github.com/volleyhq/volley/internal/store/storesql"
)

// TestLatencyBucketMatchesGo checks that PostgreSQL's metrics_bucket and
// storesql.LatencyBucketMS, which the SQLite driver counts with, put every
// duration up to past the last bound in the same bucket.
func TestLatencyBucketMatchesGo(t *testing.T) {
	t.Parallel()
	schema := freshSchema(t)
	open(t, schema)
	conn := rawConn(t, schema)
	rows, err := conn.Query(t.Context(), `SELECT ms, metrics_bucket(ms) FROM generate_series(-2::bigint, 61000) ms`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var ms int64
		var pg int32
		if err := rows.Scan(&ms, &pg); err != nil {
			t.Fatal(err)
		}
		n++
		if got := storesql.LatencyBucketMS(ms); got != int64(pg) {
			t.Fatalf("duration %d ms: metrics_bucket says %d, LatencyBucketMS %d", ms, pg, got)
		}
	}
	if err := rows.Err(); err != nil || n != 61003 {
		t.Fatalf("read %d durations, want 61003: %v", n, err)
	}
}
