package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volleyhq/volley/internal/store"
)

// EventIngested counts an event accepted on a source: stored, or answered
// as a duplicate of an earlier one. It implements ingest.Observer.
func (m *Metrics) EventIngested(duplicate bool) {
	if duplicate {
		m.duplicates.Inc()
		return
	}
	m.ingested.Inc()
}

// EventRejected counts an ingest request refused for reason (Reason*); a
// refusal by the source's rate limit is also a throttled wait of the
// source. It implements ingest.Observer.
func (m *Metrics) EventRejected(reason string) {
	counter(m.rejectedBy, m.rejected, reason).Inc()
	if reason == ReasonEPS {
		m.throttledBy["source"].Inc()
	}
}

// EventsCommitted records one ingest group commit of n events that took
// took. It implements ingest.Observer.
func (m *Metrics) EventsCommitted(n int, took time.Duration) {
	m.commit(WriterIngest, n, took)
}

// AttemptFinished records an attempt to a destination that took took and
// ended in outcome (OutcomeSuccess, OutcomeFailed or OutcomeExhausted). It
// implements delivery.Observer.
func (m *Metrics) AttemptFinished(destinationID uint64, outcome string, took time.Duration) {
	counter(m.outcomeOf, m.deliveries, outcome).Inc()
	m.destination(destinationID).Observe(took.Seconds())
}

// DeliveryDropped counts a delivery cancelled without an attempt because
// its connection or destination is gone. It implements delivery.Observer.
func (m *Metrics) DeliveryDropped() { m.outcomeOf[OutcomeDropped].Inc() }

// AttemptThrottled counts an attempt held back by a rate limit ("destination"
// or "connection"). It implements delivery.Observer.
func (m *Metrics) AttemptThrottled(limit string) { counter(m.throttledBy, m.throttled, limit).Inc() }

// counter returns the series of value: resolved in advance for the known
// values, looked up in vec for any other.
func counter(known map[string]prometheus.Counter, vec *prometheus.CounterVec, value string) prometheus.Counter {
	if c, ok := known[value]; ok {
		return c
	}
	return vec.WithLabelValues(value)
}

// OutcomesCommitted records one commit of n delivery outcomes that took
// took. It implements delivery.QueueObserver.
func (m *Metrics) OutcomesCommitted(n int, took time.Duration) {
	m.commit(WriterDelivery, n, took)
}

// LeasesTakenOver counts deliveries of silent nodes made due again by this
// node. It implements delivery.QueueObserver.
func (m *Metrics) LeasesTakenOver(n int64) { m.takeovers.Add(float64(n)) }

func (m *Metrics) commit(writer string, n int, took time.Duration) {
	m.batchOf[writer].Observe(float64(n))
	m.commitOf[writer].Observe(took.Seconds())
}

var (
	backlogDesc = prometheus.NewDesc("volley_delivery_backlog",
		"Deliveries not finished, by state: due (waiting for a worker now; counted up to a cap, 100,000 by default) "+
			"or scheduled (everything else: retries waiting for their time, attempts in flight, held deliveries). "+
			"Read from the store: the same on every node.",
		[]string{"state"}, nil)
	oldestDesc = prometheus.NewDesc("volley_delivery_oldest_due_age_seconds",
		"How long the earliest due delivery has been due and not yet attempted; 0 when none is due. Read from the store.",
		nil, nil)
)

// backlogCollector reads the backlog from the store at each scrape: a sum
// of one counter row per connection and a bounded read of the due index,
// so a scrape costs the same on a store of any size.
type backlogCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- oldestDesc
}

// Collect implements prometheus.Collector.
func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	cfg := &c.m.cfg
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ScrapeTimeout)
	defer cancel()
	now := cfg.NowFunc()
	b, err := cfg.Backlog.DeliveryBacklog(ctx, store.BacklogParams{Now: now, DueLimit: cfg.DueLimit})
	if err != nil {
		cfg.Logger.Warn("metrics: read the delivery backlog", "err", err)
		ch <- prometheus.NewInvalidMetric(backlogDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(b.Due), "due")
	ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(max(b.Total-b.Due, 0)), "scheduled")
	age := 0.0
	if !b.OldestDue.IsZero() {
		age = max(now.Sub(b.OldestDue).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}
