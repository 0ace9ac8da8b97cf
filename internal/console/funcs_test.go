package console

import (
	"strings"
	"testing"
	"time"
)

func TestCount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-1000, "-1,000"}, {-12, "-12"}} {
		if got := count(tc.n); got != tc.want {
			t.Errorf("count(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, want int64 }{{0, 2}, {1, 2}, {2, 2}, {3, 4}, {5, 10}, {11, 20}, {21, 40}, {41, 100}, {1001, 2000}, {2001, 4000}} {
		if got := niceCeil(tc.n); got != tc.want {
			t.Errorf("niceCeil(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestTimeTag(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 14, 5, 9, 0, time.FixedZone("CET", 3600))
	want := `<time datetime="2026-12-03T13:05:09Z" title="2026-12-03 13:05:09 UTC">2026-12-03 13:05 UTC</time>`
	if got := string(timeTag(at)); got != want {
		t.Errorf("timeTag = %s, want %s", got, want)
	}
	if got := string(timeTag(time.Time{})); got != "never" {
		t.Errorf("timeTag(zero) = %s", got)
	}
}

// TestChart checks what a chart draws and that it escapes every text it
// was given.
func TestChart(t *testing.T) {
	t.Parallel()
	c := &chart{ID: `x"y`, Title: "<script>alert(1)</script>", Labels: []string{"a<b", "c"},
		Series: []chartSeries{{Name: "re<ceived", Values: []int64{3, 0}}, {Name: "failed", Values: []int64{1}}}}
	got := string(renderChart(c))
	for _, bad := range []string{"<script>", `"y`, "a<b", "re<ceived"} {
		if strings.Contains(got, bad) {
			t.Errorf("the chart shows %q unescaped:\n%s", bad, got)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;: 3 re&lt;ceived, 1 failed in total", // the accessible title
		`<th scope="row">a&lt;b</th><td>3</td><td>1</td>`,                          // the numbers
		`<th scope="row">c</th><td>0</td><td>0</td>`,                               // a missing value is 0
		`role="img"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the chart lacks %s:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "<rect "); n != 4 {
		t.Errorf("%d bars, want 4 (2 periods × 2 series)", n)
	}
	// The tallest bar is in scale (top of the axis 4 for a peak of 3: 3/4
	// of 146 units), and the half line names a whole count; an empty chart
	// draws no bar taller than 0.
	if !strings.Contains(got, `height="109.5"`) || !strings.Contains(got, `text-anchor="end">2</text>`) {
		t.Errorf("the bar of 3 is not 3/4 of the plot, or the half line is not 2:\n%s", got)
	}
	empty := string(renderChart(&chart{ID: "e", Title: "Empty", Labels: []string{"a"}, Series: []chartSeries{{Name: "n", Values: []int64{0}}}}))
	if !strings.Contains(empty, `height="0.0"`) || !strings.Contains(empty, "Empty: 0 n in total") {
		t.Errorf("the empty chart:\n%s", empty)
	}
}
