package analyze

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/srctl/srctl/internal/htmlreport"
)

// WriteValidateHTML writes the validate report as one self-contained HTML page.
func WriteValidateHTML(w io.Writer, rep *ValidateReport, o RenderOptions) error {
	h := rep.Headline
	p := &htmlreport.Page{
		Title:     "srctl validate: before vs after the change",
		Subtitle:  windowLine(rep),
		Warnings:  rep.Warnings,
		Generated: htmlreport.Footer("validate"),
	}
	switch {
	case h.Regressed.Endpoints > 0 || h.ErrorsWorse > 0:
		p.Status, p.StatusText = "fail", fmt.Sprintf("%d regressed, %d with more errors", h.Regressed.Endpoints, h.ErrorsWorse)
	case h.ResultsChanged > 0:
		p.Status, p.StatusText = "warn", fmt.Sprintf("%d with changed results", h.ResultsChanged)
	default:
		p.Status, p.StatusText = "pass", fmt.Sprintf("%d improved, nothing regressed", h.Improved.Endpoints)
	}
	count := func(v VerdictCount) string { return fmt.Sprintf("%d", v.Endpoints) }
	execs := func(v VerdictCount) string { return fmtInt(v.Executions) + " executions" }
	p.Headline = []htmlreport.Stat{
		{Label: "improved · " + execs(h.Improved), Value: count(h.Improved), Class: htmlreport.ClassIf(h.Improved.Endpoints > 0, "improvement")},
		{Label: "regressed · " + execs(h.Regressed), Value: count(h.Regressed), Class: htmlreport.ClassIf(h.Regressed.Endpoints > 0, "regression")},
		{Label: "unchanged · " + execs(h.Unchanged), Value: count(h.Unchanged)},
		{Label: "cannot evaluate · " + execs(h.CannotEvaluate), Value: count(h.CannotEvaluate), Class: htmlreport.ClassIf(h.CannotEvaluate.Endpoints > 0, "insufficient")},
		{Label: "net time per day at the after-window's traffic", Value: fmtImpact(h.NetMSPerDay), Class: htmlreport.ClassIf(h.NetMSPerDay > 0, "regression") + htmlreport.ClassIf(h.NetMSPerDay < 0, "improvement")},
		{Label: "endpoints with more errors", Value: strconv.Itoa(h.ErrorsWorse), Class: htmlreport.ClassIf(h.ErrorsWorse > 0, "regression")},
		{Label: "with changed results", Value: strconv.Itoa(h.ResultsChanged), Class: htmlreport.ClassIf(h.ResultsChanged > 0, "warn")},
		{Label: "with shifted traffic", Value: strconv.Itoa(h.TrafficShifted), Class: htmlreport.ClassIf(h.TrafficShifted > 0, "warn")},
	}
	t := &htmlreport.Table{ID: "endpoints", Columns: []htmlreport.Column{
		{Name: "Endpoint"}, {Name: "Target"}, {Name: "Verdict"},
		{Name: "Executions before", Numeric: true}, {Name: "Executions after", Numeric: true},
		{Name: "P50 ms before", Numeric: true}, {Name: "P50 ms after", Numeric: true},
		{Name: "ΔP50", Numeric: true}, {Name: "ΔP90", Numeric: true}, {Name: "ΔP95", Numeric: true}, {Name: "ΔP99", Numeric: true},
		{Name: "Centre Δ", Numeric: true, Title: "Hodges-Lehmann shift of log latency"},
		{Name: "p adj.", Numeric: true, Title: "Mann-Whitney, Benjamini-Hochberg across endpoints"},
		{Name: "Impact per day", Numeric: true}, {Name: "Notes"},
	}}
	for i := range rep.Endpoints {
		e := &rep.Endpoints[i]
		r := htmlreport.Row{Verdict: e.Verdict}
		if i < HTMLSections {
			r.Link = htmlreport.SectionID("ep", i)
		}
		has := e.Before.Latencies > 0 && e.After.Latencies > 0
		pv := math.NaN()
		if e.Verdict != VerdictInsufficient {
			pv = e.Centre.PAdjusted
		}
		r.Cells = []htmlreport.Cell{{Text: e.Endpoint, Code: true}, {Text: e.Target}, {Text: validateVerdictText(e)},
			htmlreport.Num(fmtInt(e.Before.Executions), float64(e.Before.Executions)),
			htmlreport.Num(fmtInt(e.After.Executions), float64(e.After.Executions)),
			msCell(e.Before.Latencies > 0, e.Before.Quantiles.P50), msCell(e.After.Latencies > 0, e.After.Quantiles.P50)}
		for k := range 4 {
			if k < len(e.Quantiles) {
				q := e.Quantiles[k]
				r.Cells = append(r.Cells, pctCell(has, q.DeltaPct, q.Verdict))
			} else {
				r.Cells = append(r.Cells, pctCell(false, 0, ""))
			}
		}
		r.Cells = append(r.Cells, pctCell(has, e.Centre.ShiftPct, ""), htmlreport.Num(pText(pv), pv),
			htmlreport.Num(fmtImpact(e.ImpactMS), e.ImpactMS), htmlreport.Cell{Text: notesCell(e), Class: "why"})
		t.Rows = append(t.Rows, r)
	}
	p.Table = t
	for i := range rep.Endpoints {
		if i == HTMLSections {
			break
		}
		p.Sections = append(p.Sections, validateSection(&rep.Endpoints[i], i))
	}
	p.Appendix = append(p.Appendix, qualitySection(validateQualityLines(rep), rep.DataQuality))
	p.Appendix = append(p.Appendix, htmlreport.Section{ID: "method", Title: "Method", Blocks: []htmlreport.Block{
		{Text: strings.TrimPrefix(validateMethodLine(rep), "method: ")},
		{Text: "Plots: each endpoint's latency quantiles before and after the change (log latency, logit quantile axis). " +
			"The marks at P50, P90, P95 and P99 carry the interval of the after-window's quantile implied by the interval of the change. " +
			"Levels a window is too small to reach are not drawn."},
	}})
	return p.Render(w)
}

func validateVerdictText(e *ValidateEndpoint) string {
	return verdictCell(RenderOptions{}, e)
}

func validateSection(e *ValidateEndpoint, i int) htmlreport.Section {
	sec := htmlreport.Section{ID: htmlreport.SectionID("ep", i), Title: e.Endpoint + " on the " + e.Target, Verdict: e.Verdict}
	kv := []htmlreport.KV{{Key: "verdict", Value: validateVerdictText(e)}, {Key: "grouped by", Value: e.Source}, {Key: "timing", Value: e.Timing},
		{Key: "executions", Value: fmt.Sprintf("%s before, %s after (%.0f → %.0f per hour; share %.1f%% → %.1f%%)", fmtInt(e.Before.Executions), fmtInt(e.After.Executions),
			e.Traffic.BeforePerHour, e.Traffic.AfterPerHour, e.Traffic.ShareBeforePct, e.Traffic.ShareAfterPct)}}
	if e.Reason != "" {
		kv = append(kv, htmlreport.KV{Key: "cannot evaluate", Value: e.Reason})
	}
	if e.Before.Latencies > 0 && e.After.Latencies > 0 {
		c := fmtPct(e.Centre.ShiftPct)
		if e.Centre.CIPct != nil {
			c += fmt.Sprintf(" [%s, %s]", fmtPct(e.Centre.CIPct[0]), fmtPct(e.Centre.CIPct[1]))
		}
		kv = append(kv, htmlreport.KV{Key: "centre shift", Value: c}, htmlreport.KV{Key: "p (adjusted)", Value: fmtP(e.Centre.PValue) + " (" + fmtP(e.Centre.PAdjusted) + ")"},
			htmlreport.KV{Key: "mean", Value: fmtMS(e.Before.MeanMS) + " → " + fmtMS(e.After.MeanMS) + " ms"},
			htmlreport.KV{Key: "impact per day", Value: fmtImpact(e.ImpactMS)})
	}
	kv = append(kv, htmlreport.KV{Key: "error rate", Value: fmt.Sprintf("%.3f%% → %.3f%% (p=%s)", e.Errors.BeforeRatePct, e.Errors.AfterRatePct, fmtP(e.Errors.PValue))})
	sec.Blocks = append(sec.Blocks, htmlreport.Block{KV: kv})
	if e.SampleSQL != "" {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Sample SQL", Code: truncate(e.SampleSQL, 4000)})
	}
	if e.Before.Latencies > 0 || e.After.Latencies > 0 {
		plot := &htmlreport.Plot{Title: "Latency quantiles before and after (" + e.Target + ")", Series: []htmlreport.Series{
			{Name: "before", Q: plotLevels, Y: curveOf(e.sorted[before])}, {Name: "after", Q: plotLevels, Y: curveOf(e.sorted[after])},
		}}
		qt := &htmlreport.Table{ID: sec.ID + "-q", Columns: []htmlreport.Column{{Name: "Quantile"}, {Name: "Before ms", Numeric: true},
			{Name: "After ms", Numeric: true}, {Name: "Δ", Numeric: true}, {Name: "Interval of Δ"}, {Name: "Verdict"}}}
		levels := map[string]float64{"p50": .5, "p90": .9, "p95": .95, "p99": .99}
		for _, q := range e.Quantiles {
			m := htmlreport.Mark{Series: 1, Label: strings.ToUpper(q.Quantile), Q: levels[q.Quantile], Y: q.AfterMS}
			ci := "-"
			if q.CIPct != nil {
				m.Lo, m.Hi = q.BeforeMS*(1+q.CIPct[0]/100), q.BeforeMS*(1+q.CIPct[1]/100)
				ci = "[" + fmtPct(q.CIPct[0]) + ", " + fmtPct(q.CIPct[1]) + "]"
			}
			if m.Q > 0 {
				plot.Marks = append(plot.Marks, m)
			}
			qt.Rows = append(qt.Rows, htmlreport.Row{Verdict: q.Verdict, Cells: []htmlreport.Cell{{Text: strings.ToUpper(q.Quantile)},
				htmlreport.Num(fmtMS(q.BeforeMS), q.BeforeMS), htmlreport.Num(fmtMS(q.AfterMS), q.AfterMS),
				htmlreport.Num(fmtPct(q.DeltaPct), q.DeltaPct), {Text: ci}, {Text: q.Verdict}}})
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Plot: plot}, htmlreport.Block{Table: qt})
	}
	if len(e.Why) > 0 {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Why: profile metrics and operators that moved", Items: e.Why})
	}
	for _, g := range []struct {
		name  string
		kinds []ErrorKindSet
	}{{"New errors after the change", e.Errors.New}, {"Errors in both windows", e.Errors.Existing}, {"Errors resolved by the change", e.Errors.Resolved}} {
		if len(g.kinds) == 0 {
			continue
		}
		var items []string
		for _, k := range g.kinds[:min(10, len(g.kinds))] {
			items = append(items, fmt.Sprintf("%s: %d before, %d after (e.g. query %s)", truncate(errorKindText(k), 300), k.Before, k.After, orDash(k.Example)))
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: g.name, Items: items})
	}
	if r := e.Results; r.Changed {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Results changed", Text: fmt.Sprintf(
			"%d of %d SQL texts seen in both windows return another result set; error-sized answers %d before, %d after; median size %s → %s",
			r.HashChanged, r.HashCompared, r.ErrorSizedBefore, r.ErrorSizedAfter, fmtBytes(r.BeforeMedianBytes), fmtBytes(r.AfterMedianBytes))})
	}
	return sec
}
