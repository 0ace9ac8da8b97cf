package storesqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/payload"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

// Hot-path statements, prepared once on the write connection.
const (
	sqlIdemGet = `SELECT k.event_id, e.event_id FROM idempotency_keys k JOIN events e ON e.id = k.event_id
		WHERE k.source_id = ? AND k.key = ? AND k.expires_at > ?`
	sqlIdemPut = `INSERT INTO idempotency_keys (source_id, key, event_id, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (source_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at`
	sqlEventInsert = `INSERT INTO events (event_id, project_id, source_id, method, status, created_at, external_id, traceparent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlDeliveryInsert = `INSERT INTO deliveries (event_id, project_id, source_id, connection_id, destination_id, state,
		next_attempt_at, lease_owner, lease_token, created_at, finished_at, reason, ordering_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlAttemptInsert = `INSERT INTO attempts (delivery_id, event_id, event_uid, project_id, source_id, connection_id,
		destination_id, number, trigger, status, status_code, error_reason, duration_ms, response_headers,
		response_body, created_at, transformation_logs, transformation_error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// sqlDeliveryFinish records an outcome of a leased delivery;
	// sqlDeliveryFinishKeyed also returns its connection and ordering key,
	// for outcomes that do not carry them (RETURNING costs SQLite an
	// ephemeral table per statement: a drain's outcomes go without).
	sqlDeliveryFinish = `UPDATE deliveries SET state = ?, attempts = attempts + ?, next_attempt_at = ?,
		lease_owner = '', finished_at = ?, reason = ? WHERE id = ? AND lease_token = ? AND state = 'pending'`
	sqlDeliveryFinishKeyed = sqlDeliveryFinish + ` RETURNING connection_id, ordering_key`
	// sqlKeyBusy reports whether an ordering key has an unfinished delivery
	// on a connection (one seek per state in deliveries_ordering). The
	// queries on that partial index repeat its WHERE clause word for word:
	// SQLite uses a partial index only for queries that do.
	sqlKeyBusy = `SELECT EXISTS (SELECT 1 FROM deliveries WHERE connection_id = ? AND ordering_key = ?
		AND ` + orderingIndexed + `)`
	// sqlPromote makes the first parked delivery of a key (?1, ?2) due at ?3
	// (or at its own due time, if later: a connection's delay) once no
	// delivery of the key is pending or held any more. Guarded so, it is
	// right to run after any delivery of the key finished, whether or not
	// it was the key's head. (Written "+state = 'parked'" and ordered by
	// state, the first lookup seeks the key in deliveries_ordering and reads
	// at most its head before the parked ones; with "state = 'parked'" the
	// planner skips through every connection of the index instead.)
	sqlPromote = `UPDATE deliveries SET state = 'pending', next_attempt_at = max(next_attempt_at, ?3)
		WHERE id = (SELECT id FROM deliveries INDEXED BY deliveries_ordering
			WHERE connection_id = ?1 AND ordering_key = ?2 AND ` + orderingIndexed + ` AND +state = 'parked'
			ORDER BY state, id LIMIT 1)
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE connection_id = ?1 AND ordering_key = ?2 AND ` + orderingIndexed + `
			AND state IN ('pending', 'held'))`
	// orderingIndexed is the WHERE clause of the deliveries_ordering index.
	orderingIndexed = `ordering_key <> '' AND state IN ('pending', 'held', 'parked')`
	// sqlEventStatus derives an event's status from its deliveries.
	sqlEventStatus = `UPDATE events SET status = (
		SELECT CASE
			WHEN count(*) = sum(state = 'cancelled') THEN 'dropped'
			WHEN sum(state IN ('pending', 'held', 'parked')) > 0 THEN 'pending'
			WHEN sum(state = 'failed') > 0 THEN 'failed'
			WHEN count(*) = sum(state IN ('cancelled', 'filtered')) THEN 'filtered'
			ELSE 'processed' END
		FROM deliveries WHERE event_id = ?1) WHERE id = ?1`
)

// hotStatements are prepared once, when the store opens, and reused by
// every transaction: the hot paths run them thousands of times a second,
// and background work (leases, outcomes, retention rounds) in batches of a
// few dozen rows, sized to hold the writer 4 ms, where preparing anew is a
// cost of its own: a sixth of a retention purge's CPU, its deletes from
// tables with foreign keys and triggers compiling those too. Never a
// PRAGMA: SQLite runs some of them when they are prepared, not when they
// are stepped (a prepared "PRAGMA synchronous = NORMAL" switched the writer
// as the store opened; TestPragmas).
var hotStatements = slices.Concat([]string{sqlIdemGet, sqlIdemPut, sqlEventInsert, sqlDeliveryInsert, sqlAttemptInsert,
	sqlDeliveryFinish, sqlDeliveryFinishKeyed, sqlEventStatus, sqlPayloadInsert, sqlKeyBusy, sqlPromote,
	sqlMetricsDeferOn, sqlMetricsDeferOff, sqlTallyMinutes, sqlTallyBacklog, sqlTallyLatency,
	sqlResumed, sqlDue, sqlDueOfDestination, sqlHeldOfConnection, sqlPendingDestinations,
	sqlLeaseDue, sqlLeasePending, sqlLeaseHeld},
	retentionStatements)

// prepare prepares the hot statements on the write connection. It must run
// outside any transaction: the write pool has a single connection.
func (s *Store) prepare(ctx context.Context) error {
	for _, q := range hotStatements {
		st, err := s.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		s.stmts[q] = st
	}
	return nil
}

// hotTx is a write transaction whose hot statements run prepared once, when
// the store opened; any other query runs as on tx.
type hotTx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

// hot returns tx as a hotTx.
func (s *Store) hot(tx *sql.Tx) hotTx { return hotTx{tx, s.stmts} }

// prepared returns the transaction's handle on query's statement prepared
// when the store opened, or nil when query is not hot.
func (h hotTx) prepared(ctx context.Context, query string) *sql.Stmt {
	if st, ok := h.stmts[query]; ok {
		return h.StmtContext(ctx, st)
	}
	return nil
}

// ExecContext runs query, prepared once if it is hot.
func (h hotTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := h.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return h.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query, prepared once if it is hot.
func (h hotTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := h.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return h.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query, prepared once if it is hot.
func (h hotTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := h.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return h.Tx.QueryRowContext(ctx, query, args...)
}

// stmt returns query as a statement of tx, for a query run many times in
// it: the prepared one when it is hot, else prepared for this transaction
// only.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st := s.hot(tx).prepared(ctx, query); st != nil {
		return st, nil
	}
	return tx.PrepareContext(ctx, query)
}

func encodeHTTPHeader(h http.Header) string {
	if len(h) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(h) // a map of string slices always encodes
	return string(b)
}

func decodeHTTPHeader(s string) (http.Header, error) {
	h := http.Header{}
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return nil, fmt.Errorf("decode headers: %w", err)
	}
	return h, nil
}

// EventInsert implements store.Traffic.
func (s *Store) EventInsert(ctx context.Context, events []store.NewEvent) ([]store.InsertedEvent, error) {
	out := make([]store.InsertedEvent, len(events))
	// Encoding and compressing the payloads, and finding their provider
	// ids, is CPU work: done before the transaction, it does not hold the
	// single writer the other ingests wait for.
	encoded := make([]storedPayload, len(events))
	for i := range events {
		encoded[i] = s.storePayload(&events[i].Event)
	}
	err := s.txRun(ctx, turnIngest, func(tx *sql.Tx) error {
		var idemGet, idemPut, insEvent, insDelivery, insPayload, keyBusy *sql.Stmt
		var err error
		if insEvent, err = s.stmt(ctx, tx, sqlEventInsert); err != nil {
			return err
		}
		if insPayload, err = s.stmt(ctx, tx, sqlPayloadInsert); err != nil {
			return err
		}
		if insDelivery, err = s.stmt(ctx, tx, sqlDeliveryInsert); err != nil {
			return err
		}
		for i := range events {
			ne := &events[i]
			e := &ne.Event
			if ne.IdempotencyKey != "" {
				if idemGet == nil {
					if idemGet, err = s.stmt(ctx, tx, sqlIdemGet); err != nil {
						return err
					}
					if idemPut, err = s.stmt(ctx, tx, sqlIdemPut); err != nil {
						return err
					}
				}
				var id uint64
				var uid string
				err := idemGet.QueryRowContext(ctx, e.SourceID, ne.IdempotencyKey, micros(e.CreatedAt)).Scan(&id, &uid)
				if err == nil {
					out[i] = store.InsertedEvent{ID: id, UID: uid, Duplicate: true}
					continue
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("check idempotency key: %w", err)
				}
			}
			status := insertedStatus(ne.Deliveries)
			ep := &encoded[i]
			r, err := insEvent.ExecContext(ctx, e.UID, e.ProjectID, e.SourceID, e.Method, status, micros(e.CreatedAt), ep.external, e.TraceParent)
			if err != nil {
				return fmt.Errorf("insert event: %w", err)
			}
			id, _ := r.LastInsertId()
			if _, err := insPayload.ExecContext(ctx, id, ep.encoding, e.Query, ep.headers, ep.body, e.Path); err != nil {
				return fmt.Errorf("insert event payload: %w", err)
			}
			res := store.InsertedEvent{ID: uint64(id), UID: e.UID, DeliveryIDs: make([]uint64, len(ne.Deliveries))}
			if ne.IdempotencyKey != "" {
				if _, err := idemPut.ExecContext(ctx, e.SourceID, ne.IdempotencyKey, id, micros(ne.IdempotencyUntil)); err != nil {
					return fmt.Errorf("store idempotency key: %w", err)
				}
			}
			for j, d := range ne.Deliveries {
				if d.OrderingKey != "" && !volley.DeliveryFinal(d.State) {
					// SQLite's single writer orders this check against every
					// finish that could free the key.
					if keyBusy == nil {
						if keyBusy, err = s.stmt(ctx, tx, sqlKeyBusy); err != nil {
							return err
						}
					}
					var busy bool
					if err := keyBusy.QueryRowContext(ctx, d.ConnectionID, d.OrderingKey).Scan(&busy); err != nil {
						return fmt.Errorf("check ordering key: %w", err)
					}
					if busy {
						park(&d, e.CreatedAt)
						if res.Parked == nil {
							res.Parked = make([]bool, len(ne.Deliveries))
						}
						res.Parked[j] = true
					}
				}
				r, err := insDelivery.ExecContext(ctx, id, e.ProjectID, e.SourceID, d.ConnectionID, d.DestinationID, d.State,
					micros(d.NextAttemptAt), d.LeaseOwner, d.LeaseToken, micros(e.CreatedAt), finishedAt(&d, e.CreatedAt), d.Reason,
					d.OrderingKey)
				if err != nil {
					return fmt.Errorf("insert delivery: %w", err)
				}
				did, _ := r.LastInsertId()
				res.DeliveryIDs[j] = uint64(did)
			}
			out[i] = res
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	return out, nil
}

// insertedStatus is the status of an event stored with ds: dropped without
// deliveries, filtered when every one is, else pending.
func insertedStatus(ds []volley.Delivery) string {
	if len(ds) == 0 {
		return volley.EventDropped
	}
	for _, d := range ds {
		if d.State != volley.DeliveryFiltered {
			return volley.EventPending
		}
	}
	return volley.EventFiltered
}

// park makes a delivery being inserted wait behind the unfinished one of
// its ordering key. One handed straight to a worker is not leased after
// all, and is due when the event arrived; a delayed one keeps its due
// time, which its promotion respects.
func park(d *volley.Delivery, created time.Time) {
	if d.LeaseOwner != "" {
		d.NextAttemptAt = created
	}
	d.State, d.LeaseOwner, d.LeaseToken = volley.DeliveryParked, "", 0
}

// finishedAt is when a delivery being inserted finished: a filtered one
// at once, when it was created.
func finishedAt(d *volley.Delivery, created time.Time) int64 {
	if volley.DeliveryFinal(d.State) {
		return micros(created)
	}
	return 0
}

// nonNil keeps an empty body an empty blob rather than NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

const eventCols = `e.id, e.event_id, e.project_id, e.source_id, coalesce(s.slug, ''), e.method, ep.query, ep.encoding,
	ep.headers, ep.body, e.status, e.created_at, ep.path, e.traceparent`

// eventFrom joins each event to its payload (ep): every event has one.
const eventFrom = ` FROM events e JOIN event_payloads ep ON ep.event_id = e.id LEFT JOIN sources s ON s.id = e.source_id`

func scanEvent(row scanner) (*volley.Event, error) {
	var e volley.Event
	var storedHeaders, storedBody []byte
	var encoding int
	var created int64
	if err := row.Scan(&e.ID, &e.UID, &e.ProjectID, &e.SourceID, &e.SourceSlug, &e.Method, &e.Query, &encoding,
		&storedHeaders, &storedBody, &e.Status, &created, &e.Path, &e.TraceParent); err != nil {
		return nil, notFound(err)
	}
	headers, body, err := payload.Decode(encoding, storedHeaders, storedBody)
	if err != nil {
		return nil, fmt.Errorf("event %d: %w", e.ID, err)
	}
	if e.Headers, err = decodeHTTPHeader(headers); err != nil {
		return nil, fmt.Errorf("event %d: %w", e.ID, err)
	}
	e.Body = nonNil(body)
	e.CreatedAt = fromMicros(created)
	return &e, nil
}

// dialect is how SQLite binds the shared list queries' arguments. An event
// list searching body text is listed by indexSearch or walkSearch.
var dialect = storesql.Dialect{
	Time: func(t time.Time) any { return micros(t) },
}

// externalDialect is dialect for a list whose events of external id text
// are looked up (see storesql.ExternalIDSearch), or that searches text
// without words (say "%"): text is only an external id then. Both find the
// events through externalIDs.
func (s *Store) externalDialect(ctx context.Context, text string) (storesql.Dialect, error) {
	ids, err := s.externalIDs(ctx, text)
	if err != nil {
		return storesql.Dialect{}, err
	}
	d := dialect
	d.Search = func(string) (string, []any) { return externalCond(ids) }
	d.ExternalID = d.Search
	return d, nil
}

// searchDialect returns the dialect of an event list searching text, or
// the candidates the index found for it (indexSearch lists them), or walk
// when they are too many (walkSearch: see searchCandidates).
func (s *Store) searchDialect(ctx context.Context, text string) (d storesql.Dialect, c *searchCands, walk bool, err error) {
	switch {
	case text == "" || strings.HasPrefix(text, "evt_"):
		return dialect, nil, false, nil // no search, or an id search (storesql's filters)
	case len(payload.Terms(text)) == 0:
		d, err = s.externalDialect(ctx, text)
		return d, nil, false, err
	}
	if s.search.set.Load() == nil {
		return d, nil, false, errors.New("the store was opened without migrating it (no search index parts)")
	}
	parts, release := s.readParts()
	defer release()
	c, walk, err = s.searchCandidates(ctx, parts, text)
	return dialect, c, walk, err
}

// EventList implements store.Traffic.
func (s *Store) EventList(ctx context.Context, p store.EventListParams) ([]volley.Event, store.Total, error) {
	routes, err := storesql.LoadRoutes(p, func(q string, args ...any) ([]uint64, error) {
		rows, err := s.read.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []uint64
		for rows.Next() {
			var id uint64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}, func(q string, args ...any) (n int, err error) {
		err = s.read.QueryRowContext(ctx, q, args...).Scan(&n)
		return n, err
	})
	if err != nil {
		return nil, store.Total{}, fmt.Errorf("list events: %w", err)
	}
	d, cands, walk, err := s.searchDialect(ctx, p.Search)
	if err != nil {
		return nil, store.Total{}, fmt.Errorf("list events: %w", err)
	}
	var list []volley.Event
	var total store.Total
	switch {
	case walk:
		list, total, err = s.walkSearch(ctx, p, routes, cands)
	case cands != nil:
		list, total, err = s.indexSearch(ctx, p, routes, cands)
	default:
		list, total.N, err = readList(ctx, s.read, storesql.EventListQuery(p, d, eventCols, eventFrom, routes), scanEvent)
		if err == nil && total.N == 0 && storesql.ExternalIDSearch(p) {
			if d, err = s.externalDialect(ctx, p.Search); err == nil {
				list, total.N, err = readList(ctx, s.read, storesql.EventListByExternalIDQuery(p, d, eventCols, eventFrom, routes), scanEvent)
			}
		}
	}
	if err != nil {
		return nil, store.Total{}, fmt.Errorf("list events: %w", err)
	}
	return list, total, nil
}

// readList runs a list's count and page in one read transaction, so that
// they see the same snapshot.
func readList[T any](ctx context.Context, db *sql.DB, q storesql.ListQuery, scan func(scanner) (*T, error)) ([]T, int64, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int64
	if err := tx.QueryRowContext(ctx, q.Count, q.CountArgs...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count: %w", err)
	}
	rows, err := tx.QueryContext(ctx, q.Page, q.PageArgs...)
	if err != nil {
		return nil, 0, err
	}
	list, err := collect(rows, scan)
	if q.Reversed {
		slices.Reverse(list)
	}
	return list, total, err
}

// EventGet implements store.Traffic.
func (s *Store) EventGet(ctx context.Context, orgID, id uint64) (*volley.Event, error) {
	return scanEvent(s.read.QueryRowContext(ctx, `SELECT `+eventCols+eventFrom+`
		JOIN projects p ON p.id = e.project_id WHERE e.id = ? AND p.org_id = ?`, id, orgID))
}

// EventGetByUID implements store.Traffic.
func (s *Store) EventGetByUID(ctx context.Context, orgID uint64, uid string) (*volley.Event, error) {
	return scanEvent(s.read.QueryRowContext(ctx, `SELECT `+eventCols+eventFrom+`
		JOIN projects p ON p.id = e.project_id WHERE e.event_id = ? AND p.org_id = ?`, uid, orgID))
}

const deliveryCols = `d.id, d.event_id, e.event_id, d.project_id, d.source_id, d.connection_id, d.destination_id,
	d.state, d.attempts, d.next_attempt_at, d.lease_owner, d.lease_token, d.created_at, d.finished_at, d.reason,
	d.ordering_key`

func scanDelivery(row scanner) (*volley.Delivery, error) {
	var d volley.Delivery
	var next, created, finished int64
	if err := row.Scan(&d.ID, &d.EventID, &d.EventUID, &d.ProjectID, &d.SourceID, &d.ConnectionID, &d.DestinationID,
		&d.State, &d.Attempts, &next, &d.LeaseOwner, &d.LeaseToken, &created, &finished, &d.Reason, &d.OrderingKey); err != nil {
		return nil, notFound(err)
	}
	d.NextAttemptAt, d.CreatedAt, d.FinishedAt = fromMicros(next), fromMicros(created), fromMicros(finished)
	return &d, nil
}

// DeliveryListByEvent implements store.Traffic.
func (s *Store) DeliveryListByEvent(ctx context.Context, eventID uint64) ([]volley.Delivery, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.event_id = ? ORDER BY d.id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return collect(rows, scanDelivery)
}

// DeliveryCreate implements store.Traffic.
func (s *Store) DeliveryCreate(ctx context.Context, d *volley.Delivery) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, sqlDeliveryInsert, d.EventID, d.ProjectID, d.SourceID, d.ConnectionID, d.DestinationID,
			d.State, micros(d.NextAttemptAt), d.LeaseOwner, d.LeaseToken, micros(d.CreatedAt), finishedAt(d, d.CreatedAt), d.Reason,
			"") // a replay to a new connection is not ordered
		if foreignKeyViolation(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		id, _ := r.LastInsertId()
		d.ID = uint64(id)
		_, err = tx.ExecContext(ctx, sqlEventStatus, d.EventID)
		return err
	})
	if err != nil {
		return fmt.Errorf("create delivery: %w", err)
	}
	return nil
}
