package analyze

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/srctl/srctl/analyze/stats"
	"github.com/srctl/srctl/internal/termsafe"
)

// RenderOptions shape the terminal and Markdown output.
type RenderOptions struct {
	Width int  // terminal width; 0 = unknown (nothing truncated beyond sane limits)
	Color bool // ANSI colours
	Top   int  // endpoints to list; 0 = all
}

const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiYel   = "\x1b[33m"
	ansiDim   = "\x1b[2m"
	ansiBold  = "\x1b[1m"
	ansiReset = "\x1b[0m"
)

func (o RenderOptions) paint(code, s string) string {
	if !o.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// WriteJSON writes the report as indented JSON (schema ReportSchema).
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// csvHeader is the CSV layout: one row per endpoint.
var csvHeader = []string{"endpoint", "source", "pairs", "verdict", "p_value", "p_adjusted",
	"primary_p50_ms", "primary_p90_ms", "primary_p95_ms", "primary_p99_ms",
	"shadow_p50_ms", "shadow_p90_ms", "shadow_p95_ms", "shadow_p99_ms",
	"delta_p50_pct", "delta_p90_pct", "delta_p95_pct", "delta_p99_pct",
	"centre_delta_pct", "impact_ms", "shadow_only_failures", "primary_only_failures", "both_failures",
	"size_suspected", "size_collapsed", "size_differing", "result_mismatches", "why"}

// WriteCSV writes one row per endpoint.
func WriteCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	i := func(x int64) string { return strconv.FormatInt(x, 10) }
	for _, e := range rep.Endpoints {
		rec := []string{e.Endpoint, e.Source, i(e.Pairs), e.Verdict, f(e.PValue), f(e.PAdjusted),
			f(e.Primary.P50), f(e.Primary.P90), f(e.Primary.P95), f(e.Primary.P99),
			f(e.Shadow.P50), f(e.Shadow.P90), f(e.Shadow.P95), f(e.Shadow.P99),
			f(e.DeltaPct.P50), f(e.DeltaPct.P90), f(e.DeltaPct.P95), f(e.DeltaPct.P99),
			f(e.CentreDeltaPct), f(math.Round(e.ImpactMS)), i(e.ShadowOnlyFailures), i(e.PrimaryOnlyFailures), i(e.BothFailures),
			strconv.FormatBool(e.SizeDivergence.Suspected), i(e.SizeDivergence.Collapsed), i(e.SizeDivergence.Differing),
			i(e.ResultMismatches), strings.Join(e.Why, "; ")}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRendition(tw.Rendition{Borders: tw.BorderNone, Settings: tw.Settings{
			Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off, ShowHeader: tw.On},
			Lines:      tw.Lines{ShowHeaderLine: tw.On},
		}}),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
}

// RenderTable writes the terminal report: the endpoint table (regressions first), a summary
// line, then the failure, size-divergence, notes and data-quality sections.
func RenderTable(w io.Writer, rep *Report, o RenderOptions) error {
	eps := rep.Endpoints
	if o.Top > 0 && len(eps) > o.Top {
		eps = eps[:o.Top]
	}
	epWidth, whyWidth := 48, 60
	if o.Width > 0 {
		// Fixed columns take about 100 characters; the endpoint and why share the rest.
		rest := max(o.Width-100, 30)
		epWidth = max(min(48, rest/2), 16)
		whyWidth = max(rest-epWidth, 12)
	}
	t := newTable(w)
	t.Header("ENDPOINT", "PAIRS", "P50 ms", "ΔP50", "ΔP90", "ΔP95", "ΔP99", "p (n)", "VERDICT", "IMPACT", "FAILS", "WHY")
	for _, e := range eps {
		v := e.Verdict
		switch v {
		case VerdictRegression:
			v = o.paint(ansiRed+ansiBold, v)
		case VerdictImprovement:
			v = o.paint(ansiGreen, v)
		case VerdictInsufficient:
			v = o.paint(ansiDim, "too few")
		}
		p50 := "-"
		if e.Pairs > 0 {
			p50 = fmtMS(e.Primary.P50) + "→" + fmtMS(e.Shadow.P50)
		}
		pn := "-"
		if e.Verdict != VerdictInsufficient {
			pn = fmt.Sprintf("p=%s n=%d", fmtP(e.PAdjusted), e.Pairs)
		}
		fails := failCell(&e)
		if fails != "" {
			fails = o.paint(ansiYel, fails)
		}
		if err := t.Append(truncate(e.Endpoint, epWidth), strconv.FormatInt(e.Pairs, 10), p50,
			deltaCell(o, e.Pairs > 0, e.DeltaPct.P50, e.QuantileVerdicts.P50),
			deltaCell(o, e.Pairs > 0, e.DeltaPct.P90, e.QuantileVerdicts.P90),
			deltaCell(o, e.Pairs > 0, e.DeltaPct.P95, e.QuantileVerdicts.P95),
			deltaCell(o, e.Pairs > 0, e.DeltaPct.P99, e.QuantileVerdicts.P99),
			pn, v, fmtImpact(e.ImpactMS), fails, truncate(strings.Join(e.Why, "; "), whyWidth)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if len(eps) < len(rep.Endpoints) {
		fmt.Fprintf(w, "(%d more endpoints; --top 0 lists all)\n", len(rep.Endpoints)-len(eps))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, summaryLine(rep))
	fmt.Fprintln(w, methodLine(rep))
	fmt.Fprintln(w, timingLine(rep.Settings.Timing))
	return renderSections(w, rep, o, false)
}

// RenderMarkdown writes the report for a PR comment or an issue.
func RenderMarkdown(w io.Writer, rep *Report, o RenderOptions) error {
	eps := rep.Endpoints
	if o.Top > 0 && len(eps) > o.Top {
		eps = eps[:o.Top]
	}
	fmt.Fprintf(w, "### srctl diff: %d regressions, %d shadow-only failures, %d size-divergent endpoints\n\n",
		rep.Summary.Regressions, rep.Summary.ShadowOnlyFailures, rep.Summary.SizeDivergentEndpoints)
	fmt.Fprintln(w, "| endpoint | pairs | P50 ms primary → shadow | ΔP50 | ΔP90 | ΔP95 | ΔP99 | p (n) | verdict | impact | failures | why |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---|---|---:|---|---|")
	for _, e := range eps {
		p50, pn := "-", "-"
		if e.Pairs > 0 {
			p50 = fmtMS(e.Primary.P50) + " → " + fmtMS(e.Shadow.P50)
		}
		if e.Verdict != VerdictInsufficient {
			pn = fmt.Sprintf("p=%s n=%d", fmtP(e.PAdjusted), e.Pairs)
		}
		v := e.Verdict
		if v == VerdictRegression {
			v = "**regression**"
		}
		plain := RenderOptions{}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mdCode(e.Endpoint), e.Pairs, p50,
			deltaCell(plain, e.Pairs > 0, e.DeltaPct.P50, e.QuantileVerdicts.P50), deltaCell(plain, e.Pairs > 0, e.DeltaPct.P90, e.QuantileVerdicts.P90),
			deltaCell(plain, e.Pairs > 0, e.DeltaPct.P95, e.QuantileVerdicts.P95), deltaCell(plain, e.Pairs > 0, e.DeltaPct.P99, e.QuantileVerdicts.P99),
			pn, v, fmtImpact(e.ImpactMS), failCell(&e), mdEscape(strings.Join(e.Why, "; ")))
	}
	if len(eps) < len(rep.Endpoints) {
		fmt.Fprintf(w, "\n(%d more endpoints)\n", len(rep.Endpoints)-len(eps))
	}
	fmt.Fprintf(w, "\n%s\n\n_%s_\n\n_%s_\n", summaryLine(rep), methodLine(rep), timingLine(rep.Settings.Timing))
	return renderSections(w, rep, RenderOptions{}, true)
}

// mdEscape and mdCode are termsafe's Markdown escapes, for the log text in reports.
func mdEscape(s string) string { return termsafe.Markdown(s) }
func mdCode(s string) string   { return termsafe.MarkdownCodeCell(s) }

// deltaCell shows a quantile's change; changes that are not significant get a "~" (benchstat's
// mark), quantiles without enough pairs "n/a".
func deltaCell(o RenderOptions, has bool, d float64, verdict string) string {
	switch {
	case !has:
		return "-"
	case verdict == VerdictInsufficient || verdict == "":
		return o.paint(ansiDim, fmtPct(d)+"?")
	case verdict == VerdictSame:
		return "~" + fmtPct(d)
	case verdict == VerdictRegression:
		return o.paint(ansiRed, fmtPct(d))
	}
	return o.paint(ansiGreen, fmtPct(d))
}

func failCell(e *EndpointReport) string {
	var parts []string
	if e.ShadowOnlyFailures > 0 {
		parts = append(parts, fmt.Sprintf("%d shadow-only", e.ShadowOnlyFailures))
	}
	if e.PrimaryOnlyFailures > 0 {
		parts = append(parts, fmt.Sprintf("%d primary-only", e.PrimaryOnlyFailures))
	}
	if e.SizeDivergence.Suspected {
		parts = append(parts, fmt.Sprintf("size %d/%d", e.SizeDivergence.Collapsed+e.SizeDivergence.Differing, e.SizeDivergence.Compared))
	}
	if e.ResultMismatches > 0 {
		parts = append(parts, fmt.Sprintf("%d results differ", e.ResultMismatches))
	}
	return strings.Join(parts, ", ")
}

func summaryLine(rep *Report) string {
	s := rep.Summary
	line := fmt.Sprintf("%s pairs (%s compared for latency) in %d endpoints from %s rows, %d files, %s · %d regressions, %d improvements · failures: %d shadow-only, %d primary-only, %d both · %d size-divergent endpoints",
		fmtInt(s.Pairs), fmtInt(s.LatencyPairs), s.Endpoints, fmtInt(s.Rows), s.Files, fmtBytes(s.Bytes), s.Regressions, s.Improvements,
		s.ShadowOnlyFailures, s.PrimaryOnlyFailures, s.BothFailures, s.SizeDivergentEndpoints)
	if s.SuspectedErrorPairs > 0 {
		line += fmt.Sprintf(", %s pairs with an error-sized shadow answer (suspected errors, not latency)", fmtInt(s.SuspectedErrorPairs))
	}
	if s.ResultMismatches > 0 {
		line += fmt.Sprintf(", %d result mismatches", s.ResultMismatches)
	}
	var dq []string
	add := func(n int64, what string) {
		if n > 0 {
			dq = append(dq, fmtInt(n)+" "+what)
		}
	}
	add(s.Filtered, "filtered (not mirrored)")
	if s.Dropped > 0 {
		dq = append(dq, fmtInt(s.Dropped)+" shadow copies not executed ("+fmtCounts(s.DroppedBy)+")")
	}
	add(s.ResultOrderOnly, "pairs with the same rows in another order")
	add(s.ShadowMissing, "shadow rows missing")
	if s.PrimaryOnlyConnectionRows > 0 {
		dq = append(dq, fmt.Sprintf("%s rows on %d primary-only connections", fmtInt(s.PrimaryOnlyConnectionRows), s.PrimaryOnlyConnections))
	}
	add(s.UnpairedShadow, "shadow rows without primary")
	add(s.Duplicates, "duplicate rows dropped")
	add(s.OutsideWindow, "rows outside the window")
	add(s.ExecuteRows, "COM_STMT_EXECUTE rows (grouped apart)")
	add(s.OtherRows, "non-query commands")
	add(s.BadLines, "bad lines")
	if len(dq) > 0 {
		line += "\ndata quality: " + strings.Join(dq, ", ")
	}
	return line
}

func methodLine(rep *Report) string {
	st := rep.Settings
	return fmt.Sprintf("method: Wilcoxon signed-rank on paired log(shadow/primary), Benjamini-Hochberg over %d endpoints, alpha %.3g; "+
		"tail intervals from order statistics at %.2f%% (Bonferroni); a change counts from %.0f%%; "+
		"P50 needs %d pairs, P90 %d, P95 %d, P99 %d; ~ = not significant, ? = too few pairs",
		st.EndpointsTested, st.Alpha, st.TailLevel*100, st.ThresholdPct,
		MinPairsFor(.5, st.MinPairs), MinPairsFor(.9, st.MinPairs), MinPairsFor(.95, st.MinPairs), MinPairsFor(.99, st.MinPairs))
}

func renderSections(w io.Writer, rep *Report, o RenderOptions, md bool) error {
	head := func(title string) {
		if md {
			fmt.Fprintf(w, "\n#### %s\n\n", title)
		} else {
			fmt.Fprintf(w, "\n%s\n", o.paint(ansiBold, title))
		}
	}
	item := func(format string, a ...any) {
		if md {
			for i, v := range a {
				if s, ok := v.(string); ok {
					a[i] = mdEscape(s) // text from the logs
				}
			}
			bullet := "- "
			if trimmed := strings.TrimLeft(format, " "); trimmed != format {
				bullet, format = "  - ", trimmed // a detail: a nested item (leading spaces would make a code block)
			}
			fmt.Fprintf(w, bullet+format+"\n", a...)
		} else {
			fmt.Fprintf(w, "  "+format+"\n", a...)
		}
	}
	if len(rep.Failures) > 0 {
		head("Failures (by endpoint and error)")
		for i, f := range rep.Failures {
			if i == 20 {
				item("... %d more groups (--format json lists all)", len(rep.Failures)-20)
				break
			}
			msg := truncate(f.Error, 120)
			if f.ErrorCode != 0 {
				msg = fmt.Sprintf("error %d: %s", f.ErrorCode, msg)
			}
			item("%s  %s  x%d  %s  (e.g. query_id %s)", f.Endpoint, f.Kind, f.Count, msg, f.Example)
		}
	}
	var resDiff []EndpointReport
	for _, e := range rep.Endpoints {
		if e.ResultMismatches > 0 {
			resDiff = append(resDiff, e)
		}
	}
	if len(resDiff) > 0 {
		head("Result differences (result hashes logged by srctl shadow)")
		for _, e := range resDiff {
			line := fmt.Sprintf("%s: %d of %d pairs return different rows", e.Endpoint, e.ResultMismatches, e.ResultCompared)
			if e.ResultOrderOnly > 0 {
				line += fmt.Sprintf(" (%d more: same rows, another order)", e.ResultOrderOnly)
			}
			item("%s", line)
			for _, ex := range e.ResultExamples {
				item("    query_id %s: primary %s rows (result %s), shadow %s rows (result %s)", ex.QueryID, fmtRows(ex.PrimaryRows), ex.PrimaryHash, fmtRows(ex.ShadowRows), ex.ShadowHash)
				if ex.SQL != "" {
					item("      %s", truncate(strings.Join(strings.Fields(ex.SQL), " "), 160))
				}
			}
		}
	}
	var div []EndpointReport
	for _, e := range rep.Endpoints {
		if e.SizeDivergence.Suspected {
			div = append(div, e)
		}
	}
	if len(div) > 0 {
		head("Suspected errors or result differences (response size; the proxy logs SQL errors as successes)")
		for _, e := range div {
			sd := e.SizeDivergence
			item("%s: %d of %d pairs collapsed to an error-sized response, %d differ beyond the %+d B offset", e.Endpoint, sd.Collapsed, sd.Compared, sd.Differing, sd.OffsetBytes)
			for _, ex := range sd.Examples {
				item("    query_id %s: primary %d B, shadow %d B", ex.QueryID, ex.PrimaryBytes, ex.ShadowBytes)
			}
			if e.SampleSQL != "" {
				item("    sample: %s", trimSQL(e.SampleSQL, 160))
			}
		}
	}
	var notes []string
	for _, e := range rep.Endpoints {
		for _, n := range e.Notes {
			notes = append(notes, e.Endpoint+": "+n)
		}
	}
	if len(notes) > 0 {
		head("Notes")
		for _, n := range notes {
			item("%s", n)
		}
	}
	var fpEps []EndpointReport
	for _, e := range rep.Endpoints {
		if strings.HasPrefix(e.Endpoint, "fp:") && e.Verdict == VerdictRegression || e.Verdict == VerdictRegression && e.Source == SourceQueryHash {
			fpEps = append(fpEps, e)
		}
	}
	if len(fpEps) > 0 {
		head("Untagged groups (fingerprint classes) that regressed")
		for _, e := range fpEps {
			item("%s: %s", e.Endpoint, trimSQL(e.SampleSQL, 200))
		}
	}
	if len(rep.DataQuality.Counts) > 0 {
		head("Data quality")
		for _, k := range rep.DataQuality.Kinds() {
			item("%s: %d", k, rep.DataQuality.Counts[k])
			for _, ex := range rep.DataQuality.Examples[k] {
				item("    %s", truncate(ex.String(), 200))
			}
		}
	}
	if len(rep.Warnings) > 0 {
		head("Warnings")
		for _, wn := range rep.Warnings {
			item("%s", wn)
		}
	}
	if rep.Drill != nil {
		return renderDrill(w, rep, o, md)
	}
	return nil
}

// pairChart draws the drilled endpoint's primary and shadow quantile curves.
func pairChart(pairs []pairRef) string {
	if len(pairs) == 0 {
		return ""
	}
	ps, ss := make([]float32, len(pairs)), make([]float32, len(pairs))
	for i, p := range pairs {
		ps[i], ss[i] = p.p, p.s
	}
	stats.SortFloat32(ps)
	stats.SortFloat32(ss)
	a, b := make([]float64, len(drillLevels)), make([]float64, len(drillLevels))
	for i, q := range drillLevels {
		a[i], b[i] = stats.Quantile(ps, q), stats.Quantile(ss, q)
	}
	return textChart(drillLevels, a, b, "primary", "shadow", 8)
}

func renderDrill(w io.Writer, rep *Report, o RenderOptions, md bool) error {
	d := rep.Drill
	var e *EndpointReport
	for i := range rep.Endpoints {
		if rep.Endpoints[i].Endpoint == d.Endpoint {
			e = &rep.Endpoints[i]
		}
	}
	fmt.Fprintf(w, "\n%s\n", o.paint(ansiBold, "Endpoint "+d.Endpoint))
	if e == nil {
		fmt.Fprintln(w, "  no pairs in these logs")
		return nil
	}
	if e.SampleSQL != "" {
		fmt.Fprintf(w, "  sample SQL: %s\n", trimSQL(e.SampleSQL, 300))
	}
	fmt.Fprintf(w, "  verdict %s, %d pairs, centre (median paired ratio) %s", e.Verdict, e.Pairs, fmtPct(e.CentreDeltaPct))
	if e.CentreCIPct != nil {
		fmt.Fprintf(w, " [%s, %s]", fmtPct(e.CentreCIPct[0]), fmtPct(e.CentreCIPct[1]))
	}
	fmt.Fprintf(w, ", p=%s (adjusted %s)\n\n", fmtP(e.PValue), fmtP(e.PAdjusted))
	t := newTable(w)
	t.Header("QUANTILE", "PRIMARY ms", "SHADOW ms", "DELTA", "INTERVAL", "VERDICT")
	qs := []struct {
		name    string
		p, s, d float64
		ci      *[2]float64
		verdict string
	}{
		{"P50", e.Primary.P50, e.Shadow.P50, e.DeltaPct.P50, e.CIPct.P50, e.QuantileVerdicts.P50},
		{"P90", e.Primary.P90, e.Shadow.P90, e.DeltaPct.P90, e.CIPct.P90, e.QuantileVerdicts.P90},
		{"P95", e.Primary.P95, e.Shadow.P95, e.DeltaPct.P95, e.CIPct.P95, e.QuantileVerdicts.P95},
		{"P99", e.Primary.P99, e.Shadow.P99, e.DeltaPct.P99, e.CIPct.P99, e.QuantileVerdicts.P99},
	}
	for _, q := range qs {
		ci := "-"
		if q.ci != nil {
			ci = "[" + fmtPct(q.ci[0]) + ", " + fmtPct(q.ci[1]) + "]"
		}
		if err := t.Append(q.name, fmtMS(q.p), fmtMS(q.s), fmtPct(q.d), ci, q.verdict); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if chart := pairChart(d.pairs); chart != "" && !md {
		fmt.Fprintf(w, "\n  Quantile curves of the pairs\n%s", chart)
	}
	if len(d.Worst) > 0 {
		fmt.Fprintf(w, "\n  Worst pairs by shadow/primary ratio\n")
		t := newTable(w)
		t.Header("QUERY ID", "PRIMARY ms", "SHADOW ms", "DELTA", "SQL")
		for _, p := range d.Worst {
			if err := t.Append(p.QueryID, fmtMS(p.PrimaryMS), fmtMS(p.ShadowMS), fmtPct(p.DeltaPct), trimSQL(p.SQL, 80)); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if len(d.Errors) > 0 {
		fmt.Fprintf(w, "\n  Errors\n")
		for _, f := range d.Errors {
			fmt.Fprintf(w, "    %s x%d: %s (e.g. %s)\n", f.Kind, f.Count, truncate(f.Error, 160), f.Example)
		}
	}
	if d.Profile != nil {
		fmt.Fprintf(w, "\n  Profiles of a representative pair (query %s; primary %s, shadow %s)\n", d.Profile.QueryID, d.Profile.PrimaryProfileID, d.Profile.ShadowProfileID)
		for _, l := range d.Profile.Lines {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	return nil
}

// Number formats.

func fmtPct(d float64) string {
	if math.Abs(d) >= 1000 {
		return fmt.Sprintf("%+.0f%%", d)
	}
	return fmt.Sprintf("%+.1f%%", d)
}

func fmtMS(ms float64) string {
	switch {
	case ms >= 10000:
		return fmt.Sprintf("%.0f", ms)
	case ms >= 100:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.2f", ms)
}

func fmtP(p float64) string {
	if p < 0.001 {
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

func fmtImpact(ms float64) string {
	sign := "+"
	if ms < 0 {
		sign = "-"
	}
	a := math.Abs(ms)
	switch {
	case a >= 3_600_000:
		return fmt.Sprintf("%s%.1fh", sign, a/3_600_000)
	case a >= 60_000:
		return fmt.Sprintf("%s%.1fmin", sign, a/60_000)
	case a >= 1000:
		return fmt.Sprintf("%s%.1fs", sign, a/1000)
	}
	return fmt.Sprintf("%s%.0fms", sign, a)
}

func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + fmtInt(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func fmtRows(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmtInt(n)
}

// fmtCounts lists counts by name, largest first: "queue_full 12, shadow_unavailable 3".
func fmtCounts(m map[string]int64) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if m[names[i]] != m[names[j]] {
			return m[names[i]] > m[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %s", k, fmtInt(m[k]))
	}
	return strings.Join(parts, ", ")
}
