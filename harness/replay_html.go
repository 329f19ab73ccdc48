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

// replaySections is how many endpoints get a section with a plot; the table lists them all.
const replaySections = 60

// WriteHTML writes the replay report as one self-contained HTML page.
func (rep *ReplayReport) WriteHTML(w io.Writer) error {
	s := rep.Summary
	c := rep.Context
	p := &htmlreport.Page{
		Title: "srctl replay: the logged queries on both servers",
		Subtitle: fmt.Sprintf("%d endpoints, %d queries on %s %s (primary) and %s %s (shadow); %d statements in %.1f s",
			s.Endpoints, s.Queries, c.Primary.Kind, c.Primary.Version, c.Shadow.Kind, c.Shadow.Version, s.Statements, s.ElapsedSeconds),
		Generated: htmlreport.Footer("replay"),
	}
	switch {
	case s.Regressions > 0 || s.ShadowOnlyErrors > 0 || s.ResultDifferences > 0:
		p.Status, p.StatusText = "fail", htmlreport.Count(s.Regressions, "regression")+", "+htmlreport.Count(s.ShadowOnlyErrors, "shadow-only error")+", "+htmlreport.Count(s.ResultDifferences, "result difference")
	case s.PlanChanges > 0 || s.VariablesDiffering > 0 || s.TablesDiffering > 0:
		p.Status, p.StatusText = "warn", "plans, variables or tables differ"
	default:
		p.Status, p.StatusText = "pass", "reproduced no difference"
	}
	p.Headline = []htmlreport.Stat{
		{Label: "endpoints", Value: strconv.Itoa(s.Endpoints)},
		{Label: "queries replayed", Value: strconv.Itoa(s.Queries)},
		{Label: "regressions", Value: strconv.Itoa(s.Regressions), Class: htmlreport.ClassIf(s.Regressions > 0, "regression")},
		{Label: "improvements", Value: strconv.Itoa(s.Improvements), Class: htmlreport.ClassIf(s.Improvements > 0, "improvement")},
		{Label: "shadow-only errors", Value: strconv.Itoa(s.ShadowOnlyErrors), Class: htmlreport.ClassIf(s.ShadowOnlyErrors > 0, "regression")},
		{Label: "result differences", Value: strconv.Itoa(s.ResultDifferences), Class: htmlreport.ClassIf(s.ResultDifferences > 0, "regression")},
		{Label: "plan changes", Value: strconv.Itoa(s.PlanChanges), Class: htmlreport.ClassIf(s.PlanChanges > 0, "warn")},
		{Label: "variables / tables differing", Value: fmt.Sprintf("%d / %d", s.VariablesDiffering, s.TablesDiffering), Class: htmlreport.ClassIf(s.VariablesDiffering+s.TablesDiffering > 0, "warn")},
		{Label: "refused (writes)", Value: strconv.Itoa(s.Refused)},
	}
	t := &htmlreport.Table{ID: "endpoints", Columns: []htmlreport.Column{
		{Name: "Endpoint"}, {Name: "Verdict"}, {Name: "Queries", Numeric: true}, {Name: "Pairs", Numeric: true},
		{Name: "P50 ms primary", Numeric: true}, {Name: "P50 ms shadow", Numeric: true}, {Name: "Change", Numeric: true},
		{Name: "p adj.", Numeric: true}, {Name: "Shadow-only errors", Numeric: true}, {Name: "Result differences", Numeric: true}, {Name: "Plan changes", Numeric: true},
	}}
	num := func(n int) htmlreport.Cell { return htmlreport.Num(strconv.Itoa(n), float64(n)) }
	ms := func(has bool, v float64, text string) htmlreport.Cell {
		if !has {
			return htmlreport.Num("-", math.NaN())
		}
		return htmlreport.Num(text, v)
	}
	for i, e := range rep.Endpoints {
		r := htmlreport.Row{Verdict: e.Verdict}
		if i < replaySections {
			r.Link = htmlreport.SectionID("ep", i)
		}
		has := e.Pairs > 0
		pv := math.NaN()
		if e.Verdict != "insufficient data" {
			pv = e.PAdjusted
		}
		r.Cells = []htmlreport.Cell{{Text: e.Endpoint, Code: true}, {Text: e.Verdict}, num(e.Queries), num(e.Pairs),
			ms(has, e.PrimaryP50MS, fmt.Sprintf("%.2f", e.PrimaryP50MS)), ms(has, e.ShadowP50MS, fmt.Sprintf("%.2f", e.ShadowP50MS)),
			ms(has, e.DeltaPct, fmt.Sprintf("%+.1f%%", e.DeltaPct)), ms(!math.IsNaN(pv), pv, fmt.Sprintf("%.3g", pv)),
			num(e.ShadowOnlyErrors), num(e.ResultDifferences), num(e.PlanChanges)}
		t.Rows = append(t.Rows, r)
	}
	p.Table = t
	for i, e := range rep.Endpoints {
		if i == replaySections {
			break
		}
		p.Sections = append(p.Sections, rep.endpointSection(&e, i))
	}
	ctx := htmlreport.Section{ID: "context", Title: "Server context"}
	ctx.Blocks = append(ctx.Blocks, htmlreport.Block{KV: []htmlreport.KV{
		{Key: "primary", Value: string(c.Primary.Kind) + " " + c.Primary.Version}, {Key: "shadow", Value: string(c.Shadow.Kind) + " " + c.Shadow.Version}}})
	if len(c.Variables) > 0 {
		vt := &htmlreport.Table{ID: "variables", Columns: []htmlreport.Column{{Name: "Session variable"}, {Name: "Primary"}, {Name: "Shadow"}}}
		for _, v := range c.Variables {
			vt.Rows = append(vt.Rows, htmlreport.Row{Cells: []htmlreport.Cell{{Text: v.Name, Code: true}, {Text: v.Primary, Code: true}, {Text: v.Shadow, Code: true}}})
		}
		ctx.Blocks = append(ctx.Blocks, htmlreport.Block{Heading: "Session variables that differ", Table: vt})
	} else {
		ctx.Blocks = append(ctx.Blocks, htmlreport.Block{Text: "Session variables: the same on both servers."})
	}
	for _, td := range c.Tables {
		switch {
		case td.Error != "":
			ctx.Blocks = append(ctx.Blocks, htmlreport.Block{Heading: "Table " + td.Table, Text: td.Error})
		case td.Same:
			ctx.Blocks = append(ctx.Blocks, htmlreport.Block{Heading: "Table " + td.Table, Text: "The same definition on both servers."})
		default:
			ctx.Blocks = append(ctx.Blocks, htmlreport.Block{Heading: "Table " + td.Table + " differs",
				KV: []htmlreport.KV{{Key: "only on the primary", Value: orNone(td.OnlyPrimary)}, {Key: "only on the shadow", Value: orNone(td.OnlyShadow)}}})
		}
	}
	p.Appendix = append(p.Appendix, ctx)
	for i, sec := range rep.detailSections() {
		items := sec.lines
		if len(items) > 200 {
			items = append(items[:200:200], fmt.Sprintf("... %d more (--format json lists all)", len(sec.lines)-200))
		}
		p.Appendix = append(p.Appendix, htmlreport.Section{ID: htmlreport.SectionID("findings", i), Title: sec.title, Blocks: []htmlreport.Block{{Items: items}}})
	}
	p.Appendix = append(p.Appendix, htmlreport.Section{ID: "method", Title: "Method", Blocks: []htmlreport.Block{
		{Text: rep.summaryLine()},
		{Text: strings.TrimPrefix(rep.methodLine(), "method: ")},
		{Text: "Plots: the quantiles of every timed run of the endpoint's queries on each server (log latency, logit quantile axis); levels the runs are too few to reach are not drawn."},
	}})
	return p.Render(w)
}

func (rep *ReplayReport) endpointSection(e *EndpointReplay, i int) htmlreport.Section {
	sec := htmlreport.Section{ID: htmlreport.SectionID("ep", i), Title: e.Endpoint, Verdict: e.Verdict}
	kv := []htmlreport.KV{{Key: "queries", Value: fmt.Sprintf("%d (%d refused)", e.Queries, e.Refused)}, {Key: "paired runs", Value: strconv.Itoa(e.Pairs)}}
	if e.Pairs > 0 {
		kv = append(kv, htmlreport.KV{Key: "P50", Value: fmt.Sprintf("%.2f ms → %.2f ms (%+.1f%%)", e.PrimaryP50MS, e.ShadowP50MS, e.DeltaPct)},
			htmlreport.KV{Key: "p (adjusted)", Value: fmt.Sprintf("%.3g (%.3g)", e.PValue, e.PAdjusted)})
	}
	sec.Blocks = append(sec.Blocks, htmlreport.Block{KV: kv})
	var prim, shad []float64
	var queries []htmlreport.Row
	for _, q := range rep.Queries {
		if q.Endpoint != e.Endpoint {
			continue
		}
		prim = append(prim, q.PrimaryMS...)
		shad = append(shad, q.ShadowMS...)
		if len(queries) < 20 {
			verdict := "~"
			switch {
			case q.Refused != "":
				verdict = "refused"
			case q.ShadowError != nil && q.PrimaryError == nil:
				verdict = "shadow error"
			case q.ResultDiffers:
				verdict = "differs"
			}
			queries = append(queries, htmlreport.Row{Verdict: verdict, Cells: []htmlreport.Cell{{Text: oneLine(q.SQL, 400), Code: true},
				medianCell(q.PrimaryMS), medianCell(q.ShadowMS), {Text: verdict}}})
		}
	}
	if len(prim)+len(shad) > 0 {
		plot := &htmlreport.Plot{Title: "Latency quantiles of the timed runs", Series: []htmlreport.Series{
			{Name: "primary", Q: htmlreport.Levels, Y: htmlreport.Curve(prim)}, {Name: "shadow", Q: htmlreport.Levels, Y: htmlreport.Curve(shad)}}}
		if e.Pairs > 0 { // the paired runs' medians; replay gives no interval for them
			plot.Marks = []htmlreport.Mark{{Series: 1, Label: fmt.Sprintf("P50 %+.0f%%", e.DeltaPct), Q: 0.5, Y: e.ShadowP50MS}}
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Plot: plot})
	}
	if len(queries) > 0 {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Queries replayed (with their logged parameters)", Table: &htmlreport.Table{ID: sec.ID + "-queries",
			Columns: []htmlreport.Column{{Name: "SQL"}, {Name: "Primary median ms", Numeric: true}, {Name: "Shadow median ms", Numeric: true}, {Name: "Outcome"}}, Rows: queries}})
	}
	if len(e.Errors) > 0 {
		var items []string
		for _, ec := range e.Errors {
			items = append(items, fmt.Sprintf("%s: error %d x%d: %s", ec.Server, ec.Code, ec.Count, oneLine(ec.Message, 300)))
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Errors", Items: items})
	}
	if e.ProfileError != "" {
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: "Profiles", Text: e.ProfileError})
	}
	if pr := e.Profile; pr != nil {
		mt := &htmlreport.Table{ID: sec.ID + "-profile", Columns: []htmlreport.Column{{Name: "Metric"}, {Name: "Primary"}, {Name: "Shadow"}, {Name: "Ratio", Numeric: true}}}
		for _, m := range pr.Metrics {
			mt.Rows = append(mt.Rows, htmlreport.Row{Cells: []htmlreport.Cell{{Text: m.Name}, {Text: profile.FormatMetric(m.Unit, m.A)}, {Text: profile.FormatMetric(m.Unit, m.B)},
				htmlreport.Num(fmt.Sprintf("x%.2g", m.Ratio), m.Ratio)}})
		}
		sec.Blocks = append(sec.Blocks, htmlreport.Block{Heading: fmt.Sprintf("Profile metrics (queries %s / %s, median of %d runs)", pr.BaselineQueryID, pr.CandidateQueryID, pr.Runs), Table: mt})
	}
	return sec
}

func medianCell(v []float64) htmlreport.Cell {
	if len(v) == 0 {
		return htmlreport.Num("-", math.NaN())
	}
	m := median(v)
	return htmlreport.Num(fmt.Sprintf("%.2f", m), m)
}
