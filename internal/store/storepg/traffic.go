package storepg

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
	"github.com/volleyhq/volley/internal/store/payload"
	"github.com/volleyhq/volley/internal/store/storesql"
	"github.com/volleyhq/volley/internal/volley"
)

// sqlEventInsert stores a batch of events (the unnest arrays $1…$9, their
// external ids $20, paths $22 and trace contexts $23) and their payloads, their
// deliveries ($10…$16, reasons $21 and ordering keys $24, tied to their
// event by its public id) and the idempotency keys they now hold
// ($17…$19), in one statement. A pending or held delivery whose key has an
// unfinished delivery stored before the statement is stored parked (one
// of a key stored earlier in the batch is parked by the caller). It returns
// each event's public id, database id, delivery ids and which of those
// were parked. The deliveries are
// inserted in input order, so their identity values grow in that order:
// sorting an event's delivery ids gives NewEvent.Deliveries' order. The
// deliveries are grouped by event once and joined: a subquery per event
// would scan the whole dl CTE for each one, quadratic in the batch (1.5 s
// of a 5,000-event batch).
const sqlEventInsert = `WITH ev AS (
	INSERT INTO events (event_id, project_id, source_id, method, created_at, external_id, traceparent)
	SELECT u.uid, u.project_id, u.source_id, u.method, u.created_at, nullif(u.external_id, ''), u.traceparent
	FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $9::timestamptz[], $20::text[], $23::text[])
		AS u(uid, project_id, source_id, method, created_at, external_id, traceparent)
	RETURNING id, event_id, project_id, source_id, created_at
), st AS (
	INSERT INTO event_states (event_id, project_id, status, created_at)
	SELECT ev.id, ev.project_id, u.status, ev.created_at
	FROM unnest($1::text[], $8::text[]) AS u(uid, status) JOIN ev ON ev.event_id = u.uid
), pl AS (
	INSERT INTO event_payloads (event_id, query, headers, body, path)
	SELECT ev.id, u.query, u.headers, u.body, u.path
	FROM unnest($1::text[], $5::bytea[], $6::text[], $7::bytea[], $22::text[]) AS u(uid, query, headers, body, path)
	JOIN ev ON ev.event_id = u.uid
), dl AS (
	INSERT INTO deliveries (event_id, project_id, source_id, connection_id, destination_id, state,
		next_attempt_at, lease_owner, lease_token, created_at, finished_at, reason, ordering_key)
	SELECT ev.id, ev.project_id, ev.source_id, d.connection_id, d.destination_id,
		CASE WHEN d.busy THEN 'parked' ELSE d.state END,
		CASE WHEN d.busy AND d.lease_owner <> '' THEN ev.created_at ELSE d.next_attempt_at END,
		CASE WHEN d.busy THEN '' ELSE d.lease_owner END, CASE WHEN d.busy THEN 0 ELSE d.lease_token END, ev.created_at,
		CASE WHEN d.state = 'filtered' THEN ev.created_at ELSE ` + zeroTime + ` END, d.reason, d.ordering_key
	FROM (SELECT u.*, u.ordering_key <> '' AND u.state IN ('pending', 'held') AND ` + sqlKeyBusy + ` AS busy
		FROM unnest($10::text[], $11::bigint[], $12::bigint[], $13::text[], $14::timestamptz[], $15::text[], $16::bigint[],
			$21::text[], $24::text[])
			WITH ORDINALITY AS u(uid, connection_id, destination_id, state, next_attempt_at, lease_owner, lease_token, reason,
				ordering_key, ord)) d
	JOIN ev ON ev.event_id = d.uid
	ORDER BY d.ord
	RETURNING id, event_id, state
), ik AS (
	INSERT INTO idempotency_keys (source_id, key, event_id, expires_at)
	SELECT ev.source_id, k.key, ev.id, k.expires_at
	FROM unnest($17::text[], $18::bytea[], $19::timestamptz[]) AS k(uid, key, expires_at)
	JOIN ev ON ev.event_id = k.uid
	ON CONFLICT (source_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at
)
SELECT ev.event_id, ev.id, coalesce(d.ids, '{}'), coalesce(d.parked, '{}')
FROM ev LEFT JOIN (
	SELECT event_id, array_agg(id ORDER BY id) AS ids, array_agg(state = 'parked' ORDER BY id) AS parked
	FROM dl GROUP BY event_id
) d ON d.event_id = ev.id`

// sqlIdemLock takes a transaction-level advisory lock for each idempotency
// key of a batch (a hash of source and key, sorted so that batches lock in
// one order): inserts of one key on several nodes take turns, and the later
// one sees the earlier one's key.
const sqlIdemLock = `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`

// sqlIdemGet finds, for each keyed event ($1…$3, by position), the live
// event that holds its key unexpired at the event's time. (The LATERAL
// subquery, kept apart by its LIMIT, makes each lookup a primary key probe,
// whatever the planner's statistics of the table say.)
const sqlIdemGet = `SELECT u.ord, k.event_id, e.event_id
	FROM unnest($1::bigint[], $2::bytea[], $3::timestamptz[]) WITH ORDINALITY AS u(source_id, key, created_at, ord)
	JOIN LATERAL (SELECT event_id FROM idempotency_keys
		WHERE source_id = u.source_id AND key = u.key AND expires_at > u.created_at LIMIT 1) k ON true
	JOIN events e ON e.id = k.event_id`

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

// idemKey is an idempotency key on its source.
type idemKey struct {
	source uint64
	key    string
}

// lockID is the advisory lock key of k.
func (k idemKey) lockID() int64 {
	h := fnv.New64a()
	h.Write(binary.BigEndian.AppendUint64(nil, k.source))
	h.Write([]byte(k.key))
	return int64(h.Sum64())
}

// EventInsert implements store.Traffic.
//
// A batch without idempotency or ordering keys is one statement: one round
// trip, its own transaction. With keys it is a transaction of three round
// trips: begin, lock the keys and look up the idempotency keys; insert;
// commit.
func (s *Store) EventInsert(ctx context.Context, events []store.NewEvent) ([]store.InsertedEvent, error) {
	if len(events) == 0 {
		return []store.InsertedEvent{}, nil
	}
	var keyed []int
	for i := range events {
		if events[i].IdempotencyKey != "" {
			keyed = append(keyed, i)
		}
	}
	orderConns, orderKeys := orderedKeys(events)
	var out []store.InsertedEvent
	var err error
	if len(keyed) == 0 && len(orderKeys) == 0 {
		out, err = eventInsert(ctx, s.pool, events, nil)
	} else {
		err = retry(func() (err error) {
			out, err = s.eventInsertLocked(ctx, events, keyed, orderConns, orderKeys)
			return err
		})
	}
	if err != nil {
		return nil, wrap(err, "insert events")
	}
	if unleasedWork(events) {
		s.notify(ctx, channelWork) // the inserting node had no room: any node may take them
	}
	return out, nil
}

// unleasedWork reports whether a batch holds deliveries due without a
// lease.
func unleasedWork(events []store.NewEvent) bool {
	for i := range events {
		for _, d := range events[i].Deliveries {
			if d.State == volley.DeliveryPending && d.LeaseOwner == "" {
				return true
			}
		}
	}
	return false
}

// dup is the event an idempotency key names: stored earlier (ID, UID) or
// stored earlier in the same batch (Index).
type dup struct {
	ID    uint64
	UID   string
	Index int // -1 unless the original is in the batch
}

// eventInsertLocked stores a batch with idempotency keys (the events
// keyed) or ordering keys (the pairs orderConns, orderKeys): it begins a
// transaction, locks the batch's keys and looks up the idempotency keys in
// one round trip, then inserts and commits.
func (s *Store) eventInsertLocked(ctx context.Context, events []store.NewEvent, keyed []int,
	orderConns []uint64, orderKeys []string) ([]store.InsertedEvent, error) {
	locks := make([]int64, 0, len(keyed))
	sources, keys, created := make([]uint64, len(keyed)), make([][]byte, len(keyed)), make([]time.Time, len(keyed))
	for j, i := range keyed {
		ne := &events[i]
		k := idemKey{ne.Event.SourceID, ne.IdempotencyKey}
		locks = append(locks, k.lockID())
		sources[j], keys[j], created[j] = k.source, []byte(k.key), ts(ne.Event.CreatedAt)
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)

	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	if len(keyed) > 0 {
		b.Queue(sqlIdemLock, locks)
	}
	if len(orderKeys) > 0 {
		// After the idempotency keys: every transaction that takes both
		// kinds takes them in that order.
		b.Queue(sqlOrderLock, orderConns, orderKeys)
	}
	if len(keyed) > 0 {
		b.Queue(sqlIdemGet, sources, keys, created)
	}
	br := s.pool.SendBatch(ctx, b)
	tx := br.Tx()
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op once committed
	// By event index: the live event that holds the event's key unexpired.
	held := map[int]dup{}
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if len(keyed) > 0 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("lock idempotency keys: %w", err)
			}
		}
		if len(orderKeys) > 0 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("lock ordering keys: %w", err)
			}
		}
		if len(keyed) == 0 {
			return nil
		}
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("check idempotency keys: %w", err)
		}
		var ord int
		var d dup
		_, err = pgx.ForEachRow(rows, []any{&ord, &d.ID, &d.UID}, func() error {
			d.Index = -1
			held[keyed[ord-1]] = d
			return nil
		})
		if err != nil {
			return fmt.Errorf("check idempotency keys: %w", err)
		}
		return nil
	}()
	if err = errors.Join(err, br.Close()); err != nil {
		return nil, err
	}
	out, err := eventInsert(ctx, tx, events, idemDups(events, keyed, held))
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

// idemDups returns, by event index, the events of the batch that are
// duplicates, deciding in order as one event at a time would: an event
// takes its key when no live event holds it unexpired (held, as stored
// before the batch), and a later event of the batch is then a duplicate of
// it.
func idemDups(events []store.NewEvent, keyed []int, held map[int]dup) map[int]dup {
	type taken struct {
		index int
		until time.Time
	}
	inBatch := map[idemKey]taken{}
	dups := map[int]dup{}
	for _, i := range keyed {
		ne := &events[i]
		k := idemKey{ne.Event.SourceID, ne.IdempotencyKey}
		if t, ok := inBatch[k]; ok {
			if ts(t.until).After(ts(ne.Event.CreatedAt)) {
				dups[i] = dup{Index: t.index}
				continue
			}
		} else if d, ok := held[i]; ok {
			dups[i] = d
			continue
		}
		inBatch[k] = taken{i, ne.IdempotencyUntil}
	}
	return dups
}

// querier runs a query on the pool or in a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
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

// eventInsert stores the events that are not in dups with sqlEventInsert
// and returns every event's result.
func eventInsert(ctx context.Context, q querier, events []store.NewEvent, dups map[int]dup) ([]store.InsertedEvent, error) {
	n := len(events) - len(dups)
	uids, projects, sources := make([]string, 0, n), make([]uint64, 0, n), make([]uint64, 0, n)
	methods, queries, headers, bodies := make([]string, 0, n), make([][]byte, 0, n), make([]string, 0, n), make([][]byte, 0, n)
	paths := make([]string, 0, n)
	statuses, created, externals := make([]string, 0, n), make([]time.Time, 0, n), make([]string, 0, n)
	traces := make([]string, 0, n)
	var dUIDs, dOwners, dStates, dReasons, dKeys []string
	var dConns, dDests, dTokens []uint64
	var dNext []time.Time
	kUIDs, kKeys, kUntil := []string{}, [][]byte{}, []time.Time{}
	holder := map[idemKey]int{} // the last stored event of the batch with each key
	// The ordering keys the batch has stored an unfinished delivery of so
	// far: the statement does not see its own rows, so a later delivery of
	// the same key is parked here.
	busy := map[orderKey]bool{}
	for i := range events {
		if _, ok := dups[i]; ok {
			continue
		}
		ne := &events[i]
		e := &ne.Event
		status := insertedStatus(ne.Deliveries)
		uids, projects, sources = append(uids, e.UID), append(projects, e.ProjectID), append(sources, e.SourceID)
		methods, queries = append(methods, e.Method), append(queries, []byte(e.Query))
		paths = append(paths, validText(e.Path))
		headers, bodies = append(headers, encodeHTTPHeader(e.Headers)), append(bodies, nonNil(e.Body))
		statuses, created = append(statuses, status), append(created, ts(e.CreatedAt))
		externals = append(externals, payload.ExternalID(e.Headers, e.Body))
		traces = append(traces, validText(e.TraceParent))
		for _, d := range ne.Deliveries {
			if d.OrderingKey != "" && !volley.DeliveryFinal(d.State) {
				k := orderKey{d.ConnectionID, d.OrderingKey}
				if busy[k] {
					park(&d, e.CreatedAt)
				}
				busy[k] = true
			}
			dKeys = append(dKeys, validText(d.OrderingKey))
			dUIDs, dConns, dDests = append(dUIDs, e.UID), append(dConns, d.ConnectionID), append(dDests, d.DestinationID)
			dStates, dNext = append(dStates, d.State), append(dNext, ts(d.NextAttemptAt))
			dOwners, dTokens = append(dOwners, validText(d.LeaseOwner)), append(dTokens, d.LeaseToken)
			dReasons = append(dReasons, validText(d.Reason))
		}
		if ne.IdempotencyKey != "" {
			holder[idemKey{e.SourceID, ne.IdempotencyKey}] = i
		}
	}
	for k, i := range holder {
		kUIDs, kKeys, kUntil = append(kUIDs, events[i].Event.UID), append(kKeys, []byte(k.key)), append(kUntil, ts(events[i].IdempotencyUntil))
	}
	rows, err := q.Query(ctx, sqlEventInsert, uids, projects, sources, methods, queries, headers, bodies, statuses, created,
		nonNilSlice(dUIDs), nonNilSlice(dConns), nonNilSlice(dDests), nonNilSlice(dStates), nonNilSlice(dNext),
		nonNilSlice(dOwners), nonNilSlice(dTokens), kUIDs, kKeys, kUntil, externals, nonNilSlice(dReasons), paths, traces,
		nonNilSlice(dKeys))
	if err != nil {
		return nil, err
	}
	type stored struct {
		id         uint64
		deliveries []uint64
		parked     []bool
	}
	byUID := make(map[string]stored, n)
	var uid string
	var st stored
	if _, err := pgx.ForEachRow(rows, []any{&uid, &st.id, &st.deliveries, &st.parked}, func() error {
		byUID[uid] = st
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]store.InsertedEvent, len(events))
	for i := range events {
		if _, ok := dups[i]; ok {
			continue
		}
		st, ok := byUID[events[i].Event.UID]
		if !ok || len(st.deliveries) != len(events[i].Deliveries) {
			return nil, fmt.Errorf("event %s was not stored as sent", events[i].Event.UID)
		}
		out[i] = store.InsertedEvent{ID: st.id, UID: events[i].Event.UID, DeliveryIDs: st.deliveries}
		if slices.Contains(st.parked, true) {
			out[i].Parked = st.parked
		}
	}
	for i, d := range dups {
		if d.Index >= 0 {
			d.ID, d.UID = out[d.Index].ID, out[d.Index].UID
		}
		out[i] = store.InsertedEvent{ID: d.ID, UID: d.UID, Duplicate: true}
	}
	return out, nil
}

// nonNilSlice keeps an empty slice an empty array: pgx sends a nil slice as
// NULL, and "x <> ALL(NULL)" is NULL, not true.
func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

const eventCols = `e.id, e.event_id, e.project_id, e.source_id, coalesce(s.slug, ''), e.method, ep.query, ep.headers,
	ep.body, ` + sqlStatusOf + `, e.created_at, ep.path, e.traceparent`

// eventFrom joins each event to its payload (ep): every event has one.
const eventFrom = ` FROM events e JOIN event_payloads ep ON ep.event_id = e.id LEFT JOIN sources s ON s.id = e.source_id`

func scanEvent(row scanner) (*volley.Event, error) {
	var e volley.Event
	var query []byte
	var headers string
	if err := row.Scan(&e.ID, &e.UID, &e.ProjectID, &e.SourceID, &e.SourceSlug, &e.Method, &query, &headers,
		&e.Body, &e.Status, &e.CreatedAt, &e.Path, &e.TraceParent); err != nil {
		return nil, mapErr(err)
	}
	var err error
	if e.Headers, err = decodeHTTPHeader(headers); err != nil {
		return nil, fmt.Errorf("event %d: %w", e.ID, err)
	}
	e.Query, e.Body = string(query), nonNil(e.Body)
	return &e, nil
}

// dialect is how PostgreSQL binds the shared list queries' arguments.
var dialect = storesql.Dialect{
	Time:        func(t time.Time) any { return ts(t) },
	Search:      searchCond,
	StatusTable: "event_states",
}

// EventList implements store.Traffic.
func (s *Store) EventList(ctx context.Context, p store.EventListParams) ([]volley.Event, store.Total, error) {
	routes, err := storesql.LoadRoutes(p, func(q string, args ...any) ([]uint64, error) {
		rows, err := s.pool.Query(ctx, storesql.Numbered(q), args...)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[uint64])
	}, func(q string, args ...any) (n int, err error) {
		err = s.pool.QueryRow(ctx, storesql.Numbered(q), args...).Scan(&n)
		return n, err
	})
	if err != nil {
		return nil, store.Total{}, wrap(err, "list events")
	}
	list, total, err := readList(ctx, s, storesql.EventListQuery(p, dialect, eventCols, eventFrom, routes), scanEvent)
	if err == nil && total == 0 && storesql.ExternalIDSearch(p) {
		list, total, err = readList(ctx, s, storesql.EventListByExternalIDQuery(p, dialect, eventCols, eventFrom, routes), scanEvent)
	}
	return list, store.Total{N: total}, wrap(err, "list events")
}

// readList runs a list's count and page in one batch, one round trip.
func readList[T any](ctx context.Context, s *Store, q storesql.ListQuery, scan func(scanner) (*T, error)) ([]T, int64, error) {
	count, page := storesql.Numbered(q.Count), storesql.Numbered(q.Page)
	build := func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(count, q.CountArgs...)
		b.Queue(page, q.PageArgs...)
		return b
	}
	var list []T
	var total int64
	err := s.sendBatch(ctx, build, func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(&total); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		rows, err := br.Query()
		list, err = collect(rows, err, scan)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if q.Reversed {
		slices.Reverse(list)
	}
	return list, total, nil
}

// EventGet implements store.Traffic.
func (s *Store) EventGet(ctx context.Context, orgID, id uint64) (*volley.Event, error) {
	return scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+eventFrom+`
		JOIN projects p ON p.id = e.project_id WHERE e.id = $1 AND p.org_id = $2`, id, orgID))
}

// EventGetByUID implements store.Traffic.
func (s *Store) EventGetByUID(ctx context.Context, orgID uint64, uid string) (*volley.Event, error) {
	return scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+eventFrom+`
		JOIN projects p ON p.id = e.project_id WHERE e.event_id = $1 AND p.org_id = $2`, uid, orgID))
}

const deliveryCols = `d.id, d.event_id, e.event_id, d.project_id, d.source_id, d.connection_id, d.destination_id,
	d.state, d.attempts, d.next_attempt_at, d.lease_owner, d.lease_token, d.created_at, d.finished_at, d.reason,
	d.ordering_key`

func scanDelivery(row scanner) (*volley.Delivery, error) {
	var d volley.Delivery
	if err := row.Scan(&d.ID, &d.EventID, &d.EventUID, &d.ProjectID, &d.SourceID, &d.ConnectionID, &d.DestinationID,
		&d.State, &d.Attempts, &d.NextAttemptAt, &d.LeaseOwner, &d.LeaseToken, &d.CreatedAt, &d.FinishedAt, &d.Reason,
		&d.OrderingKey); err != nil {
		return nil, mapErr(err)
	}
	return &d, nil
}

// DeliveryListByEvent implements store.Traffic.
func (s *Store) DeliveryListByEvent(ctx context.Context, eventID uint64) ([]volley.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.event_id = $1 ORDER BY d.id`, eventID)
	list, err := collect(rows, err, scanDelivery)
	return list, wrap(err, "list deliveries")
}

// DeliveryCreate implements store.Traffic.
func (s *Store) DeliveryCreate(ctx context.Context, d *volley.Delivery) error {
	build := func() *pgx.Batch {
		b := &pgx.Batch{}
		var finished time.Time
		if volley.DeliveryFinal(d.State) {
			finished = ts(d.CreatedAt)
		}
		b.Queue(`INSERT INTO deliveries (event_id, project_id, source_id, connection_id, destination_id, state,
		next_attempt_at, lease_owner, lease_token, created_at, finished_at, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			d.EventID, d.ProjectID, d.SourceID, d.ConnectionID, d.DestinationID, d.State, ts(d.NextAttemptAt),
			validText(d.LeaseOwner), d.LeaseToken, ts(d.CreatedAt), finished, validText(d.Reason))
		queueEventStatus(b, []uint64{d.EventID})
		return b
	}
	err := s.sendBatch(ctx, build, func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(&d.ID); err != nil {
			return err
		}
		return readEventStatus(br)
	})
	return wrap(err, "create delivery")
}

// searchCond is the dialect's text search: the events the full-text index
// finds for the search's words (PostgreSQL's parser reads them, as it read
// the bodies), or whose external id is the text, and then either that
// external id or a body that holds the whole text, ignoring case. The index
// expression is migration 0006's, character for character.
func searchCond(text string) (string, []any) {
	valid := validText(text)
	return `e.id IN (SELECT event_id FROM event_payloads
			WHERE to_tsvector('simple'::regconfig, left(volley_body_text(body), 131072)) @@ plainto_tsquery('simple'::regconfig, ?)
			UNION ALL SELECT id FROM events WHERE external_id = ?)
		AND (e.external_id = ? OR EXISTS (SELECT 1 FROM event_payloads x
			WHERE x.event_id = e.id AND strpos(lower(volley_body_text(x.body)), lower(?)) > 0))`,
		[]any{valid, valid, valid, valid}
}
