package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/volleyhq/volley/internal/yield"
)

var yieldCapDesc = prometheus.NewDesc("volley_bulk_rate_cap",
	"The rate (units a second) a kind of bulk work is held to while ingest commits slowly: "+
		"lease in deliveries, retention and replay in events; 0 when it runs at full speed.",
	[]string{"work"}, nil)

var yieldGaveUpDesc = prometheus.NewDesc("volley_bulk_yield_given_up_total",
	"Times a kind of bulk work, capped with ingest commits still slow, ran uncapped "+
		"for 30 s because the cap did not halve the share of slow commits.",
	[]string{"work"}, nil)

// yieldCollector reads the caps at each scrape: no I/O.
type yieldCollector struct{ sig *yield.Signal }

// Describe implements prometheus.Collector.
func (c yieldCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- yieldCapDesc
	ch <- yieldGaveUpDesc
}

// Collect implements prometheus.Collector.
func (c yieldCollector) Collect(ch chan<- prometheus.Metric) {
	for _, cp := range c.sig.Caps() {
		ch <- prometheus.MustNewConstMetric(yieldCapDesc, prometheus.GaugeValue, cp.Rate, cp.Work)
		ch <- prometheus.MustNewConstMetric(yieldGaveUpDesc, prometheus.CounterValue, float64(cp.GaveUp), cp.Work)
	}
}
