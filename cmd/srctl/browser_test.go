package main

// The HTML reports in a real browser: headless Chromium (Debian's chromium package; .ci/run
// installs it) driven over the DevTools protocol by chromedp. Each report must load with no
// console error (a Content-Security-Policy violation is one) and no request but its own file,
// list one row per endpoint, sort and filter, and draw every plot with the series and points
// the report's numbers call for. Screenshots go to the test's artifact directory, and with
// -update to testdata/screenshots for review and the README (golden by structure, not pixels).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/srctl/srctl/internal/testenv"
)

// chromiumPath finds a Chromium or Chrome binary: $SRCTL_TEST_CHROMIUM, else the usual names.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SRCTL_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.SkipOrFail(t, "no Chromium for the browser tests: apt-get install chromium (or set SRCTL_TEST_CHROMIUM); .ci/run installs it")
	return ""
}

// reportPage is an HTML report open in headless Chromium.
type reportPage struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string // console errors, exceptions, log entries of level error
	requests []string // every URL the page asked for
}

// openReport loads the report file in a new headless Chromium.
func openReport(t *testing.T, file string) *reportPage {
	t.Helper()
	exe := chromiumPath(t)
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	// Generous: Chromium starts slowly on a loaded 2-core machine.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	p := &reportPage{t: t}
	// The listener sees the tab's events from its start (Network and Log are enabled by
	// chromedp); it runs in the tab's read loop, so it only records.
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == "error" || e.Type == "warning" || e.Type == "assert" {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p.problems = append(p.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			p.problems = append(p.problems, "exception: "+msg)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
				p.problems = append(p.problems, fmt.Sprintf("log %s (%s): %s", e.Entry.Level, e.Entry.Source, e.Entry.Text))
			}
		case *network.EventRequestWillBeSent:
			p.requests = append(p.requests, e.Request.URL)
		}
	}))
	t.Cleanup(cancelBrowser)
	p.ctx = bctx
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 1000), chromedp.Navigate("file://"+abs), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatalf("opening %s in Chromium: %v", file, err)
	}
	return p
}

// evalJS evaluates a JavaScript expression on the page.
func evalJS[T any](p *reportPage, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// checkClean fails the test on any console problem or any request but the file itself.
func (p *reportPage) checkClean(file string) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.problems {
		p.t.Errorf("%s: %s", filepath.Base(file), pr)
	}
	for _, u := range p.requests {
		if !strings.HasPrefix(u, "file://") || !strings.HasSuffix(u, filepath.Base(file)) {
			p.t.Errorf("%s asked the network for %s (a report must be self-contained)", filepath.Base(file), u)
		}
	}
}

// rowsShown is the number of visible rows of a table.
func (p *reportPage) rowsShown(table string) int {
	return evalJS[int](p, fmt.Sprintf(`[...document.querySelectorAll("#%s tbody tr")].filter(r => !r.hidden).length`, table))
}

// columnValues are the sort keys of a column, in the order the rows are shown.
func (p *reportPage) columnValues(table string, col int) []float64 {
	return evalJS[[]float64](p, fmt.Sprintf(`[...document.querySelectorAll("#%s tbody tr")].map(r => { const x = parseFloat(r.cells[%d].dataset.sort); return isNaN(x) ? -1e300 : x; })`, table, col))
}

// clickHeading clicks a column heading, as a reader would.
func (p *reportPage) clickHeading(table string, col int) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#%s th[data-col="%d"]`, table, col)))); err != nil {
		p.t.Fatalf("clicking heading %d of #%s: %v", col, table, err)
	}
}

// checkSorting sorts a numeric column both ways by clicking its heading.
func (p *reportPage) checkSorting(table string, col int) {
	p.t.Helper()
	p.clickHeading(table, col)
	asc := p.columnValues(table, col)
	p.clickHeading(table, col)
	desc := p.columnValues(table, col)
	// Missing values sort last either way; compare the present ones.
	present := func(v []float64) []float64 {
		return slices.DeleteFunc(slices.Clone(v), func(x float64) bool { return x == -1e300 })
	}
	if a := present(asc); !slices.IsSorted(a) {
		p.t.Errorf("#%s column %d after one click: %v, want ascending", table, col, a)
	}
	d := present(desc)
	slices.Reverse(d)
	if !slices.IsSorted(d) || len(d) == 0 {
		p.t.Errorf("#%s column %d after two clicks: %v, want descending", table, col, present(desc))
	}
}

// filterVerdict picks a verdict in the filter and returns the rows shown.
func (p *reportPage) filterVerdict(v string) int {
	p.t.Helper()
	ok := evalJS[bool](p, fmt.Sprintf(`(() => { const f = document.getElementById("verdict-filter"); if (![...f.options].some(o => o.value === %q)) return false; f.value = %q; f.dispatchEvent(new Event("change")); return true; })()`, v, v))
	if !ok && v != "" {
		p.t.Errorf("the verdict filter has no option %q", v)
	}
	return evalJS[int](p, `(() => { const f = document.getElementById("verdict-filter");
		return [...document.getElementById(f.dataset.table).tBodies[0].rows].filter(r => !r.hidden).length; })()`)
}

// plotShape is what a plot draws: per series, the points declared and the markers drawn.
type plotShape struct {
	Section string  `json:"section"`
	Series  int     `json:"series"`
	Points  [][]int `json:"points"` // [declared, drawn] per series
	Marks   int     `json:"marks"`
}

func (p *reportPage) plots() []plotShape {
	return evalJS[[]plotShape](p, `[...document.querySelectorAll("svg.plot")].map(s => ({
		section: s.closest("section").id,
		series: +s.dataset.series,
		points: [...s.querySelectorAll("g.series")].map(g => [+g.dataset.points, g.querySelectorAll(".pt").length]),
		marks: s.querySelectorAll("g.marks text").length }))`)
}

// screenshot keeps a picture of the page's first screen, and of one element when sel is set.
func (p *reportPage) screenshot(name, sel string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, 0)")); err != nil {
		p.t.Fatalf("scrolling to the top: %v", err)
	}
	top, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	var el []byte
	if sel != "" {
		if el, err = chromedp.Run(p.ctx, chromedp.Screenshot(chromedp.CSS(sel))); err != nil {
			p.t.Fatalf("screenshot of %s: %v", sel, err)
		}
	}
	dirs := []string{p.t.ArtifactDir()}
	if testenv.Update() {
		dirs = append(dirs, filepath.Join("testdata", "screenshots"))
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			p.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), top, 0o644); err != nil {
			p.t.Fatal(err)
		}
		if el != nil {
			if err := os.WriteFile(filepath.Join(dir, name+"-endpoint.png"), el, 0o644); err != nil {
				p.t.Fatal(err)
			}
		}
	}
	if len(top) < 10000 {
		p.t.Errorf("screenshot of %d bytes: the page drew nothing", len(top))
	}
}

// reachable counts the quantile levels a sample of n values reaches (internal/htmlreport's rule).
func reachable(n int64) int {
	levels := []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999}
	k := 0
	for _, q := range levels {
		if n > 0 && (q <= 0.5 || float64(n)*(1-q) >= 1) {
			k++
		}
	}
	return k
}

// jsonOf runs srctl with --format json and decodes the report.
func jsonOf[R any](t *testing.T, args ...string) R {
	t.Helper()
	var r R
	_, out, errOut := runCLI(context.Background(), append(args, "--format", "json")...)
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("srctl %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return r
}
