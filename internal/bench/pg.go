package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store/storepg"
)

// freshSchema creates and migrates a schema of its own in the database at
// dbURL, so a run neither sees nor leaves data there, and returns the URL
// the nodes use (with that schema as search_path) and a func dropping it.
func freshSchema(ctx context.Context, dbURL string) (string, func(), error) {
	var b [6]byte
	rand.Read(b[:])
	schema := "volley_bench_" + hex.EncodeToString(b[:])
	st, err := storepg.Open(ctx, storepg.Config{URL: dbURL, Schema: schema})
	if err != nil {
		return "", nil, fmt.Errorf("bench: prepare database: %w", err)
	}
	st.Close()
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", nil, fmt.Errorf("bench: database URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		conn, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	}
	return u.String(), drop, nil
}
