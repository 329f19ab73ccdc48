package analyze

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/srctl/srctl/analyze/stats"
	"github.com/srctl/srctl/internal/htmlreport"
	"github.com/srctl/srctl/lakehouse/proxylog"
)

// plotLevels are the quantiles the HTML report's curves are drawn at.
var plotLevels = htmlreport.Levels

// curveOf is a sorted sample's quantile curve at plotLevels; NaN where the sample is too small
// to reach the level.
func curveOf(sorted []float32) []float64 {
	c := make([]float64, len(plotLevels))
	for i, q := range plotLevels {
		if !htmlreport.Reaches(len(sorted), q) {
			c[i] = math.NaN()
			continue
		}
		c[i] = stats.Quantile(sorted, q)
	}
	return c
}

// HTMLSections is how many endpoints get a section with a plot; the table lists them all.
const HTMLSections = 60

// WriteHTML writes the diff report as one self-contained HTML page (see internal/htmlreport).
func WriteHTML(w io.Writer, rep *Report, o RenderOptions) error {
	s := rep.Summary
	p := &htmlreport.Page{
		Title:     "srctl diff: primary vs shadow",
		Subtitle:  fmt.Sprintf("%s pairs from %s rows in %d files (%s)%s", fmtInt(s.Pairs), fmtInt(s.Rows), s.Files, fmtBytes(s.Bytes), spanText(s.FirstQuery, s.LastQuery)),
		Warnings:  rep.Warnings,
		Generated: htmlreport.Footer("diff"),
	}
	switch {
	case s.Regressions > 0 || s.ShadowOnlyFailures > 0:
		p.Status, p.StatusText = "fail", htmlreport.Count(s.Regressions, "regression")+", "+htmlreport.Count(int(s.ShadowOnlyFailures), "shadow-only failure")
	case s.SizeDivergentEndpoints > 0 || s.ResultMismatches > 0:
		p.Status, p.StatusText = "warn", "results differ"
	default:
		p.Status, p.StatusText = "pass", "no regression found"
	}
	p.Headline = []htmlreport.Stat{
		{Label: "endpoints", Value: strconv.Itoa(s.Endpoints)},
		{Label: "pairs compared for latency", Value: fmtInt(s.LatencyPairs)},
		{Label: "regressions", Value: strconv.Itoa(s.Regressions), Class: htmlreport.ClassIf(s.Regressions > 0, "regression")},
		{Label: "improvements", Value: strconv.Itoa(s.Improvements), Class: htmlreport.ClassIf(s.Improvements > 0, "improvement")},
		{Label: "shadow-only failures", Value: fmtInt(s.ShadowOnlyFailures), Class: htmlreport.ClassIf(s.ShadowOnlyFailures > 0, "regression")},
		{Label: "result mismatches", Value: fmtInt(s.ResultMismatches), Class: htmlreport.ClassIf(s.ResultMismatches > 0, "warn")},
		{Label: "size-divergent endpoints", Value: strconv.Itoa(s.SizeDivergentEndpoints), Class: htmlreport.ClassIf(s.SizeDivergentEndpoints > 0, "warn")},
		{Label: "shadow copies not executed", Value: fmtInt(s.Dropped), Class: htmlreport.ClassIf(s.Dropped > 0, "warn")},
	}
	t := &htmlreport.Table{ID: "endpoints", Columns: []htmlreport.Column{
		{Name: "Endpoint"}, {Name: "Verdict"}, {Name: "Pairs", Numeric: true},
		{Name: "P50 ms primary", Numeric: true}, {Name: "P50 ms shadow", Numeric: true},
		{Name: "ΔP50", Numeric: true}, {Name: "ΔP90", Numeric: true}, {Name: "ΔP95", Numeric: true}, {Name: "ΔP99", Numeric: true},
		{Name: "Centre Δ", Numeric: true, Title: "median paired shadow/primary ratio"},
		{Name: "p adj.", Numeric: true, Title: "Wilcoxon signed-rank, Benjamini-Hochberg across endpoints"},
		{Name: "Impact", Numeric: true, Title: "sum over pairs of shadow - primary"},
		{Name: "Failures", Numeric: true, Title: "shadow-only failures"},
		{Name: "Why (profiles)"},
	}}
	for i, e := range rep.Endpoints {
		r := htmlreport.Row{Verdict: e.Verdict}
		if i < HTMLSections {
			r.Link = htmlreport.SectionID("ep", i)
		}
		has := e.Pairs > 0
		pv := math.NaN()
		if e.Verdict != VerdictInsufficient {
			pv = e.PAdjusted
		}
		r.Cells = []htmlreport.Cell{
			{Text: e.Endpoint, Code: true}, {Text: e.Verdict},
			htmlreport.Num(fmtInt(e.Pairs), float64(e.Pairs)),
			msCell(has, e.Primary.P50), msCell(has, e.Shadow.P50),
			pctCell(has, e.DeltaPct.P50, e.QuantileVerdicts.P50), pctCell(has, e.DeltaPct.P90, e.QuantileVerdicts.P90),
			pctCell(has, e.DeltaPct.P95, e.QuantileVerdicts.P95), pctCell(has, e.DeltaPct.P99, e.QuantileVerdicts.P99),
			pctCell(has, e.CentreDeltaPct, ""),
			htmlreport.Num(pText(pv), pv),
			htmlreport.Num(fmtImpact(e.ImpactMS), e.ImpactMS),
			htmlreport.Num(fmtInt(e.ShadowOnlyFailures), float64(e.ShadowOnlyFailures)),
			{Text: strings.Join(e.Why, "; "), Class: "why"},
		}
		t.Rows = append(t.Rows, r)
	}
	p.Table = t
	for i, e := range rep.Endpoints {
		if i == HTMLSections {
			break
		}
		p.Sections = append(p.Sections, diffSection(rep, &e, i))
	}
	p.Appendix = append(p.Appendix, diffFailures(rep)...)
	p.Appendix = append(p.Appendix, qualitySection(strings.Split(summaryLine(rep), "\n"), rep.DataQuality))
	p.Appendix = append(p.Appendix, htmlreport.Section{ID: "method", Title: "Method", Blocks: []htmlreport.Block{
		{Text: strings.TrimPrefix(methodLine(rep), "method: ")},
		{Text: "Plots: each endpoint's primary and shadow latency quantiles of the pairs compared (log latency, logit quantile axis). " +
			"The marks at P50, P90, P95 and P99 carry the interval of the shadow's quantile implied by the interval of the change: " +
			"an interval that does not reach the primary's curve is a significant change. Levels a sample is too small to reach are not drawn."},
	}})
	return p.Render(w)
}

func diffSection(rep *Report, e *EndpointReport, i int) htmlreport.Section {
	sec := htmlreport.Section{ID: htmlreport.SectionID("ep", i), Title: e.Endpoint, Verdict: e.Verdict}
	kv := []htmlreport.KV{{Key: "grouped by", Value: e.Source}, {Key: "pairs compared", Value: fmtInt(e.Pairs)}}
	if e.Pairs > 0 {
		c := fmtPct(e.CentreDeltaPct)
		if e.CentreCIPct != nil {
			c += fmt.Sprintf(" [%s, %s]", fmtPct(e.CentreCIPct[0]), fmtPct(e.CentreCIPct[1]))
		}
		kv = append(kv, htmlreport.KV{Key: "centre (median paired ratio)", Value: c},
			htmlreport.KV{Key: "p (adjusted)", Value: fmtP(e.PValue) + " (" + fmtP(e.PAdjusted) + ")"},
			htmlreport.KV{Key: "impact", Value: fmtImpact(e.ImpactMS)})
	}
	if n := e.ShadowOnlyFailures + e.PrimaryOnlyFailures + e.BothFailures; n > 0 {
		kv = append(kv, htmlreport.KV{Key: "failures", Value: fmt.Sprintf("%d shadow-only, %d primary-only, %d both", e.ShadowOnlyFailures, e.PrimaryOnlyFailures, e.BothFailures)})
	}
	if e.DroppedPairs > 0 {
		kv = append(kv, htmlreport.KV{Key: "shadow copies not executed", Value: fmtInt(e.DroppedPairs)})
	}
	sec.Blocks = append(sec.Blocks, htmlreport.Block{KV: kv})
	if e.SampleSQL != "" {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Sample SQL", Code: truncate(e.SampleSQL, 4000)})
	}
	if e.Pairs > 0 {
		plot := &htmlreport.Plot{Title: "Latency quantiles of the pairs", Series: []htmlreport.Series{
			{Name: "primary", Q: plotLevels, Y: e.curve[0]}, {Name: "shadow", Q: plotLevels, Y: e.curve[1]},
		}}
		qs := []struct {
			name    string
			q, p, s float64
			ci      *[2]float64
		}{{"P50", .5, e.Primary.P50, e.Shadow.P50, e.CIPct.P50}, {"P90", .9, e.Primary.P90, e.Shadow.P90, e.CIPct.P90},
			{"P95", .95, e.Primary.P95, e.Shadow.P95, e.CIPct.P95}, {"P99", .99, e.Primary.P99, e.Shadow.P99, e.CIPct.P99}}
		qt := &htmlreport.Table{ID: sec.ID + "-q", Columns: []htmlreport.Column{{Name: "Quantile"}, {Name: "Primary ms", Numeric: true},
			{Name: "Shadow ms", Numeric: true}, {Name: "Δ", Numeric: true}, {Name: "Interval of Δ"}, {Name: "Verdict"}}}
		verdicts := []string{e.QuantileVerdicts.P50, e.QuantileVerdicts.P90, e.QuantileVerdicts.P95, e.QuantileVerdicts.P99}
		for k, q := range qs {
			m := htmlreport.Mark{Series: 1, Label: q.name, Q: q.q, Y: q.s}
			ci := "-"
			if q.ci != nil {
				m.Lo, m.Hi = q.p*(1+q.ci[0]/100), q.p*(1+q.ci[1]/100)
				ci = "[" + fmtPct(q.ci[0]) + ", " + fmtPct(q.ci[1]) + "]"
			}
			plot.Marks = append(plot.Marks, m)
			qt.Rows = append(qt.Rows, htmlreport.Row{Verdict: verdicts[k], Cells: []htmlreport.Cell{{Text: q.name},
				htmlreport.Num(fmtMS(q.p), q.p), htmlreport.Num(fmtMS(q.s), q.s), htmlreport.Num(fmtPct(pct(q.p, q.s)), pct(q.p, q.s)),
				{Text: ci}, {Text: verdicts[k]}}})
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Plot: plot}, htmlreport.Block{Table: qt})
	}
	if len(e.Why) > 0 {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Why: profile metrics and operators that moved", Items: e.Why})
	}
	if rep.Drill != nil && rep.Drill.Endpoint == e.Endpoint && rep.Drill.Profile != nil {
		pc := rep.Drill.Profile
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: fmt.Sprintf("Profiles of query %s (primary %s, shadow %s)", pc.QueryID, pc.PrimaryProfileID, pc.ShadowProfileID),
			Code: strings.Join(pc.Lines, "\n")})
	}
	var failures []string
	for _, f := range rep.Failures {
		if f.Endpoint == e.Endpoint && len(failures) < 10 {
			failures = append(failures, failureText(f))
		}
	}
	if len(failures) > 0 {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Failures", Items: failures})
	}
	if e.ResultMismatches > 0 {
		var items []string
		for _, ex := range e.ResultExamples {
			line := fmt.Sprintf("query_id %s: primary %s rows (result %s), shadow %s rows (result %s)", ex.QueryID, fmtRows(ex.PrimaryRows), ex.PrimaryHash, fmtRows(ex.ShadowRows), ex.ShadowHash)
			if ex.SQL != "" {
				line += " — " + truncate(strings.Join(strings.Fields(ex.SQL), " "), 300)
			}
			items = append(items, line)
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: fmt.Sprintf("Result differences: %d of %d pairs return different rows", e.ResultMismatches, e.ResultCompared), Items: items})
	}
	if sd := e.SizeDivergence; sd.Suspected {
		items := []string{}
		for _, ex := range sd.Examples {
			items = append(items, fmt.Sprintf("query_id %s: primary %d B, shadow %d B", ex.QueryID, ex.PrimaryBytes, ex.ShadowBytes))
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: fmt.Sprintf("Suspected errors or result differences: %d of %d pairs collapsed to an error-sized response, %d differ beyond the %+d B offset",
			sd.Collapsed, sd.Compared, sd.Differing, sd.OffsetBytes), Items: items})
	}
	if len(e.Notes) > 0 {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Notes", Items: e.Notes})
	}
	return sec
}

func failureText(f FailureGroup) string {
	msg := truncate(f.Error, 300)
	if f.ErrorCode != 0 {
		msg = fmt.Sprintf("error %d: %s", f.ErrorCode, msg)
	}
	return fmt.Sprintf("%s x%d: %s (e.g. query_id %s)", f.Kind, f.Count, msg, f.Example)
}

func diffFailures(rep *Report) []htmlreport.Section {
	if len(rep.Failures) == 0 {
		return nil
	}
	t := &htmlreport.Table{ID: "failures", Columns: []htmlreport.Column{{Name: "Endpoint"}, {Name: "Kind"}, {Name: "Count", Numeric: true}, {Name: "Error"}, {Name: "Example query id"}}}
	for i, f := range rep.Failures {
		if i == 200 {
			break
		}
		msg := truncate(f.Error, 300)
		if f.ErrorCode != 0 {
			msg = fmt.Sprintf("error %d: %s", f.ErrorCode, msg)
		}
		t.Rows = append(t.Rows, htmlreport.Row{Verdict: f.Kind, Cells: []htmlreport.Cell{{Text: f.Endpoint, Code: true}, {Text: f.Kind},
			htmlreport.Num(fmtInt(f.Count), float64(f.Count)), {Text: msg}, {Text: f.Example, Code: true}}})
	}
	sec := htmlreport.Section{ID: "failures", Title: "Failures by endpoint and error", Blocks: []htmlreport.Block{{Table: t}}}
	if len(rep.Failures) > 200 {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Text: fmt.Sprintf("%d more groups: --format json lists all.", len(rep.Failures)-200)})
	}
	return []htmlreport.Section{sec}
}

// qualitySection lists what was read and what was not usable, with examples of bad input.
func qualitySection(summary []string, q proxylog.Quality) htmlreport.Section {
	sec := htmlreport.Section{ID: "data-quality", Title: "Data quality"}
	for _, l := range summary {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Text: l})
	}
	for _, k := range q.Kinds() {
		var examples []string
		for _, ex := range q.Examples[k] {
			examples = append(examples, truncate(ex.String(), 300))
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: fmt.Sprintf("%s: %d", k, q.Counts[k]), Items: examples})
	}
	return sec
}

func msCell(has bool, v float64) htmlreport.Cell {
	if !has {
		return htmlreport.Num("-", math.NaN())
	}
	return htmlreport.Num(fmtMS(v), v)
}

func pctCell(has bool, d float64, verdict string) htmlreport.Cell {
	if !has {
		return htmlreport.Num("-", math.NaN())
	}
	c := htmlreport.Num(fmtPct(d), d)
	switch verdict {
	case VerdictRegression:
		c.Class = "regression"
		c.Text += " ▲"
	case VerdictImprovement:
		c.Class = "improvement"
		c.Text += " ▼"
	}
	return c
}

func pText(p float64) string {
	if math.IsNaN(p) {
		return "-"
	}
	return fmtP(p)
}

func spanText(first, last string) string {
	if first == "" {
		return ""
	}
	return ", " + first + " to " + last
}
