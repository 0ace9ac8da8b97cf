package console

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// chart is a bar chart drawn on the server as inline SVG: no script and no
// chart library, readable by screen readers through its title and the
// table of its numbers under it.
type chart struct {
	// ID makes element ids unique on a page ("hourly").
	ID string
	// Title names the chart ("Events per hour, last 24 hours").
	Title string
	// Labels name the buckets, oldest first ("14:00", "Dec 3").
	Labels []string
	// Series are drawn side by side in each bucket, each with a CSS class
	// for its colour (series-0, series-1, …).
	Series []chartSeries
	// Gaps, when set, marks the buckets without data (no sample was
	// taken): no bar is drawn and the table says "not sampled", so that
	// a gap does not read as a zero.
	Gaps []bool
	// Peaks says that the values are maxima, which do not add up: the
	// accessible title states each series' highest value, not its total.
	Peaks bool
}

// gap reports whether bucket i has no data.
func (c *chart) gap(i int) bool { return i < len(c.Gaps) && c.Gaps[i] }

// chartSeries is one measure of a chart, one value per label.
type chartSeries struct {
	Name   string
	Values []int64
}

// Drawing area in SVG units; the CSS scales the whole figure.
const (
	chartW, chartH = 720, 180
	chartTop       = 10
	chartBottom    = 24 // room for the x labels
	chartLeft      = 44 // room for the y labels
)

// renderChart draws c. Every text that comes from outside this file is
// escaped: the result is safe HTML.
func renderChart(c *chart) template.HTML {
	var peak int64
	for _, s := range c.Series {
		for _, v := range s.Values {
			peak = max(peak, v)
		}
	}
	top := niceCeil(peak)
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, `<figure class="chart" aria-labelledby="%s-title">`, esc(c.ID))
	fmt.Fprintf(&b, `<figcaption id="%s-title">%s</figcaption>`, esc(c.ID), esc(c.Title))
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" aria-labelledby="%s-svgtitle" preserveAspectRatio="xMidYMid meet">`, chartW, chartH, esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-svgtitle">%s</title>`, esc(c.ID), esc(c.Title+": "+summary(c)))
	plotH := float64(chartH - chartTop - chartBottom)
	plotW := float64(chartW - chartLeft)
	// Grid lines at 0, half and top.
	for _, f := range []float64{0, 0.5, 1} {
		y := float64(chartTop) + plotH*(1-f)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, chartLeft, chartW, y, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, chartLeft-4, y+4, esc(count(int64(float64(top)*f))))
	}
	n := len(c.Labels)
	if n > 0 && len(c.Series) > 0 {
		slot := plotW / float64(n)
		barW := slot * 0.8 / float64(len(c.Series))
		step := (n + 11) / 12 // at most about 12 x labels
		for i, label := range c.Labels {
			x0 := float64(chartLeft) + slot*float64(i) + slot*0.1
			for si, s := range c.Series {
				if c.gap(i) {
					break
				}
				v := int64(0)
				if i < len(s.Values) {
					v = s.Values[i]
				}
				h := 0.0
				if top > 0 {
					h = plotH * float64(v) / float64(top)
				}
				fmt.Fprintf(&b, `<rect class="series-%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
					si, x0+barW*float64(si), float64(chartTop)+plotH-h, barW, h, esc(label+": "+count(v)+" "+s.Name))
			}
			if i%step == 0 {
				fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x0+slot*0.4, chartH-6, esc(label))
			}
		}
	}
	b.WriteString(`</svg><p class="legend">`)
	for si, s := range c.Series {
		fmt.Fprintf(&b, `<span class="key series-%d"></span>%s `, si, esc(s.Name))
	}
	b.WriteString(`</p><details><summary>The numbers</summary><table><thead><tr><th scope="col">Period</th>`)
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<th scope="col">%s</th>`, esc(s.Name))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, label := range c.Labels {
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th>`, esc(label))
		for _, s := range c.Series {
			if c.gap(i) {
				b.WriteString(`<td class="muted">not sampled</td>`)
				continue
			}
			v := int64(0)
			if i < len(s.Values) {
				v = s.Values[i]
			}
			fmt.Fprintf(&b, `<td>%s</td>`, count(v))
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></details></figure>`)
	return template.HTML(b.String())
}

// summary is the chart's totals (or, for peaks, highest values) in
// words, for its accessible title.
func summary(c *chart) string {
	parts := make([]string, 0, len(c.Series))
	for _, s := range c.Series {
		var sum int64
		for _, v := range s.Values {
			if c.Peaks {
				sum = max(sum, v)
			} else {
				sum += v
			}
		}
		parts = append(parts, count(sum)+" "+s.Name)
	}
	if c.Peaks {
		return "at most " + strings.Join(parts, ", ")
	}
	return strings.Join(parts, ", ") + " in total"
}

// niceCeil rounds n up to 2, 4 or 10 times a power of ten (at least 2), the
// top of the y axis: always even, so that the grid line at half of it
// names a whole count (a top of 1 or 5 would label 0.5 or 2.5 as 0 or 2).
func niceCeil(n int64) int64 {
	p := int64(1)
	for {
		for _, m := range []int64{2, 4, 10} {
			if m*p >= n {
				return m * p
			}
		}
		p *= 10
	}
}
