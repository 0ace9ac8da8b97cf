package bench

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/volleyhq/volley/internal/store"
)

// scaleReport is what a scale run measured, rendered as one table.
type scaleReport struct {
	store              string
	events, backlog    int
	clients, probeRate int
	runs               int // the runs asked of each list query
	build              time.Duration
	indexed            int           // events the build's search index pass indexed (SQLite)
	indexTook          time.Duration // how long it took
	// buildPages is SQLite's page buffer in the building process once the
	// build is done: its fullest moment is the build's.
	buildPages             *store.PageMemory
	emptyIngest, bigIngest stats
	turns                  turnsResult // ingest on the big store and an empty one in turns
	puts                   []statusPut
	pauseProbe             probeStats
	burst                  drainResult // the empty store's held ingest, delivered
	drain                  drainResult
	purge                  purgeResult
	lists                  []listTiming
	sizeBuilt, sizeDrained int64
	sizePurged             int64
	// sizeSettled is the size once it stopped shrinking after the purge,
	// settleTook after sizePurged was read (SQLite gives the free pages
	// back to the file system after the pass); stillShrinking when the
	// wait's bound (settleMax) ended it first.
	sizeSettled    int64
	settleTook     time.Duration
	stillShrinking bool
	eventsDrained  int // built and accepted by the end of the drain
	rss            []rssStep
	writer         []writerStep // SQLite
}

// writerStep is what the store's single writer did during a step.
type writerStep struct {
	step, text string
}

// statusPut is one PUT of the connection's status and how long it took.
type statusPut struct {
	status string
	took   time.Duration
}

// listTiming is a timed list or detail request.
type listTiming struct {
	q listQuery
	t queryTiming
}

// rssStep is the node's peak resident memory during a step.
type rssStep struct {
	step string
	mib  float64
}

// drainResult is what the drain step measured.
type drainResult struct {
	before    int // events at the sink when the drain started
	target    int // events the sink must have: the backlog and every accepted webhook
	delivered int // events at the sink when the step ended
	// deliveredTook is when the sink had them all; recordedTook when the
	// connection had nothing pending left (every attempt recorded).
	deliveredTook, recordedTook time.Duration
	pending                     int64         // the connection's pending count last read
	gaveUp                      time.Duration // when the step gave up; 0 if it finished
	timeout                     time.Duration
	probe                       probeStats
}

func (d *drainResult) complete() bool { return d.recordedTook > 0 }

// rate is the drain's deliveries a second until the sink had them all.
func (d *drainResult) rate() float64 {
	return float64(d.delivered-d.before) / d.deliveredTook.Seconds()
}

// text describes the drain: rates only for work that finished, and the
// probe's figures when one ran.
func (d *drainResult) text() string {
	n := d.delivered - d.before
	probe := ""
	if d.probe.sent > 0 {
		probe = "; probe " + d.probe.String()
	}
	if !d.complete() {
		return fmt.Sprintf("INCOMPLETE: gave up after %s: %d of %d events at the sink (%.0f/s), %d deliveries still pending%s",
			d.timeout, d.delivered, d.target, float64(n)/d.gaveUp.Seconds(), d.pending, probe)
	}
	return fmt.Sprintf("%.0f deliveries/s: %d events delivered in %.1f s, every attempt recorded after %.1f s (%.0f/s)%s",
		d.rate(), n, d.deliveredTook.Seconds(), d.recordedTook.Seconds(), float64(n)/d.recordedTook.Seconds(), probe)
}

// drainText is the backlog drain's text, with its rate against the empty
// store's burst when both finished.
func (r *scaleReport) drainText() string {
	t := r.drain.text()
	if r.drain.complete() && r.burst.complete() {
		t += fmt.Sprintf(" (%.0f %% of the empty store's burst)", 100*r.drain.rate()/r.burst.rate())
	}
	return t
}

// purgeResult is what the retention purge measured.
type purgeResult struct {
	expired int           // built events older than the cutoff
	left    int64         // of them, still listed at the last look (capped)
	took    time.Duration // from the node's start until none was left
	gaveUp  time.Duration
	timeout time.Duration
	probe   probeStats
	// The progress list (requests?end_time=cutoff) during the purge.
	pollSlowest time.Duration
	pollFailed  int
	pollErr     string // the last failure
}

func (p *purgeResult) complete() bool { return p.took > 0 }

// pollText describes the progress list's answers.
func (p *purgeResult) pollText() string {
	t := fmt.Sprintf("; progress list `requests?end_time=` slowest %.0f ms", float64(p.pollSlowest)/float64(time.Millisecond))
	if p.pollFailed > 0 {
		t += fmt.Sprintf(", %d failed (last: %s)", p.pollFailed, p.pollErr)
	}
	return t
}

func (p *purgeResult) text() string {
	if !p.complete() {
		return fmt.Sprintf("INCOMPLETE: gave up after %s with %d of %d expired events still listed (a count past the API's cap is the cap); probe %s%s",
			p.timeout, p.left, p.expired, p.probe, p.pollText())
	}
	return fmt.Sprintf("%.0f events deleted/s: %d expired events gone %.1f s after the node started; probe %s%s",
		float64(p.expired)/p.took.Seconds(), p.expired, p.took.Seconds(), p.probe, p.pollText())
}

// sizeText gives a store's size per event.
func sizeText(bytes int64, events int) string {
	if events == 0 {
		return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20))
	}
	return fmt.Sprintf("%.2f KiB per event (%.1f MiB for %d events)", float64(bytes)/float64(events)/1024, float64(bytes)/(1<<20), events)
}

// putsText lists the PUTs' durations.
func putsText(puts []statusPut) string {
	var max time.Duration
	var each []string
	for _, p := range puts {
		max = maxDuration(max, p.took)
		each = append(each, fmt.Sprintf("%s %.0f ms", p.status, ms(p.took)))
	}
	return fmt.Sprintf("slowest %.0f ms (%s)", ms(max), strings.Join(each, ", "))
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// ingestText gives an ingest's rate and latency, and against ref (the empty
// store's) when given.
func ingestText(s stats, ref *stats) string {
	t := fmt.Sprintf("%.0f/s, p50 %.1f ms, p99 %.1f ms, %d errors", s.perSecond, ms(s.p50), ms(s.p99), s.errors)
	if ref != nil && ref.perSecond > 0 {
		t += fmt.Sprintf(" (%.0f %% of the empty store's rate)", 100*s.perSecond/ref.perSecond)
	}
	return t
}

// Issue 8's targets, beside each figure.
const (
	targetProbe  = "probe p99 < 25 ms, 0 timeouts"
	targetList   = "p99 < 50 ms"
	targetSearch = "p99 < 200 ms"
	// targetOffset: issue 8 asks deep pages of the cursor, and of offset
	// only that it keeps working for the official clients.
	targetOffset = "answers (deep pages: the cursor's row)"
)

// listTarget is issue 8's target for a list query of scaleQueries: searches
// and the deep page by offset have their own.
func listTarget(name string) string {
	switch {
	case strings.Contains(name, "search="):
		return targetSearch
	case strings.Contains(name, "by offset"):
		return targetOffset
	}
	return targetList
}

// rows are the table's rows: what was measured, its figures and issue 8's
// target for it.
func (r *scaleReport) rows() [][3]string {
	build := fmt.Sprintf("%d events in %.1f s: %.0f/s", r.events, r.build.Seconds(), float64(r.events)/r.build.Seconds())
	if r.indexed > 0 {
		build += fmt.Sprintf("; search index filled after it: %d events in %.1f s (%.0f/s)",
			r.indexed, r.indexTook.Seconds(), float64(r.indexed)/r.indexTook.Seconds())
	}
	if r.buildPages != nil {
		build += "; SQLite's page buffer: " + pagesText(*r.buildPages)
	}
	rows := [][3]string{
		{"build (store API, " + fmt.Sprint(scaleBatch) + " events a batch)", build, "10M in reasonable time"},
		{fmt.Sprintf("ingest, %d clients, empty store", r.clients), ingestText(r.emptyIngest, nil), ""},
		{"burst drain, empty store (the events its ingest left held)", r.burst.text(), "the drain's reference"},
		{fmt.Sprintf("ingest, %d clients, %d events", r.clients, r.events), ingestText(r.bigIngest, &r.emptyIngest), "see the next row"},
		{fmt.Sprintf("ingest in turns, %d clients: %d events / a new empty store", r.clients, r.events), r.turns.text(), "≥ 80 % of the empty store's"},
		{fmt.Sprintf("`PUT` connection enabled / paused, %d held; ingest at %d/s meanwhile", r.backlog, r.probeRate),
			putsText(r.puts) + "; probe " + r.pauseProbe.String(), "`PUT` < 100 ms; " + targetProbe},
		{fmt.Sprintf("backlog drain; ingest at %d/s meanwhile", r.probeRate), r.drainText(),
			"≥ 5,000/s (SQLite), ≥ 3,000/s (PostgreSQL), ≥ 70 % of the empty store's burst; " + targetProbe},
		{fmt.Sprintf("retention purge (%.1f h kept of the %.0f days built); ingest at %d/s meanwhile", scaleRetention.Hours(), scaleSpan.Hours()/24, r.probeRate),
			r.purge.text(), "≥ 2 × the ingest rate; " + targetProbe},
	}
	for _, l := range r.lists {
		v := fmt.Sprintf("p50 %.1f ms, p99 %.1f ms", ms(l.t.median), ms(l.t.p99))
		if l.t.runs < r.runs {
			// The query ran out of its time budget.
			v += fmt.Sprintf(" (%d runs)", l.t.runs)
		}
		switch {
		case l.t.estimate:
			v += fmt.Sprintf(" (total >%d)", l.t.total)
		case l.t.total >= 0:
			v += fmt.Sprintf(" (total %d)", l.t.total)
		}
		rows = append(rows, [3]string{"`" + l.q.name + "`", v, listTarget(l.q.name)})
	}
	settled := fmt.Sprintf("%.1f MiB %.0f s later", float64(r.sizeSettled)/(1<<20), r.settleTook.Seconds())
	if r.stillShrinking {
		settled += " (still shrinking when the wait ended)"
	}
	rows = append(rows, [3]string{"store size", fmt.Sprintf("built: %s; after the drain: %s; after the purge: %.1f MiB, %s",
		sizeText(r.sizeBuilt, r.events), sizeText(r.sizeDrained, r.eventsDrained), float64(r.sizePurged)/(1<<20), settled),
		"≤ 0.8 KiB per event"})
	var rss []string
	for _, s := range r.rss {
		rss = append(rss, fmt.Sprintf("%s %.0f MiB", s.step, s.mib))
	}
	rows = append(rows, [3]string{"peak RSS of the node", strings.Join(rss, "; "), "< 200 MiB"})
	for _, w := range r.writer {
		rows = append(rows, [3]string{"the writer during " + w.step, w.text, ""})
	}
	return rows
}

// render writes the table in Markdown, ready to paste into
// docs/benchmarks.md.
func (r *scaleReport) render(out io.Writer) {
	fmt.Fprintf(out, "| What | %s, %d events | target (issue 8) |\n|---|---|---|\n", r.store, r.events)
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, row := range r.rows() {
		fmt.Fprintf(out, "| %s | %s | %s |\n", esc(row[0]), esc(row[1]), esc(row[2]))
	}
}

// pagesText says how full SQLite's page buffer got: a build whose caches
// outgrew it ran with SQLite under memory pressure, its caches no longer
// growing.
func pagesText(pm store.PageMemory) string {
	if pm.Slots == 0 {
		return fmt.Sprintf("none (pages from the allocator: %d bytes now)", pm.OverflowBytes)
	}
	return fmt.Sprintf("%d of %d slots used at most (%d now), %d bytes beyond it now", pm.UsedMax, pm.Slots, pm.Used, pm.OverflowBytes)
}
