package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/volleyhq/volley/internal/store"
)

var (
	pageSlotsDesc = prometheus.NewDesc("volley_store_page_buffer_slots",
		"SQLite's page buffer (one per process), in pages, by state: used or free. "+
			"When free stays near 0, SQLite's caches stop growing and pages come from the allocator.",
		[]string{"state"}, nil)
	pageOverflowDesc = prometheus.NewDesc("volley_store_page_overflow_bytes",
		"SQLite page memory taken from the allocator because the page buffer had no free slot (all of it when there is no buffer).",
		nil, nil)
)

// pageMemoryCollector reads SQLite's page memory counters at each scrape:
// no I/O.
type pageMemoryCollector struct{ stats store.PageMemoryStats }

// Describe implements prometheus.Collector.
func (c pageMemoryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pageSlotsDesc
	ch <- pageOverflowDesc
}

// Collect implements prometheus.Collector.
func (c pageMemoryCollector) Collect(ch chan<- prometheus.Metric) {
	pm := c.stats.PageMemory()
	ch <- prometheus.MustNewConstMetric(pageSlotsDesc, prometheus.GaugeValue, float64(pm.Used), "used")
	ch <- prometheus.MustNewConstMetric(pageSlotsDesc, prometheus.GaugeValue, float64(max(pm.Slots-pm.Used, 0)), "free")
	ch <- prometheus.MustNewConstMetric(pageOverflowDesc, prometheus.GaugeValue, float64(pm.OverflowBytes))
}
