//go:build !shadowonly

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/srctl/srctl/analyze"
	"github.com/srctl/srctl/harness"
)

// checkPlots compares the plots a page drew with the sample sizes the report gives for each
// section: want(section) returns the points each series should have, nil when the section has
// no plot.
func checkPlots(t *testing.T, p *reportPage, wantPlots int, want func(section string) []int) {
	t.Helper()
	plots := p.plots()
	if len(plots) != wantPlots {
		t.Errorf("%d plots, want %d", len(plots), wantPlots)
	}
	for _, pl := range plots {
		w := want(pl.Section)
		if w == nil {
			t.Errorf("section %s has a plot it should not have", pl.Section)
			continue
		}
		if pl.Series != len(w) || len(pl.Points) != len(w) {
			t.Errorf("section %s: %d series declared, %d drawn, want %d", pl.Section, pl.Series, len(pl.Points), len(w))
			continue
		}
		for i, pts := range pl.Points {
			if pts[0] != pts[1] || pts[0] != w[i] {
				t.Errorf("section %s series %d: %d points declared, %d drawn, want %d", pl.Section, i, pts[0], pts[1], w[i])
			}
		}
	}
}

// sectionIndex is i of the section ID "ep-i".
func sectionIndex(t *testing.T, id string) int {
	t.Helper()
	var i int
	if _, err := fmt.Sscanf(id, "ep-%d", &i); err != nil {
		t.Fatalf("section id %q", id)
	}
	return i
}

// TestDiffHTMLReportInBrowser opens srctl diff's HTML report in Chromium.
func TestDiffHTMLReportInBrowser(t *testing.T) {
	dir := diffData(t)
	logs, profiles := filepath.Join(dir, "shadow-logs"), filepath.Join(dir, "starrocks-query-profiles")
	file := filepath.Join(t.TempDir(), "diff.html")
	if code, _, errOut := runCLI(context.Background(), "diff", "--workers", "1", "--profiles", profiles, "--report-html", file, logs); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := jsonOf[analyze.Report](t, "diff", "--workers", "1", "--profiles", profiles, logs)
	p := openReport(t, file)
	p.screenshot("diff-report", "#ep-0") // before the clicks below reorder the table
	if n := p.rowsShown("endpoints"); n != len(rep.Endpoints) {
		t.Errorf("%d rows, want one per endpoint (%d)", n, len(rep.Endpoints))
	}
	status := evalJS[string](p, `document.getElementById("status").textContent`)
	if want := "regressions"; !strings.Contains(status, want) || rep.Summary.Regressions == 0 {
		t.Errorf("status %q, want one naming the %d regressions", status, rep.Summary.Regressions)
	}
	if n := p.filterVerdict(analyze.VerdictRegression); n != rep.Summary.Regressions {
		t.Errorf("filtering regressions shows %d rows, want %d", n, rep.Summary.Regressions)
	}
	if n := p.filterVerdict(""); n != len(rep.Endpoints) {
		t.Errorf("clearing the filter shows %d rows, want %d", n, len(rep.Endpoints))
	}
	p.checkSorting("endpoints", 2) // pairs
	p.checkSorting("endpoints", 8) // ΔP99
	withPairs := 0
	for _, e := range rep.Endpoints {
		if e.Pairs > 0 {
			withPairs++
		}
	}
	checkPlots(t, p, withPairs, func(section string) []int {
		e := rep.Endpoints[sectionIndex(t, section)]
		if e.Pairs == 0 {
			return nil
		}
		return []int{reachable(e.Pairs), reachable(e.Pairs)}
	})
	p.checkClean(file)
}

// TestValidateHTMLReportInBrowser opens srctl validate's HTML report in Chromium.
func TestValidateHTMLReportInBrowser(t *testing.T) {
	dir := validateData(t)
	logs := filepath.Join(dir, "shadow-logs")
	at := validateFixAt.Format(time.RFC3339)
	file := filepath.Join(t.TempDir(), "validate.html")
	if code, _, errOut := runCLI(context.Background(), "validate", "--change-at", at, "--format", "html", "--report-html", file, logs); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := jsonOf[analyze.ValidateReport](t, "validate", "--change-at", at, logs)
	p := openReport(t, file)
	p.screenshot("validate-report", "#ep-0")
	if n := p.rowsShown("endpoints"); n != len(rep.Endpoints) {
		t.Errorf("%d rows, want one per endpoint and target (%d)", n, len(rep.Endpoints))
	}
	if n := p.filterVerdict(analyze.VerdictImprovement); n != rep.Headline.Improved.Endpoints || n == 0 {
		t.Errorf("filtering improvements shows %d rows, want %d (the planted fix)", n, rep.Headline.Improved.Endpoints)
	}
	p.filterVerdict("")
	p.checkSorting("endpoints", 3)  // executions before
	p.checkSorting("endpoints", 10) // ΔP99
	plotted := 0
	for _, e := range rep.Endpoints {
		if e.Before.Latencies+e.After.Latencies > 0 {
			plotted++
		}
	}
	checkPlots(t, p, plotted, func(section string) []int {
		e := rep.Endpoints[sectionIndex(t, section)]
		return []int{reachable(e.Before.Latencies), reachable(e.After.Latencies)}
	})
	p.checkClean(file)
}

// TestHTMLReportIsInert: text a client put into its SQL and a server into its error messages
// (markup, a script, an image) must reach the page as text: no script runs, nothing loads.
func TestHTMLReportIsInert(t *testing.T) {
	start := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	logs := hostileLogs(t, start, `/x</script><script>window.pwned=1</script><img src=http://attacker.example/a.png onerror=window.pwned=2>`,
		`near '\"><svg onload=window.pwned=3><style>body{display:none}</style><a href=javascript:window.pwned=4>'`)
	for _, cmd := range [][]string{{"diff"}, {"validate", "--change-at", start.Add(30 * time.Minute).Format(time.RFC3339)}} {
		file := filepath.Join(t.TempDir(), cmd[0]+".html")
		code, out, errOut := runCLI(context.Background(), append(cmd, "--format", "html", logs)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", cmd[0], code, errOut)
		}
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		p := openReport(t, file)
		type pageState struct {
			Pwned    bool `json:"pwned"`
			Scripts  int  `json:"scripts"`
			Styles   int  `json:"styles"`
			Images   int  `json:"images"`
			Text     bool `json:"text"`
			Visible  bool `json:"visible"`
			JSLinks  int  `json:"jslinks"`
			Elements int  `json:"svgs"`
		}
		state := evalJS[pageState](p, `({pwned: window.pwned !== undefined, scripts: document.scripts.length, styles: document.querySelectorAll("style").length,
			images: document.images.length, text: document.body.textContent.includes("<script>window.pwned=1</script>"),
			visible: getComputedStyle(document.body).display !== "none", jslinks: document.querySelectorAll('a[href^="javascript"]').length,
			svgs: document.querySelectorAll("svg:not(.plot)").length})`)
		if state.Pwned || state.Scripts != 1 || state.Styles != 1 || state.Images != 0 || !state.Visible || state.JSLinks != 0 || state.Elements != 0 {
			t.Errorf("%s: the logs' markup became page content: %+v", cmd[0], state)
		}
		if !state.Text {
			t.Errorf("%s: the hostile endpoint is not on the page as text", cmd[0])
		}
		p.checkClean(file)
	}
}

// TestCompareBaselineHTMLReportInBrowser opens compare-baseline's --report-html in Chromium.
func TestCompareBaselineHTMLReportInBrowser(t *testing.T) {
	dsn, table := compareTable(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.sql":       "SELECT id, v FROM " + table + " WHERE v = 3",
		"t.sql.tmpl":  "SELECT id, v FROM " + table + " WHERE v = {{.v}}",
		"params.yaml": "- {v: 3}\n- {v: 4}\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	t.Setenv("SRCTL_DSN", dsn)
	code, _, errOut := runCLI(context.Background(), "compare-baseline", "--quiet", "--iterations", "4", "--warmup", "0",
		"--baseline", p("a.sql"), "--candidate", p("t.sql.tmpl"), "--params", p("params.yaml"), "--json", p("r.json"), "--report-html", p("r.html"))
	if code != exitRegression {
		t.Fatalf("exit %d, want %d (t[2] returns other rows): %s", code, exitRegression, errOut)
	}
	var rep harness.Report
	data, _ := os.ReadFile(p("r.json"))
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	page := openReport(t, p("r.html"))
	page.screenshot("compare-baseline-report", "")
	if n := page.rowsShown("cases"); n != len(rep.Cases) || n != 2 {
		t.Errorf("%d rows, want one per case (%d)", n, len(rep.Cases))
	}
	if n := page.filterVerdict("fail"); n != 1 {
		t.Errorf("filtering failed cases shows %d rows, want 1", n)
	}
	checkPlots(t, page, len(rep.Cases), func(section string) []int {
		var i int
		if _, err := fmt.Sscanf(section, "case-%d", &i); err != nil || i >= len(rep.Cases) || rep.Cases[i].Latency == nil {
			return nil
		}
		l := rep.Cases[i].Latency
		want := []int{reachable(int64(len(l.Baseline.Samples))), reachable(int64(len(l.Candidate.Samples)))}
		if cf := l.Confirmation; cf != nil {
			want = append(want, reachable(int64(len(cf.Baseline.Samples))), reachable(int64(len(cf.Candidate.Samples))))
		}
		return want
	})
	page.checkClean(p("r.html"))
}

// checkReplayPage opens replay's HTML report in Chromium: a row and a plot per endpoint, with
// as many points as the endpoint's timed runs reach.
func checkReplayPage(t *testing.T, file string, rep *harness.ReplayReport) {
	t.Helper()
	page := openReport(t, file)
	page.screenshot("replay-report", "")
	if n := page.rowsShown("endpoints"); n != len(rep.Endpoints) {
		t.Errorf("%d rows, want one per endpoint (%d)", n, len(rep.Endpoints))
	}
	if n := page.filterVerdict(analyze.VerdictRegression); n != rep.Summary.Regressions || n == 0 {
		t.Errorf("filtering regressions shows %d rows, want %d", n, rep.Summary.Regressions)
	}
	page.filterVerdict("")
	page.checkSorting("endpoints", 2) // queries
	runs := map[string][2]int64{}
	for _, q := range rep.Queries {
		r := runs[q.Endpoint]
		runs[q.Endpoint] = [2]int64{r[0] + int64(len(q.PrimaryMS)), r[1] + int64(len(q.ShadowMS))}
	}
	plotted := 0
	for _, e := range rep.Endpoints {
		if r := runs[e.Endpoint]; r[0]+r[1] > 0 {
			plotted++
		}
	}
	checkPlots(t, page, plotted, func(section string) []int {
		r := runs[rep.Endpoints[sectionIndex(t, section)].Endpoint]
		if r[0]+r[1] == 0 {
			return nil
		}
		return []int{reachable(r[0]), reachable(r[1])}
	})
	page.checkClean(file)
}
