package harness

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/srctl/srctl/analyze/profile"
	"github.com/srctl/srctl/internal/htmlreport"
)

// WriteHTML writes the compare-baseline report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	p := &htmlreport.Page{
		Title: "srctl compare-baseline: baseline vs candidate SQL",
		Subtitle: fmt.Sprintf("%s %s · %d timed runs per side after %d warm-up, interleaved · α=%g%s", r.Server.Kind, r.Server.Version,
			r.Settings.Iterations, r.Settings.Warmup, r.Settings.Alpha, map[bool]string{true: " · cold runs", false: ""}[r.Settings.Cold]),
		Generated: htmlreport.Footer("compare-baseline"),
	}
	failed := r.Failed()
	if r.ExitCode != 0 {
		p.Status, p.StatusText = "fail", fmt.Sprintf("FAIL: %d of %d cases", failed, len(r.Cases))
	} else {
		p.Status, p.StatusText = "pass", "PASS: "+htmlreport.Count(len(r.Cases), "case")
	}
	if r.ColdCaveat != "" {
		p.Warnings = append(p.Warnings, "--cold: "+r.ColdCaveat)
	}
	if len(r.LoginWrites) > 0 {
		p.Warnings = append(p.Warnings, "this login can write ("+strings.Join(r.LoginWrites, "; ")+"): only the read-only guard keeps these SQL files from changing data; use a login that can only read")
	}
	p.Headline = []htmlreport.Stat{
		{Label: "cases", Value: strconv.Itoa(len(r.Cases))},
		{Label: "failed", Value: strconv.Itoa(failed), Class: htmlreport.ClassIf(failed > 0, "regression")},
		{Label: "passed", Value: strconv.Itoa(len(r.Cases) - failed), Class: "improvement"},
	}
	t := &htmlreport.Table{ID: "cases", Columns: []htmlreport.Column{{Name: "Case"}, {Name: "Verdict"}, {Name: "Result"},
		{Name: "Baseline median ms", Numeric: true}, {Name: "Candidate median ms", Numeric: true}, {Name: "Change", Numeric: true},
		{Name: "p", Numeric: true}, {Name: "Plan"}, {Name: "CPU", Numeric: true}, {Name: "Memory", Numeric: true}}}
	nan := htmlreport.Num("-", math.NaN())
	for i, c := range r.Cases {
		verdict := "pass"
		if !c.Passed() {
			verdict = "fail"
		}
		row := htmlreport.Row{Verdict: verdict, Link: htmlreport.SectionID("case", i)}
		result := "-"
		if c.Candidate != nil {
			result = "candidate error"
		}
		if c.Result != nil {
			result = shortResult(c.Result)
		}
		base, cand, change, pv := nan, nan, nan, nan
		if l := c.Latency; l != nil {
			base = htmlreport.Num(fmtMS(l.Baseline.MedianMS), l.Baseline.MedianMS)
			cand = htmlreport.Num(fmtMS(l.Candidate.MedianMS), l.Candidate.MedianMS)
			change = htmlreport.Num(pctChange(l.Ratio), (l.Ratio-1)*100)
			if l.Regressed() {
				change.Class, change.Text = "regression", change.Text+" ▲"
			} else if l.Improved() {
				change.Class, change.Text = "improvement", change.Text+" ▼"
			}
			pv = htmlreport.Num(fmtP(l.P), l.P)
		}
		plan := "-"
		if c.Plan != nil {
			plan = "same"
			if !c.Plan.Same {
				plan = fmt.Sprintf("changed (%d)", len(c.Plan.Changes))
			}
		}
		cpu, mem := nan, nan
		if c.Profile != nil {
			if m, ok := c.Profile.Metric("cpu"); ok && m.A > 0 {
				cpu = htmlreport.Num(ratioChange(m.Ratio), m.Ratio)
			}
			if m, ok := c.Profile.Metric("peak memory per node"); ok && m.A > 0 {
				mem = htmlreport.Num(ratioChange(m.Ratio), m.Ratio)
			}
		}
		row.Cells = []htmlreport.Cell{{Text: c.Case.Name, Code: true}, {Text: verdictWord(c)}, {Text: result}, base, cand, change, pv, {Text: plan}, cpu, mem}
		t.Rows = append(t.Rows, row)
		p.Sections = append(p.Sections, caseSection(c, i))
	}
	p.Table = t
	st := r.Settings
	p.Appendix = append(p.Appendix, htmlreport.Section{ID: "method", Title: "Method", Blocks: []htmlreport.Block{
		{KV: []htmlreport.KV{{Key: "server", Value: string(r.Server.Kind) + " " + r.Server.Version}, {Key: "DSN", Value: r.DSN},
			{Key: "runs", Value: fmt.Sprintf("%d warm-up, %d timed per side, interleaved; timeout %s", st.Warmup, st.Iterations, fmtMS(st.TimeoutMS))},
			{Key: "session setup", Value: strings.Join(st.SessionSetup, "; ")}}},
		{Text: "Latency: Mann-Whitney on the timed runs, the Hodges-Lehmann ratio with Moses' 95% interval; a suspected change must repeat on new connections to count, " +
			"and move the typical run by at least " + fmtMS(st.MinLatencyDelta) + "."},
		{Text: "Plots: the quantiles of each side's timed runs (log latency, logit quantile axis); the mark at P50 carries the candidate's median implied by the ratio's interval. With few runs only the middle levels are drawn."},
	}})
	return p.Render(w)
}

func caseSection(c *CaseResult, i int) htmlreport.Section {
	verdict := "pass"
	if !c.Passed() {
		verdict = "fail"
	}
	sec := htmlreport.Section{ID: htmlreport.SectionID("case", i), Title: c.Case.Name, Verdict: verdict}
	kv := []htmlreport.KV{{Key: "verdict", Value: verdictWord(c)}, {Key: "sources", Value: c.Case.BaselineSource + " → " + c.Case.CandidateSource},
		{Key: "result", Value: resultLine(c)}, {Key: "latency", Value: latencyLine(c.Latency)}}
	if c.Plan != nil {
		kv = append(kv, htmlreport.KV{Key: "plan (" + c.Plan.Statement + ")", Value: planLine(c)})
	}
	if c.Profile != nil {
		kv = append(kv, htmlreport.KV{Key: "profile", Value: fmt.Sprintf("medians of %d profiled runs per side (first query ids %s → %s): %s",
			c.Profile.Runs, c.Profile.BaselineQueryID, c.Profile.CandidateQueryID, profileLine(c.Profile))})
	}
	if c.Error != "" {
		kv = append(kv, htmlreport.KV{Key: "error", Value: c.Error})
	}
	if c.Candidate != nil {
		kv = append(kv, htmlreport.KV{Key: "candidate error", Value: c.Candidate.Message})
	}
	sec.Blocks = append(sec.Blocks, htmlreport.Block{KV: kv})
	if len(c.Reasons) > 0 {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Why it fails", Items: c.Reasons})
	}
	if l := c.Latency; l != nil && len(l.Baseline.Samples)+len(l.Candidate.Samples) > 0 {
		plot := &htmlreport.Plot{Title: "Latency quantiles of the timed runs", Series: []htmlreport.Series{
			{Name: "baseline", Q: htmlreport.Levels, Y: htmlreport.Curve(l.Baseline.Samples)},
			{Name: "candidate", Q: htmlreport.Levels, Y: htmlreport.Curve(l.Candidate.Samples)}}}
		if cf := l.Confirmation; cf != nil {
			plot.Series = append(plot.Series,
				htmlreport.Series{Name: "baseline (confirmation)", Q: htmlreport.Levels, Y: htmlreport.Curve(cf.Baseline.Samples)},
				htmlreport.Series{Name: "candidate (confirmation)", Q: htmlreport.Levels, Y: htmlreport.Curve(cf.Candidate.Samples)})
		}
		m := htmlreport.Mark{Series: 1, Label: "median", Q: 0.5, Y: l.Candidate.MedianMS}
		if l.RatioLo > 0 && l.RatioHi > 0 {
			m.Lo, m.Hi = l.Baseline.MedianMS*l.RatioLo, l.Baseline.MedianMS*l.RatioHi
		}
		plot.Marks = []htmlreport.Mark{m}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Plot: plot})
	}
	if c.Result != nil && len(c.Result.Examples) > 0 {
		et := &htmlreport.Table{ID: sec.ID + "-rows", Columns: []htmlreport.Column{{Name: ""}, {Name: "Baseline"}, {Name: "Candidate"}}}
		for _, ex := range c.Result.Examples {
			label := ex.Kind
			if ex.Kind == "order" {
				label = fmt.Sprintf("row %d", ex.Position)
			}
			et.Rows = append(et.Rows, htmlreport.Row{Cells: []htmlreport.Cell{{Text: label}, {Text: rowText(ex.Baseline), Code: true}, {Text: rowText(ex.Candidate), Code: true}}})
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Rows that differ", Table: et})
	}
	if c.Plan != nil && c.Plan.Unified != "" {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Plan difference", Code: c.Plan.Unified})
	}
	if c.Profile != nil && len(c.Profile.Metrics) > 0 {
		mt := &htmlreport.Table{ID: sec.ID + "-profile", Columns: []htmlreport.Column{{Name: "Metric"}, {Name: "Baseline"}, {Name: "Candidate"}, {Name: "Ratio", Numeric: true}}}
		for _, m := range c.Profile.Metrics {
			mt.Rows = append(mt.Rows, htmlreport.Row{Cells: []htmlreport.Cell{{Text: m.Name}, {Text: profile.FormatMetric(m.Unit, m.A)},
				{Text: profile.FormatMetric(m.Unit, m.B)}, htmlreport.Num(ratioChange(m.Ratio), m.Ratio)}})
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Profile metrics", Table: mt})
	}
	if len(c.Notes) > 0 {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Notes", Items: c.Notes})
	}
	return sec
}
