package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/volleyhq/volley/internal/store"
)

var (
	writerWaitDesc = prometheus.NewDesc("volley_store_writer_wait_seconds",
		"How long writes waited for the store's single writer (SQLite), by kind of write: "+
			"ingest's is the time an accepted webhook queued behind other writes.",
		[]string{"kind"}, nil)
	writerHoldDesc = prometheus.NewDesc("volley_store_writer_hold_seconds",
		"How long writes held the store's single writer (SQLite), commit included, by kind of write: "+
			"a background kind's hold is what an ingest arriving meanwhile waits for.",
		[]string{"kind"}, nil)
)

// writerCollector reads the store's writer statistics at each scrape: a
// copy of counters the store keeps, no I/O.
type writerCollector struct{ stats store.WriterStats }

// Describe implements prometheus.Collector.
func (c writerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- writerWaitDesc
	ch <- writerHoldDesc
}

// Collect implements prometheus.Collector.
func (c writerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.stats.WriterStats() {
		ch <- prometheus.MustNewConstHistogram(writerWaitDesc, st.Wait.Count, st.Wait.Sum, st.Wait.Buckets, st.Kind)
		ch <- prometheus.MustNewConstHistogram(writerHoldDesc, st.Hold.Count, st.Hold.Sum, st.Hold.Buckets, st.Kind)
	}
}
