package storesqlite

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"

	"modernc.org/sqlite"

	"github.com/volleyhq/volley/internal/store/payload"
	"github.com/volleyhq/volley/internal/volley"
)

// sqlPayloadInsert stores an event's payload, in the event's transaction.
const sqlPayloadInsert = `INSERT INTO event_payloads (event_id, encoding, query, headers, body, path) VALUES (?, ?, ?, ?, ?, ?)`

// storedPayload is an event's payload as the tables keep it.
type storedPayload struct {
	external      any // the provider id, or nil (NULL) for none
	headers, body []byte
	encoding      int
}

func (s *Store) storePayload(e *volley.Event) storedPayload {
	var p storedPayload
	if x := payload.ExternalID(e.Headers, e.Body); x != "" {
		p.external = x
	}
	p.headers, p.body, p.encoding = s.encodeWithDict(e.SourceID, encodeHTTPHeader(e.Headers), nonNil(e.Body))
	return p
}

// registerFunctions gives SQLite its page memory (pagecache.go) and
// registers the SQL functions the store's queries use with the sqlite
// driver, once per process, before the store opens any connection: the
// driver keeps the functions for every connection it opens afterwards.
var registerFunctions = sync.OnceValue(func() error {
	if _, err := pageBuffer(); err != nil {
		return err
	}
	// volley_decode(compressed, value) is value decoded when compressed is
	// not 0: migration 0005's down step, which puts payloads back into
	// events, needs it.
	err := sqlite.RegisterDeterministicScalarFunction("volley_decode", 2,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			flags, _ := args[0].(int64)
			b := asBytes(args[1])
			if flags == 0 {
				return b, nil
			}
			return payload.DecodeBody(payload.BodyZstd, b)
		})
	if err != nil {
		return fmt.Errorf("register volley_decode: %w", err)
	}
	return nil
})

// asBytes is a TEXT or BLOB argument's bytes.
func asBytes(v driver.Value) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}

// ftsQuery is the FTS5 query that finds the rows holding every term: each
// term a quoted string, so that no character of it is query syntax. A term
// longer than the index keeps (payload.IndexWord) is looked for by the
// prefix the indexer feeds, or whole: events indexed before the indexer
// cut words hold it whole.
// (FTS5 takes no implicit AND after a parenthesis.)
func ftsQuery(terms []string) string {
	quote := func(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"` }
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = quote(t)
		if cut := payload.IndexWord(t); cut != t {
			q[i] = "(" + quote(cut) + " OR " + q[i] + ")"
		}
	}
	return strings.Join(q, " AND ")
}
