package bench

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The node's writer statistics (SQLite's volley_store_writer_* histograms)
// say where an ingest's wait went during a step: the kinds of write that
// held the writer and for how long.

// writerHist is one histogram's cumulative buckets.
type writerHist struct {
	count   uint64
	sum     float64        // seconds, all samples
	buckets []writerBucket // by bound, ascending
}

type writerBucket struct {
	le  float64 // upper bound, seconds
	cum uint64
}

// writerSnap is the node's writer histograms by kind at one time; empty
// for a store without a single writer (PostgreSQL).
type writerSnap struct {
	wait, hold map[string]writerHist
}

// scrapeWriter reads the node's writer histograms from its /metrics.
func scrapeWriter(ctx context.Context, base string) (writerSnap, error) {
	snap := writerSnap{wait: map[string]writerHist{}, hold: map[string]writerHist{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return snap, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return snap, fmt.Errorf("scrape %s/metrics: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return snap, fmt.Errorf("scrape %s/metrics: status %d", base, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return snap, fmt.Errorf("scrape %s/metrics: %w", base, err)
	}
	read := func(name string, into map[string]writerHist) {
		for _, m := range fams[name].GetMetric() {
			into[label(m, "kind")] = histOf(m.GetHistogram())
		}
	}
	read("volley_store_writer_wait_seconds", snap.wait)
	read("volley_store_writer_hold_seconds", snap.hold)
	return snap, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func histOf(h *dto.Histogram) writerHist {
	w := writerHist{count: h.GetSampleCount(), sum: h.GetSampleSum()}
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), 1) {
			continue // the count
		}
		w.buckets = append(w.buckets, writerBucket{b.GetUpperBound(), b.GetCumulativeCount()})
	}
	slices.SortFunc(w.buckets, func(a, b writerBucket) int { return cmp.Compare(a.le, b.le) })
	return w
}

// since returns what happened between before and s.
func (s writerSnap) since(before writerSnap) writerSnap {
	diff := func(now, then map[string]writerHist) map[string]writerHist {
		out := map[string]writerHist{}
		for k, h := range now {
			b := then[k]
			d := writerHist{count: h.count - b.count, sum: h.sum - b.sum}
			for i, bk := range h.buckets {
				var prev uint64
				if i < len(b.buckets) {
					prev = b.buckets[i].cum
				}
				d.buckets = append(d.buckets, writerBucket{bk.le, bk.cum - prev})
			}
			out[k] = d
		}
		return out
	}
	return writerSnap{wait: diff(s.wait, before.wait), hold: diff(s.hold, before.hold)}
}

// quantile returns the bound of the bucket holding the q quantile, and
// false when it is past every bound.
func (h writerHist) quantile(q float64) (float64, bool) {
	rank := uint64(q*float64(h.count) + 0.999999)
	for _, b := range h.buckets {
		if b.cum >= rank {
			return b.le, true
		}
	}
	return 0, false
}

// bound renders a quantile's bucket: "≤ 4 ms", or "> 4096 ms" past the
// last.
func (h writerHist) bound(q float64) string {
	if le, ok := h.quantile(q); ok {
		return fmt.Sprintf("≤ %g ms", le*1000)
	}
	last := 0.0
	if n := len(h.buckets); n > 0 {
		last = h.buckets[n-1].le
	}
	return fmt.Sprintf("> %g ms", last*1000)
}

// String renders a step's writer statistics: ingest's wait, then each kind
// that held the writer, longest holds first, with its p99 and maximum
// bucket, how many times and how long in all (the writer's busy time);
// "" when the node has no single writer.
func (s writerSnap) String() string {
	if len(s.hold) == 0 {
		return ""
	}
	var kinds []string
	for k, h := range s.hold {
		if h.count > 0 {
			kinds = append(kinds, k)
		}
	}
	top := func(k string) float64 {
		le, ok := s.hold[k].quantile(1)
		if !ok {
			return 1e9
		}
		return le
	}
	slices.SortFunc(kinds, func(a, b string) int {
		if c := cmp.Compare(top(b), top(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	held := make([]string, len(kinds))
	for i, k := range kinds {
		h := s.hold[k]
		held[i] = fmt.Sprintf("%s p99 %s, max %s (%d, %.1f s)", k, h.bound(0.99), h.bound(1), h.count, h.sum)
	}
	return "ingest waited p99 " + s.wait["ingest"].bound(0.99) + ", max " + s.wait["ingest"].bound(1) +
		"; held by " + strings.Join(held, ", ")
}
