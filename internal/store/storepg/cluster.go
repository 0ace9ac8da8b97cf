package storepg

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/volleyhq/volley/internal/store"
)

var _ store.Cluster = (*Store)(nil)

// Notification channels between nodes.
const (
	channelWork   = "volley_work"
	channelConfig = "volley_config"
)

// NodeHeartbeat implements store.Cluster.
func (s *Store) NodeHeartbeat(ctx context.Context, owner string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO nodes (owner, heartbeat_at, started_at) VALUES ($1, now(), now())
		ON CONFLICT (owner) DO UPDATE SET heartbeat_at = now()`, validText(owner))
	return wrap(err, "heartbeat")
}

// NodeReap implements store.Cluster.
func (s *Store) NodeReap(ctx context.Context, ttl time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `WITH dead AS (
			DELETE FROM nodes WHERE heartbeat_at < now() - make_interval(secs => $1) RETURNING owner)
		UPDATE deliveries SET next_attempt_at = now(), lease_owner = ''
		WHERE state = 'pending' AND lease_owner IN (SELECT owner FROM dead)`, ttl.Seconds())
	if err != nil {
		return 0, wrap(err, "reap stopped nodes")
	}
	if n := tag.RowsAffected(); n > 0 {
		s.notify(ctx, channelWork)
		return n, nil
	}
	return 0, nil
}

// notify tells the other nodes something happened; a lost notification
// only delays them until their next poll, so errors are ignored.
func (s *Store) notify(ctx context.Context, channel string) {
	s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, channel)
}

// NotifyConfig implements store.Cluster.
func (s *Store) NotifyConfig(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, channelConfig)
	return wrap(err, "notify configuration change")
}

// Listen implements store.Cluster. It holds one connection of its own for
// as long as it listens.
func (s *Store) Listen(ctx context.Context, onWork, onConfig func()) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return wrap(err, "listen")
	}
	// A connection in LISTEN state must not go back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{channelWork, channelConfig} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return wrap(err, "listen")
		}
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return wrap(err, "wait for notifications")
		}
		switch n.Channel {
		case channelWork:
			onWork()
		case channelConfig:
			onConfig()
		}
	}
}

// RateReserve implements store.Cluster: one round trip that makes sure each
// key has a row, locks the rows in key order (so reservations never
// deadlock), takes the latest of their next starts (or now), and moves each
// key's next start 1/eps past it.
func (s *Store) RateReserve(ctx context.Context, limits []store.RateLimit, now time.Time) (time.Time, error) {
	keys, eps := make([]string, 0, len(limits)), make([]int32, 0, len(limits))
	for _, l := range limits {
		if l.EPS > 0 {
			keys, eps = append(keys, l.Key), append(eps, int32(l.EPS))
		}
	}
	if len(keys) == 0 {
		return now, nil
	}
	var start time.Time
	err := s.sendBatch(ctx, func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO rate_slots (key, next_at) SELECT unnest($1::text[]), $2 ON CONFLICT (key) DO NOTHING`, keys, ts(now))
		b.Queue(`WITH lim AS (SELECT * FROM unnest($1::text[], $2::int[]) AS l(key, eps)),
			locked AS (SELECT r.key, r.next_at FROM rate_slots r WHERE r.key = ANY($1) ORDER BY r.key FOR UPDATE),
			start AS (SELECT greatest($3::timestamptz, max(next_at)) AS t FROM locked)
			UPDATE rate_slots r SET next_at = start.t + make_interval(secs => ceil(1000000.0 / lim.eps) / 1000000.0)
			FROM start, lim WHERE r.key = lim.key
			RETURNING start.t`, keys, eps, ts(now))
		return b
	}, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&start); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return time.Time{}, wrap(err, "reserve rate slot")
	}
	if start.IsZero() {
		return time.Time{}, errors.New("reserve rate slot: no slot returned")
	}
	return start, nil
}

// sourceBucket is the width of a source-rate bucket; the window is
// sourceBuckets of them: the current bucket and the ten before it, so that
// any one-second window is covered and never holds more than eps events.
const (
	sourceBucket  = 100 * time.Millisecond
	sourceBuckets = 11
)

// SourceRateAllow implements store.Cluster: events are counted per 100 ms
// bucket, and one is accepted while the current bucket and the ten before
// it hold fewer than eps. That covers every one-second window ending now,
// so no window ever holds more than eps accepted events across all nodes
// (the price: a source may get a little less than eps in a steady stream).
// An advisory lock per source serialises the check and the count.
func (s *Store) SourceRateAllow(ctx context.Context, sourceID uint64, eps int, now time.Time) (bool, time.Duration, error) {
	if eps <= 0 {
		return true, 0, nil
	}
	bucket := now.UnixMilli() / sourceBucket.Milliseconds()
	var allowed bool
	var oldest *int64
	err := s.sendBatch(ctx, func() *pgx.Batch {
		b := &pgx.Batch{}
		// The lock comes first, in its own statement: in READ COMMITTED the
		// next statement's snapshot then sees every count committed before.
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, sourceLockKey(sourceID))
		b.Queue(`DELETE FROM source_rate WHERE source_id = $1 AND bucket <= $2`, int64(sourceID), bucket-sourceBuckets)
		b.Queue(`WITH cur AS (
				SELECT coalesce(sum(n), 0) AS total, min(bucket) AS oldest FROM source_rate
				WHERE source_id = $1 AND bucket > $2::bigint - $4::bigint),
			ins AS (
				INSERT INTO source_rate (source_id, bucket, n) SELECT $1, $2, 1 FROM cur WHERE total < $3::int
				ON CONFLICT (source_id, bucket) DO UPDATE SET n = source_rate.n + 1 RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM ins), (SELECT oldest FROM cur)`, int64(sourceID), bucket, eps, sourceBuckets)
		return b
	}, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if _, err := br.Exec(); err != nil {
			return err
		}
		return br.QueryRow().Scan(&allowed, &oldest)
	})
	if err != nil {
		return false, 0, wrap(err, "source rate limit")
	}
	if allowed || oldest == nil {
		return allowed, 0, nil
	}
	// Wait until the oldest counted bucket leaves the window.
	free := time.UnixMilli((*oldest + sourceBuckets) * sourceBucket.Milliseconds())
	return false, max(free.Sub(now), time.Millisecond), nil
}

// sourceLockKey is the advisory lock key of a source's rate count.
func sourceLockKey(sourceID uint64) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "volley/source-rate/%d", sourceID)
	return int64(h.Sum64())
}

// APIRateTake implements store.Cluster: one statement that inserts the
// key's first arrival or moves its tat, only when the request is allowed;
// no row back means refused, and the current tat is read (refusals are
// rare: the caller remembers them until they expire).
func (s *Store) APIRateTake(ctx context.Context, key string, interval time.Duration, burst int, now time.Time) (time.Time, bool, error) {
	step, tolerance := interval.Microseconds(), int64(burst)*interval.Microseconds()
	var tat time.Time
	err := retry(func() error {
		return s.pool.QueryRow(ctx, `INSERT INTO api_rate AS r (key, tat)
			SELECT $1, $2::timestamptz + make_interval(secs => $3::bigint / 1000000.0)
			WHERE $3::bigint <= $4::bigint
			ON CONFLICT (key) DO UPDATE SET tat = greatest(r.tat, $2::timestamptz) + make_interval(secs => $3::bigint / 1000000.0)
			WHERE greatest(r.tat, $2::timestamptz) + make_interval(secs => ($3::bigint - $4::bigint) / 1000000.0) <= $2::timestamptz
			RETURNING tat`, key, ts(now), step, tolerance).Scan(&tat)
	})
	if err == nil {
		return tat, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, wrap(err, "take api rate")
	}
	err = retry(func() error {
		return s.pool.QueryRow(ctx, `SELECT tat FROM api_rate WHERE key = $1`, key).Scan(&tat)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return now, false, nil // a burst below one request: nothing ever passes
	}
	if err != nil {
		return time.Time{}, false, wrap(err, "read api rate")
	}
	return tat, false, nil
}
