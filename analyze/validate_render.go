package analyze

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// WriteValidateJSON writes the report as indented JSON (schema ValidateSchema).
func WriteValidateJSON(w io.Writer, rep *ValidateReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

var validateCSVHeader = []string{"endpoint", "target", "source", "verdict", "regressed_at", "improved_at", "mixed", "reason", "timing",
	"before_executions", "after_executions", "before_failures", "after_failures",
	"before_p50_ms", "after_p50_ms", "delta_p50_pct", "verdict_p50",
	"before_p90_ms", "after_p90_ms", "delta_p90_pct", "verdict_p90",
	"before_p95_ms", "after_p95_ms", "delta_p95_pct", "verdict_p95",
	"before_p99_ms", "after_p99_ms", "delta_p99_pct", "verdict_p99",
	"centre_shift_pct", "centre_p_adjusted", "impact_ms_per_day",
	"before_per_hour", "after_per_hour", "traffic_shifted", "before_error_rate_pct", "after_error_rate_pct", "errors_worse",
	"new_errors", "results_changed", "why"}

// WriteValidateCSV writes one row per endpoint and target.
func WriteValidateCSV(w io.Writer, rep *ValidateReport) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(validateCSVHeader); err != nil {
		return err
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	i := func(x int64) string { return strconv.FormatInt(x, 10) }
	for _, e := range rep.Endpoints {
		rec := []string{e.Endpoint, e.Target, e.Source, e.Verdict, strings.Join(e.RegressedAt, " "), strings.Join(e.ImprovedAt, " "),
			strconv.FormatBool(e.Mixed), e.Reason, e.Timing, i(e.Before.Executions), i(e.After.Executions), i(e.Before.Failures), i(e.After.Failures)}
		for _, q := range e.Quantiles {
			rec = append(rec, f(q.BeforeMS), f(q.AfterMS), f(q.DeltaPct), q.Verdict)
		}
		var newErrs []string
		for _, ne := range e.Errors.New {
			newErrs = append(newErrs, errorKindText(ne))
		}
		rec = append(rec, f(e.Centre.ShiftPct), f(e.Centre.PAdjusted), f(e.ImpactMS), f(e.Traffic.BeforePerHour), f(e.Traffic.AfterPerHour),
			strconv.FormatBool(e.Traffic.Shifted), f(e.Errors.BeforeRatePct), f(e.Errors.AfterRatePct), strconv.FormatBool(e.Errors.Worse),
			strings.Join(newErrs, "; "), strconv.FormatBool(e.Results.Changed), strings.Join(e.Why, "; "))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func errorKindText(k ErrorKindSet) string {
	if k.ErrorCode != 0 {
		return fmt.Sprintf("%d %s", k.ErrorCode, k.Error)
	}
	return k.Error
}

// headlineLine is the report's first line.
func headlineLine(rep *ValidateReport) string {
	h := rep.Headline
	c := func(v VerdictCount) string {
		return fmt.Sprintf("%d (%s executions)", v.Endpoints, fmtInt(v.Executions))
	}
	line := fmt.Sprintf("improved %s · regressed %s · unchanged %s · cannot evaluate %s · net %s per day at the after-window's traffic",
		c(h.Improved), c(h.Regressed), c(h.Unchanged), c(h.CannotEvaluate), fmtImpact(h.NetMSPerDay))
	var extra []string
	if h.ErrorsWorse > 0 {
		extra = append(extra, fmt.Sprintf("%d with more errors", h.ErrorsWorse))
	}
	if h.ResultsChanged > 0 {
		extra = append(extra, fmt.Sprintf("%d with changed results", h.ResultsChanged))
	}
	if h.TrafficShifted > 0 {
		extra = append(extra, fmt.Sprintf("%d with shifted traffic", h.TrafficShifted))
	}
	if len(extra) > 0 {
		line += " · " + strings.Join(extra, ", ")
	}
	return line
}

func windowLine(rep *ValidateReport) string {
	side := func(name string, w WindowSummary) string {
		from, to := w.Since, w.Until // the window asked for; where it is open, the executions seen
		if from == "" {
			from = w.FirstQuery
		}
		if to == "" {
			to = w.LastQuery
		}
		span := orDash(from) + " .. " + orDash(to)
		return fmt.Sprintf("%s %s (%s executions, %.1f h)", name, span, fmtInt(w.Executions), w.Hours)
	}
	return side("before", rep.Before) + " · " + side("after", rep.After) + fmt.Sprintf(" · hours of day overlap %.0f%%", rep.Summary.TimeOfDayOverlapPct)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func validateMethodLine(rep *ValidateReport) string {
	st := rep.Settings
	return fmt.Sprintf("method: unpaired windows; Mann-Whitney on log latency with its Hodges-Lehmann shift, Benjamini-Hochberg over %d endpoints, alpha %.3g; "+
		"quantile intervals from each window's order statistics at %.2f%% (Bonferroni); a change counts from %.0f%% and %s; "+
		"P50 needs %d executions per window, P90 %d, P95 %d, P99 %d; ~ = not significant, ? = too few executions",
		st.EndpointsTested, st.Alpha, st.TailLevel*100, st.ThresholdPct, minDeltaText(st.MinDeltaMS),
		MinPairsFor(.5, st.MinExecutions), MinPairsFor(.9, st.MinExecutions), MinPairsFor(.95, st.MinExecutions), MinPairsFor(.99, st.MinExecutions))
}

func minDeltaText(ms float64) string {
	if ms <= 0 {
		return "no absolute floor (--min-delta)"
	}
	return "at least " + fmtMS(ms) + " ms"
}

// verdictCell is the verdict with the quantiles that decided it.
func verdictCell(o RenderOptions, e *ValidateEndpoint) string {
	switch e.Verdict {
	case VerdictRegression:
		s := "regression (" + strings.Join(e.RegressedAt, ",") + ")"
		if e.Mixed {
			s += ", improved " + strings.Join(e.ImprovedAt, ",")
		}
		return o.paint(ansiRed+ansiBold, s)
	case VerdictImprovement:
		return o.paint(ansiGreen, "improvement ("+strings.Join(e.ImprovedAt, ",")+")")
	case VerdictInsufficient:
		return o.paint(ansiDim, "cannot evaluate")
	}
	return e.Verdict
}

// notesCell lists what else moved: traffic, errors, results, profiles.
func notesCell(e *ValidateEndpoint) string {
	var parts []string
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	if e.Traffic.Shifted {
		parts = append(parts, fmt.Sprintf("traffic %.0f→%.0f/h", e.Traffic.BeforePerHour, e.Traffic.AfterPerHour))
	}
	if e.Errors.Worse {
		parts = append(parts, fmt.Sprintf("errors %.2f%%→%.2f%%", e.Errors.BeforeRatePct, e.Errors.AfterRatePct))
	}
	if n := len(e.Errors.New); n > 0 {
		parts = append(parts, "new error "+errorKindText(e.Errors.New[0]))
	}
	if n := len(e.Errors.Resolved); n > 0 {
		parts = append(parts, fmt.Sprintf("%d error kinds resolved", n))
	}
	if e.Results.Changed {
		if e.Results.HashChanged > 0 {
			parts = append(parts, fmt.Sprintf("results changed %d/%d", e.Results.HashChanged, e.Results.HashCompared))
		} else {
			parts = append(parts, fmt.Sprintf("answers collapsed to error size %d/%d", e.Results.ErrorSizedAfter, e.After.Latencies))
		}
	}
	parts = append(parts, e.Why...)
	return strings.Join(parts, "; ")
}

func quantileCell(o RenderOptions, q QuantileChange, has bool) string {
	if !has {
		return "-"
	}
	return fmtMS(q.BeforeMS) + "→" + fmtMS(q.AfterMS) + " " + deltaCell(o, true, q.DeltaPct, q.Verdict)
}

func endpointsOf(rep *ValidateReport, top int) []ValidateEndpoint {
	if top > 0 && len(rep.Endpoints) > top {
		return rep.Endpoints[:top]
	}
	return rep.Endpoints
}

// RenderValidateTable writes the terminal report: the headline, the endpoint table (regressions
// first), the windows, the method, then errors, warnings, data quality and the drill-down.
func RenderValidateTable(w io.Writer, rep *ValidateReport, o RenderOptions) error {
	fmt.Fprintln(w, o.paint(ansiBold, headlineLine(rep)))
	fmt.Fprintln(w)
	eps := endpointsOf(rep, o.Top)
	epWidth, notesWidth := 40, 70
	if o.Width > 0 {
		rest := max(o.Width-150, 30)
		epWidth = max(min(40, rest/2), 16)
		notesWidth = max(rest-epWidth, 12)
	}
	t := newTable(w)
	t.Header("ENDPOINT", "TARGET", "BEFORE", "AFTER", "P50 ms", "P90 ms", "P95 ms", "P99 ms", "VERDICT", "PER DAY", "NOTES")
	for i := range eps {
		e := &eps[i]
		has := e.Before.Latencies > 0 && e.After.Latencies > 0
		cells := []any{truncate(e.Endpoint, epWidth), e.Target, fmtInt(e.Before.Executions), fmtInt(e.After.Executions)}
		for _, q := range e.Quantiles {
			cells = append(cells, quantileCell(o, q, has))
		}
		impact := "-"
		if e.Verdict == VerdictRegression || e.Verdict == VerdictImprovement {
			impact = fmtImpact(e.ImpactMS)
		}
		cells = append(cells, verdictCell(o, e), impact, truncate(notesCell(e), notesWidth))
		if err := t.Append(cells...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if len(eps) < len(rep.Endpoints) {
		fmt.Fprintf(w, "(%d more endpoint rows; --top 0 lists all)\n", len(rep.Endpoints)-len(eps))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, windowLine(rep))
	fmt.Fprintln(w, validateMethodLine(rep))
	return renderValidateSections(w, rep, o, false)
}

// RenderValidateMarkdown writes the report for a PR comment.
func RenderValidateMarkdown(w io.Writer, rep *ValidateReport, o RenderOptions) error {
	h := rep.Headline
	fmt.Fprintf(w, "### srctl validate: %d regressed, %d improved, %d unchanged, %d cannot evaluate\n\n",
		h.Regressed.Endpoints, h.Improved.Endpoints, h.Unchanged.Endpoints, h.CannotEvaluate.Endpoints)
	fmt.Fprintf(w, "%s\n\n", headlineLine(rep))
	fmt.Fprintln(w, "| endpoint | target | before | after | P50 ms | P90 ms | P95 ms | P99 ms | verdict | per day | notes |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|---|---|---|---|---:|---|")
	plain := RenderOptions{}
	for _, e := range endpointsOf(rep, o.Top) {
		has := e.Before.Latencies > 0 && e.After.Latencies > 0
		var qs []string
		for _, q := range e.Quantiles {
			qs = append(qs, quantileCell(plain, q, has))
		}
		v := verdictCell(plain, &e)
		if e.Verdict == VerdictRegression {
			v = "**" + v + "**"
		}
		impact := "-"
		if e.Verdict == VerdictRegression || e.Verdict == VerdictImprovement {
			impact = fmtImpact(e.ImpactMS)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", mdCode(e.Endpoint), e.Target,
			e.Before.Executions, e.After.Executions, qs[0], qs[1], qs[2], qs[3], v, impact, mdEscape(notesCell(&e)))
	}
	if n := len(rep.Endpoints) - len(endpointsOf(rep, o.Top)); n > 0 {
		fmt.Fprintf(w, "\n(%d more endpoint rows)\n", n)
	}
	fmt.Fprintf(w, "\n_%s_\n\n_%s_\n", windowLine(rep), validateMethodLine(rep))
	return renderValidateSections(w, rep, plain, true)
}

func renderValidateSections(w io.Writer, rep *ValidateReport, o RenderOptions, md bool) error {
	head := func(title string) {
		if md {
			fmt.Fprintf(w, "\n#### %s\n\n", title)
		} else {
			fmt.Fprintf(w, "\n%s\n", o.paint(ansiBold, title))
		}
	}
	item := func(format string, a ...any) {
		s := fmt.Sprintf(format, a...)
		if md {
			bullet := "- "
			if t := strings.TrimLeft(s, " "); t != s {
				bullet, s = "  - ", t // a detail: a nested item (leading spaces would make a code block)
			}
			fmt.Fprintf(w, "%s%s\n", bullet, mdEscape(s))
		} else {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	// Errors that appeared or grew.
	var errEPs []*ValidateEndpoint
	for i := range rep.Endpoints {
		if e := &rep.Endpoints[i]; len(e.Errors.New) > 0 || e.Errors.Worse {
			errEPs = append(errEPs, e)
		}
	}
	if len(errEPs) > 0 {
		head("Errors after the change")
		for _, e := range errEPs {
			item("%s [%s]: error rate %.3f%% → %.3f%% (p=%s)%s", e.Endpoint, e.Target, e.Errors.BeforeRatePct, e.Errors.AfterRatePct,
				fmtP(e.Errors.PValue), map[bool]string{true: ", significantly worse", false: ""}[e.Errors.Worse])
			for _, k := range e.Errors.New[:min(3, len(e.Errors.New))] {
				item("  new: %s ×%d (e.g. query %s)", errorKindText(k), k.After, k.Example)
			}
		}
	}
	var resEPs []*ValidateEndpoint
	for i := range rep.Endpoints {
		if e := &rep.Endpoints[i]; e.Results.Changed {
			resEPs = append(resEPs, e)
		}
	}
	if len(resEPs) > 0 {
		head("Results that changed")
		for _, e := range resEPs {
			item("%s [%s]: %d of %d SQL texts seen in both windows return another result set; error-sized answers %d before, %d after; median size %s → %s",
				e.Endpoint, e.Target, e.Results.HashChanged, e.Results.HashCompared, e.Results.ErrorSizedBefore, e.Results.ErrorSizedAfter,
				fmtBytes(e.Results.BeforeMedianBytes), fmtBytes(e.Results.AfterMedianBytes))
		}
	}
	if len(rep.Warnings) > 0 {
		head("Warnings")
		for _, wr := range rep.Warnings {
			item("%s", wr)
		}
	}
	head("Data quality")
	for _, l := range validateQualityLines(rep) {
		item("%s", l)
	}
	if rep.Drill != nil {
		return renderValidateDrill(w, rep.Drill, o, md, head, item)
	}
	return nil
}

func renderValidateDrill(w io.Writer, d *ValidateDrill, o RenderOptions, md bool, head func(string), item func(string, ...any)) error {
	for _, c := range d.Curves {
		head(fmt.Sprintf("%s on %s: latency quantiles before → after", d.Endpoint, c.Target))
		if md {
			fmt.Fprintln(w, "| quantile | before ms | after ms | change |")
			fmt.Fprintln(w, "|---:|---:|---:|---:|")
		}
		for _, p := range c.Points {
			b, a, ch := "-", "-", ""
			if p.BeforeMS != nil {
				b = fmtMS(*p.BeforeMS)
			}
			if p.AfterMS != nil {
				a = fmtMS(*p.AfterMS)
			}
			if p.BeforeMS != nil && p.AfterMS != nil {
				ch = fmtPct(pct(*p.BeforeMS, *p.AfterMS))
			}
			label := strconv.FormatFloat(p.Quantile*100, 'f', -1, 64) + "%"
			if md {
				fmt.Fprintf(w, "| %s | %s | %s | %s |\n", label, b, a, ch)
			} else {
				fmt.Fprintf(w, "  %6s  %10s → %-10s %8s  %s\n", label, b, a, ch, bar(p))
			}
		}
		if !md {
			before, after := make([]float64, len(c.Points)), make([]float64, len(c.Points))
			for i, p := range c.Points {
				before[i], after[i] = math.NaN(), math.NaN()
				if p.BeforeMS != nil {
					before[i] = *p.BeforeMS
				}
				if p.AfterMS != nil {
					after[i] = *p.AfterMS
				}
			}
			fmt.Fprintf(w, "\n%s", textChart(drillLevels, before, after, "before", "after", 8))
		}
	}
	if len(d.Errors) > 0 {
		head(d.Endpoint + ": errors (before / after)")
		for _, k := range d.Errors {
			item("%s: %d / %d", errorKindText(k), k.Before, k.After)
		}
	}
	return nil
}

// bar draws a point's change: one mark per 10% (at most 30), > slower, < faster.
func bar(p CurvePoint) string {
	if p.BeforeMS == nil || p.AfterMS == nil {
		return ""
	}
	r := pct(*p.BeforeMS, *p.AfterMS)
	n := min(int(math.Abs(r)/10), 30)
	if r >= 0 {
		return strings.Repeat(">", n)
	}
	return strings.Repeat("<", n)
}

// validateQualityLines say what was read and what was not compared: the report's data quality.
func validateQualityLines(rep *ValidateReport) []string {
	s := rep.Summary
	var dq []string
	add := func(n int64, what string) {
		if n > 0 {
			dq = append(dq, fmtInt(n)+" "+what)
		}
	}
	add(s.NotExecuted, "shadow copies not executed (filtered or dropped)")
	add(s.Duplicates, "duplicate rows dropped")
	add(s.OutsideWindows, "rows outside both windows")
	add(s.OtherRows, "non-query commands")
	add(s.OtherTargetRows, "rows of the other target (--target) or of none")
	add(s.BadLines, "bad lines")
	lines := []string{fmt.Sprintf("%s rows, %d files, %s read; %s executions compared", fmtInt(s.Rows), s.Files, fmtBytes(s.Bytes), fmtInt(s.Executions))}
	if len(dq) > 0 {
		lines = append(lines, strings.Join(dq, ", "))
	}
	return lines
}
