package storesqlite

import (
	"database/sql/driver"
	"fmt"
	"sync"

	"modernc.org/sqlite"

	"github.com/volleyhq/volley/internal/store/payload"
)

// Payload statements: an event's payload and search entry are inserted
// with it, in its transaction.
const (
	sqlPayloadInsert = `INSERT INTO event_payloads (event_id, encoding, query, headers, body) VALUES (?, ?, ?, ?, ?)`
	sqlSearchInsert  = `INSERT INTO event_search (rowid, body) VALUES (?, ?)`
)

// registerFunctions registers the SQL functions the store's queries use
// with the sqlite driver, once per process: the driver keeps them for every
// connection it opens afterwards.
var registerFunctions = sync.OnceValue(func() error {
	// volley_body_contains(encoding, body, search) is 1 when the stored
	// body, decoded, holds search ignoring case: the exact check of the
	// candidates the search index finds.
	err := sqlite.RegisterDeterministicScalarFunction("volley_body_contains", 3,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			flags, _ := args[0].(int64)
			body, err := payload.DecodeBody(int(flags), asBytes(args[1]))
			if err != nil {
				return nil, err
			}
			if payload.Contains(body, asBytes(args[2])) {
				return int64(1), nil
			}
			return int64(0), nil
		})
	if err != nil {
		return fmt.Errorf("register volley_body_contains: %w", err)
	}
	// volley_decode(compressed, value) is value decoded when compressed is
	// not 0: migration 0005's down step, which puts payloads back into
	// events, needs it.
	err = sqlite.RegisterDeterministicScalarFunction("volley_decode", 2,
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

// searchCond is the dialect's text search: the events the FTS5 index finds
// for the search's words, or whose external id is the text, and then
// either that external id or a body that holds the whole text. A search
// without words (say "%") finds external ids only.
func searchCond(text string) (string, []any) {
	terms := payload.Terms(text)
	if len(terms) == 0 {
		return "e.external_id = ?", []any{text}
	}
	return `e.id IN (SELECT rowid FROM event_search WHERE event_search MATCH ?
			UNION ALL SELECT id FROM events WHERE external_id = ?)
		AND (e.external_id = ? OR EXISTS (SELECT 1 FROM event_payloads x
			WHERE x.event_id = e.id AND volley_body_contains(x.encoding, x.body, ?)))`,
		[]any{payload.FTSQuery(terms), text, text, []byte(text)}
}
