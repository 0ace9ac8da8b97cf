package storesqlite

import (
	"database/sql/driver"
	"fmt"
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

// registerFunctions registers the SQL functions the store's queries use
// with the sqlite driver, once per process: the driver keeps them for every
// connection it opens afterwards.
var registerFunctions = sync.OnceValue(func() error {
	// volley_body_matches(encoding, body, search) is 1 when the stored
	// body, decoded, matches search (payload.Matches): the body search.
	err := sqlite.RegisterDeterministicScalarFunction("volley_body_matches", 3,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			flags, _ := args[0].(int64)
			body, err := payload.DecodeBody(int(flags), asBytes(args[1]))
			if err != nil {
				return nil, err
			}
			if payload.Matches(body, asBytes(args[2])) {
				return int64(1), nil
			}
			return int64(0), nil
		})
	if err != nil {
		return fmt.Errorf("register volley_body_matches: %w", err)
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

// searchCond is the dialect's text search: events whose external id is the
// text, or whose body holds the whole text (ignoring case) with each of its
// words as a whole word, as PostgreSQL's index finds them. SQLite has no
// index of the bodies (see migration 0005): the list reads the project's
// events newest first and checks each payload until its page is full, so
// a search costs what the events it reads cost. A search without words (say
// "%") finds external ids only.
func searchCond(text string) (string, []any) {
	if len(payload.Terms(text)) == 0 {
		return "e.external_id = ?", []any{text}
	}
	return `(e.external_id = ? OR EXISTS (SELECT 1 FROM event_payloads x
			WHERE x.event_id = e.id AND volley_body_matches(x.encoding, x.body, ?)))`,
		[]any{text, []byte(text)}
}
