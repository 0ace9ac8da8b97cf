package console_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// screenshots makes the browser tests write PNGs of the pages they visit to
// docs/console/ (go test ./internal/console -run Browser -screenshots).
var screenshots = flag.Bool("screenshots", false, "write screenshots of the console's pages to docs/console/")

// stepTimeout bounds every browser step: a page load, a click, a wait for
// an element. It is a deadline for a condition, never a delay: a step
// ends as soon as its condition holds.
const stepTimeout = 30 * time.Second

// chrome is a headless Chromium tab driven through the DevTools protocol.
type chrome struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// chromiumPath finds Debian's chromium. Without it the browser tests are
// skipped, except in CI (CI=true), where a skipped browser test would let
// the run pass untested; .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	msg := "the browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs it): " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newChrome starts a headless Chromium with a fresh profile and opens a
// tab; both end with the test.
func newChrome(t *testing.T, base string) *chrome {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		// A laptop's viewport, for the screenshots.
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first run starts the browser, which lives as long as the context
	// of that run: the tab's own, bounded here by cancelling it.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	timer := time.NewTimer(stepTimeout)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	case <-timer.C:
		cancelTab()
		t.Fatalf("start chromium: not started within %v", stepTimeout)
	}
	return &chrome{t: t, ctx: ctx, base: base}
}

// do runs steps within stepTimeout, failing the test with what on error.
func (c *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	c.check(what, chromedp.Do(ctx, steps...))
}

// get runs one action that returns a value, within stepTimeout.
func get[T any](c *chrome, what string, a chromedp.Action[T]) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	c.check(what, err)
	return v
}

func (c *chrome) check(what string, err error) {
	c.t.Helper()
	if err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, stepTimeout)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	c.t.Fatalf("%s (at %s): %v\npage text:\n%s", what, loc, err, body)
}

// open loads a path of the console and waits for its h1.
func (c *chrome) open(path string) {
	c.t.Helper()
	c.do("open "+path, chromedp.Navigate(c.base+path), chromedp.WaitVisible(chromedp.CSS("h1")))
}

// follow clicks the element matching sel (a link or a submit button) and
// waits for the page it leads to to load.
func (c *chrome) follow(sel string) {
	c.t.Helper()
	get(c, "follow "+sel, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)))
}

// fill types text into the form field matching sel, replacing its value.
func (c *chrome) fill(sel, text string) {
	c.t.Helper()
	c.do("fill "+sel, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// eval evaluates a JavaScript expression.
func eval[T any](c *chrome, expr string) T {
	c.t.Helper()
	return get(c, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// wantText waits until the element matching sel contains want.
func (c *chrome) wantText(sel, want string) {
	c.t.Helper()
	expr := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want)
	get(c, fmt.Sprintf("wait for %q in %s", want, sel),
		chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
}

// a11yCheck lists what makes the page inaccessible by the rules the
// console keeps: exactly one h1; every visible input, select and textarea
// labelled (a <label> for it or around it, aria-label or
// aria-labelledby); every img with an alt attribute.
const a11yCheck = `(() => {
  const problems = [];
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(h1 + ' h1 elements');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const labelled = el.labels.length > 0 || (el.getAttribute('aria-label') || '').trim() !== '' ||
      (el.getAttribute('aria-labelledby') || '').split(/\s+/).some(id => id && document.getElementById(id));
    if (!labelled) problems.push('unlabelled control: ' + el.outerHTML.slice(0, 160));
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('image without alt: ' + img.outerHTML.slice(0, 160));
  }
  return problems;
})()`

// accessible fails the test when the current page breaks a11yCheck.
func (c *chrome) accessible() {
	c.t.Helper()
	problems := eval[[]string](c, a11yCheck)
	if len(problems) > 0 {
		loc := get(c, "location", chromedp.Location())
		c.t.Fatalf("accessibility of %s:\n%s", loc, strings.Join(problems, "\n"))
	}
}

// screenshot writes the viewport (1280×800) as docs/console/<name>.png
// when the -screenshots flag is set.
func (c *chrome) screenshot(name string) { c.t.Helper(); c.screenshotTall(name, 800) }

// screenshotTall is screenshot with a taller viewport, for pages whose
// point is further down. Only the viewport is captured, as PNG: small
// enough to commit.
func (c *chrome) screenshotTall(name string, height int64) {
	c.t.Helper()
	if !*screenshots {
		return
	}
	c.do("resize for "+name, chromedp.EmulateViewport(1280, height))
	png := get(c, "screenshot "+name, chromedp.CaptureScreenshot())
	c.do("resize back", chromedp.EmulateViewport(1280, 800))
	path := filepath.Join("..", "..", "docs", "console", name+".png")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("wrote %s (%d KB)", path, len(png)>>10)
}
